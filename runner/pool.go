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
type sharedPool struct {
	size  int
	mu    sync.Mutex
	hosts [2]map[string]*hostPool // by https, then host[:port]
}

// hostPool is one host's share of the pool. slots holds a token per open
// connection; idle holds the open connections no request is using.
type hostPool struct {
	slots chan struct{}
	idle  chan *userConn
}

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
		hp = &hostPool{slots: make(chan struct{}, p.size), idle: make(chan *userConn, p.size)}
		p.hosts[i][string(host)] = hp
	}
	return hp
}

// acquire returns a connection to host: an idle one unless fresh is set,
// else a new one once the host has a free slot. It waits until deadline.
// The wait reuses the user's timer: when every connection is busy, as it is
// at a generator's limit, each request waits, and a timer each would be an
// allocation per request.
func (p *sharedPool) acquire(ctx context.Context, c *httpClient, uc *userConns, https, fresh bool, host []byte, deadline time.Time) (*userConn, error) {
	hp := p.host(https, host)
	idle := hp.idle
	if fresh {
		idle = nil // a nil channel is never ready
	}
	select {
	case conn := <-idle:
		return conn, nil
	case hp.slots <- struct{}{}:
		return p.dial(ctx, c, hp, https, host, deadline)
	default:
	}
	t := uc.waitTimer(time.Until(deadline))
	defer t.Stop()
	select {
	case conn := <-idle:
		return conn, nil
	case hp.slots <- struct{}{}:
		return p.dial(ctx, c, hp, https, host, deadline)
	case <-t.C:
		return nil, errPoolWait
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// dial opens a connection in a slot already taken, and gives the slot back
// when it fails.
func (p *sharedPool) dial(ctx context.Context, c *httpClient, hp *hostPool, https bool, host []byte, deadline time.Time) (*userConn, error) {
	conn, err := c.dial(ctx, https, host, deadline)
	if err != nil {
		<-hp.slots
		return nil, err
	}
	conn.pool = hp
	return conn, nil
}

// release hands conn back for the next request, or closes it and frees its
// slot. Neither blocks: a host never has more connections than slots.
func (p *sharedPool) release(c *httpClient, conn *userConn, reuse bool) {
	hp := conn.pool
	if reuse {
		hp.idle <- conn
		return
	}
	c.conns.closeConn(conn)
	<-hp.slots
}

// reset closes every idle connection and forgets every host, so the after
// flow of a cut-off run finds no connection closed under the pool.
func (p *sharedPool) reset(c *httpClient) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for i := range p.hosts {
		for _, hp := range p.hosts[i] {
			for {
				select {
				case conn := <-hp.idle:
					c.conns.closeConn(conn)
					continue
				default:
				}
				break
			}
		}
		p.hosts[i] = map[string]*hostPool{}
	}
}
