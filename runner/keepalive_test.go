package runner

import (
	"bufio"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/primeload/primeload/report/metric"
	"github.com/primeload/primeload/scenario"
)

// post is a POST step with a small JSON-ish body: not idempotent, so the
// runner may never send it twice.
func post(url string) scenario.Step {
	return scenario.Step{Request: &scenario.Request{
		Method: "POST", URL: scenario.MustCompile(url), Endpoint: url,
		Body: scenario.MustCompile(`{"sku":"A1","qty":1}`), FollowRedirect: true,
	}}
}

// idleServer is a target that closes a kept-alive connection once it has
// been idle for idle, as Node (5 s by default) and Go's http.Server with an
// IdleTimeout do. hint, when set, is the Keep-Alive header it answers with
// ("timeout=1"), as Node does. It counts the requests it received and the
// connections it accepted.
type idleServer struct {
	*httptest.Server
	requests atomic.Int64
	accepted atomic.Int64
}

func newIdleServer(t *testing.T, idle time.Duration, hint string) *idleServer {
	return newIdleServerTLS(t, idle, hint, false)
}

// newIdleServerTLS is newIdleServer, over TLS when https is set.
func newIdleServerTLS(t *testing.T, idle time.Duration, hint string, https bool) *idleServer {
	t.Helper()
	s := &idleServer{}
	s.Server = httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		s.requests.Add(1)
		if hint != "" {
			w.Header().Set("Keep-Alive", hint)
		}
		w.Write([]byte(`{"ok":true}`))
	}))
	s.Config.IdleTimeout = idle
	s.Config.ConnState = func(_ net.Conn, st http.ConnState) {
		if st == http.StateNew {
			s.accepted.Add(1)
		}
	}
	if https {
		s.StartTLS()
	} else {
		s.Start()
	}
	t.Cleanup(s.Close)
	return s
}

// errorCounts is every errors.* counter of rec.
func errorCounts(rec *countRecorder) map[string]int64 {
	errs := map[string]int64{}
	for name, n := range rec.snapshot() {
		if strings.HasPrefix(name, "errors.") {
			errs[name] = n
		}
	}
	return errs
}

// Issue 13 item 6: a server closes a connection its user kept alive while
// the user thinks; the user's next POST must go over a fresh connection,
// not fail with ECONNRESET, and must reach the server exactly once.
func TestRunIdleClosedConnectionIsNotReused(t *testing.T) {
	t.Parallel()
	const users = 10
	tests := []struct {
		name  string
		hint  string // the server's Keep-Alive header
		pool  int    // config.http.pool
		peek  bool   // only the peek at the idle connection can see the close
		https bool
		think time.Duration
	}{
		// The server's idle timer may fire late on a busy machine: the
		// think leaves it a second.
		{name: "closed after 1 s, no hint", think: 2 * time.Second, peek: true},
		{name: "TLS, closed after 1 s, no hint", https: true, think: 2 * time.Second, peek: true},
		{name: "closed after 1 s, Keep-Alive: timeout=1 (Node)", hint: "timeout=1", think: 1500 * time.Millisecond},
		{name: "pooled, closed after 1 s, no hint", pool: 2, think: 2 * time.Second, peek: true},
		{name: "pooled, closed after 1 s, Keep-Alive: timeout=1", hint: "timeout=1", pool: 2, think: 1500 * time.Millisecond},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if tt.peek && !canAwait {
				t.Skip("no peek at idle sockets on this platform")
			}
			srv := newIdleServerTLS(t, time.Second, tt.hint, tt.https)
			script := newScript(srv.URL, []scenario.Phase{count(users, 500*time.Millisecond)},
				[]scenario.Step{post("/orders"), {Think: tt.think}, post("/orders")})
			script.Config.HTTP.Pool = tt.pool
			out, rec := run(t, script, Options{Insecure: tt.https})
			if errs := errorCounts(rec); len(errs) != 0 {
				t.Errorf("errors %v, want none", errs)
			}
			if out.Completed != users {
				t.Errorf("%d of %d users completed", out.Completed, users)
			}
			if got, want := srv.requests.Load(), rec.get(metric.Requests); got != want || got != 2*users {
				t.Errorf("the server received %d requests, http.requests = %d, want both %d", got, want, 2*users)
			}
		})
	}
}

// Keep-Alive: timeout=N is a promise the server makes: a connection idle
// longer than N (less a slack for the trip, see keepAliveSlack) is not
// reused even when it still looks open, and one idle for less is.
func TestRunHonoursKeepAliveTimeout(t *testing.T) {
	t.Parallel()
	const users = 4
	tests := []struct {
		name         string
		hint         string
		https        bool
		think        time.Duration
		wantAccepted int64
	}{
		{"idle past timeout=2 less slack", "timeout=2", false, 1500 * time.Millisecond, 2 * users},
		{"idle well within timeout=2", "timeout=2", false, 100 * time.Millisecond, users},
		{"max given too", "timeout=2, max=100", false, 1500 * time.Millisecond, 2 * users},
		{"no hint", "", false, 1500 * time.Millisecond, users},
		// The look at an idle TLS connection must not take a record
		// the server sent unasked (a session ticket) for a close.
		{"TLS, no hint", "", true, 1500 * time.Millisecond, users},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			// The server itself keeps connections far longer than it says.
			srv := newIdleServerTLS(t, time.Minute, tt.hint, tt.https)
			script := newScript(srv.URL, []scenario.Phase{count(users, 200*time.Millisecond)},
				[]scenario.Step{post("/a"), {Think: tt.think}, post("/b")})
			out, rec := run(t, script, Options{Insecure: tt.https})
			if errs := errorCounts(rec); len(errs) != 0 || out.Completed != users {
				t.Fatalf("errors %v, %d of %d users completed", errs, out.Completed, users)
			}
			if got := srv.accepted.Load(); got != tt.wantAccepted {
				t.Errorf("the server accepted %d connections, want %d", got, tt.wantAccepted)
			}
		})
	}
}

