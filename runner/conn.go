package runner

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"io"
	"net"
	"net/netip"
	"net/url"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/valyala/fasthttp"
)

// Each virtual user owns its connections, as Artillery's do: a user dials a
// host on its first request there, keeps the connection alive between its
// own requests (think included) and closes it when its flow ends. So 10,000
// users thinking between two requests hold 10,000 connections at the target,
// which is the load the script describes; a pool shared by all users would
// hand the target a few hundred.

// userConn is one connection a virtual user holds to one host.
type userConn struct {
	net.Conn          // what requests go over: raw, or TLS on top of it
	raw      net.Conn // the TCP connection, closed to cut a user off
	// rc is the TCP socket's, to look at it without reading: whether a
	// plain connection's answer has come (see exchange; not TLS, whose
	// records may already sit decrypted in the tls.Conn) and whether an
	// idle connection was closed by the server (see stale). nil where
	// canAwait is false.
	rc syscall.RawConn
	// peekIdle is rc's callback for stale, made on the connection's first
	// reuse: a closure made per check would be an allocation per request.
	peekIdle func(fd uintptr) bool
	// peerSent is what peekIdle found: the idle socket has bytes, an EOF
	// or an error to read.
	peerSent bool
	https    bool
	// used is set once the connection carried a whole exchange.
	used bool
	// read is set once the current exchange read a byte: a failure with
	// nothing read on a reused connection is a stale keep-alive.
	read bool
	host string // host[:port] as the URL names it
	// answered is when the last exchange's answer was read, on the
	// client's clock (httpClient.now).
	answered int64
	// reuseBy is when the server's Keep-Alive timeout, less keepAliveSlack,
	// runs out for the idle connection; zero when it named none.
	reuseBy time.Time
	// pool is the shared pool the connection belongs to; nil for a
	// connection a user owns.
	pool *hostPool
	// dialled is how long opening the connection took, under
	// config.http.extendedMetrics; nil otherwise (a pointer, and used
	// beside https, keep a connection at 128 bytes).
	dialled *dialPhases
}

// dialPhases is how long the parts of a dial took.
type dialPhases struct{ dns, tcp, tls time.Duration }

// stale reports whether c, idle since its last exchange, must not carry
// another request: its Keep-Alive timeout has run out, or the server
// closed it or sent something nobody asked for (which leaves it out of
// step). Both are known before anything is written, so the request goes
// over a fresh connection whatever its method: a request written to a
// connection the server is closing may or may not have reached it, and a
// POST must then not be sent again.
//
// The look at the socket is a system call, 5% of a pooled request's cost
// at a generator's limit. resendable says the request may go again on a
// fresh connection if this one turns out closed (see do): it is skipped
// then for a connection answered less than lookAfter ago (idle is how long
// ago), as a server closes an idle connection, or sends a 408 first, after
// seconds, not within milliseconds of an answer; a close sent with the
// answer is seen as the retry's stale error, as net/http's is.
func (c *userConn) stale(resendable bool, idle time.Duration) bool {
	if !c.reuseBy.IsZero() && time.Now().After(c.reuseBy) {
		return true
	}
	if c.rc == nil || resendable && idle < lookAfter {
		return false
	}
	if c.peekIdle == nil {
		c.peekIdle = func(fd uintptr) bool {
			c.peerSent = answered(fd)
			return true // a look, never a wait
		}
	}
	// The last exchange's deadline has passed after a think longer than
	// the timeout, and a look under it fails as if the connection were
	// closed: every such think cost a dial. The next exchange sets its own.
	if err := c.raw.SetReadDeadline(time.Time{}); err != nil {
		return true // closed under us
	}
	if err := c.rc.Read(c.peekIdle); err != nil {
		return true
	}
	return c.peerSent
}

// Read counts what the response parser reads.
func (c *userConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	if n > 0 {
		c.read = true
	}
	return n, err
}

