package scenario

import (
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/google/uuid"
)

// Context is what templates see while one virtual user renders a request.
// One Context belongs to one virtual user and is not shared.
type Context struct {
	Vars        map[string]any              // captured, declared, payload and before-flow variables
	Env         func(string) (string, bool) // $processEnvironment.NAME and $env.NAME
	Target      string                      // {{ target }}
	Environment string                      // {{ $environment }}
	LoopCount   int                         // {{ $loopCount }}, from 0
	LoopElement any                         // {{ $loopElement }}
	UUID        string                      // {{ $uuid }}: fresh per virtual user
	Rand        *rand.Rand                  // $randomString, $randomNumber
}

// Builtins lists the $-names templates understand, for messages.
const Builtins = "$processEnvironment.NAME, $env.NAME, $environment, target, $uuid, $randomString(len), $randomNumber(min, max), $loopCount, $loopElement"

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

type exprKind int

const (
	exprVar exprKind = iota
	exprEnv
	exprEnvironment
	exprTarget
	exprUUID
	exprRandomString
	exprRandomNumber
	exprLoopCount
	exprLoopElement
)

// expr is one parsed {{ }} expression. Paths are resolved at render time
// against the virtual user's variables; nothing is parsed then.
type expr struct {
	kind exprKind
	name string    // variable root, or the environment variable name
	path []segment // into the variable or $loopElement
	a, b int       // $randomString length; $randomNumber min and max
}

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
		j := strings.Index(rest[i+2:], "}}")
		if j < 0 {
			return nil, &TemplateError{Offset: off + i, Msg: fmt.Sprintf("unclosed {{ in %q", src)}
		}
		body := rest[i+2 : i+2+j]
		e, err := parseExpr(body)
		if err != nil {
			return nil, &TemplateError{Offset: off + i, Msg: fmt.Sprintf("{{%s}}: %s", body, err)}
		}
		t.parts = append(t.parts, part{expr: e, off: off + i})
		if e.kind == exprVar && !contains(t.refs, e.name) {
			t.refs = append(t.refs, e.name)
		}
		n := i + 2 + j + 2
		rest = rest[n:]
		off += n
	}
	return t, nil
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// MustCompile is Compile for sources known to be valid, such as test fixtures.
func MustCompile(src string) *Template {
	t, err := Compile(src)
	if err != nil {
		panic(err)
	}
	return t
}

// parseExpr parses the text between {{ and }}.
func parseExpr(s string) (*expr, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return nil, fmt.Errorf("empty expression")
	}
	name, rest := splitIdent(s)
	if name == "" || name == "$" {
		return nil, fmt.Errorf("expected a variable name or one of %s", Builtins)
	}
	var args []int
	if strings.HasPrefix(rest, "(") {
		end := strings.IndexByte(rest, ')')
		if end < 0 {
			return nil, fmt.Errorf("missing ) after %s(", name)
		}
		var err error
		if args, err = parseArgs(rest[1:end]); err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		rest = rest[end+1:]
		if name != "$uuid" && name != "$randomString" && name != "$randomNumber" {
			return nil, fmt.Errorf("%s is not a function; functions are $uuid(), $randomString(len), $randomNumber(min, max)", name)
		}
	}
	path, err := parsePath(rest)
	if err != nil {
		return nil, err
	}
	e := &expr{name: name, path: path}
	noPath := func() error {
		if len(path) > 0 {
			return fmt.Errorf("%s has no fields", name)
		}
		return nil
	}
	switch name {
	case "$processEnvironment", "$env":
		e.kind = exprEnv
		if len(path) != 1 || path[0].index >= 0 || path[0].key == "" {
			return nil, fmt.Errorf("%s needs one variable name: %s.NAME", name, name)
		}
		e.name = path[0].key
		e.path = nil
	case "$environment":
		e.kind = exprEnvironment
		err = noPath()
	case "target", "$target":
		e.kind = exprTarget
		err = noPath()
	case "$uuid":
		e.kind = exprUUID
		if len(args) > 0 {
			return nil, fmt.Errorf("$uuid takes no arguments")
		}
		err = noPath()
	case "$randomString":
		e.kind = exprRandomString
		e.a = 10
		switch {
		case len(args) == 1 && args[0] >= 0 && args[0] <= 1<<16:
			e.a = args[0]
		case len(args) > 1:
			return nil, fmt.Errorf("$randomString takes one length, got %d arguments", len(args))
		case len(args) == 1:
			return nil, fmt.Errorf("$randomString length must be between 0 and 65536, got %d", args[0])
		}
		err = noPath()
	case "$randomNumber":
		e.kind = exprRandomNumber
		if len(args) != 2 {
			return nil, fmt.Errorf("$randomNumber needs two arguments (min, max), got %d", len(args))
		}
		if args[0] > args[1] {
			return nil, fmt.Errorf("$randomNumber min %d is greater than max %d", args[0], args[1])
		}
		e.a, e.b = args[0], args[1]
		err = noPath()
	case "$loopCount":
		e.kind = exprLoopCount
		err = noPath()
	case "$loopElement":
		e.kind = exprLoopElement
	default:
		if name[0] == '$' {
			return nil, fmt.Errorf("unknown builtin %s; valid: %s", name, Builtins)
		}
		e.kind = exprVar
	}
	if err != nil {
		return nil, err
	}
	return e, nil
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
		n, err := strconv.Atoi(strings.TrimSpace(a))
		if err != nil {
			return nil, fmt.Errorf("arguments must be whole numbers, got %q", strings.TrimSpace(a))
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
		if p.expr != nil && p.expr.kind == exprVar && p.expr.name == name {
			return p.off
		}
	}
	return 0
}

