package runner

import (
	"maps"
	"net/http"
	"strconv"
	"sync"
	"testing"

	"github.com/primeload/primeload/report/metric"
	"github.com/primeload/primeload/scenario"
)

// runFlow runs users users of flow (YAML steps under "flow:") against a
// real server and returns how often each path (with its query) arrived.
func runFlow(t *testing.T, users int, variables, flow string) (map[string]int, *Outcome, *countRecorder) {
	t.Helper()
	var mu sync.Mutex
	paths := map[string]int{}
	srv := serve(t, func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		paths[r.URL.RequestURI()]++
		mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		w.Write([]byte(`{"id": 7, "items": [{"n": 1}, {"n": 2}]}`))
	})
	src := "config:\n  target: \"" + srv.URL + "\"\n  phases: [{duration: 0.2, arrivalCount: " + strconv.Itoa(users) + "}]\n" +
		"  variables: {" + variables + "}\nscenarios:\n  - flow:\n" + flow
	script, err := scenario.Parse("flow.yml", []byte(src), scenario.LoadOptions{})
	if err != nil {
		t.Fatalf("%v\n%s", err, src)
	}
	out, rec := run(t, script, Options{Seed: 11})
	mu.Lock()
	defer mu.Unlock()
	return maps.Clone(paths), out, rec
}

// TestFlowSteps: Artillery 2.0.34's loop forms, templated think and
// triple braces, as a server sees them (issue 18).
func TestFlowSteps(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, vars, flow string
		want             map[string]int // per user
	}{
		{"count range runs to - from times from from", "", `
      - loop:
          - get: {url: "/i/{{ $loopCount }}"}
        count: "2-4"
      - get: {url: "/after/{{ $loopCount }}"}
`, map[string]int{"/i/2": 1, "/i/3": 1, "/after/4": 1}},
		{"templated count", "n: 3", `
      - loop:
          - get: {url: "/i/{{ $loopCount }}"}
        count: "{{ n }}"
`, map[string]int{"/i/0": 1, "/i/1": 1, "/i/2": 1}},
		{"templated range", `n: "1-3"`, `
      - loop:
          - get: {url: "/i/{{ $loopCount }}"}
        count: "{{ n }}"
`, map[string]int{"/i/1": 1, "/i/2": 1}},
		{"loopValue and loopElement", "", `
      - loop:
          - get: {url: "/x/{{ idx }}/{{ item }}/{{ $loopCount }}"}
        over: [a, b]
        loopValue: idx
        loopElement: item
      - get: {url: "/after/{{ idx }}/{{ $loopCount }}"}
`, map[string]int{"/x/0/a/0": 1, "/x/1/b/1": 1, "/after/2/2": 1}},
		{"over a captured list, count after the loop", "", `
      - get:
          url: /list
          capture: {json: "$.items", as: items}
      - loop:
          - get: {url: "/n/{{ $loopElement.n }}"}
        over: items
      - get: {url: "/after/{{ $loopCount }}"}
`, map[string]int{"/list": 1, "/n/1": 1, "/n/2": 1, "/after/2": 1}},
		{"an inner loop gives the outer its count back", "", `
      - loop:
          - loop:
              - get: {url: "/in/{{ $loopCount }}"}
            count: 2
          - get: {url: "/out/{{ $loopCount }}"}
        count: 2
`, map[string]int{"/in/0": 2, "/in/1": 2, "/out/0": 1, "/out/1": 1}},
		{"templated think", `t: "5ms"`, `
      - think: "{{ t }}"
      - get: {url: /after}
`, map[string]int{"/after": 1}},
		{"triple braces", "", `
      - get:
          url: /list
          capture: {json: "$.id", as: id}
      - get: {url: "/t/{{{ id }}}?q={{{id}}}"}
`, map[string]int{"/list": 1, "/t/7?q=7": 1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			const users = 3
			got, out, rec := runFlow(t, users, tt.vars, tt.flow)
			want := map[string]int{}
			for k, v := range tt.want {
				want[k] = v * users
			}
			if !maps.Equal(got, want) {
				t.Errorf("server saw %v, want %v", got, want)
			}
			if out.Completed != users {
				t.Errorf("%d users completed, want %d (counters %v)", out.Completed, users, rec.snapshot())
			}
		})
	}
}

// TestFlowBadThink: a templated think that renders to no duration ends the
// user with errors.EINVALIDTHINK; Artillery throws there (issue 18).
func TestFlowBadThink(t *testing.T) {
	t.Parallel()
	got, _, rec := runFlow(t, 2, `t: "soon"`, "      - think: \"{{ t }}\"\n      - get: {url: /after}\n")
	if len(got) != 0 || rec.get(metric.ErrInvalidThink) != 2 || rec.get(metric.VUsersFailed) != 2 {
		t.Errorf("server saw %v, %d invalid thinks, %d failed users; want nothing, 2, 2", got, rec.get(metric.ErrInvalidThink), rec.get(metric.VUsersFailed))
	}
}

// TestFlowProbability: probability is the percent chance a request is
// sent; a skipped one counts nothing (issue 18).
func TestFlowProbability(t *testing.T) {
	t.Parallel()
	const users = 400
	got, out, rec := runFlow(t, users, "", `
      - get: {url: /never, probability: 0}
      - get: {url: /always, probability: 100}
      - get: {url: /half, probability: 50}
`)
	if got["/never"] != 0 || got["/always"] != users {
		t.Errorf("never %d, always %d; want 0 and %d", got["/never"], got["/always"], users)
	}
	// 400 draws at 1/2: within 4 standard deviations (10) of 200.
	if h := got["/half"]; h < 160 || h > 240 {
		t.Errorf("half %d of %d, want about 200", h, users)
	}
	if rec.get(metric.Requests) != int64(got["/always"]+got["/half"]) || out.Completed != users {
		t.Errorf("http.requests %d, completed %d", rec.get(metric.Requests), out.Completed)
	}
}