// userConns is what one virtual user holds: a connection per host it talks
// to. Almost every user talks to one host, so the first needs no slice.
type userConns struct {
	http  *httpClient
	first *userConn
	rest  []*userConn
	wait  *time.Timer // for think and config.http.pool waits; made on the first
	pw    *poolWaiter // for config.http.pool waits; made on the first
	// handoff is what the user was handed when it arrived queued for the
	// pool (see hostPool.queueArrival), until its first request uses it.
	handoff *handoff
	// timed is the Timings of the user's last exchange, under
	// config.http.extendedMetrics, until its response is recorded. Made on
	// first use: a pointer, so that a user without the option holds one
	// word (40 bytes more would move vu up a size class).
	timed *Timings
}

// exchanged notes, after an exchange over conn, the Timings its response
// records: the phases of the dial that opened conn, however many
// exchanges it carried before. That is what Artillery 2.0.34 reports:
// its HTTP client (got 14.6.6, core/utils/timer.js) keeps a socket's
// first phases and gives them to every request reusing it.
func (uc *userConns) exchanged(conn *userConn) {
	if uc.timed == nil {
		uc.timed = &Timings{}
	}
	*uc.timed = Timings{HTTPS: conn.https}
	if d := conn.dialled; d != nil {
		uc.timed.DNS, uc.timed.TCP, uc.timed.TLS = d.dns, d.tcp, d.tls
	}
}

// takeTimings returns the Timings of the last exchange with total.
func (uc *userConns) takeTimings(total time.Duration) Timings {
	var t Timings
	if uc.timed != nil {
		t = *uc.timed
	}
	t.Total = total
	return t
}

// poolWaiter returns the user's place in a pool's queue, made once.
func (uc *userConns) poolWaiter() *poolWaiter {
	if uc.pw == nil {
		uc.pw = &poolWaiter{ch: make(chan *userConn, 1)}
	}
	return uc.pw
}

// waitTimer returns the user's timer armed for d. Since Go 1.23 a stopped
// timer's channel holds no stale tick, so it is reused as it is.
func (uc *userConns) waitTimer(d time.Duration) *time.Timer {
	if uc.wait == nil {
		uc.wait = time.NewTimer(d)
	} else {
		uc.wait.Reset(d)
	}
	return uc.wait
}

func (uc *userConns) find(https bool, host []byte) *userConn {
	if c := uc.first; c != nil && c.https == https && c.host == string(host) {
		return c
	}
	for _, c := range uc.rest {
		if c.https == https && c.host == string(host) {
			return c
		}
	}
	return nil
}

func (uc *userConns) add(c *userConn) {
	if uc.first == nil {
		uc.first = c
		return
	}
	uc.rest = append(uc.rest, c)
}

// drop closes c and forgets it.
func (uc *userConns) drop(c *userConn) {
	uc.http.conns.closeConn(c)
	if uc.first == c {
		uc.first = nil
		return
	}
	for i, o := range uc.rest {
		if o == c {
			uc.rest = append(uc.rest[:i], uc.rest[i+1:]...)
			return
		}
	}
}

// close closes every connection of the user; it ends the user's flow.
func (uc *userConns) close() {
	if uc.first != nil {
		uc.http.conns.closeConn(uc.first)
		uc.first = nil
	}
	for _, c := range uc.rest {
		uc.http.conns.closeConn(c)
	}
	uc.rest = uc.rest[:0]
}

// connSet holds every open connection of a run, so the connections of users
// cut off at the end of the grace period can be closed under them.
type connSet struct {
	mu     sync.Mutex
	conns  map[*userConn]struct{}
	closed bool
}

func (s *connSet) track(c *userConn) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return errCutOff
	}
	if s.conns == nil {
		s.conns = map[*userConn]struct{}{}
	}
	s.conns[c] = struct{}{}
	return nil
}

// closeConn closes c's TCP connection and forgets it. A TLS close_notify is
// not sent: Node's sockets are destroyed the same way, and it could block.
func (s *connSet) closeConn(c *userConn) {
	s.mu.Lock()
	delete(s.conns, c)
	s.mu.Unlock()
	c.raw.Close()
}

// closeAll closes every connection, in use or idle, and refuses new ones.
func (s *connSet) closeAll() {
	s.mu.Lock()
	conns := s.conns
	s.conns, s.closed = nil, true
	s.mu.Unlock()
	for c := range conns {
		c.raw.Close()
	}
}