func TestKeepAliveIdle(t *testing.T) {
	t.Parallel()
	tests := []struct {
		header string
		want   time.Duration
		ok     bool
	}{
		{"timeout=5", 4 * time.Second, true}, // Node's default, less the slack
		{"timeout=5, max=1000", 4 * time.Second, true},
		{"max=1000, Timeout = 10", 9 * time.Second, true},
		{"timeout=1", 500 * time.Millisecond, true}, // never more than half off
		{`timeout="2"`, time.Second, true},
		{"timeout=0", 0, true}, // reuse nothing after any idle time
		{"max=100", 0, false},
		{"timeout=", 0, false},
		{"timeout=1.5", 0, false},
		{"timeout=-1", 0, false},
		{"timeout=99999999999999999999", 0, false}, // no overflow
		{"", 0, false},
	}
	for _, tt := range tests {
		got, ok := keepAliveIdle([]byte(tt.header))
		if got != tt.want || ok != tt.ok {
			t.Errorf("keepAliveIdle(%q) = %v, %v; want %v, %v", tt.header, got, ok, tt.want, tt.ok)
		}
	}
}

// countingServer answers 200 and counts the connections it accepted and
// the requests it answered.
func countingServer(t *testing.T) (url string, conns, requests *atomic.Int64) {
	t.Helper()
	conns, requests = &atomic.Int64{}, &atomic.Int64{}
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { requests.Add(1) }))
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			conns.Add(1)
		}
	}
	srv.Start()
	t.Cleanup(srv.Close)
	return srv.URL, conns, requests
}

// TestThinkLongerThanTimeoutKeepsConnection: a think longer than the
// request timeout keeps the connection. The last exchange's deadline has
// passed by the next request; looking at the idle socket then must not
// take the expired deadline for a closed connection and dial again (what
// made 50,000 held users open 97,131 connections: their 13 s think
// outlasted the 10 s timeout).
func TestThinkLongerThanTimeoutKeepsConnection(t *testing.T) {
	for _, think := range []time.Duration{300 * time.Millisecond, 1100 * time.Millisecond} {
		t.Run(think.String(), func(t *testing.T) {
			url, conns, _ := countingServer(t)
			script := newScript(url, []scenario.Phase{count(3, 10*time.Millisecond)},
				[]scenario.Step{get(url + "/a"), {Think: think}, get(url + "/b")})
			script.Config.HTTP.Timeout = 200 * time.Millisecond
			out, rec := run(t, script, Options{})
			if out.Completed != 3 || rec.endpoints[url+"/b"] != 3 {
				t.Fatalf("%d users completed with %d second answers, want 3 and 3", out.Completed, rec.endpoints[url+"/b"])
			}
			if got := conns.Load(); got != 3 {
				t.Errorf("the server accepted %d connections, want 3: one per user, kept through a think longer than the timeout", got)
			}
		})
	}
}

// closingServer answers each request on a connection and closes it at
// once, counting the requests. (faults_test.go's rawServer does the same
// for the external test package, whose helpers this one cannot call.)
func closingServer(t *testing.T, requests *atomic.Int64) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				c.SetDeadline(time.Now().Add(30 * time.Second))
				if _, err := http.ReadRequest(bufio.NewReader(c)); err != nil {
					return
				}
				requests.Add(1)
				io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
			}()
		}
	}()
	return "http://" + ln.Addr().String()
}

// TestRunClosedRightAfterAnswer: a server answers each connection's
// request and closes it at once, without Connection: close, as servers at
// a per-connection request limit or after an error do. The next request,
// soon after (inside lookAfter), goes over a fresh connection without an
// error: a GET, which may skip the look at the socket, by being sent again
// after its stale failure; a POST, which may not be sent twice, by the
// look. Each reaches the server once.
func TestRunClosedRightAfterAnswer(t *testing.T) {
	t.Parallel()
	for _, step := range []scenario.Step{get("/"), post("/")} {
		for _, pool := range []int{0, 1} {
			name := step.Request.Method + " pool " + strconv.Itoa(pool)
			t.Run(name, func(t *testing.T) {
				t.Parallel()
				var requests atomic.Int64 // one per connection: each is closed after its answer
				url := closingServer(t, &requests)
				// The think lets the close arrive, and is well inside lookAfter.
				flow := []scenario.Step{step, {Think: 3 * time.Millisecond}, step}
				script := newScript(url, []scenario.Phase{count(1, time.Millisecond)}, flow)
				script.Config.HTTP.Pool = pool
				out, rec := run(t, script, Options{})
				if errs := errorCounts(rec); len(errs) != 0 || out.Completed != 1 {
					t.Errorf("errors %v, completed %d; want none and 1", errs, out.Completed)
				}
				if got := requests.Load(); got != 2 || rec.get(metric.Responses) != 2 {
					t.Errorf("the server read %d requests, %d responses recorded; want 2 and 2, over two connections", got, rec.get(metric.Responses))
				}
			})
		}
	}
}
