package runner

import (
	"context"
	"errors"
	"sync"
	"time"
)

// errPoolWait is a request that found every pooled connection busy until
// its timeout; it counts as errors.ETIMEDOUT.
var errPoolWait = errors.New("timed out waiting for a pooled connection")

// sharedPool is config.http.pool: up to size connections per host shared by
// all virtual users, as Artillery's pool option does. A request takes an
// idle connection, or dials while the host has fewer than size, or waits
// for one; the wait is part of its measured latency.
//
// Each host is a mutex, a list of idle connections and a queue of waiting
// requests: a request that finds a connection takes one lock and no
// channel, and a released connection goes straight to the request that has
// waited longest. The queues are linked lists, so a hand-over and a
// waiter's timeout cost the same with ten waiters or a million: over
// capacity, every arrival waits, and a queue that shifted a slice on each
// hand-over took longer per request the longer it grew, until nothing was
// sent at all (55,000 arrivals/s over 50 connections to a target that
// served 51,000). (Channels for slots and idle connections, as before, cost
// a select with several cases per request at a generator's limit, most of
// the pool's time in profiles at 65,000 arrivals/s.)
type sharedPool struct {
	size  int
	mu    sync.Mutex
	hosts [2]map[string]*hostPool // by https, then host[:port]
	// start starts an arrival queued unstarted (see queueArrival) once it
	// is handed a connection or a slot, or its wait has timed out; set by
	// the engine before the first arrival.
	start func(*handoff)
}

// hostPool is one host's share of the pool.
type hostPool struct {
	size int
	mu   sync.Mutex
	open int         // connections open or being dialled, at most size
	idle []*userConn // open connections no request uses; the last is the warmest
	// Waiting requests, oldest first: those that take a connection or a
	// slot, and the fresh ones that take only a slot. A waiter is handed
	// a connection, or nil: a slot, to dial its own.
	waiting, fresh waitQueue
	// Arrivals queued unstarted (see queueArrival), oldest first. They
	// take a connection or a slot like waiting's waiters, in one order
	// with them.
	arrivals waitQueue
	seq      uint64 // numbers waiters in arrival order across the queues
	// expire ends the wait of queued arrivals at their deadlines, one
	// timer for all of them: their deadlines are in queue order (the run
	// has one timeout). armed: it is set to fire.
	expire *time.Timer
	armed  bool
	start  func(*handoff) // sharedPool.start
}

// poolWaiter is one request waiting for the pool; each user keeps one, so
// a wait allocates nothing.
type poolWaiter struct {
	ch chan *userConn // capacity 1: exactly one hand-over per wait
	// fresh waiters want a slot, not an idle connection (a retry after a
	// kept-alive connection went stale).
	fresh      bool
	seq        uint64
	queued     bool // in one of its host's queues; guarded by the host's mu
	prev, next *poolWaiter
	// unstarted is the arrival this waiter is, when it waits with no
	// goroutine (see queueArrival); it has no ch then.
	unstarted *handoff
}

// handoff is an arrival queued unstarted for a pooled connection, and what
// it is given when its turn comes: a connection, a slot to dial in, or the
// error its wait ended with. Its user's first request counts its latency
// from queued, as a waiting request's does from when it began to wait.
type handoff struct {
	w        poolWaiter
	a        Arrival
	hp       *hostPool
	queued   time.Time
	deadline time.Time
	conn     *userConn // handed a connection
	slot     bool      // handed a slot to dial in
	err      error     // the wait ended: errPoolWait
}

// waitQueue is a first-in first-out list of waiters linked through them.
type waitQueue struct {
	head, tail *poolWaiter
	n          int
}

func (q *waitQueue) push(w *poolWaiter) {
	w.prev, w.next, w.queued = q.tail, nil, true
	if q.tail != nil {
		q.tail.next = w
	} else {
		q.head = w
	}
	q.tail = w
	q.n++
}

// remove takes w, which must be in q, out of it.
func (q *waitQueue) remove(w *poolWaiter) {
	if w.prev != nil {
		w.prev.next = w.next
	} else {
		q.head = w.next
	}
	if w.next != nil {
		w.next.prev = w.prev
	} else {
		q.tail = w.prev
	}
	w.prev, w.next, w.queued = nil, nil, false
	q.n--
}

// pop removes and returns the oldest waiter, nil when q is empty.
func (q *waitQueue) pop() *poolWaiter {
	w := q.head
	if w != nil {
		q.remove(w)
	}
	return w
}