// reopen accepts connections again after closeAll, for the after flow.
func (s *connSet) reopen() {
	s.mu.Lock()
	s.closed = false
	s.mu.Unlock()
}

// do runs one exchange of req over a connection to its host: the user's
// own, dialled when it has none, or one from config.http.pool. Dialling and
// waiting for a pooled connection are part of the measured latency, as
// waiting for a connection is. Everything, TLS handshake included, ends by
// deadline.
func (c *httpClient) do(ctx context.Context, uc *userConns, req *fasthttp.Request, resp *fasthttp.Response, deadline time.Time) error {
	uri := req.URI()
	var https bool
	switch scheme := uri.Scheme(); {
	case bytes.Equal(scheme, []byte("https")):
		https = true
	case !bytes.Equal(scheme, []byte("http")):
		return errInvalidURL
	}
	host := uri.Host()
	// A streamed body (an upload) is gone once sent: never resent.
	resendable := isIdempotent(req) && !req.IsBodyStream()
	conn, err := c.acquire(ctx, uc, https, false, resendable, host, deadline)
	if err != nil {
		return err
	}
	for {
		reuse, err := c.exchange(conn, req, resp, deadline)
		if err == nil {
			conn.used = true
			if c.extended {
				uc.exchanged(conn)
			}
		}
		c.release(uc, conn, err == nil && reuse)
		if err == nil {
			return nil
		}
		if !isStale(err) || !conn.used || conn.read || !resendable {
			return err
		}
		// The server closed the kept-alive connection while the request was
		// on its way (a close before it is seen by acquire): an idempotent
		// request is sent once more on a fresh one, as browsers and
		// net/http do; any other may have reached the server and fails. A
		// target that really drops connections fails the fresh one too and
		// is counted.
		if conn, err = c.acquire(ctx, uc, https, true, resendable, host, deadline); err != nil {
			return err
		}
	}
}

// acquire returns a connection to host for the user: an open one unless
// fresh is set or the open one is stale, else a new one.
func (c *httpClient) acquire(ctx context.Context, uc *userConns, https, fresh, resendable bool, host []byte, deadline time.Time) (*userConn, error) {
	for {
		conn, err := c.acquireAny(ctx, uc, https, fresh, host, deadline)
		if err != nil || !conn.used || !conn.stale(resendable, time.Duration(c.now()-conn.answered)) {
			return conn, err
		}
		c.release(uc, conn, false)
		fresh = true
	}
}

// acquireAny is acquire without the look at an open connection.
func (c *httpClient) acquireAny(ctx context.Context, uc *userConns, https, fresh bool, host []byte, deadline time.Time) (*userConn, error) {
	if c.pool != nil {
		return c.pool.acquire(ctx, c, uc, https, fresh, host, deadline)
	}
	if !fresh {
		if conn := uc.find(https, host); conn != nil {
			return conn, nil
		}
	}
	conn, err := c.dial(ctx, https, host, deadline)
	if err != nil {
		return nil, err
	}
	uc.add(conn)
	return conn, nil
}

// release keeps conn for the next request when reuse is set, else closes it.
func (c *httpClient) release(uc *userConns, conn *userConn, reuse bool) {
	switch {
	case conn.pool != nil:
		c.pool.release(c, conn, reuse)
	case !reuse:
		uc.drop(conn)
	}
}

// isStale reports whether err is how a kept-alive connection closed by the
// server fails before any byte of an answer comes back.
func isStale(err error) bool {
	return errors.Is(err, io.EOF) || errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE)
}

func isIdempotent(req *fasthttp.Request) bool {
	h := &req.Header
	return h.IsGet() || h.IsHead() || h.IsPut() || h.IsDelete() || h.IsOptions()
}

// dial opens a connection to host for one user and tracks it. The dial
// runs on a goroutine of its own, which has exited when dial returns: the
// path through net (and crypto/tls) needs an 8 KiB stack, and a user's
// goroutine that grew one keeps it through its think times, where the
// rest of a user's flow fits in 4 KiB (10,000 users holding connections
// had 66 MiB of stacks, now 40 MiB).
func (c *httpClient) dial(ctx context.Context, https bool, host []byte, deadline time.Time) (*userConn, error) {
	type dialed struct {
		conn *userConn
		err  error
	}
	done := make(chan dialed, 1)
	go func() {
		conn, err := c.dialNow(ctx, https, host, deadline)
		done <- dialed{conn, err}
	}()
	d := <-done
	return d.conn, d.err
}

