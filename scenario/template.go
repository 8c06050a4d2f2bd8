package scenario

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// This file is the template language: {{ }} parsing and the compiled form.
// The $-names it knows are the table in template_funcs.go; rendering is in
// template_render.go.

// TemplateError is a template that does not parse. Offset is the byte offset
// in the source where the problem starts, so the loader can point at it.
type TemplateError struct {
	Offset int
	Msg    string
}

func (e *TemplateError) Error() string { return e.Msg }

// Template is a compiled string with {{ }} expressions; safe for concurrent use.
type Template struct {
	raw   string
	parts []part
	refs  []string
}

// part is either literal text (expr == nil) or one expression.
type part struct {
	lit  string
	expr *expr
	off  int // byte offset of the part in the source, for messages
}

// expr is one parsed {{ }} expression. Paths are resolved at render time
// against the virtual user's variables; nothing is parsed then.
type expr struct {
	fn   *builtin  // nil for a variable
	name string    // variable root, or the environment variable name
	path []segment // into the variable or $loopElement
	a, b int       // $randomString length; $randomNumber min and max
	// def is the text of | default("...") and hasDef whether one was
	// written; only builtins with takesDefault accept one.
	def    string
	hasDef bool
}

// isVar reports whether e reads a variable (not a $-builtin).
func (e *expr) isVar() bool { return e.fn == nil }

// segment is one step into a captured object: a key or a list index.
type segment struct {
	key   string
	index int // >= 0 when the segment is a number
}

// Compile parses src once.
func Compile(src string) (*Template, error) {
	t := &Template{raw: src}
	rest := src
	off := 0
	for rest != "" {
		i := strings.Index(rest, "{{")
		if i < 0 {
			t.parts = append(t.parts, part{lit: rest, off: off})
			break
		}
		if i > 0 {
			t.parts = append(t.parts, part{lit: rest[:i], off: off})
		}
		// Artillery reads {{{ x }}} as {{ x }} (Mustache's unescaped form).
		open, closing := 2, "}}"
		if strings.HasPrefix(rest[i+2:], "{") {
			open, closing = 3, "}}}"
		}
		j := strings.Index(rest[i+open:], closing)
		if j < 0 {
			return nil, &TemplateError{Offset: off + i, Msg: fmt.Sprintf("unclosed %s in %q", rest[i:i+open], src)}
		}
		body := rest[i+open : i+open+j]
		e, err := parseExpr(body)
		if err != nil {
			return nil, &TemplateError{Offset: off + i, Msg: fmt.Sprintf("{{%s}}: %s", body, err)}
		}
		t.parts = append(t.parts, part{expr: e, off: off + i})
		if e.isVar() && !containsString(t.refs, e.name) {
			t.refs = append(t.refs, e.name)
		}
		n := i + open + j + len(closing)
		rest = rest[n:]
		off += n
	}
	return t, nil
}

// MustCompile is Compile for sources known to be valid, such as test fixtures.
func MustCompile(src string) *Template {
	t, err := Compile(src)
	if err != nil {
		panic(err)
	}
	return t
}

// parseExpr parses the text between {{ and }}: a name, an optional argument
// list and an optional path. What a $-name accepts is its builtin's business.
func parseExpr(s string) (*expr, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return nil, fmt.Errorf("empty expression")
	}
	s, def, hasDef, err := splitDefault(s)
	if err != nil {
		return nil, err
	}
	name, rest := splitIdent(s)
	if name == "" || name == "$" {
		return nil, fmt.Errorf("expected a variable name or one of %s", Builtins)
	}
	fn := lookupBuiltin(name)
	var args []int
	called := strings.HasPrefix(rest, "(")
	if called {
		end := strings.IndexByte(rest, ')')
		if end < 0 {
			return nil, fmt.Errorf("missing ) after %s(", name)
		}
		var err error
		if args, err = parseArgs(rest[1:end]); err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		rest = rest[end+1:]
		if fn == nil || fn.call == "" {
			return nil, fmt.Errorf("%s is not a function; functions are %s", name, functionList())
		}
	}
	path, err := parsePath(rest)
	if err != nil {
		return nil, err
	}
	e := &expr{fn: fn, name: name, path: path, def: def, hasDef: hasDef}
	if hasDef && (fn == nil || !fn.takesDefault) {
		return nil, fmt.Errorf("| default(...) only goes with $env.NAME and $processEnvironment.NAME")
	}
	if fn == nil {
		if name[0] == '$' {
			return nil, fmt.Errorf("unknown builtin %s; valid: %s", name, Builtins)
		}
		return e, nil
	}
	if err := fn.parse(e, args); err != nil {
		return nil, err
	}
	return e, nil
}