// queue is the queue w waits in.
func (hp *hostPool) queue(w *poolWaiter) *waitQueue {
	switch {
	case w.unstarted != nil:
		return &hp.arrivals
	case w.fresh:
		return &hp.fresh
	}
	return &hp.waiting
}

// older is whichever of a and b waited longer; either may be nil.
func older(a, b *poolWaiter) *poolWaiter {
	if a == nil || (b != nil && b.seq < a.seq) {
		return b
	}
	return a
}

// oldest is the waiter that has waited longest in any queue, nil when none
// does; under mu.
func (hp *hostPool) oldest() *poolWaiter {
	return older(older(hp.waiting.head, hp.arrivals.head), hp.fresh.head)
}

// waiters is how many requests and arrivals wait for the host; under its mu.
func (hp *hostPool) waiters() int { return hp.waiting.n + hp.fresh.n + hp.arrivals.n }

// hand gives w, taken out of its queue, a connection, or nil: a slot.
func (hp *hostPool) hand(w *poolWaiter, conn *userConn) {
	if h := w.unstarted; h != nil {
		h.conn, h.slot = conn, conn == nil
		hp.start(h)
		return
	}
	w.ch <- conn
}

func newSharedPool(size int) *sharedPool {
	return &sharedPool{size: size, hosts: [2]map[string]*hostPool{{}, {}}}
}

// queueArrival queues h, an arrival whose first request goes to the host,
// when the host has no idle connection and no free slot: it waits as data
// in the host's queue, in order with the requests waiting there, and
// starts (hp.start) when a connection or slot is handed to it or at
// timeout. An arrival that waited as a goroutine held a stack and a
// user and made one more goroutine runnable; when a hiccup queued
// thousands, the run queue kept the network poller from running,
// completions stalled and the queue grew until the run collapsed. It
// reports false, queueing nothing, when the host could serve h now.
func (hp *hostPool) queueArrival(h *handoff, timeout time.Duration) bool {
	hp.mu.Lock()
	defer hp.mu.Unlock()
	if len(hp.idle) > 0 || hp.open < hp.size {
		return false
	}
	h.queued = time.Now()
	h.deadline = h.queued.Add(timeout)
	w := &h.w
	w.unstarted, h.hp = h, hp
	hp.seq++
	w.seq = hp.seq
	hp.arrivals.push(w)
	if !hp.armed {
		hp.armed = true
		if d := time.Until(h.deadline); hp.expire == nil {
			hp.expire = time.AfterFunc(d, hp.expireArrivals)
		} else {
			hp.expire.Reset(d)
		}
	}
	return true
}

// expireArrivals starts every queued arrival whose deadline has passed,
// with errPoolWait, and sets the timer for the next one.
func (hp *hostPool) expireArrivals() {
	var due []*handoff
	now := time.Now()
	hp.mu.Lock()
	for w := hp.arrivals.head; w != nil && !w.unstarted.deadline.After(now); w = hp.arrivals.head {
		hp.arrivals.remove(w)
		due = append(due, w.unstarted)
	}
	if w := hp.arrivals.head; w != nil {
		hp.expire.Reset(time.Until(w.unstarted.deadline))
	} else {
		hp.armed = false
	}
	hp.mu.Unlock()
	for _, h := range due {
		h.err = errPoolWait
		hp.start(h)
	}
}

// takeArrivals takes every queued arrival out of the pool, for the run to
// cut them off.
func (p *sharedPool) takeArrivals() []*handoff {
	var all []*handoff
	p.mu.Lock()
	defer p.mu.Unlock()
	for i := range p.hosts {
		for _, hp := range p.hosts[i] {
			hp.mu.Lock()
			for w := hp.arrivals.pop(); w != nil; w = hp.arrivals.pop() {
				all = append(all, w.unstarted)
			}
			if hp.expire != nil {
				hp.expire.Stop()
			}
			hp.armed = false
			hp.mu.Unlock()
		}
	}
	return all
}

// giveBack returns what h was handed and its user did not use.
func (p *sharedPool) giveBack(c *httpClient, h *handoff) {
	switch {
	case h.conn != nil:
		p.release(c, h.conn, true)
	case h.slot:
		h.hp.freeSlot()
	}
	h.conn, h.slot = nil, false
}

