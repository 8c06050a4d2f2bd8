package runner

import (
	"context"
	"errors"
	"net/http"
	"runtime"
	"slices"
	"sync"
	"testing"
	"time"
	"unsafe"

	"github.com/primeload/primeload/report/metric"
	"github.com/primeload/primeload/scenario"
)

// TestPoolHandOver: with every pooled connection taken, waiters are served
// oldest first; one that times out leaves the queue, and a connection or
// slot handed to it as it gave up goes to the next, so the host never ends
// up with fewer usable connections than its size.
func TestPoolHandOver(t *testing.T) {
	e := benchEngineConfig(t, nil, scenario.Config{HTTP: scenario.HTTPConfig{Pool: 1}})
	p, c := e.http.pool, e.http
	host := []byte(e.target[len("http://"):])
	ctx := context.Background()
	far := func() time.Time { return time.Now().Add(time.Minute) }

	holder := &userConns{http: c}
	conn, err := p.acquire(ctx, c, holder, false, false, host, far())
	if err != nil {
		t.Fatal(err)
	}
	// A waiter with a short deadline times out and leaves the queue.
	if _, err := p.acquire(ctx, c, &userConns{http: c}, false, false, host, time.Now().Add(20*time.Millisecond)); !errors.Is(err, errPoolWait) {
		t.Fatalf("a wait past its deadline: %v, want errPoolWait", err)
	}
	hp := p.host(false, host)
	hp.mu.Lock()
	if n := hp.waiters(); n != 0 {
		t.Errorf("%d waiters left after a timeout, want 0", n)
	}
	hp.mu.Unlock()

	// Three waiters queue in order; each released connection goes to the oldest.
	var mu sync.Mutex
	var order []int
	var wg sync.WaitGroup
	for i := range 3 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			uc := &userConns{http: c}
			got, err := p.acquire(ctx, c, uc, false, false, host, far())
			if err != nil {
				t.Error(err)
				return
			}
			mu.Lock()
			order = append(order, i)
			mu.Unlock()
			p.release(c, got, true)
		}()
		// Wait until it is queued, so the queue's order is i's.
		for deadline := time.Now().Add(10 * time.Second); ; {
			hp.mu.Lock()
			n := hp.waiters()
			hp.mu.Unlock()
			if n == i+1 {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("waiter %d never queued", i)
			}
			time.Sleep(time.Millisecond)
		}
	}
	p.release(c, conn, true)
	wg.Wait()
	if len(order) != 3 || order[0] != 0 || order[1] != 1 || order[2] != 2 {
		t.Errorf("waiters served in order %v, want [0 1 2]", order)
	}
	// The one connection is idle again: the next request takes it at once.
	hp.mu.Lock()
	open, idle := hp.open, len(hp.idle)
	hp.mu.Unlock()
	if open != 1 || idle != 1 {
		t.Errorf("after the waits: %d open, %d idle, want 1 and 1", open, idle)
	}

	// A closed connection's slot goes to a waiter, which dials.
	conn, err = p.acquire(ctx, c, holder, false, false, host, far())
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() {
		got, err := p.acquire(ctx, c, &userConns{http: c}, false, false, host, far())
		if err == nil {
			p.release(c, got, true)
		}
		done <- err
	}()
	for {
		hp.mu.Lock()
		n := hp.waiters()
		hp.mu.Unlock()
		if n == 1 {
			break
		}
		time.Sleep(time.Millisecond)
	}
	p.release(c, conn, false)
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("the waiter given a slot: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("a freed slot never reached the waiter")
	}
	hp.mu.Lock()
	if hp.open != 1 {
		t.Errorf("%d open after a close and a re-dial, want 1", hp.open)
	}
	hp.mu.Unlock()
}

// TestPoolQueues: waiters leave from anywhere in the queue (a timeout) in
// constant time, a released connection goes to the oldest waiter that
// takes one, and a freed slot to the oldest waiter of either kind.
func TestPoolQueues(t *testing.T) {
	t.Parallel()
	hp := &hostPool{size: 1}
	ws := make([]*poolWaiter, 6)
	for i := range ws {
		ws[i] = &poolWaiter{ch: make(chan *userConn, 1), fresh: i == 0 || i == 3}
		hp.seq++
		ws[i].seq = hp.seq
		hp.queue(ws[i]).push(ws[i])
	}
	// Waiter 2 times out: it leaves the middle of the queue.
	hp.queue(ws[2]).remove(ws[2])
	if hp.waiters() != 5 || ws[2].queued {
		t.Fatalf("after a timeout: %d waiters, removed one still queued %v; want 5, false", hp.waiters(), ws[2].queued)
	}
	var got []int
	index := func(w *poolWaiter) int {
		for i, x := range ws {
			if x == w {
				return i
			}
		}
		return -1
	}
	// A released connection skips the fresh waiter 0 and goes to 1; a freed
	// slot goes to the oldest left of either kind: 0, then 3, then 4.
	got = append(got, index(hp.waiting.pop()))
	for range 3 {
		w := hp.oldest()
		hp.queue(w).remove(w)
		got = append(got, index(w))
	}
	got = append(got, index(hp.waiting.pop()))
	if want := []int{1, 0, 3, 4, 5}; !slices.Equal(got, want) {
		t.Errorf("served %v, want %v", got, want)
	}
	if hp.waiters() != 0 || hp.waiting.head != nil || hp.waiting.tail != nil || hp.fresh.head != nil || hp.fresh.tail != nil {
		t.Errorf("queues not empty at the end: %d waiters", hp.waiters())
	}
}

