// Command artstub is the local target of bench/artillery-corpus.sh and
// bench/artillery-diff.sh (issue 18): it answers any path with 200 and a
// small JSON body, and counts what it received (method, path with query,
// body), so that a run of Artillery and one of primeload over the same
// script can be compared by what reached the wire, not only by what each
// tool reports.
//
// It listens on 127.0.0.1 only (the port is the one flag), and also serves
// as the HTTP proxy of those runs (HTTP_PROXY): a CONNECT to any host is a
// tunnel to the stub itself, so that a script's absolute URL to a public
// host ends here instead of leaving the machine (an https one fails its
// TLS handshake, as the stub speaks plain HTTP).
//
// A few paths behave differently, for the differential check:
//
//	/redirect/N     302 to /redirect/N-1; /redirect/0 answers 200
//	/status/CODE    answers CODE
//	/__counts       GET: the counts as JSON (not counted); DELETE resets them
//
// Every other answer is body below, application/json.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// body has what scripts in Artillery's style capture: an id, a token, a
// list to pick from at random.
const body = `{"ok":true,"id":1,"token":"stub-token","name":"stub","items":[{"id":1,"name":"a"},{"id":2,"name":"b"},{"id":3,"name":"c"}]}`

// maxBodyKey is how much of a request body a count's key keeps.
const maxBodyKey = 200

func main() {
	port := flag.Int("port", 18090, "port to listen on, on 127.0.0.1")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	addr := "127.0.0.1:" + strconv.Itoa(*port)
	ln, err := net.Listen("tcp", addr)
	if err == nil {
		err = serve(ctx, ln)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "artstub:", err)
		os.Exit(1)
	}
}

// counts is what the stub received, by "METHOD path body".
type counts struct {
	mu sync.Mutex
	n  map[string]int
}

func (c *counts) add(key string) {
	c.mu.Lock()
	c.n[key]++
	c.mu.Unlock()
}

// snapshot returns the counts with keys sorted, for a stable JSON.
func (c *counts) snapshot() []count {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make([]count, 0, len(c.n))
	for k, v := range c.n {
		out = append(out, count{Key: k, N: v})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Key < out[j].Key })
	return out
}

func (c *counts) reset() {
	c.mu.Lock()
	c.n = map[string]int{}
	c.mu.Unlock()
}

type count struct {
	Key string `json:"key"`
	N   int    `json:"n"`
}

// handler answers as the package doc says; a CONNECT's connection is sent
// on tunnels, to be served as one more client connection.
func handler(c *counts, tunnels chan<- net.Conn) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/__counts" {
			if r.Method == http.MethodDelete {
				c.reset()
				w.WriteHeader(http.StatusNoContent)
				return
			}
			w.Header().Set("Content-Type", "application/json")
			_ = json.NewEncoder(w).Encode(c.snapshot())
			return
		}
		if r.Method == http.MethodConnect {
			tunnel(w, tunnels)
			return
		}
		b, _ := io.ReadAll(io.LimitReader(r.Body, 1<<20))
		c.add(key(r, b))
		if n, ok := strings.CutPrefix(r.URL.Path, "/redirect/"); ok {
			if i, err := strconv.Atoi(n); err == nil && i > 0 {
				http.Redirect(w, r, "/redirect/"+strconv.Itoa(i-1), http.StatusFound)
				return
			}
		}
		code := http.StatusOK
		if s, ok := strings.CutPrefix(r.URL.Path, "/status/"); ok {
			if i, err := strconv.Atoi(s); err == nil && i >= 200 && i <= 599 {
				code = i
			}
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(code)
		_, _ = io.WriteString(w, body)
	})
}

// tunnel answers a CONNECT and hands its connection to the server's own
// listener: whatever host was asked for, the stub answers.
func tunnel(w http.ResponseWriter, tunnels chan<- net.Conn) {
	hj, ok := w.(http.Hijacker)
	if !ok {
		http.Error(w, "no tunnel over this connection", http.StatusInternalServerError)
		return
	}
	conn, rw, err := hj.Hijack()
	if err != nil {
		return
	}
	if _, err := io.WriteString(conn, "HTTP/1.1 200 Connection established\r\n\r\n"); err != nil {
		conn.Close()
		return
	}
	tunnels <- bufferedConn{Conn: conn, r: rw.Reader}
}

// bufferedConn reads first what the hijacked connection had buffered.
type bufferedConn struct {
	net.Conn
	r io.Reader
}

func (c bufferedConn) Read(p []byte) (int, error) { return c.r.Read(p) }

// tunnelListener is a net.Listener whose connections are CONNECT tunnels.
type tunnelListener struct {
	conns <-chan net.Conn
	done  chan struct{}
	once  sync.Once
	addr  net.Addr
}

func (l *tunnelListener) Accept() (net.Conn, error) {
	select {
	case c := <-l.conns:
		return c, nil
	case <-l.done:
		return nil, net.ErrClosed
	}
}

func (l *tunnelListener) Close() error {
	l.once.Do(func() { close(l.done) })
	return nil
}

func (l *tunnelListener) Addr() net.Addr { return l.addr }

// key names a request by method, host when proxied, path with query, a
// few headers, and the start of its body; a multipart boundary is random per request, so
// such a body is keyed by its length alone.
func key(r *http.Request, b []byte) string {
	target := r.URL.RequestURI()
	if r.URL.IsAbs() {
		target = r.URL.String()
	}
	k := r.Method + " " + target
	// The headers a script sets that tell two clients apart on the wire;
	// each tool's own (User-Agent, Accept-Encoding) are left out.
	for _, h := range []string{"Authorization", "Cookie", "Content-Type", "X-Script"} {
		if v := r.Header.Values(h); len(v) > 0 && !(h == "Content-Type" && strings.HasPrefix(v[0], "multipart/")) {
			k += " [" + strings.ToLower(h) + ": " + strings.Join(v, ", ") + "]"
		}
	}
	switch {
	case len(b) == 0:
	case strings.HasPrefix(r.Header.Get("Content-Type"), "multipart/"):
		k += " multipart(" + strconv.Itoa(len(b)) + " bytes)"
	case len(b) > maxBodyKey:
		k += " " + string(b[:maxBodyKey]) + "..."
	default:
		k += " " + string(b)
	}
	return k
}

// serve answers on ln until ctx is done, then drains for up to a second.
func serve(ctx context.Context, ln net.Listener) error {
	tunnels := make(chan net.Conn)
	srv := &http.Server{
		Handler:           handler(&counts{n: map[string]int{}}, tunnels),
		ReadHeaderTimeout: 5 * time.Second,
	}
	tl := &tunnelListener{conns: tunnels, done: make(chan struct{}), addr: ln.Addr()}
	go func() { _ = srv.Serve(tl) }() // ends when Shutdown closes tl
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ln) }()
	select {
	case err := <-done:
		return fmt.Errorf("serve %s: %w", ln.Addr(), err)
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	err := srv.Shutdown(sctx)
	if serr := <-done; !errors.Is(serr, http.ErrServerClosed) {
		err = errors.Join(err, serr)
	}
	return err
}