// loopOffset is where the first $loopCount or $loopElement starts.
func (t *Template) loopOffset() (int, bool) {
	for _, p := range t.parts {
		if p.expr != nil && (p.expr.kind == exprLoopCount || p.expr.kind == exprLoopElement) {
			return p.off, true
		}
	}
	return 0, false
}

// AppendTo renders into dst and returns the extended slice.
func (t *Template) AppendTo(dst []byte, c *Context) []byte {
	return t.appendParts(dst, c, false)
}

// appendParts renders the template, JSON-string-escaping everything when esc
// is set so a template can be written inside a JSON string without a copy.
func (t *Template) appendParts(dst []byte, c *Context, esc bool) []byte {
	for i := range t.parts {
		p := &t.parts[i]
		if p.expr == nil {
			dst = appendText(dst, p.lit, esc)
			continue
		}
		dst = p.expr.appendTo(dst, c, esc)
	}
	return dst
}

// Render renders to a string.
func (t *Template) Render(c *Context) string {
	if s, ok := t.Static(); ok {
		return s
	}
	// The stack buffer keeps short renders down to the one string allocation.
	var buf [256]byte
	return string(t.AppendTo(buf[:0], c))
}

// Value renders keeping the value's type when the whole template is one
// expression ("{{ goodsId }}" gives the captured number), else a string.
func (t *Template) Value(c *Context) any {
	if len(t.parts) == 1 && t.parts[0].expr != nil {
		return t.parts[0].expr.value(c)
	}
	return t.Render(c)
}

// single returns the expression when the template is exactly one.
func (t *Template) single() *expr {
	if len(t.parts) == 1 {
		return t.parts[0].expr
	}
	return nil
}

// value evaluates e keeping its type; a missing variable is nil.
func (e *expr) value(c *Context) any {
	switch e.kind {
	case exprVar:
		v, _ := lookup(c.Vars[e.name], e.path)
		return v
	case exprLoopElement:
		v, _ := lookup(c.LoopElement, e.path)
		return v
	case exprLoopCount:
		return c.LoopCount
	case exprRandomNumber:
		return randomNumber(c, e.a, e.b)
	case exprEnv:
		if c.Env == nil {
			return ""
		}
		v, _ := c.Env(e.name)
		return v
	}
	return string(e.appendTo(nil, c, false))
}