// dialNow is dial on the calling goroutine.
func (c *httpClient) dialNow(ctx context.Context, https bool, host []byte, deadline time.Time) (*userConn, error) {
	d := net.Dialer{Deadline: deadline}
	addr := fasthttp.AddMissingPort(string(host), https)
	proxy := c.proxies.forAddr(https, addr)
	dialAddr := addr
	if proxy != nil {
		dialAddr = proxyAddr(proxy)
	}
	var clock *dialClock
	if c.extended {
		clock = startDialClock(&d, dialAddr)
	}
	raw, err := d.DialContext(ctx, "tcp", dialAddr)
	if err != nil {
		return nil, err
	}
	conn := &userConn{Conn: raw, raw: raw, https: https, host: string(host)}
	if clock != nil {
		conn.dialled = &dialPhases{}
		conn.dialled.dns, conn.dialled.tcp = clock.connected()
	}
	if err := c.conns.track(conn); err != nil {
		raw.Close()
		return nil, err
	}
	if sc, ok := raw.(syscall.Conn); ok && canAwait && (proxy == nil || proxy.Scheme == "http") {
		conn.rc, _ = sc.SyscallConn() // a TCPConn's never fails
	}
	if proxy != nil {
		if err := c.tunnel(ctx, conn, proxy, addr, deadline); err != nil {
			c.conns.closeConn(conn)
			return nil, err
		}
	}
	if !https {
		return conn, nil
	}
	cfg := c.tls.Clone()
	cfg.ServerName, _, err = net.SplitHostPort(fasthttp.AddMissingPort(string(host), true))
	if err != nil {
		c.conns.closeConn(conn)
		return nil, err
	}
	tc := tls.Client(conn.Conn, cfg)
	if err := raw.SetDeadline(deadline); err != nil {
		c.conns.closeConn(conn)
		return nil, err
	}
	var shake time.Time
	if clock != nil {
		shake = time.Now()
	}
	if err := tc.HandshakeContext(ctx); err != nil {
		c.conns.closeConn(conn)
		return nil, err
	}
	if clock != nil {
		conn.dialled.tls = time.Since(shake)
	}
	conn.Conn = tc
	return conn, nil
}

// dialClock times a dial's two parts, resolving and connecting, for
// config.http.extendedMetrics. net.Dialer resolves inside DialContext; its
// Control hook runs once the name is resolved, before each connect attempt,
// so the first call ends the lookup. A dual-stack dial may call it from two
// goroutines at once. An IP address is not looked up: its dial is all
// connecting.
type dialClock struct {
	start time.Time
	// resolved is when the first connect attempt began, as nanoseconds
	// after start plus 1, so that 0 means not yet.
	resolved atomic.Int64
}

// startDialClock starts timing the dial of addr (host:port) that d makes.
func startDialClock(d *net.Dialer, addr string) *dialClock {
	k := &dialClock{start: time.Now()}
	if host, _, err := net.SplitHostPort(addr); err == nil {
		if _, err := netip.ParseAddr(host); err == nil {
			k.resolved.Store(1)
			return k
		}
	}
	d.ControlContext = func(context.Context, string, string, syscall.RawConn) error {
		k.resolved.CompareAndSwap(0, int64(time.Since(k.start))+1)
		return nil
	}
	return k
}

// connected splits the time since start at the first connect attempt,
// once the dial succeeded.
func (k *dialClock) connected() (dns, tcp time.Duration) {
	total := time.Since(k.start)
	dns = max(time.Duration(k.resolved.Load()-1), 0)
	return dns, total - dns
}

// tunnel opens a CONNECT tunnel to addr through proxy on conn, over TLS to
// the proxy when its URL is https (checked against the system's CAs).
func (c *httpClient) tunnel(ctx context.Context, conn *userConn, proxy *url.URL, addr string, deadline time.Time) error {
	if proxy.Scheme == "https" {
		tc := tls.Client(conn.raw, &tls.Config{ServerName: proxy.Hostname(), MinVersion: tls.VersionTLS12})
		if err := conn.raw.SetDeadline(deadline); err != nil {
			return err
		}
		if err := tc.HandshakeContext(ctx); err != nil {
			return err
		}
		conn.Conn = tc
	}
	return connectTunnel(conn.Conn, proxy, addr, deadline)
}

