package runner

import (
	"net/http"
	"testing"

	"github.com/primeload/primeload/report/metric"
	"github.com/primeload/primeload/scenario"
)

// TestMatch: Artillery v2 still evaluates match: the expression's value
// must be identical (!==) to value; a strict mismatch fails the user with
// "Failed capture or match" and stores none of the request's captures
// (issue 18).
func TestMatch(t *testing.T) {
	t.Parallel()
	srv := serve(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("X-V", "1")
		w.Write([]byte(`{"id": 7, "name": "ann"}`))
	})
	tests := []struct {
		name, match string
		ok          bool
	}{
		{"number", `{json: "$.id", value: 7}`, true},
		{"a string is not the number", `{json: "$.id", value: "7"}`, false},
		{"templated", `{json: "$.name", value: "{{ who }}"}`, true},
		{"mismatch", `{json: "$.name", value: bob}`, false},
		{"non-strict mismatch goes on", `{json: "$.name", value: bob, strict: false}`, true},
		{"header", `{header: x-v, value: "1"}`, true},
		{"regexp", `{regexp: "a.n", value: ann}`, true},
		{"list", `[{json: "$.id", value: 7}, {json: "$.name", value: eve}]`, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			src := "config:\n  target: \"" + srv.URL + "\"\n  phases: [{duration: 0.1, arrivalCount: 2}]\n  variables: {who: ann}\nscenarios:\n  - flow:\n" +
				"      - get: {url: /, match: " + tt.match + ", capture: {json: \"$.id\", as: got}}\n" +
				"      - get: {url: \"/after/{{ got }}\"}\n"
			script, err := scenario.Parse("m.yml", []byte(src), scenario.LoadOptions{})
			if err != nil {
				t.Fatal(err)
			}
			out, rec := run(t, script, Options{})
			wantAfter, wantErr := 2, int64(0)
			if !tt.ok {
				wantAfter, wantErr = 0, 2
			}
			if rec.endpoints["/after/{{ got }}"] != wantAfter || rec.get(metric.ErrCaptureMiss) != wantErr || out.Failed != wantErr {
				t.Errorf("after %d, %s %d, failed %d; want %d, %d, %d (counters %v)", rec.endpoints["/after/{{ got }}"], metric.ErrCaptureMiss,
					rec.get(metric.ErrCaptureMiss), out.Failed, wantAfter, wantErr, wantErr, rec.snapshot())
			}
		})
	}
}
