package runner

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/primeload/primeload/scenario"
)

// signalWriter discards lines and closes first on the first one.
type signalWriter struct {
	once  sync.Once
	first chan struct{}
	lines atomic.Int64
}

func (w *signalWriter) Write(p []byte) (int, error) {
	w.lines.Add(1)
	w.once.Do(func() { close(w.first) })
	return len(p), nil
}

// endless is a loop that, run to its count, would not end in a lifetime.
func endless(steps ...scenario.Step) scenario.Step {
	return scenario.Step{Loop: &scenario.Loop{Count: 1e12, Steps: steps}}
}

// Issue 13 item 5: a loop whose steps never wait (log only) must still
// see the run end. Ctrl-C cancels ctx; the grace period or a second
// Ctrl-C (Stop) ends the users, and Run returns with its Outcome.
func TestRunInterruptsLoopsThatNeverWait(t *testing.T) {
	t.Parallel()
	logStep := scenario.Step{Log: scenario.MustCompile("tick {{ $loopCount }}")}
	tests := []struct {
		name       string
		flow       []scenario.Step
		before     []scenario.Step
		after      []scenario.Step
		grace      time.Duration
		secondStop bool // close Stop right after the cancel
		wantCutOff int64
	}{
		{name: "log-only loop, grace ends", flow: []scenario.Step{endless(logStep)}, grace: 50 * time.Millisecond, wantCutOff: 1},
		{name: "log-only loop, second Ctrl-C", flow: []scenario.Step{endless(logStep)}, grace: time.Hour, secondStop: true, wantCutOff: 1},
		{name: "nested log-only loops", flow: []scenario.Step{endless(endless(logStep))}, grace: 50 * time.Millisecond, wantCutOff: 1},
		{name: "empty loop after a log", flow: []scenario.Step{logStep, endless()}, grace: 50 * time.Millisecond, wantCutOff: 1},
		{name: "log-only loop in the before flow", before: []scenario.Step{endless(logStep)}, flow: []scenario.Step{logStep}, grace: time.Hour},
		{name: "log-only loop in the after flow, grace ends", after: []scenario.Step{endless(logStep)}, flow: []scenario.Step{}, grace: 50 * time.Millisecond},
		{name: "log-only loop in the after flow, second Ctrl-C", after: []scenario.Step{endless(logStep)}, flow: []scenario.Step{}, grace: time.Hour, secondStop: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			script := newScript("http://127.0.0.1:9", []scenario.Phase{count(1, 10*time.Millisecond)}, tt.flow)
			script.Before, script.After = tt.before, tt.after
			w := &signalWriter{first: make(chan struct{})}
			stop := make(chan struct{})
			ctx, cancel := context.WithCancel(t.Context())
			defer cancel()
			type result struct {
				out *Outcome
				err error
			}
			done := make(chan result, 1)
			go func() {
				out, err := Run(ctx, script, newCountRecorder(), Options{Seed: 1, Log: w, Grace: tt.grace, Stop: stop})
				done <- result{out, err}
			}()
			select {
			case <-w.first:
			case <-time.After(10 * time.Second):
				t.Fatal("no log line within 10 s")
			}
			cancel()
			if tt.secondStop {
				close(stop)
			}
			var r result
			select {
			case r = <-done:
			case <-time.After(10 * time.Second):
				t.Fatalf("Run did not return within 10 s of the interrupt (%d log lines so far)", w.lines.Load())
			}
			if r.err != nil {
				t.Fatalf("Run: %v", r.err)
			}
			if r.out.CutOff != tt.wantCutOff || r.out.Completed+r.out.Failed+r.out.CutOff != int64(r.out.Created) {
				t.Errorf("created %d, completed %d, failed %d, cut off %d; want %d cut off", r.out.Created, r.out.Completed, r.out.Failed, r.out.CutOff, tt.wantCutOff)
			}
			if tt.after == nil && !r.out.Aborted {
				t.Error("Outcome.Aborted is false after an interrupt during the load")
			}
		})
	}
}