func (e *expr) appendTo(dst []byte, c *Context, esc bool) []byte {
	switch e.kind {
	case exprVar:
		v, _ := lookup(c.Vars[e.name], e.path)
		return appendAny(dst, v, esc)
	case exprLoopElement:
		v, _ := lookup(c.LoopElement, e.path)
		return appendAny(dst, v, esc)
	case exprEnv:
		if c.Env != nil {
			v, _ := c.Env(e.name)
			return appendText(dst, v, esc)
		}
		return dst
	case exprEnvironment:
		return appendText(dst, c.Environment, esc)
	case exprTarget:
		return appendText(dst, c.Target, esc)
	case exprUUID:
		if c.UUID == "" {
			// A Context built without one still gets a valid, fresh UUID.
			return append(dst, uuid.NewString()...)
		}
		return appendText(dst, c.UUID, esc)
	case exprLoopCount:
		return strconv.AppendInt(dst, int64(c.LoopCount), 10)
	case exprRandomString:
		const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
		for range e.a {
			dst = append(dst, alphabet[randIntN(c, len(alphabet))])
		}
		return dst
	case exprRandomNumber:
		return strconv.AppendInt(dst, int64(randomNumber(c, e.a, e.b)), 10)
	}
	return dst
}

func randIntN(c *Context, n int) int {
	if c.Rand != nil {
		return c.Rand.IntN(n)
	}
	return rand.IntN(n)
}

// randomNumber is inclusive of both ends, as Artillery's $randomNumber.
func randomNumber(c *Context, lo, hi int) int {
	span := int64(hi) - int64(lo) + 1
	var r int64
	if c.Rand != nil {
		r = c.Rand.Int64N(span)
	} else {
		r = rand.Int64N(span)
	}
	return int(int64(lo) + r)
}

// lookup walks path into v; ok is false when a step is missing.
func lookup(v any, path []segment) (any, bool) {
	for _, s := range path {
		switch x := v.(type) {
		case map[string]any:
			var ok bool
			if v, ok = x[s.key]; !ok {
				return nil, false
			}
		case []any:
			if s.index < 0 || s.index >= len(x) {
				return nil, false
			}
			v = x[s.index]
		case Pairs:
			v = nil
			found := false
			for _, kv := range x {
				if kv.Key == s.key {
					v, found = kv.Value, true
					break
				}
			}
			if !found {
				return nil, false
			}
		default:
			return nil, false
		}
	}
	return v, v != nil
}

// appendAny writes a value as text: strings as they are, numbers as
// JavaScript would print them, objects and lists as JSON, nil as nothing.
func appendAny(dst []byte, v any, esc bool) []byte {
	switch x := v.(type) {
	case nil:
		return dst
	case string:
		return appendText(dst, x, esc)
	case json.Number:
		return append(dst, x...)
	case int:
		return strconv.AppendInt(dst, int64(x), 10)
	case int64:
		return strconv.AppendInt(dst, x, 10)
	case uint64:
		return strconv.AppendUint(dst, x, 10)
	case float64:
		return appendFloat(dst, x)
	case bool:
		return strconv.AppendBool(dst, x)
	default:
		b, err := marshalJSON(x)
		if err != nil {
			return appendText(dst, fmt.Sprint(x), esc)
		}
		return appendText(dst, string(b), esc)
	}
}

// appendFloat formats like JavaScript and encoding/json: no exponent for
// ordinary magnitudes, integers without a fraction.
func appendFloat(dst []byte, f float64) []byte {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return append(dst, "null"...)
	}
	abs := math.Abs(f)
	format := byte('f')
	if abs != 0 && (abs < 1e-6 || abs >= 1e21) {
		format = 'e'
	}
	start := len(dst)
	dst = strconv.AppendFloat(dst, f, format, -1, 64)
	if format == 'e' {
		// 1e-07 -> 1e-7, as JavaScript prints it.
		n := len(dst)
		if n-start >= 4 && dst[n-4] == 'e' && dst[n-3] == '-' && dst[n-2] == '0' {
			dst[n-2] = dst[n-1]
			dst = dst[:n-1]
		}
	}
	return dst
}

