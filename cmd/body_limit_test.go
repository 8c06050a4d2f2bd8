package cmd

import (
	"bytes"
	"compress/gzip"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/primeload/primeload/report/metric"
	"github.com/primeload/primeload/runner"
)

// TestRunMaxBodyMiB: a body past the default limit fails its request, and
// --max-body-mib raises the limit for the body read and for a gzip body
// decompressed for a capture alike.
func TestRunMaxBodyMiB(t *testing.T) {
	t.Parallel()
	// One MiB past the default: what a real user raising the limit sends.
	size := int(runner.DefaultMaxBodyBytes) + 1<<20
	doc := []byte(`{"id":"7","pad":"` + strings.Repeat("x", size) + `"}`)
	var zipped bytes.Buffer
	zw := gzip.NewWriter(&zipped)
	zw.Write(doc)
	zw.Close()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		if r.URL.Path == "/zipped" {
			w.Header().Set("Content-Encoding", "gzip")
			w.Write(zipped.Bytes())
			return
		}
		w.Write(doc)
	}))
	t.Cleanup(srv.Close)
	script := func(path string) string {
		return `config:
  target: "` + srv.URL + `"
  phases:
    - duration: 1
      arrivalCount: 1
scenarios:
  - flow:
      - get:
          url: "` + path + `"
          capture:
            - json: "$.id"
              as: id
`
	}
	tests := []struct {
		name      string
		path      string
		args      []string
		wantError string // the error counter the request must count, "" for none
	}{
		{"plain body past the default", "/plain", nil, metric.ErrBodyTooLarge},
		{"plain body under a raised limit", "/plain", []string{"--max-body-mib", "12"}, ""},
		{"gzip body past the default once decompressed", "/zipped", nil, metric.ErrDecodedTooLarge},
		{"gzip body under a raised limit", "/zipped", []string{"--max-body-mib", "12"}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			res := execRun(t, nil, nil, "", append([]string{writeScript(t, script(tt.path))}, tt.args...)...)
			if res.rep == nil {
				t.Fatalf("exit %d, no report:\n%s", res.code, res.errOut)
			}
			c := res.rep.Aggregate.Counters
			errs := map[string]int64{}
			for _, name := range metric.Errors() {
				if c[name] != 0 {
					errs[name] = c[name]
				}
			}
			switch {
			case tt.wantError == "" && len(errs) > 0:
				t.Errorf("errors %v, want none under the raised limit", errs)
			case tt.wantError != "" && (len(errs) != 1 || errs[tt.wantError] != 1):
				t.Errorf("errors %v, want %s = 1", errs, tt.wantError)
			}
			if tt.wantError == "" && c[metric.Code(200)] != 1 {
				t.Errorf("%s = %d, want 1", metric.Code(200), c[metric.Code(200)])
			}
		})
	}
}