// splitDefault cuts a trailing | default("text") from an expression: the
// value used when an environment variable is not set. The text is quoted
// with " or ' and holds no quote of its kind; a bare number is accepted.
func splitDefault(s string) (expr, def string, ok bool, err error) {
	bar := -1
	var quote byte
	for i := 0; i < len(s) && bar < 0; i++ {
		switch c := s[i]; {
		case quote != 0:
			if c == quote {
				quote = 0
			}
		case c == '\'' || c == '"':
			quote = c
		case c == '|':
			bar = i
		}
	}
	if bar < 0 {
		return s, "", false, nil
	}
	expr, filter := strings.TrimSpace(s[:bar]), strings.TrimSpace(s[bar+1:])
	const want = `want | default("text")`
	arg, found := strings.CutPrefix(filter, "default")
	arg = strings.TrimSpace(arg)
	if !found || len(arg) < 2 || arg[0] != '(' || arg[len(arg)-1] != ')' {
		return "", "", false, fmt.Errorf("unknown filter %q; %s", filter, want)
	}
	arg = strings.TrimSpace(arg[1 : len(arg)-1])
	switch {
	case len(arg) >= 2 && (arg[0] == '"' || arg[0] == '\'') && arg[len(arg)-1] == arg[0] && !strings.ContainsRune(arg[1:len(arg)-1], rune(arg[0])):
		return expr, arg[1 : len(arg)-1], true, nil
	case arg != "" && strings.Trim(arg, "0123456789.-") == "":
		return expr, arg, true, nil
	}
	return "", "", false, fmt.Errorf("default needs quoted text, got %q; %s", arg, want)
}

func isIdentByte(c byte) bool {
	return c == '_' || c == '-' || c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
}

// splitIdent splits a leading name (optionally $-prefixed) from s.
func splitIdent(s string) (string, string) {
	i := 0
	if i < len(s) && s[i] == '$' {
		i++
	}
	for i < len(s) && isIdentByte(s[i]) {
		i++
	}
	return s[:i], s[i:]
}

func parseArgs(s string) ([]int, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return nil, nil
	}
	var out []int
	for _, a := range strings.Split(s, ",") {
		a = strings.TrimSpace(a)
		n, err := strconv.Atoi(a)
		if errors.Is(err, strconv.ErrRange) {
			return nil, fmt.Errorf("argument %s is out of range", a)
		}
		if err != nil {
			return nil, fmt.Errorf("arguments must be whole numbers, got %q", a)
		}
		out = append(out, n)
	}
	return out, nil
}

// parsePath parses .key, [0], ['key'] and ["key"] steps.
func parsePath(s string) ([]segment, error) {
	var path []segment
	for {
		s = strings.TrimLeft(s, " \t")
		if s == "" {
			return path, nil
		}
		switch s[0] {
		case '.':
			name, rest := splitIdent(s[1:])
			if name == "" || name[0] == '$' {
				return nil, fmt.Errorf("expected a field name after '.' in %q", s)
			}
			path = append(path, keySegment(name))
			s = rest
		case '[':
			end := strings.IndexByte(s, ']')
			if end < 0 {
				return nil, fmt.Errorf("missing ] in %q", s)
			}
			in := strings.TrimSpace(s[1:end])
			switch {
			case len(in) >= 2 && (in[0] == '\'' || in[0] == '"') && in[len(in)-1] == in[0]:
				path = append(path, segment{key: in[1 : len(in)-1], index: -1})
			default:
				n, err := strconv.Atoi(in)
				if err != nil || n < 0 {
					return nil, fmt.Errorf("index must be a number >= 0 or a quoted key, got [%s]", in)
				}
				path = append(path, segment{key: in, index: n})
			}
			s = s[end+1:]
		default:
			return nil, fmt.Errorf("unexpected %q; expressions are a variable path (user.items[0].id) or a builtin: %s", s, Builtins)
		}
	}
}

// keySegment makes a .name step; an all-digit name also indexes lists (a.0).
func keySegment(name string) segment {
	if n, err := strconv.Atoi(name); err == nil && n >= 0 {
		return segment{key: name, index: n}
	}
	return segment{key: name, index: -1}
}

// Raw returns the source text.
func (t *Template) Raw() string { return t.raw }

// MarshalText gives the template's source, so a Script can be dumped as JSON.
func (t *Template) MarshalText() ([]byte, error) { return []byte(t.raw), nil }

// Static reports the text when the template has no expressions.
func (t *Template) Static() (string, bool) {
	for _, p := range t.parts {
		if p.expr != nil {
			return "", false
		}
	}
	return t.raw, true
}

// Refs returns the root variable names the template reads (not $-builtins),
// so the loader can reject names that nothing defines.
func (t *Template) Refs() []string { return t.refs }

// refOffset is where the first expression reading name starts.
func (t *Template) refOffset(name string) int {
	for _, p := range t.parts {
		if p.expr != nil && p.expr.isVar() && p.expr.name == name {
			return p.off
		}
	}
	return 0
}

// loopOffset is where the first expression that only has a value inside a
// loop ($loopCount, $loopElement) starts.
func (t *Template) loopOffset() (int, bool) {
	for _, p := range t.parts {
		if p.expr != nil && p.expr.fn != nil && p.expr.fn.loop {
			return p.off, true
		}
	}
	return 0, false
}

// envRef is a reference to an environment variable with no default.
type envRef struct {
	name string
	off  int
}

// unsetEnv returns the references to environment variables, without a
// default, that lookup does not find, so the loader can refuse them
// before any load: an unset token would otherwise be sent as "".
func (t *Template) unsetEnv(lookup func(string) (string, bool)) []envRef {
	var out []envRef
	for _, p := range t.parts {
		e := p.expr
		if e == nil || e.fn == nil || !e.fn.takesDefault || e.hasDef {
			continue
		}
		if _, ok := lookup(e.name); !ok {
			out = append(out, envRef{name: e.name, off: p.off})
		}
	}
	return out
}

// single returns the expression when the template is exactly one.
func (t *Template) single() *expr {
	if len(t.parts) == 1 {
		return t.parts[0].expr
	}
	return nil
}
