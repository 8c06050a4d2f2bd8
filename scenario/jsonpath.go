package scenario

import (
	"fmt"

	"github.com/theory/jsonpath"
)

// JSONPath is a compiled RFC 9535 JSONPath expression.
type JSONPath struct {
	path *jsonpath.Path
}

// CompileJSONPath compiles expr.
func CompileJSONPath(expr string) (*JSONPath, error) {
	p, err := jsonpath.Parse(expr)
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

// MarshalText gives the expression's normalised form.
func (p *JSONPath) MarshalText() ([]byte, error) { return []byte(p.String()), nil }
