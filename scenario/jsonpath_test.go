package scenario

import (
	"bytes"
	"encoding/json"
	"testing"
)

// FuzzJSONPathCapture runs captures over arbitrary response bodies and
// arbitrary expressions, as a hostile target could send them: compiling and
// querying must never panic, and a selected node must be a JSON value.
func FuzzJSONPathCapture(f *testing.F) {
	seeds := []struct{ expr, body string }{
		{"$.results[0].id", `{"results":[{"id":42}]}`},
		{"$..id", `{"a":{"id":1},"b":[{"id":2}]}`},
		{"$[?@.price < 10].title", `[{"title":"x","price":8.95},{"title":"y","price":22}]`},
		{"$.token", `not json at all`},
		{"$[-1]", `[1,2,3]`},
		{"$['a b']", `{"a b": null}`},
		{"$.x", `{"x": 1e400}`},
		{"$[0:10:0]", `[[[[[[]]]]]]`},
	}
	for _, s := range seeds {
		f.Add(s.expr, []byte(s.body))
	}
	f.Fuzz(func(t *testing.T, expr string, body []byte) {
		p, err := CompileJSONPath(expr)
		if err != nil {
			return
		}
		var doc any
		d := json.NewDecoder(bytes.NewReader(body))
		d.UseNumber()
		if d.Decode(&doc) != nil {
			return
		}
		v, ok := p.Query(doc)
		if !ok {
			return
		}
		if _, err := json.Marshal(v); err != nil {
			t.Fatalf("Query(%q) selected %#v, which is not a JSON value: %v", expr, v, err)
		}
	})
}

// TestJSONPathPlusForms: the jsonpath-plus forms Artillery scripts write
// read as jsonpath-plus reads them (issue 18).
func TestJSONPathPlusForms(t *testing.T) {
	doc := map[string]any{
		"result":   []any{map[string]any{"name": "alpha"}},
		"byKey":    map[string]any{"0": "zero"},
		"some-key": "dash",
		"@type":    "T",
		"items":    []any{map[string]any{"id": 1.0, "tag": "a"}, map[string]any{"id": 2.0, "tag": "b"}},
	}
	tests := []struct {
		expr, norm string
		want       any
	}{
		{"$.result.0.name", "$.result[0,'0'].name", "alpha"},
		{"$.byKey.0", "$.byKey[0,'0']", "zero"},
		{"result[0].name", "$.result[0].name", "alpha"},
		{"$.some-key", "$['some-key']", "dash"},
		{"$.@type", "$['@type']", "T"},
		{"$..name", "$..name", "alpha"},
		{"$..[0].name", "$..[0].name", "alpha"},
		{"$.items[?(@.tag === 'b')].id", "$.items[?(@.tag == 'b')].id", 2.0},
		{"$.items[?(@.tag !== 'a')].id", "$.items[?(@.tag != 'a')].id", 2.0},
		{"$.items[-1:].id", "$.items[-1:].id", 2.0},
		{"$['some-key']", "$['some-key']", "dash"},
	}
	for _, tt := range tests {
		norm, err := normalizeJSONPath(tt.expr)
		if err != nil || norm != tt.norm {
			t.Errorf("normalizeJSONPath(%q) = %q, %v; want %q", tt.expr, norm, err, tt.norm)
			continue
		}
		p, err := CompileJSONPath(tt.expr)
		if err != nil {
			t.Errorf("CompileJSONPath(%q): %v", tt.expr, err)
			continue
		}
		if got, ok := p.Query(doc); !ok || got != tt.want {
			t.Errorf("Query(%q) = %v, %v; want %v", tt.expr, got, ok, tt.want)
		}
	}
}
