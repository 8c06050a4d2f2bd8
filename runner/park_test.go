package runner

import (
	"context"
	"runtime"
	"testing"
	"time"

	"github.com/primeload/primeload/scenario"
)

// TestParkedUsersResume: users thinking at the top level of their flow
// (a think step, a request's think) sleep without a goroutine and resume
// where they were, on the connection they held, and their sessions span
// the thinks.
func TestParkedUsersResume(t *testing.T) {
	url, conns, _ := countingServer(t)
	thinking := get(url + "/b")
	thinking.Request.Think = parkThink
	const n = 50
	script := newScript(url, []scenario.Phase{count(n, 100*time.Millisecond)},
		[]scenario.Step{get(url + "/a"), {Think: parkThink}, thinking, get(url + "/c")})
	out, rec := run(t, script, Options{})
	if out.Completed != n {
		t.Fatalf("%d users completed, want %d (failed %d, cut off %d)", out.Completed, n, out.Failed, out.CutOff)
	}
	for _, ep := range []string{"/a", "/b", "/c"} {
		if got := rec.endpoints[url+ep]; got != n {
			t.Errorf("%d responses of %s, want %d", got, ep, n)
		}
	}
	if got := conns.Load(); got != n {
		t.Errorf("the server accepted %d connections, want %d: one per user, kept through its thinks", got, n)
	}
	if len(rec.sessions) != n {
		t.Fatalf("%d sessions, want %d", len(rec.sessions), n)
	}
	for _, d := range rec.sessions {
		if d < 2*parkThink {
			t.Fatalf("a session of %v, want at least the two thinks, %v", d, 2*parkThink)
		}
	}
}

// TestParkedUsersHoldNoGoroutine: users holding a connection through a
// long think hold no goroutine meanwhile, and are cut off as soon as the
// virtual users are stopped, as a sleeping think is.
func TestParkedUsersHoldNoGoroutine(t *testing.T) {
	url, _, responses := countingServer(t)
	const n = 300
	script := newScript(url, []scenario.Phase{count(n, 100*time.Millisecond)},
		[]scenario.Step{get(url + "/a"), {Think: time.Hour}, get(url + "/b")})
	before := runtime.NumGoroutine()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan *Outcome, 1)
	go func() {
		out, err := Run(ctx, script, nopRecorder{}, Options{Seed: 1, Grace: 10 * time.Millisecond})
		if err != nil {
			t.Error(err)
		}
		done <- out
	}()
	for deadline := time.Now().Add(20 * time.Second); responses.Load() < n; time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("%d of %d responses after 20 s", responses.Load(), n)
		}
	}
	time.Sleep(200 * time.Millisecond) // the last users read their answer and park
	// The server's goroutine per connection is n of them; the users'
	// workers and the run's own a few more.
	if grown := runtime.NumGoroutine() - before; grown > n+n/10 {
		t.Errorf("%d goroutines more while %d users think, want at most %d: the server's %d and a few", grown, n, n+n/10, n)
	}
	cancel()
	select {
	case out := <-done:
		if out.CutOff != n {
			t.Errorf("%d users cut off, want %d", out.CutOff, n)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the run did not end 10 s after its cancel: the parked users were not cut off")
	}
}