func (p *sharedPool) host(https bool, host []byte) *hostPool {
	i := 0
	if https {
		i = 1
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	hp := p.hosts[i][string(host)]
	if hp == nil {
		hp = &hostPool{size: p.size, start: p.start}
		p.hosts[i][string(host)] = hp
	}
	return hp
}

// acquire returns a connection to host: an idle one unless fresh is set,
// else a new one once the host has a free slot. It waits until deadline,
// on the user's timer: when every connection is busy, as it is at a
// generator's limit, each request waits, and a timer each would be an
// allocation per request.
func (p *sharedPool) acquire(ctx context.Context, c *httpClient, uc *userConns, https, fresh bool, host []byte, deadline time.Time) (*userConn, error) {
	hp := p.host(https, host)
	if h := uc.handoff; h != nil {
		// The user's first request, queued before it started.
		uc.handoff = nil
		if h.hp == hp && !fresh {
			switch {
			case h.err != nil:
				return nil, h.err
			case h.conn != nil:
				return h.conn, nil
			}
			return p.dial(ctx, c, hp, https, host, deadline)
		}
		p.giveBack(c, h) // not the host it queued for
	}
	hp.mu.Lock()
	if n := len(hp.idle); n > 0 && !fresh {
		conn := hp.idle[n-1]
		hp.idle[n-1] = nil
		hp.idle = hp.idle[:n-1]
		hp.mu.Unlock()
		return conn, nil
	}
	if hp.open < hp.size {
		hp.open++
		hp.mu.Unlock()
		return p.dial(ctx, c, hp, https, host, deadline)
	}
	w := uc.poolWaiter()
	w.fresh = fresh
	hp.seq++
	w.seq = hp.seq
	hp.queue(w).push(w)
	hp.mu.Unlock()

	t := uc.waitTimer(time.Until(deadline))
	defer t.Stop()
	var err error
	select {
	case conn := <-w.ch:
		if conn != nil {
			return conn, nil
		}
		return p.dial(ctx, c, hp, https, host, deadline) // handed a slot
	case <-t.C:
		err = errPoolWait
	case <-ctx.Done():
		err = ctx.Err()
	}
	hp.mu.Lock()
	if w.queued {
		hp.queue(w).remove(w)
		hp.mu.Unlock()
		return nil, err
	}
	hp.mu.Unlock()
	// Handed over as the wait ended: give it to the next in line.
	if conn := <-w.ch; conn != nil {
		p.release(c, conn, true)
	} else {
		hp.freeSlot()
	}
	return nil, err
}

// dial opens a connection in a slot already taken, and gives the slot back
// when it fails.
func (p *sharedPool) dial(ctx context.Context, c *httpClient, hp *hostPool, https bool, host []byte, deadline time.Time) (*userConn, error) {
	conn, err := c.dial(ctx, https, host, deadline)
	if err != nil {
		hp.freeSlot()
		return nil, err
	}
	conn.pool = hp
	return conn, nil
}

// release hands conn back for the next request, or closes it and frees its
// slot. Neither blocks: a host never has more connections than slots.
func (p *sharedPool) release(c *httpClient, conn *userConn, reuse bool) {
	hp := conn.pool
	if !reuse {
		c.conns.closeConn(conn)
		hp.freeSlot()
		return
	}
	hp.mu.Lock()
	if w := older(hp.waiting.head, hp.arrivals.head); w != nil {
		hp.queue(w).remove(w)
		hp.mu.Unlock()
		hp.hand(w, conn)
		return
	}
	hp.idle = append(hp.idle, conn)
	hp.mu.Unlock()
}

// freeSlot gives a closed (or never opened) connection's slot to the
// oldest waiter, to dial in, or back to the host.
func (hp *hostPool) freeSlot() {
	hp.mu.Lock()
	if w := hp.oldest(); w != nil {
		hp.queue(w).remove(w)
		hp.mu.Unlock()
		hp.hand(w, nil)
		return
	}
	hp.open--
	hp.mu.Unlock()
}

// reset closes every idle connection and forgets every host, so the after
// flow of a cut-off run finds no connection closed under the pool.
func (p *sharedPool) reset(c *httpClient) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for i := range p.hosts {
		for _, hp := range p.hosts[i] {
			hp.mu.Lock()
			idle := hp.idle
			hp.idle = nil
			hp.open -= len(idle)
			hp.mu.Unlock()
			for _, conn := range idle {
				c.conns.closeConn(conn)
			}
		}
		p.hosts[i] = map[string]*hostPool{}
	}
}