func appendText(dst []byte, s string, esc bool) []byte {
	if !esc {
		return append(dst, s...)
	}
	return appendJSONEscaped(dst, s)
}

// appendJSONEscaped writes s escaped for the inside of a JSON string.
func appendJSONEscaped(dst []byte, s string) []byte {
	const hex = "0123456789abcdef"
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c >= 0x20 && c != '"' && c != '\\' && c < 0x80 {
			i++
			continue
		}
		if c >= 0x80 {
			r, size := utf8.DecodeRuneInString(s[i:])
			if r != utf8.RuneError || size != 1 {
				i += size
				continue
			}
			dst = append(dst, s[start:i]...)
			dst = append(dst, `\ufffd`...)
			i++
			start = i
			continue
		}
		dst = append(dst, s[start:i]...)
		switch c {
		case '"', '\\':
			dst = append(dst, '\\', c)
		case '\n':
			dst = append(dst, '\\', 'n')
		case '\r':
			dst = append(dst, '\\', 'r')
		case '\t':
			dst = append(dst, '\\', 't')
		default:
			dst = append(dst, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
		}
		i++
		start = i
	}
	return append(dst, s[start:]...)
}

// Pairs is a YAML or JSON object with its keys in the order written.
type Pairs []KeyValue

// KeyValue is one entry of Pairs.
type KeyValue struct {
	Key   string
	Value any
}

// MarshalJSON writes the object keeping key order.
func (p Pairs) MarshalJSON() ([]byte, error) {
	dst := []byte{'{'}
	for i, kv := range p {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = append(dst, '"')
		dst = appendJSONEscaped(dst, kv.Key)
		dst = append(dst, '"', ':')
		b, err := marshalJSON(kv.Value)
		if err != nil {
			return nil, err
		}
		dst = append(dst, b...)
	}
	return append(dst, '}'), nil
}

func marshalJSON(v any) ([]byte, error) {
	return json.Marshal(v)
}

type valueKind int

const (
	valueStatic   valueKind = iota // a literal with its JSON precomputed
	valueTemplate                  // a string with {{ }}
	valueObject
	valueArray
)

// Value is a compiled JSON body: maps, lists and scalars whose strings are templates.
type Value struct {
	kind  valueKind
	lit   any    // valueStatic: the plain value
	json  []byte // valueStatic: its JSON
	tmpl  *Template
	keys  []string // valueObject, in the order written
	items []*Value // valueObject values or valueArray elements
}

// CompileValue compiles a decoded YAML value. Objects given as Pairs keep
// their key order; a map[string]any is written with sorted keys.
func CompileValue(v any) (*Value, error) {
	switch x := v.(type) {
	case string:
		t, err := Compile(x)
		if err != nil {
			return nil, err
		}
		if s, ok := t.Static(); ok {
			return staticValue(s)
		}
		return &Value{kind: valueTemplate, tmpl: t}, nil
	case nil, bool, int, int64, uint64, float64, json.Number:
		return staticValue(x)
	case []any:
		out := &Value{kind: valueArray, items: make([]*Value, 0, len(x))}
		for i, e := range x {
			c, err := CompileValue(e)
			if err != nil {
				return nil, fmt.Errorf("[%d]: %w", i, err)
			}
			out.items = append(out.items, c)
		}
		return out, nil
	case Pairs:
		out := &Value{kind: valueObject}
		for _, kv := range x {
			c, err := CompileValue(kv.Value)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", kv.Key, err)
			}
			out.keys = append(out.keys, kv.Key)
			out.items = append(out.items, c)
		}
		return out, nil
	case map[string]any:
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		p := make(Pairs, 0, len(keys))
		for _, k := range keys {
			p = append(p, KeyValue{k, x[k]})
		}
		return CompileValue(p)
	default:
		return nil, fmt.Errorf("%T cannot be sent as JSON", v)
	}
}

func staticValue(v any) (*Value, error) {
	if f, ok := v.(float64); ok && (math.IsNaN(f) || math.IsInf(f, 0)) {
		return nil, fmt.Errorf("%v is not a JSON number", f)
	}
	b, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	return &Value{kind: valueStatic, lit: v, json: b}, nil
}