// pooledScript is newScript with config.http.pool and timeout set.
func pooledScript(target string, pool int, timeout time.Duration, phases ...scenario.Phase) *scenario.Script {
	s := newScript(target, phases, []scenario.Step{get("/")})
	s.Config.HTTP.Pool, s.Config.HTTP.Timeout = pool, timeout
	return s
}

// goroutinePeak samples runtime.NumGoroutine until stop is called, which
// returns the highest count seen.
func goroutinePeak() (stop func() int) {
	done, peak := make(chan struct{}), make(chan int, 1)
	go func() {
		most := 0
		tick := time.NewTicker(2 * time.Millisecond)
		defer tick.Stop()
		for {
			most = max(most, runtime.NumGoroutine())
			select {
			case <-tick.C:
			case <-done:
				peak <- most
				return
			}
		}
	}()
	return func() int { close(done); return <-peak }
}

// TestRunArrivalsQueueForThePool: arrivals faster than the pool's one
// connection serves them wait for it as data, not as goroutines, in order,
// and each one's latency and session count the wait from its arrival.
func TestRunArrivalsQueueForThePool(t *testing.T) {
	srv := serve(t, func(w http.ResponseWriter, r *http.Request) {
		time.Sleep(10 * time.Millisecond)
		ok(w, r)
	})
	// 100 arrivals in 0.5 s, served one at a time in 10 ms: the i-th
	// waits about 5i ms, the last about half a second.
	script := pooledScript(srv.URL, 1, time.Minute, constant(200, 500*time.Millisecond))
	before := runtime.NumGoroutine()
	peak := goroutinePeak()
	out, rec := run(t, script, Options{})
	most := peak()
	if out.Created != 100 || out.Completed != 100 || rec.statuses[http.StatusOK] != 100 {
		t.Fatalf("created %d, completed %d, %d answered 200; want 100 each (counters %v)", out.Created, out.Completed, rec.statuses[http.StatusOK], rec.snapshot())
	}
	// A goroutine each would be 100 more; a queue of data needs a few
	// workers, the server's goroutines and the sampler.
	if most-before > 25 {
		t.Errorf("goroutines peaked at %d, %d more than before the run: queued arrivals hold goroutines", most, most-before)
	}
	slowest := slices.Max(rec.latencies)
	if slowest < 400*time.Millisecond {
		t.Errorf("slowest response %v; want about 500ms, the last arrival's wait for the connection included", slowest)
	}
	if longest := slices.Max(rec.sessions); longest < 400*time.Millisecond {
		t.Errorf("longest session %v; want about 500ms, from the arrival", longest)
	}
	// Served in arrival order: latencies grow along the queue.
	if first, last := rec.latencies[0], rec.latencies[len(rec.latencies)-1]; last < first+300*time.Millisecond {
		t.Errorf("first response %v, last %v: want the last to have waited longest", first, last)
	}
}

// TestRunQueuedArrivalsTimeOut: arrivals waiting for a pool whose one
// connection a stalled target holds fail at their timeout as a waiting
// request does, and the run ends then.
func TestRunQueuedArrivalsTimeOut(t *testing.T) {
	release := make(chan struct{})
	srv := serve(t, func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-release:
		}
	})
	defer close(release)
	script := pooledScript(srv.URL, 1, 300*time.Millisecond, constant(100, 100*time.Millisecond))
	began := time.Now()
	out, rec := run(t, script, Options{})
	took := time.Since(began)
	if out.Created != 10 || out.Failed != 10 || rec.get(metric.ErrTimedOut) != 10 {
		t.Errorf("created %d, failed %d, %d timed out; want 10 each (counters %v)", out.Created, out.Failed, rec.get(metric.ErrTimedOut), rec.snapshot())
	}
	if took > 5*time.Second {
		t.Errorf("the run took %v; want it to end soon after the last arrival's 300ms timeout", took)
	}
}

// TestRunCutsQueuedArrivals: arrivals still waiting for the pool when a
// run is stopped are cut off, as waiting requests are, and the run ends.
func TestRunCutsQueuedArrivals(t *testing.T) {
	srv := serve(t, func(w http.ResponseWriter, r *http.Request) { <-r.Context().Done() })
	script := pooledScript(srv.URL, 1, time.Minute, constant(200, 20*time.Second))
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	time.AfterFunc(300*time.Millisecond, cancel) // about 60 arrivals, one of them sent
	began := time.Now()
	out, rec := runCtx(ctx, t, script, Options{Grace: 200 * time.Millisecond})
	if !out.Aborted || out.Created < 20 || out.CutOff != int64(out.Created) || rec.get(metric.VUsersCompleted) != 0 {
		t.Errorf("aborted %v, created %d, cut off %d, completed %d; want every user cut off", out.Aborted, out.Created, out.CutOff, rec.get(metric.VUsersCompleted))
	}
	if got := rec.get(metric.Requests); got != 1 {
		t.Errorf("http.requests = %d, want 1: the queued arrivals never sent theirs", got)
	}
	if took := time.Since(began); took > 5*time.Second {
		t.Errorf("the stopped run took %v to end", took)
	}
}

// TestQueuedArrivalSize: README's Connections and Limits say an arrival
// queued for the pool costs 176 bytes (the allocation size class of a
// handoff); a field added past it must update them.
func TestQueuedArrivalSize(t *testing.T) {
	if n := unsafe.Sizeof(handoff{}); n > 176 {
		t.Errorf("a handoff is %d bytes, more than the 176 README states", n)
	}
}
