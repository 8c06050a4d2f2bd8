package runner

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/primeload/primeload/report/metric"
	"github.com/primeload/primeload/scenario"
)

// idRecorder gives every sink id its own sink and notes what each recorded.
type idRecorder struct {
	mu    sync.Mutex
	names map[int]map[string]bool // per id: counter names, "Lag" and "Response"
}

type idSink struct {
	r  *idRecorder
	id int
}

func (r *idRecorder) Sink(id int) Sink { return idSink{r, id} }

func (s idSink) note(name string) {
	s.r.mu.Lock()
	defer s.r.mu.Unlock()
	if s.r.names[s.id] == nil {
		s.r.names[s.id] = map[string]bool{}
	}
	s.r.names[s.id][name] = true
}

func (s idSink) Response(string, time.Duration, int, int64) { s.note("Response") }
func (s idSink) Count(name string, _ int64)                 { s.note(name) }
func (s idSink) Lag(time.Duration)                          { s.note("Lag") }
func (s idSink) Session(time.Duration)                      { s.note("Session") }
func (s idSink) ServerTiming(string, time.Duration)         { s.note("ServerTiming") }
func (s idSink) Timings(Timings)                            { s.note("Timings") }

// The scheduler records into sink 0 and virtual users never do, so a
// recorder can keep the scheduler's lag off every lock users take.
func TestRunSchedulerAndUsersUseDistinctSinks(t *testing.T) {
	t.Parallel()
	srv := serve(t, ok)
	phases := []scenario.Phase{count(8, 80*time.Millisecond), closed(2, 50*time.Millisecond)}
	phases[0].MaxVusers = 1_000_000
	script := newScript(srv.URL, phases, []scenario.Step{get("/")})
	script.Before = []scenario.Step{get("/")}
	script.After = []scenario.Step{get("/")}
	rec := &idRecorder{names: map[int]map[string]bool{}}
	if _, err := Run(t.Context(), script, rec, Options{Seed: 1}); err != nil {
		t.Fatal(err)
	}
	if got, want := fmt.Sprint(rec.names[0]), fmt.Sprint(map[string]bool{"Lag": true, metric.VUsersCreated: true}); got != want {
		t.Errorf("sink 0 recorded %v, want only the scheduler's %v", got, want)
	}
	for id, names := range rec.names {
		if id == 0 {
			continue
		}
		if id < 1 {
			t.Errorf("sink id %d used by a user, want 1 and up", id)
		}
		if names["Lag"] {
			t.Errorf("user sink %d recorded lag", id)
		}
	}
}