// Refs returns the root variable names every template in the tree reads.
func (v *Value) Refs() []string {
	var refs []string
	v.walk(func(t *Template) {
		for _, r := range t.refs {
			if !contains(refs, r) {
				refs = append(refs, r)
			}
		}
	})
	return refs
}

// Templates calls fn for each template in the tree, in document order.
func (v *Value) Templates(fn func(*Template)) { v.walk(fn) }

func (v *Value) walk(fn func(*Template)) {
	switch v.kind {
	case valueTemplate:
		fn(v.tmpl)
	case valueObject, valueArray:
		for _, it := range v.items {
			it.walk(fn)
		}
	}
}

// Resolve renders the tree into plain Go values (map[string]any, []any,
// strings, numbers, bools, nil).
func (v *Value) Resolve(c *Context) any {
	switch v.kind {
	case valueStatic:
		return v.lit
	case valueTemplate:
		return v.tmpl.Value(c)
	case valueObject:
		m := make(map[string]any, len(v.keys))
		for i, k := range v.keys {
			m[k] = v.items[i].Resolve(c)
		}
		return m
	default:
		out := make([]any, len(v.items))
		for i, it := range v.items {
			out[i] = it.Resolve(c)
		}
		return out
	}
}

// AppendJSON renders the tree as JSON into dst, objects in the key order
// written. A string that is one expression keeps the value's JSON type.
func (v *Value) AppendJSON(dst []byte, c *Context) []byte {
	switch v.kind {
	case valueStatic:
		return append(dst, v.json...)
	case valueTemplate:
		if e := v.tmpl.single(); e != nil {
			return appendJSONExpr(dst, e, c)
		}
		dst = append(dst, '"')
		dst = v.tmpl.appendParts(dst, c, true)
		return append(dst, '"')
	case valueObject:
		dst = append(dst, '{')
		for i, k := range v.keys {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = append(dst, '"')
			dst = appendJSONEscaped(dst, k)
			dst = append(dst, '"', ':')
			dst = v.items[i].AppendJSON(dst, c)
		}
		return append(dst, '}')
	default:
		dst = append(dst, '[')
		for i, it := range v.items {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = it.AppendJSON(dst, c)
		}
		return append(dst, ']')
	}
}

// appendJSONExpr writes one expression's value as a JSON value of its type.
func appendJSONExpr(dst []byte, e *expr, c *Context) []byte {
	switch e.kind {
	case exprLoopCount, exprRandomNumber:
		return e.appendTo(dst, c, false)
	case exprVar, exprLoopElement:
		return appendJSONAny(dst, e.value(c))
	}
	dst = append(dst, '"')
	dst = e.appendTo(dst, c, true)
	return append(dst, '"')
}

func appendJSONAny(dst []byte, v any) []byte {
	switch x := v.(type) {
	case nil:
		return append(dst, "null"...)
	case string:
		dst = append(dst, '"')
		dst = appendJSONEscaped(dst, x)
		return append(dst, '"')
	case json.Number:
		if json.Valid([]byte(x)) {
			return append(dst, x...)
		}
		return appendJSONAny(dst, string(x))
	case int, int64, uint64, float64, bool:
		return appendAny(dst, x, false)
	default:
		b, err := marshalJSON(x)
		if err != nil {
			return appendJSONAny(dst, fmt.Sprint(x))
		}
		return append(dst, b...)
	}
}

// MarshalText gives the template's source, so a Script can be dumped as JSON.
func (t *Template) MarshalText() ([]byte, error) { return []byte(t.raw), nil }

// MarshalJSON writes the tree as written, templates as their source text.
func (v *Value) MarshalJSON() ([]byte, error) {
	switch v.kind {
	case valueStatic:
		return v.json, nil
	case valueTemplate:
		return json.Marshal(v.tmpl.raw)
	case valueObject:
		p := make(Pairs, len(v.keys))
		for i, k := range v.keys {
			p[i] = KeyValue{k, v.items[i]}
		}
		return p.MarshalJSON()
	default:
		return json.Marshal(v.items)
	}
}
