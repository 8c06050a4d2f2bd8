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
	seq            uint64 // numbers waiters in arrival order across both queues
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
	if w.fresh {
		return &hp.fresh
	}
	return &hp.waiting
}

// oldest is the waiter that has waited longest in either queue, nil when
// none does; under mu.
func (hp *hostPool) oldest() *poolWaiter {
	w, f := hp.waiting.head, hp.fresh.head
	if w == nil || (f != nil && f.seq < w.seq) {
		return f
	}
	return w
}

// waiters is how many requests wait for the host; under its mu.
func (hp *hostPool) waiters() int { return hp.waiting.n + hp.fresh.n }

func newSharedPool(size int) *sharedPool {
	return &sharedPool{size: size, hosts: [2]map[string]*hostPool{{}, {}}}
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
		hp = &hostPool{size: p.size}
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
	if w := hp.waiting.pop(); w != nil {
		hp.mu.Unlock()
		w.ch <- conn
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
		w.ch <- nil
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
