package runner

import (
	"context"
	"maps"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/primeload/primeload/report/metric"
	"github.com/primeload/primeload/scenario"
)

// countRecorder is a Recorder that counts everything under one lock: tests
// want totals, not speed.
type countRecorder struct {
	mu        sync.Mutex
	counters  map[string]int64 // what came through Count
	derived   map[string]int64 // the counters Response carries, as the collector names them
	endpoints map[string]int   // responses per endpoint
	statuses  map[int]int
	lags      int
	latencies []time.Duration // every response's, in the order recorded
	sessions  []time.Duration
	timings   []Timings
	maxID     int
}

func newCountRecorder() *countRecorder {
	return &countRecorder{counters: map[string]int64{}, derived: map[string]int64{}, endpoints: map[string]int{}, statuses: map[int]int{}}
}

func (r *countRecorder) Sink(id int) Sink {
	r.mu.Lock()
	r.maxID = max(r.maxID, id)
	r.mu.Unlock()
	return r
}

func (r *countRecorder) Response(endpoint string, latency time.Duration, status int, downloaded int64) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.endpoints[endpoint]++
	r.latencies = append(r.latencies, latency)
	r.statuses[status]++
	r.derived[metric.Responses]++
	r.derived["http.codes."+strconv.Itoa(status)]++
	r.derived[metric.Downloaded] += downloaded
}

func (r *countRecorder) Count(name string, delta int64) {
	r.mu.Lock()
	r.counters[name] += delta
	r.mu.Unlock()
}

func (r *countRecorder) Lag(time.Duration) {
	r.mu.Lock()
	r.lags++
	r.mu.Unlock()
}

func (r *countRecorder) ServerTiming(endpoint string, d time.Duration) {
	r.mu.Lock()
	r.counters["server-timing "+endpoint]++
	r.mu.Unlock()
}

func (r *countRecorder) Timings(t Timings) {
	r.mu.Lock()
	r.timings = append(r.timings, t)
	r.mu.Unlock()
}

func (r *countRecorder) Session(d time.Duration) {
	r.mu.Lock()
	r.sessions = append(r.sessions, d)
	r.mu.Unlock()
}

// get is a counter as a report shows it: what Count added plus what
// Response carried.
func (r *countRecorder) get(name string) int64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.counters[name] + r.derived[name]
}

// snapshot is every counter as a report shows it.
func (r *countRecorder) snapshot() map[string]int64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	m := maps.Clone(r.counters)
	for k, v := range r.derived {
		m[k] += v
	}
	return m
}

// counted is what came through Count alone.
func (r *countRecorder) counted() map[string]int64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	return maps.Clone(r.counters)
}

// get is a GET step with default options.
func get(url string) scenario.Step {
	return scenario.Step{Request: &scenario.Request{
		Method: "GET", URL: scenario.MustCompile(url), Endpoint: url, FollowRedirect: true,
	}}
}

// withCapture adds captures to a request step.
func withCapture(s scenario.Step, cs ...scenario.Capture) scenario.Step {
	s.Request.Capture = append(s.Request.Capture, cs...)
	return s
}

func jsonCapture(path, as string) scenario.Capture {
	p, err := scenario.CompileJSONPath(path)
	if err != nil {
		panic(err)
	}
	return scenario.Capture{Kind: scenario.CaptureJSON, Expr: path, JSON: p, As: as, Strict: true}
}

// newScript builds a script with one scenario per flow, weights 1.
func newScript(target string, phases []scenario.Phase, flows ...[]scenario.Step) *scenario.Script {
	s := &scenario.Script{Path: "test.yml", Config: scenario.Config{Target: target, Phases: phases}}
	for i, f := range flows {
		s.Scenarios = append(s.Scenarios, scenario.Scenario{Name: "s" + string(rune('a'+i)), Weight: 1, Flow: f})
	}
	return s
}

// serve starts a test server that the test owns.
func serve(t testing.TB, h http.HandlerFunc) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv
}

// run runs script with a fixed seed and fails the test on an error.
func run(t testing.TB, script *scenario.Script, opts Options) (*Outcome, *countRecorder) {
	t.Helper()
	return runCtx(context.Background(), t, script, opts)
}

func runCtx(ctx context.Context, t testing.TB, script *scenario.Script, opts Options) (*Outcome, *countRecorder) {
	t.Helper()
	if opts.Seed == 0 {
		opts.Seed = 1
	}
	rec := newCountRecorder()
	out, err := Run(ctx, script, rec, opts)
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	// Every started user ended one way or another.
	if got := out.Completed + out.Failed + out.CutOff; got != int64(out.Created) {
		t.Errorf("completed %d + failed %d + cut off %d = %d, want created %d", out.Completed, out.Failed, out.CutOff, got, out.Created)
	}
	if got := rec.get(metric.VUsersCreated); got != int64(out.Created) {
		t.Errorf("vusers.created = %d, Outcome.Created = %d", got, out.Created)
	}
	return out, rec
}

func ok(w http.ResponseWriter, _ *http.Request) { w.Write([]byte(`{"ok":true}`)) }
