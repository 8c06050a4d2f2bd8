package capacity

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/primeload/primeload/report"
	"github.com/primeload/primeload/report/capacity"
	"github.com/primeload/primeload/runner/loadtest"
	"github.com/primeload/primeload/scenario"
)

// queue is a server that serves exactly perSec requests per second, one at
// a time, and queues the rest (M/D/1): below perSec latency stays at the
// service time, past it the queue and latency grow for as long as the rate
// is held. Each request's finish is scheduled from the previous one's, so a
// late wake-up does not lower the capacity.
type queue struct {
	mu      sync.Mutex
	free    time.Time
	service time.Duration
}

func (q *queue) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	q.mu.Lock()
	start := time.Now()
	if q.free.After(start) {
		start = q.free
	}
	q.free = start.Add(q.service)
	done := q.free
	q.mu.Unlock()
	select {
	case <-time.After(time.Until(done)):
		w.Write([]byte("ok"))
	case <-r.Context().Done():
	}
}

func queueServer(t *testing.T, perSec int) string {
	t.Helper()
	srv := httptest.NewServer(&queue{service: time.Second / time.Duration(perSec)})
	t.Cleanup(srv.Close)
	return srv.URL
}

// loadScript is one GET per arrival, judged by p95 < p95Limit ms.
func loadScript(t *testing.T, target string, p95Limit int) *scenario.Script {
	t.Helper()
	src := `config:
  target: "` + target + `"
  phases:
    - duration: 1
      arrivalRate: 1
  ensure:
    thresholds:
      - http.response_time.p95: ` + strconv.Itoa(p95Limit) + `
scenarios:
  - flow:
      - get:
          url: "/"
`
	path := filepath.Join(t.TempDir(), "capacity.yml")
	if err := os.WriteFile(path, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	sc, err := scenario.Parse(path, []byte(src), scenario.LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return sc
}

// shortSearch keeps a search within a test's budget: 1 s warm-up, 2 s
// steps. The schedule-lag bound is loose (maxLag) because the test machine
// is shared with other test binaries: these tests are about the target's
// capacity, the CPU hook and interrupts, not about how busy the machine is.
func shortSearch(start float64, maxLag time.Duration) Options {
	return Options{Start: start, Growth: 2, Precision: 0.1, MaxRate: 1000, Step: 2 * time.Second, WarmUp: time.Second,
		MaxDuration: 2 * time.Minute, MaxLag: maxLag, Run: loadtest.Options{Grace: 5 * time.Second}}
}

// TestSearchFindsAKnownCapacity is the acceptance test: a server
// that serves 70 requests/s (off the grid of rising steps) is searched, and
// the capacity found is within ±10% of 70.
//
// Past capacity the queue grows for as long as the rate is held; below it,
// a stall of the busy test machine (GC, other test binaries) sends a burst
// whose backlog drains, slowly near capacity, but does not grow with time.
// So each step is held long (2 s warm-up, 4 s judged) for the first to
// dwarf the second: 10% past capacity the queue adds 600 ms by the step's
// end (p95 near 580 ms), 5% past it 300 ms, against the p95 < 400 ms SLO,
// while stalls of 100-300 ms at 65/s (93% of capacity) stay below it.
func TestSearchFindsAKnownCapacity(t *testing.T) {
	if raceEnabled {
		t.Skip("the capacity found is the generator's and the server's speed, which the race detector divides")
	}
	const capacityPerSec = 70
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	o := shortSearch(20, time.Second)
	o.WarmUp, o.Step = 2*time.Second, 4*time.Second
	res, err := Search(ctx, loadScript(t, queueServer(t, capacityPerSec), 400), o)
	if err != nil {
		t.Fatal(err)
	}
	res.Finish(0, 0)
	var out strings.Builder
	capacity.WriteText(&out, res)
	t.Logf("\n%s", out.String())
	if res.Limit != capacity.LimitTarget {
		t.Fatalf("limit %s, want the target's (a generator limit here means the test machine is too busy to measure)", res.Limit)
	}
	if res.Capacity < 0.9*capacityPerSec || res.Capacity > 1.1*capacityPerSec {
		t.Errorf("capacity %.1f arrivals/s, want %d ± 10%%", res.Capacity, capacityPerSec)
	}
	if res.RequestRate < 0.8*res.Capacity {
		t.Errorf("request rate %.1f/s at capacity %.1f/s: one request per arrival was sent", res.RequestRate, res.Capacity)
	}
	last := res.Steps[len(res.Steps)-1]
	if last.Stage != capacity.StageRecheck || !last.Pass {
		t.Errorf("last step %+v, want a passing re-check", last)
	}
	for _, s := range res.Steps {
		if !s.Pass && len(s.Failed) == 0 {
			t.Errorf("step at %.1f/s failed without naming an SLO", s.Rate)
		}
	}
}

// TestSearchStopsAtTheGenerator makes the generator the bottleneck from the
// third step on (its CPU hook reports every core busy) and checks that the
// result says so instead of calling it the target's capacity.
func TestSearchStopsAtTheGenerator(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	o := shortSearch(20, time.Minute)
	var mu sync.Mutex
	calls := 0
	var busy time.Duration
	o.CPUTime = func() time.Duration {
		mu.Lock()
		defer mu.Unlock()
		calls++ // two calls a step: before and after
		if calls > 4 {
			busy += time.Hour
		}
		return busy
	}
	res, err := Search(ctx, loadScript(t, queueServer(t, 10000), 2000), o)
	if err != nil {
		t.Fatal(err)
	}
	res.Finish(0, 0)
	if res.Limit != capacity.LimitGenerator || len(res.Steps) != 3 {
		t.Fatalf("limit %s after %d steps, want the generator after 3", res.Limit, len(res.Steps))
	}
	if g := res.Steps[2].Generator; !strings.Contains(g, "generator CPU") {
		t.Errorf("third step's generator reason %q, want the CPU", g)
	}
	if res.Capacity != 40 || !strings.Contains(res.Summary, "not the target's capacity") {
		t.Errorf("capacity %.1f, summary %q: want at least 40/s, said not to be the target's", res.Capacity, res.Summary)
	}
}

func TestSearchInterrupted(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	o := shortSearch(20, time.Minute)
	o.OnStep = func(i int, _ capacity.Step) {
		if i == 0 {
			cancel()
		}
	}
	res, err := Search(ctx, loadScript(t, queueServer(t, 10000), 2000), o)
	if err != nil {
		t.Fatal(err)
	}
	if res.Limit != capacity.LimitInterrupted || len(res.Steps) != 1 {
		t.Errorf("limit %s after %d steps, want interrupted after 1", res.Limit, len(res.Steps))
	}
}

func TestOptionsValidate(t *testing.T) {
	t.Parallel()
	bad := Options{Start: -1, Growth: 1, Precision: 2, Step: 1500 * time.Millisecond, WarmUp: time.Second, MaxDuration: time.Second, MaxCPU: 3}
	err := bad.Validate()
	if err == nil {
		t.Fatal("no error")
	}
	for _, want := range []string{"start rate -1", "growth 1", "precision 2", "step 1.5s", "max duration 1s", "max CPU 3"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %q:\n%v", want, err)
		}
	}
	if err := (Options{}).Validate(); err != nil {
		t.Errorf("defaults: %v", err)
	}
}

// TestStepWindowMissedArrivals: a step that joins its schedule late misses
// a prefix of it; only what it missed past the warm-up (phase 0) is the
// judged window's, and makes the generator the limit.
func TestStepWindowMissedArrivals(t *testing.T) {
	judged := time.UnixMilli(5000)
	tests := []struct {
		missed, want int64
	}{
		{0, 0},
		{12, 0},  // within the warm-up's 20
		{20, 0},  // the whole warm-up
		{25, 5},  // 5 of the step's own
		{60, 40}, // all of it
	}
	for _, tt := range tests {
		rep := &report.Report{
			Intermediate:   []*report.Metrics{{Period: judged.UnixMilli()}},
			Expected:       []report.PhaseArrivals{{Expected: 20}, {Expected: 40}},
			MissedArrivals: tt.missed,
		}
		w, err := stepWindow(rep, judged)
		if err != nil {
			t.Fatal(err)
		}
		if w.MissedArrivals != tt.want {
			t.Errorf("%d missed in the run: %d in the judged window, want %d", tt.missed, w.MissedArrivals, tt.want)
		}
	}
}
