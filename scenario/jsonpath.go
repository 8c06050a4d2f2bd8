package scenario

import (
	"fmt"
	"math/rand/v2"
	"strings"

	"github.com/theory/jsonpath"
)

// JSONPath is a compiled JSONPath expression: RFC 9535, with the forms of
// jsonpath-plus (the library Artillery uses) that scripts write rewritten
// into it first (see normalizeJSONPath).
type JSONPath struct {
	path *jsonpath.Path
}

// CompileJSONPath compiles expr.
func CompileJSONPath(expr string) (*JSONPath, error) {
	norm, err := normalizeJSONPath(expr)
	if err != nil {
		return nil, fmt.Errorf("invalid JSONPath %q: %w", expr, err)
	}
	p, err := jsonpath.Parse(norm)
	if err != nil {
		return nil, fmt.Errorf("invalid JSONPath %q: %w", expr, err)
	}
	return &JSONPath{path: p}, nil
}

// String returns the expression in its normalised form.
func (p *JSONPath) String() string { return p.path.String() }

// Query returns the first node selected in doc (a value decoded by
// encoding/json with UseNumber or plain), and whether there was one.
func (p *JSONPath) Query(doc any) (any, bool) {
	for v := range p.path.Select(doc).All() {
		return v, true
	}
	return nil, false
}

// Pick returns one node selected in doc as Artillery's capture does: the
// only one, or one chosen at random among several (scripts rely on it to
// pick a random item of a list); ok is false when nothing was selected.
func (p *JSONPath) Pick(doc any, r *rand.Rand) (any, bool) {
	nodes := p.path.Select(doc)
	switch len(nodes) {
	case 0:
		return nil, false
	case 1:
		return nodes[0], true
	}
	return nodes[r.IntN(len(nodes))], true
}

// MarshalText gives the expression in its normalised form, which shows how
// a jsonpath-plus form was read.
func (p *JSONPath) MarshalText() ([]byte, error) { return []byte(p.String()), nil }

// normalizeJSONPath rewrites what jsonpath-plus reads and RFC 9535 does not
// into the RFC form, keeping the meaning:
//   - a path without the leading $ starts at the root ("items[0].id");
//   - a dotted index, $.result.0.name, selects element 0 of a list or
//     member "0" of an object, as jsonpath-plus's property lookup does:
//     [0,'0'];
//   - a dotted name RFC's shorthand does not allow ($.some-key, $.@type)
//     becomes ['some-key'];
//   - === and !== in filters are == and !=.
//
// A script expression, [(@.length-1)], is JavaScript and refused.
func normalizeJSONPath(expr string) (string, error) {
	s := strings.TrimSpace(expr)
	if s == "" {
		return "", fmt.Errorf("empty expression")
	}
	if strings.Contains(s, "[(") {
		return "", fmt.Errorf("[( ... )] is a jsonpath-plus script expression, which is JavaScript; use a slice such as [-1:] for the last element")
	}
	if s[0] != '$' {
		if s[0] == '[' || strings.HasPrefix(s, "..") {
			s = "$" + s
		} else {
			s = "$." + s
		}
	}
	var b strings.Builder
	b.WriteByte('$')
	for i := 1; i < len(s); {
		switch c := s[i]; c {
		case '[':
			end, err := bracketEnd(s, i)
			if err != nil {
				return "", err
			}
			in := s[i : end+1]
			if strings.HasPrefix(strings.TrimSpace(in[1:]), "?") {
				in = jsEqualities(in)
			}
			b.WriteString(in)
			i = end + 1
		case '.':
			desc := i+1 < len(s) && s[i+1] == '.'
			j := i + 1
			if desc {
				j++
			}
			k := j
			for k < len(s) && s[k] != '.' && s[k] != '[' {
				k++
			}
			switch name := s[j:k]; {
			case name == "" && desc && k < len(s):
				b.WriteString("..") // $..[0] is RFC already
			case name == "":
				return "", fmt.Errorf("a '.' must be followed by a name")
			case name == "*" || shorthandName(name):
				b.WriteString(s[i:k])
			default:
				if desc {
					b.WriteString("..")
				}
				b.WriteString(memberSelector(name))
			}
			i = k
		default:
			return "", fmt.Errorf("unexpected %q at offset %d", s[i:], i)
		}
	}
	return b.String(), nil
}

// memberSelector is the bracketed selector for a dotted name: an index
// also matches the member of that name, as in jsonpath-plus.
func memberSelector(name string) string {
	if strings.Trim(name, "0123456789") == "" {
		return "[" + name + ",'" + name + "']"
	}
	return "['" + strings.NewReplacer(`\`, `\\`, `'`, `\'`).Replace(name) + "']"
}

// shorthandName reports whether RFC 9535's member-name-shorthand reads name.
func shorthandName(name string) bool {
	for i, r := range name {
		alpha := r == '_' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= 0x80
		if !alpha && (i == 0 || r < '0' || r > '9') {
			return false
		}
	}
	return true
}

// bracketEnd finds the ] closing the [ at s[i], skipping quoted text and
// nested brackets (filters hold paths).
func bracketEnd(s string, i int) (int, error) {
	depth := 0
	var quote byte
	for j := i; j < len(s); j++ {
		c := s[j]
		switch {
		case quote != 0:
			if c == '\\' {
				j++
			} else if c == quote {
				quote = 0
			}
		case c == '\'' || c == '"':
			quote = c
		case c == '[':
			depth++
		case c == ']':
			depth--
			if depth == 0 {
				return j, nil
			}
		}
	}
	return 0, fmt.Errorf("missing ] for the [ at offset %d", i)
}

// jsEqualities turns JavaScript's === and !== outside quotes into RFC's
// == and !=.
func jsEqualities(s string) string {
	var b strings.Builder
	var quote byte
	for j := 0; j < len(s); j++ {
		c := s[j]
		switch {
		case quote != 0:
			if c == '\\' && j+1 < len(s) {
				b.WriteByte(c)
				j++
				c = s[j]
			} else if c == quote {
				quote = 0
			}
		case c == '\'' || c == '"':
			quote = c
		case (c == '=' || c == '!') && strings.HasPrefix(s[j+1:], "=="):
			b.WriteString(string(c) + "=")
			j += 2
			continue
		}
		b.WriteByte(c)
	}
	return b.String()
}