// exchange writes req and reads resp over conn through pooled buffers, so
// an idle user holds no buffer. reuse is false when the connection must not
// carry another request.
func (c *httpClient) exchange(conn *userConn, req *fasthttp.Request, resp *fasthttp.Response, deadline time.Time) (reuse bool, err error) {
	conn.read = false
	if err := conn.SetDeadline(deadline); err != nil {
		return false, err
	}
	bw := c.writers.Get().(*bufio.Writer)
	bw.Reset(conn.Conn)
	err = req.Write(bw)
	if err == nil {
		err = bw.Flush()
	}
	bw.Reset(nil)
	c.writers.Put(bw)
	if err != nil {
		return false, err
	}

	if conn.rc != nil && !conn.https && conn.pool == nil {
		// A user's own connection waits for the answer before taking a
		// read buffer, so 10,000 users waiting on a slow target do not
		// hold 16 KiB each; a pool has at most its size in flight.
		if err := conn.rc.Read(answered); err != nil {
			return false, err
		}
	}
	resp.Reset()
	resp.SkipBody = req.Header.IsHead()
	br := c.readers.Get().(*bufio.Reader)
	br.Reset(conn)
	err = resp.ReadLimitBody(br, c.maxBody)
	// Bytes beyond the answer are no answer to anything we sent: the
	// connection is out of step and must not carry another request.
	extra := br.Buffered() > 0
	br.Reset(nil)
	c.readers.Put(br)
	if err != nil {
		return false, err
	}
	reuse = !extra && !req.ConnectionClose() && !resp.ConnectionClose()
	conn.answered = c.now()
	conn.reuseBy = time.Time{}
	if reuse {
		conn.keepAlive(resp)
	}
	return reuse, nil
}

// keepAlive notes how long the server keeps conn open when idle. It is a
// function of its own to keep exchange's frame, beneath which the request
// is written and the response read, small (see request).
//
//go:noinline
func (c *userConn) keepAlive(resp *fasthttp.Response) {
	if ka := resp.Header.Peek("Keep-Alive"); len(ka) > 0 {
		if idle, ok := keepAliveIdle(ka); ok {
			c.reuseBy = time.Now().Add(idle)
		}
	}
}

// keepAliveSlack is taken off a server's Keep-Alive timeout before an idle
// connection is reused, at most half of it: the server counts its idle time
// from when it sent its answer, which is before the answer was read here,
// and a request must reach it before it closes the connection. Node's own
// HTTP client (undici) takes one second off the same way.
const keepAliveSlack = time.Second

// maxKeepAliveTimeout is the largest timeout=N honoured; a bigger N is as
// good as none (and cannot overflow a Duration).
const maxKeepAliveTimeout = 24 * 60 * 60

// keepAliveIdle returns how long a connection may stay idle before its next
// request, from a Keep-Alive header ("timeout=5, max=1000"); ok is false
// when it names no timeout or one that is not a number of seconds.
func keepAliveIdle(h []byte) (idle time.Duration, ok bool) {
	for len(h) > 0 {
		var param []byte
		param, h, _ = bytes.Cut(h, []byte(","))
		param = bytes.TrimSpace(param)
		name, val, found := bytes.Cut(param, []byte("="))
		if !found || !bytes.EqualFold(bytes.TrimSpace(name), []byte("timeout")) {
			continue
		}
		val = bytes.Trim(bytes.TrimSpace(val), `"`)
		if len(val) == 0 {
			return 0, false
		}
		n := 0
		for _, d := range val {
			if d < '0' || d > '9' {
				return 0, false
			}
			if n = n*10 + int(d-'0'); n > maxKeepAliveTimeout {
				return 0, false
			}
		}
		timeout := time.Duration(n) * time.Second
		return timeout - min(keepAliveSlack, timeout/2), true
	}
	return 0, false
}
