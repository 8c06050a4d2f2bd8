package runner_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/primeload/primeload/runner"
)

// TestMaxRedirects: a step's maxRedirects counts as Artillery 2.0.34 (got
// 14) counts it against a chain of redirects /r/N -> /r/N-1 -> ... -> /r/0
// (200), each case then GETting /r/0: every hop is a request and a
// response; past the limit the redirect that is not followed fails the
// request with errors.ERR_TOO_MANY_REDIRECTS and ends the user; 0 fails
// the first redirect. The wants are Artillery's own counts from the same
// scripts against a stub (issue 18).
func TestMaxRedirects(t *testing.T) {
	t.Parallel()
	var hits atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		if n, err := strconv.Atoi(strings.TrimPrefix(r.URL.Path, "/r/")); err == nil && n > 0 {
			http.Redirect(w, r, "/r/"+strconv.Itoa(n-1), http.StatusFound)
			return
		}
		w.Write([]byte("ok"))
	}))
	t.Cleanup(srv.Close)
	tests := []struct {
		name  string
		chain int    // redirects before the 200
		keys  string // the step's redirect keys, YAML lines
		// Artillery's counts: requests (each one a response), 302s, 200s,
		// and the user failed with ERR_TOO_MANY_REDIRECTS.
		requests, found, ok int64
		failed              bool
	}{
		{"limit below the chain", 3, "maxRedirects: 2", 3, 3, 0, true},
		{"limit above the chain", 3, "maxRedirects: 5", 5, 3, 2, false},
		{"limit equal to the chain", 3, "maxRedirects: 3", 5, 3, 2, false},
		{"0 fails the first redirect", 1, "maxRedirects: 0", 1, 1, 0, true},
		{"0 without following returns the 302", 2, "maxRedirects: 0\n          followRedirect: false", 2, 1, 1, false},
		{"default: ten followed", 10, "", 12, 10, 2, false},
		{"default: the eleventh fails", 11, "", 11, 11, 0, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src := fmt.Sprintf(`config:
  target: %q
  phases: [{duration: 0.1, arrivalCount: 1}]
scenarios:
  - flow:
      - get:
          url: "/r/%d"
          %s
      - get:
          url: "/r/0"
`, srv.URL, tt.chain, tt.keys)
			before := hits.Load()
			out, rep := faultRun(t, parseScript(t, src), srv.URL, runner.Options{})
			agg := rep.Aggregate
			wantErrs := map[string]int64{}
			failed, completed := int64(0), int64(1)
			if tt.failed {
				wantErrs["errors.ERR_TOO_MANY_REDIRECTS"] = 1
				failed, completed = 1, 0
			}
			if got := errorCounters(agg); fmt.Sprint(got) != fmt.Sprint(wantErrs) {
				t.Errorf("error counters %v, want %v", got, wantErrs)
			}
			endpointErr := agg.Counters[fmt.Sprintf("plugins.metrics-by-endpoint./r/%d.errors.ERR_TOO_MANY_REDIRECTS", tt.chain)]
			checkCounts(t, []countCheck{
				{"requests the server received", hits.Load() - before, tt.requests},
				{"http.requests", agg.Counters["http.requests"], tt.requests},
				{"http.responses", agg.Counters["http.responses"], tt.requests},
				{"http.codes.302", agg.Counters["http.codes.302"], tt.found},
				{"http.codes.200", agg.Counters["http.codes.200"], tt.ok},
				{"the endpoint's ERR_TOO_MANY_REDIRECTS", endpointErr, failed},
				{"vusers.failed", agg.Counters["vusers.failed"], failed},
				{"vusers.completed", agg.Counters["vusers.completed"], completed},
				{"Outcome.Failed", out.Failed, failed},
			}, "")
		})
	}
}
