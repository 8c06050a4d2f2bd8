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
