package dashboard

import (
	"net"
	"net/http"
	"strings"
	"sync"
	"time"
)

// client is one browser following the events. It holds only the latest
// event: a newer one replaces one not yet written.
type client struct {
	mu      sync.Mutex
	pending []byte
	final   bool
	ready   chan struct{} // capacity 1: an event is pending
}

func (c *client) offer(ev []byte, final bool) {
	c.mu.Lock()
	c.pending, c.final = ev, final
	c.mu.Unlock()
	select {
	case c.ready <- struct{}{}:
	default:
	}
}

func (c *client) take() (ev []byte, final bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	ev, final, c.pending = c.pending, c.final, nil
	return ev, final
}

func (s *Server) servePage(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	page := s.page
	s.mu.Unlock()
	w.Header().Set("Cache-Control", "no-store")
	if page == nil {
		w.Header().Set("Retry-After", "1")
		http.Error(w, "primeload: the run has not started yet; reload in a moment", http.StatusServiceUnavailable)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Write(page)
}

// join registers a client, with the latest event pending; false when
// MaxClients follow the run already.
func (s *Server) join() (*client, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.clients) >= MaxClients {
		return nil, false
	}
	c := &client{ready: make(chan struct{}, 1)}
	if s.event != nil {
		c.offer(s.event, s.final)
	}
	s.clients[c] = struct{}{}
	return c, true
}

func (s *Server) leave(c *client) {
	s.mu.Lock()
	delete(s.clients, c)
	s.mu.Unlock()
	select {
	case s.left <- struct{}{}:
	default:
	}
}

// serveEvents streams the events, the latest first, until the final one
// is written, the browser goes or a write takes over WriteTimeout.
func (s *Server) serveEvents(w http.ResponseWriter, r *http.Request) {
	c, ok := s.join()
	if !ok {
		http.Error(w, "primeload: too many browsers follow this run", http.StatusServiceUnavailable)
		return
	}
	defer s.leave(c)
	rc := http.NewResponseController(w)
	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusOK)
	if err := rc.Flush(); err != nil {
		return
	}
	for {
		select {
		case <-r.Context().Done():
			return
		case <-c.ready:
		}
		ev, final := c.take()
		if ev == nil {
			continue
		}
		_ = rc.SetWriteDeadline(time.Now().Add(WriteTimeout))
		if _, err := w.Write(ev); err != nil {
			return
		}
		if err := rc.Flush(); err != nil || final {
			return
		}
	}
}

// checkHost refuses, on a loopback dashboard, a Host header naming
// another machine: a page elsewhere that rebinds its name to 127.0.0.1
// must not read the report.
func (s *Server) checkHost(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		host, _, err := net.SplitHostPort(r.Host)
		if err != nil {
			host = r.Host
		}
		host = strings.Trim(host, "[]")
		if ip := net.ParseIP(host); !s.public && host != "localhost" && (ip == nil || !ip.IsLoopback()) {
			http.Error(w, "primeload: this dashboard answers to 127.0.0.1, [::1] or localhost only", http.StatusMisdirectedRequest)
			return
		}
		next.ServeHTTP(w, r)
	})
}
