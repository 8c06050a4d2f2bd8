package target

import (
	"context"
	"net"
	"net/http"
	"sync"
)

// net/http buffers a connection's output in 4 KB. A larger answer, such as
// a 6 KB list page, left in two write calls: two TCP segments, two wake-ups
// of the client, and on loopback the client's receive work twice on the
// server's core (about a fifth of the cached list's cost). A batchConn lets
// a handler gather one answer's writes and send them in one call, as
// nginx's writev does.

// batchThreshold is the body size from which an answer is gathered: below
// it, body and headers fit net/http's buffer and leave in one write anyway.
const batchThreshold = 3 << 10

// batchListener hands out connections that can batch writes.
type batchListener struct {
	net.Listener
	// bufs lends batch buffers for the time of one answer: a buffer kept
	// per connection would cost thousands of idle keep-alive connections
	// a few KB each.
	bufs *sync.Pool
}

func newBatchListener(ln net.Listener) batchListener {
	return batchListener{Listener: ln, bufs: &sync.Pool{New: func() any { return new([]byte) }}}
}

func (l batchListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return &batchConn{Conn: c, bufs: l.bufs}, nil
}

// batchConn holds writes between hold and release. Only the goroutine
// answering the connection's current request writes to it, so it needs
// no lock.
type batchConn struct {
	net.Conn
	bufs *sync.Pool
	buf  *[]byte // borrowed from bufs while holding, else nil
}

func (c *batchConn) Write(p []byte) (int, error) {
	if c.buf != nil {
		*c.buf = append(*c.buf, p...)
		return len(p), nil
	}
	return c.Conn.Write(p)
}

// CloseWrite keeps net/http's half-close before closing a connection after
// an error answer, which it only does for connections that have it.
func (c *batchConn) CloseWrite() error {
	if cw, ok := c.Conn.(interface{ CloseWrite() error }); ok {
		return cw.CloseWrite()
	}
	return nil
}

func (c *batchConn) hold() { c.buf = c.bufs.Get().(*[]byte) }

// release sends what was held in one write and returns the buffer.
func (c *batchConn) release() error {
	buf := c.buf
	c.buf = nil
	var err error
	if len(*buf) > 0 {
		_, err = c.Conn.Write(*buf)
	}
	if cap(*buf) <= 64<<10 { // one huge answer should not stay pooled
		*buf = (*buf)[:0]
		c.bufs.Put(buf)
	}
	return err
}

// batchKey is the context key of a request's *batchConn.
type batchKey struct{}

// connContext puts the connection into each of its requests' contexts, for
// writeBatched to find.
func connContext(ctx context.Context, c net.Conn) context.Context {
	if bc, ok := c.(*batchConn); ok {
		return context.WithValue(ctx, batchKey{}, bc)
	}
	return ctx
}

// writeBatched writes a JSON answer; a large one on a batchConn leaves in
// a single write. Elsewhere (httptest, a plain listener) it is writeJSON.
func writeBatched(ctx context.Context, w http.ResponseWriter, status int, body []byte) {
	bc, ok := ctx.Value(batchKey{}).(*batchConn)
	if !ok || len(body) < batchThreshold {
		writeJSON(w, status, body)
		return
	}
	bc.hold()
	writeJSON(w, status, body)
	// Flushing pushes headers and body through net/http's buffers into the
	// held batch; Content-Length is set, so this does not switch to chunked.
	// Errors are ignored as net/http's own writes are: the client is gone,
	// and net/http finds the dead connection on its next write or read.
	_ = http.NewResponseController(w).Flush()
	_ = bc.release()
}
