package runner

import (
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/primeload/primeload/report/metric"
	"github.com/primeload/primeload/scenario"
)

// TestParallel: a parallel step's requests are in flight together, at most
// limit at once; the user goes on when all have ended, with their
// captures; one failing branch fails the user after the others end
// (issue 18, Artillery's createParallel).
func TestParallel(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, steps string
		wantMax     int
		wantPaths   []string
		failed      bool
	}{
		{"all at once", `
      - parallel:
          - get: {url: /p/1, capture: {json: "$.n", as: one}}
          - get: {url: /p/2, capture: {json: "$.n", as: two}}
          - get: {url: /p/3}
      - get: {url: "/after/{{ one }}/{{ two }}"}
`, 3, []string{"/p/1", "/p/2", "/p/3", "/after/1/2"}, false},
		{"limit", `
      - parallel:
          - get: {url: /p/1}
          - get: {url: /p/2}
          - get: {url: /p/3}
        limit: 2
      - get: {url: /after}
`, 2, []string{"/p/1", "/p/2", "/p/3", "/after"}, false},
		{"a failing branch fails the user once all end", `
      - parallel:
          - get: {url: /p/1, capture: {json: "$.missing", as: x}}
          - get: {url: /p/2}
      - get: {url: /after}
`, 2, []string{"/p/1", "/p/2"}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var mu sync.Mutex
			inFlight, maxInFlight := 0, 0
			var paths []string
			srv := serve(t, func(w http.ResponseWriter, r *http.Request) {
				mu.Lock()
				paths = append(paths, r.URL.Path)
				inFlight++
				maxInFlight = max(maxInFlight, inFlight)
				mu.Unlock()
				if strings.HasPrefix(r.URL.Path, "/p/") {
					// Long enough for the others to arrive if they run together.
					time.Sleep(150 * time.Millisecond)
				}
				mu.Lock()
				inFlight--
				mu.Unlock()
				w.Header().Set("Content-Type", "application/json")
				w.Write([]byte(`{"n": ` + strings.TrimPrefix(r.URL.Path, "/p/") + `}`))
			})
			src := "config:\n  target: \"" + srv.URL + "\"\n  phases: [{duration: 0.1, arrivalCount: 1}]\nscenarios:\n  - flow:\n" + tt.steps
			script, err := scenario.Parse("par.yml", []byte(src), scenario.LoadOptions{})
			if err != nil {
				t.Fatal(err)
			}
			out, rec := run(t, script, Options{})
			mu.Lock()
			defer mu.Unlock()
			if maxInFlight != tt.wantMax {
				t.Errorf("%d requests in flight at most, want %d", maxInFlight, tt.wantMax)
			}
			// Branches race each other, so only a step after the parallel
			// one has a place: last.
			last := tt.wantPaths[len(tt.wantPaths)-1]
			if !slices.Equal(slices.Sorted(slices.Values(paths)), slices.Sorted(slices.Values(tt.wantPaths))) ||
				!strings.HasPrefix(last, "/p/") && paths[len(paths)-1] != last {
				t.Errorf("server saw %v, want %v in some order, a step after the branches last", paths, tt.wantPaths)
			}
			if got := rec.get(metric.VUsersFailed) == 1; got != tt.failed || out.Completed+out.Failed != 1 {
				t.Errorf("failed %v (completed %d, failed %d), want failed %v", got, out.Completed, out.Failed, tt.failed)
			}
		})
	}
}
