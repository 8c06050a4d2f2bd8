package runner_test

import (
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"github.com/primeload/primeload/runner"
)

// TestHTTPDefaultsOnTheWire: config.http.defaults and the legacy
// config.defaults as Artillery reads them (issue 18): each key of
// http.defaults replaces the legacy one whole, default cookies go with
// every request unless the request sets its own, and strictCapture: false
// lets a capture miss go on.
func TestHTTPDefaultsOnTheWire(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, config, flow string
		want               []string // distinct "X-A|X-B|Cookie" the server saw
		misses             int64
	}{
		{"legacy defaults", "  defaults:\n    headers: {X-A: legacy}\n    cookie: {sid: s1}\n",
			"      - get: {url: /}\n", []string{"legacy||sid=s1"}, 0},
		{"http.defaults replaces legacy headers whole", "  defaults:\n    headers: {X-A: legacy, X-B: legacy}\n  http:\n    defaults:\n      headers: {X-A: modern}\n",
			"      - get: {url: /}\n", []string{"modern||"}, 0},
		{"request cookie wins over the default", "  http:\n    defaults:\n      cookie: {sid: s1, lang: en}\n",
			"      - get: {url: /, cookie: {sid: mine}}\n", []string{"||lang=en; sid=mine"}, 0},
		{"strictCapture false", "  http:\n    defaults:\n      strictCapture: false\n",
			"      - get: {url: /, capture: {json: $.nope, as: x}}\n      - get: {url: /, headers: {X-B: \"{{ x }}\"}}\n", []string{"||"}, 0},
		{"strictCapture false, strict: true still fails", "  defaults:\n    strictCapture: false\n",
			"      - get: {url: /, capture: {json: $.nope, as: x, strict: true}}\n", []string{"||"}, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var saw seen
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				var cookies []string
				for _, c := range r.Cookies() {
					cookies = append(cookies, c.Name+"="+c.Value)
				}
				slices.Sort(cookies)
				saw.add(r.Header.Get("X-A") + "|" + r.Header.Get("X-B") + "|" + strings.Join(cookies, "; "))
				w.Header().Set("Content-Type", "application/json")
				w.Write([]byte(`{"ok":true}`))
			}))
			t.Cleanup(srv.Close)
			script := parseScript(t, "config:\n  target: http://127.0.0.1:9\n  phases: [{duration: 0.1, arrivalCount: 2}]\n"+tt.config+
				"scenarios:\n  - flow:\n"+tt.flow)
			_, rep := faultRun(t, script, srv.URL, runner.Options{})
			if got := saw.distinct(); strings.Join(got, "\n") != strings.Join(tt.want, "\n") {
				t.Errorf("seen:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(tt.want, "\n"))
			}
			if got := rep.Aggregate.Counters["errors.Failed capture or match"]; got != tt.misses {
				t.Errorf("capture misses = %d, want %d", got, tt.misses)
			}
		})
	}
}
