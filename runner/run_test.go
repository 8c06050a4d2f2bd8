package runner

import (
	"context"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/primeload/primeload/report/metric"
	"github.com/primeload/primeload/scenario"
	"github.com/valyala/fasthttp"
)

func TestRunArrivalCounts(t *testing.T) {
	t.Parallel()
	half := 500 * time.Millisecond
	tests := []struct {
		name   string
		phases []scenario.Phase
		want   []int // created per phase
	}{
		{"constant", []scenario.Phase{constant(40, half)}, []int{20}},
		{"ramp up", []scenario.Phase{ramp(20, 60, half)}, []int{20}},
		{"ramp down to zero", []scenario.Phase{ramp(60, 0, half)}, []int{15}},
		{"arrival count", []scenario.Phase{count(17, half)}, []int{17}},
		{"pause sends nothing", []scenario.Phase{pause(200 * time.Millisecond)}, []int{0}},
		{"several phases", []scenario.Phase{count(3, 100*time.Millisecond), pause(100 * time.Millisecond), constant(30, half), ramp(10, 30, half)}, []int{3, 0, 15, 10}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var hits atomic.Int64
			srv := serve(t, func(w http.ResponseWriter, r *http.Request) { hits.Add(1); ok(w, r) })
			out, rec := run(t, newScript(srv.URL, tt.phases, []scenario.Step{get("/")}), Options{})
			total := 0
			for i, want := range tt.want {
				p := out.Phases[i]
				if p.Created != want || p.Expected != want {
					t.Errorf("phase %d: created %d, expected %d; want %d", i, p.Created, p.Expected, want)
				}
				total += want
			}
			for _, c := range []string{metric.VUsersCreated, metric.VUsersCompleted, metric.Requests, metric.Responses, "http.codes.200"} {
				if got := rec.get(c); got != int64(total) {
					t.Errorf("%s = %d, want %d", c, got, total)
				}
			}
			if got := hits.Load(); got != int64(total) {
				t.Errorf("server saw %d requests, want %d", got, total)
			}
			if rec.lags != total {
				t.Errorf("%d lag samples, want one per arrival (%d)", rec.lags, total)
			}
			if out.Aborted {
				t.Error("Aborted = true for a finished run")
			}
		})
	}
}

func TestRunWeights(t *testing.T) {
	t.Parallel()
	srv := serve(t, ok)
	script := newScript(srv.URL, []scenario.Phase{count(400, 500*time.Millisecond)},
		[]scenario.Step{get("/a")}, []scenario.Step{get("/b")})
	script.Scenarios[1].Weight = 3
	_, rec := run(t, script, Options{Seed: 7})
	a, b := rec.endpoints["/a"], rec.endpoints["/b"]
	if a+b != 400 {
		t.Fatalf("%d + %d responses, want 400", a, b)
	}
	// Binomial(400, 0.75) has a standard deviation of 8.7; allow 4 of them.
	if diff := math.Abs(float64(b) - 300); diff > 35 {
		t.Errorf("weight 3 scenario ran %d of 400 times, want 300±35", b)
	}
}

func TestRunCaptureChain(t *testing.T) {
	t.Parallel()
	var good atomic.Int64
	var mu sync.Mutex
	logins := map[string]int{}
	srv := serve(t, func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/login":
			mu.Lock()
			logins[r.URL.Query().Get("user")]++
			mu.Unlock()
			w.Header().Set("X-Session", "s-"+r.URL.Query().Get("user"))
			fmt.Fprintf(w, `{"token":"tok-%s"}`, r.URL.Query().Get("user"))
		case "/orders":
			if r.Header.Get("Authorization") != "Bearer tok-"+r.Header.Get("X-User") {
				http.Error(w, "bad token", http.StatusUnauthorized)
				return
			}
			fmt.Fprintf(w, `{"orders":[{"id":%s7}]}`, r.Header.Get("X-User"))
		default:
			want := "/orders/" + r.Header.Get("X-User") + "7"
			if r.URL.Path == want && r.Header.Get("X-Session") == "s-"+r.Header.Get("X-User") {
				good.Add(1)
			}
			ok(w, r)
		}
	})
	login := withCapture(get("/login?user={{ user }}"),
		jsonCapture("$.token", "token"),
		scenario.Capture{Kind: scenario.CaptureHeader, Expr: "x-session", As: "session", Strict: true})
	orders := withCapture(get("/orders"), jsonCapture("$.orders[0].id", "orderId"))
	orders.Request.Headers = []scenario.Header{
		{Name: "Authorization", Value: scenario.MustCompile("Bearer {{ token }}")},
		{Name: "X-User", Value: scenario.MustCompile("{{ user }}")},
	}
	detail := get("/orders/{{ orderId }}")
	detail.Request.Headers = []scenario.Header{
		{Name: "X-Session", Value: scenario.MustCompile("{{ session }}")},
		{Name: "X-User", Value: scenario.MustCompile("{{ user }}")},
	}
	script := newScript(srv.URL, []scenario.Phase{count(10, 200*time.Millisecond)}, []scenario.Step{login, orders, detail})
	// The before flow's captures seed every user; its payload row must not.
	script.Before = []scenario.Step{withCapture(get("/warmup"), jsonCapture("$.ok", "warm"))}
	script.Config.Payloads = []scenario.Payload{{Fields: []string{"user"}, Order: "sequence", Rows: [][]string{{"1"}, {"2"}, {"3"}}}}
	out, rec := run(t, script, Options{})
	if good.Load() != 10 || out.Completed != 10 {
		t.Errorf("%d users reached the third step with the right captures, %d completed; want 10", good.Load(), out.Completed)
	}
	// Sequential rows: arrival k gets row k mod 3.
	mu.Lock()
	if got := fmt.Sprint(logins); got != "map[1:4 2:3 3:3]" {
		t.Errorf("logins per payload row %s, want map[1:4 2:3 3:3]", got)
	}
	mu.Unlock()
	if got := rec.statuses[http.StatusUnauthorized]; got != 0 {
		t.Errorf("%d requests had a wrong token", got)
	}
}

func TestRunFailedCaptureFailsOnlyItsUser(t *testing.T) {
	t.Parallel()
	srv := serve(t, func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Query().Get("user") == "bad" {
			w.Write([]byte(`{}`))
			return
		}
		w.Write([]byte(`{"id":1}`))
	})
	script := newScript(srv.URL, []scenario.Phase{count(8, 200*time.Millisecond)}, []scenario.Step{
		withCapture(get("/first?user={{ user }}"), jsonCapture("$.id", "id")),
		get("/second"),
	})
	script.Config.Payloads = []scenario.Payload{{Fields: []string{"user"}, Order: "sequence", Rows: [][]string{{"a"}, {"b"}, {"bad"}, {"c"}}}}
	out, rec := run(t, script, Options{})
	tests := []struct {
		name string
		got  int64
		want int64
	}{
		{"vusers.failed", rec.get(metric.VUsersFailed), 2},
		{"vusers.completed", rec.get(metric.VUsersCompleted), 6},
		{"errors.Failed capture or match", rec.get(metric.ErrCaptureMiss), 2},
		{"second step responses", int64(rec.endpoints["/second"]), 6},
		{"Outcome.Failed", out.Failed, 2},
	}
	for _, tt := range tests {
		if tt.got != tt.want {
			t.Errorf("%s = %d, want %d", tt.name, tt.got, tt.want)
		}
	}
}

func TestRunNonStrictCaptureGoesOn(t *testing.T) {
	t.Parallel()
	srv := serve(t, ok)
	c := jsonCapture("$.missing", "x")
	c.Strict = false
	script := newScript(srv.URL, []scenario.Phase{count(3, 100*time.Millisecond)}, []scenario.Step{withCapture(get("/"), c), get("/next")})
	_, rec := run(t, script, Options{})
	if rec.get(metric.VUsersCompleted) != 3 || rec.get(metric.ErrCaptureMiss) != 0 {
		t.Errorf("completed %d, capture misses %d; want 3 and 0", rec.get(metric.VUsersCompleted), rec.get(metric.ErrCaptureMiss))
	}
}

func TestRunMaxVusersSkips(t *testing.T) {
	t.Parallel()
	release := make(chan struct{})
	srv := serve(t, func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
		ok(w, r)
	})
	p := count(10, 300*time.Millisecond)
	p.MaxVusers = 3
	script := newScript(srv.URL, []scenario.Phase{p, pause(50 * time.Millisecond)}, []scenario.Step{get("/")})
	var once sync.Once
	out, rec := run(t, script, Options{OnPhase: func(pp PhasePlan) {
		// Every arrival of the first phase has been decided by now.
		if pp.Index == 1 {
			once.Do(func() { close(release) })
		}
	}})
	if out.Phases[0].Created != 3 || out.Phases[0].Skipped != 7 {
		t.Errorf("created %d, skipped %d; want 3 and 7", out.Phases[0].Created, out.Phases[0].Skipped)
	}
	if rec.get(metric.VUsersSkipped) != 7 || rec.get(metric.VUsersCompleted) != 3 {
		t.Errorf("vusers.skipped = %d, vusers.completed = %d; want 7 and 3", rec.get(metric.VUsersSkipped), rec.get(metric.VUsersCompleted))
	}
}

func TestRunCookiesPerUser(t *testing.T) {
	t.Parallel()
	var leaked atomic.Int64
	srv := serve(t, func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/login":
			if _, err := r.Cookie("user"); err == nil {
				leaked.Add(1) // a fresh user must not carry anyone's cookie
			}
			http.SetCookie(w, &http.Cookie{Name: "user", Value: r.URL.Query().Get("u"), Path: "/"})
		case "/me":
			c, err := r.Cookie("user")
			if err != nil {
				http.Error(w, "no cookie", http.StatusForbidden)
				return
			}
			fmt.Fprintf(w, `{"user":"%s"}`, c.Value)
		}
	})
	me := withCapture(get("/me"), jsonCapture("$.user", "me"))
	me.Request.Expect = []scenario.Expect{
		{Kind: scenario.ExpectStatusCode, StatusCode: []int{200}},
		{Kind: scenario.ExpectEquals, Equals: []*scenario.Template{scenario.MustCompile("{{ me }}"), scenario.MustCompile("{{ u }}")}},
	}
	script := newScript(srv.URL, []scenario.Phase{count(12, 200*time.Millisecond)}, []scenario.Step{get("/login?u={{ u }}"), me})
	script.Config.Payloads = []scenario.Payload{{Fields: []string{"u"}, Order: "sequence", Rows: [][]string{{"ann"}, {"bob"}, {"cy"}}}}
	out, rec := run(t, script, Options{})
	if got := rec.get(metric.ExpectOK); got != 24 {
		t.Errorf("plugins.expect.ok = %d, want 24", got)
	}
	if out.ExpectFailed != 0 || leaked.Load() != 0 {
		t.Errorf("%d failed expectations, %d leaked cookies; want none", out.ExpectFailed, leaked.Load())
	}
}

// hijack returns a handler that takes the connection and closes it without
// an answer; with reset it sends a TCP RST instead of a FIN.
func hijack(reset bool) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		conn, _, err := w.(http.Hijacker).Hijack()
		if err != nil {
			return
		}
		if tc, ok := conn.(*net.TCPConn); ok && reset {
			tc.SetLinger(0)
		}
		conn.Close()
	}
}

func TestRunErrorCodes(t *testing.T) {
	t.Parallel()
	closedURL := func(t *testing.T) string {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		addr := l.Addr().String()
		l.Close()
		return "http://" + addr
	}
	tests := []struct {
		name    string
		handler http.HandlerFunc // nil: nothing listens
		timeout time.Duration
		maxBody int64
		want    string
	}{
		{"refused", nil, 0, 0, "errors.ECONNREFUSED"},
		{"reset", hijack(true), 0, 0, "errors.ECONNRESET"},
		{"closed without answer", hijack(false), 0, 0, "errors.ECONNRESET"},
		{"timed out", func(w http.ResponseWriter, r *http.Request) {
			select {
			case <-r.Context().Done():
			case <-time.After(5 * time.Second):
			}
		}, 50 * time.Millisecond, 0, "errors.ETIMEDOUT"},
		{"body too large", func(w http.ResponseWriter, r *http.Request) {
			w.Write([]byte(strings.Repeat("x", 100<<10)))
		}, 0, 1 << 10, "errors.EBODYTOOLARGE"},
		{"redirect loop", func(w http.ResponseWriter, r *http.Request) {
			http.Redirect(w, r, "/loop", http.StatusFound)
		}, 0, 0, "errors.ERR_TOO_MANY_REDIRECTS"},
		{"malformed response", func(w http.ResponseWriter, r *http.Request) {
			conn, buf, _ := w.(http.Hijacker).Hijack()
			buf.WriteString("NOT HTTP AT ALL\r\n\r\n")
			buf.Flush()
			conn.Close()
		}, 0, 0, "errors.EPROTO"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			target := ""
			if tt.handler == nil {
				target = closedURL(t)
			} else {
				target = serve(t, tt.handler).URL
			}
			script := newScript(target, []scenario.Phase{count(2, 20*time.Millisecond)}, []scenario.Step{get("/"), get("/never")})
			script.Config.HTTP.Timeout = tt.timeout
			out, rec := run(t, script, Options{MaxBodyBytes: tt.maxBody})
			if got := rec.get(tt.want); got != 2 {
				t.Errorf("%s = %d, want 2; counters %v", tt.want, got, rec.snapshot())
			}
			if out.Failed != 2 || rec.get(metric.VUsersFailed) != 2 || rec.endpoints["/never"] != 0 {
				t.Errorf("failed %d (counter %d), later steps %d; want 2, 2, 0", out.Failed, rec.get(metric.VUsersFailed), rec.endpoints["/never"])
			}
		})
	}
}

func TestErrorCounterClassifies(t *testing.T) {
	t.Parallel()
	tests := []struct {
		err  error
		want string
	}{
		{context.DeadlineExceeded, metric.ErrTimedOut},
		{&net.DNSError{Err: "no such host", Name: "x.invalid"}, metric.ErrNotFound},
		{fmt.Errorf("read: %w", io.ErrUnexpectedEOF), metric.ErrConnReset},
		{fasthttp.ErrBodyTooLarge, metric.ErrBodyTooLarge},
		{fasthttp.ErrConnectionClosed, metric.ErrConnReset},
		{fasthttp.ErrNoFreeConns, metric.ErrTimedOut},
		{errPoolWait, metric.ErrTimedOut},
		{errInvalidURL, metric.ErrInvalidURL}, // a redirect to a scheme other than http or https
		{fmt.Errorf("weird"), metric.ErrUnknown},
	}
	for _, tt := range tests {
		if got := errorCounter(tt.err); got != tt.want {
			t.Errorf("errorCounter(%v) = %s, want %s", tt.err, got, tt.want)
		}
	}
}

func TestRunSlowServerKeepsArrivals(t *testing.T) {
	t.Parallel()
	srv := serve(t, func(w http.ResponseWriter, r *http.Request) {
		time.Sleep(400 * time.Millisecond) // longer than the whole phase
		ok(w, r)
	})
	out, rec := run(t, newScript(srv.URL, []scenario.Phase{constant(60, 500*time.Millisecond)}, []scenario.Step{get("/")}), Options{})
	if out.Created != 30 || rec.get(metric.VUsersCompleted) != 30 {
		t.Errorf("created %d, completed %d against a slow server; want 30 and 30", out.Created, rec.get(metric.VUsersCompleted))
	}
}

// cancellingServer starts a server that cancels the returned context at its
// n-th request, then answers each request or holds it until the client leaves.
func cancellingServer(t *testing.T, n int64, answer bool) (context.Context, string) {
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	var hits atomic.Int64
	srv := serve(t, func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/teardown" {
			ok(w, r)
			return
		}
		if hits.Add(1) == n {
			cancel()
		}
		if !answer {
			<-r.Context().Done()
		}
		ok(w, r)
	})
	return ctx, srv.URL
}

func TestRunCancelMidRun(t *testing.T) {
	t.Parallel()
	// The server never answers: in-flight users are cut off.
	ctx, target := cancellingServer(t, 5, false)
	script := newScript(target, []scenario.Phase{constant(50, 20*time.Second)}, []scenario.Step{get("/")})
	script.After = []scenario.Step{get("/teardown")}
	out, rec := runCtx(ctx, t, script, Options{Grace: 50 * time.Millisecond})
	if got := rec.statuses[http.StatusOK]; got != 1 {
		t.Errorf("the after flow got %d answers, want 1 (counters %v)", got, rec.snapshot())
	}
	if !out.Aborted {
		t.Error("Aborted = false after cancel")
	}
	if out.Created < 5 || out.Created >= out.Expected {
		t.Errorf("created %d of %d; want at least 5 and fewer than all", out.Created, out.Expected)
	}
	if out.CutOff != int64(out.Created) || rec.get(metric.VUsersCompleted) != 0 {
		t.Errorf("cut off %d, completed %d; want all %d cut off", out.CutOff, rec.get(metric.VUsersCompleted), out.Created)
	}
	if got := rec.get(metric.Requests); got != int64(out.Created)+1 {
		t.Errorf("http.requests = %d, want one per user and one for the after flow (%d)", got, out.Created+1)
	}
}

func TestRunGraceLetsUsersFinish(t *testing.T) {
	t.Parallel()
	ctx, target := cancellingServer(t, 3, true)
	script := newScript(target, []scenario.Phase{constant(50, 20*time.Second)}, []scenario.Step{get("/")})
	out, _ := runCtx(ctx, t, script, Options{Grace: time.Minute})
	if !out.Aborted || out.CutOff != 0 || out.Completed != int64(out.Created) {
		t.Errorf("aborted %v, cut off %d, completed %d of %d; want every started user to finish in the grace period", out.Aborted, out.CutOff, out.Completed, out.Created)
	}
}

func TestRunStartAt(t *testing.T) {
	t.Parallel()
	srv := serve(t, ok)
	phases := []scenario.Phase{count(15, 1500*time.Millisecond), count(10, 500*time.Millisecond)}
	script := newScript(srv.URL, phases, []scenario.Step{get("/")})

	// Long past: every arrival is missed, none is sent as a burst.
	out, rec := run(t, script, Options{StartAt: time.Now().Add(-time.Hour)})
	if out.Missed != 25 || out.Created != 0 || rec.get(metric.Requests) != 0 {
		t.Errorf("start an hour ago: missed %d, created %d, requests %d; want 25, 0, 0", out.Missed, out.Created, rec.get(metric.Requests))
	}

	// Past by the first phase: it is missed, the second is joined.
	out, _ = run(t, script, Options{StartAt: time.Now().Add(-1500 * time.Millisecond)})
	if out.Phases[0].Missed != 15 || out.Phases[0].Created != 0 {
		t.Errorf("first phase: missed %d, created %d; want 15, 0", out.Phases[0].Missed, out.Phases[0].Created)
	}
	if p := out.Phases[1]; p.Missed+p.Created != 10 || p.Created < 7 {
		t.Errorf("second phase: missed %d, created %d; want them to add to 10 with most created", p.Missed, p.Created)
	}

	// Future: the schedule starts exactly there, nothing missed.
	at := time.Now().Add(300 * time.Millisecond)
	out, _ = run(t, newScript(srv.URL, []scenario.Phase{count(5, 100*time.Millisecond)}, []scenario.Step{get("/")}), Options{StartAt: at})
	if !out.Started.Equal(at) || out.Missed != 0 || out.Created != 5 {
		t.Errorf("future start: started %v (want %v), missed %d, created %d; want 0 and 5", out.Started, at, out.Missed, out.Created)
	}
}

func TestRunClosedModel(t *testing.T) {
	t.Parallel()
	var inFlight, peak atomic.Int64
	srv := serve(t, func(w http.ResponseWriter, r *http.Request) {
		n := inFlight.Add(1)
		for {
			p := peak.Load()
			if n <= p || peak.CompareAndSwap(p, n) {
				break
			}
		}
		time.Sleep(5 * time.Millisecond)
		inFlight.Add(-1)
		ok(w, r)
	})
	script := newScript(srv.URL, []scenario.Phase{closed(3, 300*time.Millisecond)}, []scenario.Step{get("/")})
	out, rec := run(t, script, Options{})
	if out.Phases[0].Created < 3 || rec.get(metric.VUsersCompleted) != int64(out.Created) {
		t.Errorf("closed model: %d iterations, %d completed; want at least 3, all completed", out.Phases[0].Created, rec.get(metric.VUsersCompleted))
	}
	if peak.Load() > 3 {
		t.Errorf("%d requests in flight at once, want at most 3 users", peak.Load())
	}
}

func TestRunBeforeAfterLoopLog(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	paths := map[string]int{}
	srv := serve(t, func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		paths[r.URL.RequestURI()]++
		mu.Unlock()
		w.Write([]byte(`{"token":"T1"}`))
	})
	script := newScript(srv.URL, []scenario.Phase{count(4, 100*time.Millisecond)}, []scenario.Step{
		{Loop: &scenario.Loop{Count: 2, Steps: []scenario.Step{get("/n/{{ $loopCount }}?t={{ token }}")}}},
		{Loop: &scenario.Loop{OverValues: []any{"x", "y"}, Steps: []scenario.Step{get("/e/{{ $loopElement }}")}}},
		{Log: scenario.MustCompile("user {{ name }} done")},
	})
	script.Before = []scenario.Step{withCapture(get("/setup"), jsonCapture("$.token", "token"))}
	script.After = []scenario.Step{get("/teardown")}
	var log strings.Builder
	out, _ := run(t, script, Options{Log: &syncWriter{w: &log}, Vars: map[string]string{"name": "ann"}})
	want := map[string]int{"/setup": 1, "/n/0?t=T1": 4, "/n/1?t=T1": 4, "/e/x": 4, "/e/y": 4, "/teardown": 1}
	mu.Lock()
	defer mu.Unlock()
	for p, n := range want {
		if paths[p] != n {
			t.Errorf("%s requested %d times, want %d (all: %v)", p, paths[p], n, paths)
		}
	}
	if got := strings.Count(log.String(), "user ann done\n"); got != 4 || out.Completed != 4 {
		t.Errorf("%d log lines, %d completed; want 4 and 4", got, out.Completed)
	}
}

type syncWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (s *syncWriter) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.w.Write(p)
}

func TestRunRequestShape(t *testing.T) {
	t.Parallel()
	type seen struct{ method, uri, ctype, body, auth, cookie, hdr, accept string }
	got := make(chan seen, 1)
	srv := serve(t, func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		user, pass, _ := r.BasicAuth()
		c, _ := r.Cookie("c")
		var cv string
		if c != nil {
			cv = c.Value
		}
		got <- seen{r.Method, r.URL.RequestURI(), r.Header.Get("Content-Type"), string(b), user + ":" + pass, cv, r.Header.Get("X-Default") + "|" + r.Header.Get("X-Over"), r.Header.Get("Accept-Encoding")}
	})
	body, err := scenario.CompileValue(map[string]any{"id": "{{ id }}", "n": 2})
	if err != nil {
		t.Fatal(err)
	}
	tmpl := scenario.MustCompile
	s := get("/items?x=1")
	s.Request.Method = "POST"
	s.Request.JSON = body
	s.Request.QS = []scenario.Param{{Name: "q", Value: tmpl("a b&{{ id }}")}}
	s.Request.Auth = &scenario.Auth{User: tmpl("u"), Pass: tmpl("{{ id }}")}
	s.Request.Cookie = []scenario.Param{{Name: "c", Value: tmpl("v{{ id }}")}}
	s.Request.Headers = []scenario.Header{{Name: "x-over", Value: tmpl("req")}}
	s.Request.Gzip = true
	script := newScript(srv.URL, []scenario.Phase{count(1, 10*time.Millisecond)}, []scenario.Step{s})
	script.Config.Defaults.Headers = []scenario.Header{{Name: "X-Default", Value: tmpl("def")}, {Name: "X-Over", Value: tmpl("def")}}
	script.Config.Variables = []scenario.Variable{{Name: "id", Values: []any{7}}}
	run(t, script, Options{})
	want := seen{"POST", "/items?x=1&q=a+b%267", "application/json", `{"id":7,"n":2}`, "u:7", "v7", "def|req", "gzip"}
	if g := <-got; g != want {
		t.Errorf("request\n got %+v\nwant %+v", g, want)
	}
}

// TestRunBodyContentType: each kind of body carries the Content-Type got
// (Artillery's client) gives it, and a plain body none unless the step
// sets one.
func TestRunBodyContentType(t *testing.T) {
	t.Parallel()
	got := make(chan string, 1)
	srv := serve(t, func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		got <- fmt.Sprintf("%q %q", r.Header.Values("Content-Type"), b)
	})
	post := func(set func(*scenario.Request)) scenario.Step {
		s := get("/")
		s.Request.Method = "POST"
		set(s.Request)
		return s
	}
	tests := []struct {
		name string
		step scenario.Step
		want string
	}{
		{"plain body", post(func(r *scenario.Request) { r.Body = scenario.MustCompile("x") }), `[] "x"`},
		{"plain body with a type", post(func(r *scenario.Request) {
			r.Body = scenario.MustCompile("x")
			r.Headers = []scenario.Header{{Name: "Content-Type", Value: scenario.MustCompile("text/plain")}}
		}), `["text/plain"] "x"`},
		{"json", post(func(r *scenario.Request) {
			v, err := scenario.CompileValue(map[string]any{"n": "{{ n }}"})
			if err != nil {
				t.Fatal(err)
			}
			r.JSON = v
		}), `["application/json"] "{\"n\":1}"`},
		{"form", post(func(r *scenario.Request) { r.Form = []scenario.Param{{Name: "a", Value: scenario.MustCompile("b")}} }), `["application/x-www-form-urlencoded"] "a=b"`},
		// In the order written, as got's form (URLSearchParams) sends it.
		{"form fields in order", post(func(r *scenario.Request) {
			r.Form = []scenario.Param{{Name: "name", Value: scenario.MustCompile("ann lee")}, {Name: "n", Value: scenario.MustCompile("{{ n }}")}, {Name: "a&b", Value: scenario.MustCompile("x=y")}}
		}), `["application/x-www-form-urlencoded"] "name=ann+lee&n=1&a%26b=x%3Dy"`},
	}
	for _, tt := range tests {
		script := newScript(srv.URL, []scenario.Phase{count(1, 10*time.Millisecond)}, []scenario.Step{tt.step})
		script.Config.Variables = []scenario.Variable{{Name: "n", Values: []any{1}}}
		run(t, script, Options{})
		if g := <-got; g != tt.want {
			t.Errorf("%s: server saw %s, want %s", tt.name, g, tt.want)
		}
	}
}

func TestRunRegexpCaptureAndForm(t *testing.T) {
	t.Parallel()
	var forms atomic.Int64
	srv := serve(t, func(w http.ResponseWriter, r *http.Request) {
		if r.Method == "POST" {
			r.ParseForm()
			if r.PostForm.Get("code") == "A42" {
				forms.Add(1)
			}
			return
		}
		w.Write([]byte(`<p>code=A42;</p>`))
	})
	first := withCapture(get("/"), scenario.Capture{Kind: scenario.CaptureRegexp, Expr: `code=(\w+);`, Regexp: regexp.MustCompile(`code=(\w+);`), Group: "1", As: "code", Strict: true})
	post := get("/form")
	post.Request.Method = "POST"
	post.Request.Form = []scenario.Param{{Name: "code", Value: scenario.MustCompile("{{ code }}")}}
	run(t, newScript(srv.URL, []scenario.Phase{count(3, 30*time.Millisecond)}, []scenario.Step{first, post}), Options{})
	if forms.Load() != 3 {
		t.Errorf("%d forms carried the captured code, want 3", forms.Load())
	}
}

func TestRunSegmentsAddUpToWholeRun(t *testing.T) {
	t.Parallel()
	srv := serve(t, ok)
	phases := []scenario.Phase{count(13, 200*time.Millisecond), ramp(10, 50, 300*time.Millisecond)}
	whole, wholeRec := run(t, newScript(srv.URL, phases, []scenario.Step{get("/")}), Options{})
	var mu sync.Mutex
	var created int64
	expected := make([]int, len(phases))
	var wg sync.WaitGroup
	for i := 1; i <= 4; i++ {
		wg.Go(func() {
			out, rec := run(t, newScript(srv.URL, phases, []scenario.Step{get("/")}), Options{Segment: Segment{Index: i, Count: 4}})
			mu.Lock()
			defer mu.Unlock()
			created += rec.get(metric.VUsersCreated)
			for p := range out.Phases {
				expected[p] += out.Phases[p].Expected
			}
		})
	}
	wg.Wait()
	if created != wholeRec.get(metric.VUsersCreated) {
		t.Errorf("segments created %d users, the whole run %d", created, wholeRec.get(metric.VUsersCreated))
	}
	for p := range whole.Phases {
		if expected[p] != whole.Phases[p].Expected {
			t.Errorf("phase %d: segments expect %d, the whole run %d", p, expected[p], whole.Phases[p].Expected)
		}
	}
}

func TestRunRejectsBadInput(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		script  *scenario.Script
		opts    Options
		wantErr string
	}{
		{"bad target", newScript("ftp://x", nil, []scenario.Step{get("/")}), Options{}, "want an absolute http:// or https:// URL"},
		{"relative url without target", newScript("", nil, []scenario.Step{get("/")}), Options{}, "url \"/\" is relative but config.target is empty"},
		{"bad segment", newScript("http://127.0.0.1:1", nil, []scenario.Step{get("/")}), Options{Segment: Segment{Index: 3, Count: 2}}, "segment 3/2"},
		{"no scenarios", newScript("http://127.0.0.1:1", []scenario.Phase{count(1, time.Second)}), Options{}, "no scenarios"},
		{"bad phase", newScript("http://127.0.0.1:1", []scenario.Phase{constant(-1, time.Second)}, []scenario.Step{get("/")}), Options{}, "arrivalRate -1"},
		{"pool too big", func() *scenario.Script {
			s := newScript("http://127.0.0.1:1", nil, []scenario.Step{get("/")})
			s.Config.HTTP.Pool = 1 << 20
			return s
		}(), Options{}, "config.http.pool 1048576: want at most 65535"},
	}
	for _, tt := range tests {
		_, err := Run(context.Background(), tt.script, newCountRecorder(), tt.opts)
		if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
			t.Errorf("%s: err = %v, want %q", tt.name, err, tt.wantErr)
		}
	}
}

func TestRunProgressAndSinkIDs(t *testing.T) {
	t.Parallel()
	srv := serve(t, ok)
	var p Progress
	var phases []string
	script := newScript(srv.URL, []scenario.Phase{count(6, 60*time.Millisecond), pause(10 * time.Millisecond)}, []scenario.Step{get("/")})
	script.Config.Phases[0].Name = "warm"
	script.Config.Phases[1].Name = "rest"
	_, rec := run(t, script, Options{Progress: &p, OnPhase: func(pp PhasePlan) { phases = append(phases, pp.Name+":"+strconv.Itoa(pp.Expected)) }})
	if p.Created() != 6 || p.Completed() != 6 || p.Active() != 0 || p.Phase() != 1 {
		t.Errorf("progress created %d, completed %d, active %d, phase %d; want 6, 6, 0, 1", p.Created(), p.Completed(), p.Active(), p.Phase())
	}
	if strings.Join(phases, ",") != "warm:6,rest:0" {
		t.Errorf("OnPhase saw %v", phases)
	}
	if rec.maxID != 6 {
		t.Errorf("highest sink id %d, want 6 (0 for the scheduler, 1..6 for the six arrivals)", rec.maxID)
	}
}

func TestRunRedirects(t *testing.T) {
	t.Parallel()
	type hit struct{ method, path, body, cookie string }
	hits := make(chan hit, 16)
	srv := serve(t, func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		c, _ := r.Cookie("hop")
		cv := ""
		if c != nil {
			cv = c.Value
		}
		hits <- hit{r.Method, r.URL.Path, string(b), cv}
		switch r.URL.Path {
		case "/found":
			http.SetCookie(w, &http.Cookie{Name: "hop", Value: "1", Path: "/"})
			http.Redirect(w, r, "/landing", http.StatusFound)
		case "/temporary":
			http.Redirect(w, r, "/landing", http.StatusTemporaryRedirect)
		}
	})
	post := func(path string, follow bool) scenario.Step {
		s := get(path)
		s.Request.Method = "POST"
		s.Request.Body = scenario.MustCompile("payload")
		s.Request.FollowRedirect = follow
		return s
	}
	tests := []struct {
		name       string
		step       scenario.Step
		want       []hit
		wantStatus int // the first hop's
	}{
		// 302 repeats a POST and its body, as got (Artillery's client) does;
		// the cookie set on the way is sent. (Every status and method:
		// TestRedirectMethodAndBodyAsGot.)
		{"302 keeps the method", post("/found", true), []hit{{"POST", "/found", "payload", ""}, {"POST", "/landing", "payload", "1"}}, 302},
		// 307 repeats the method and body.
		{"307 keeps the body", post("/temporary", true), []hit{{"POST", "/temporary", "payload", ""}, {"POST", "/landing", "payload", ""}}, 307},
		// followRedirect: false records the redirect itself.
		{"not followed", post("/found", false), []hit{{"POST", "/found", "payload", ""}}, 302},
	}
	for _, tt := range tests {
		_, rec := run(t, newScript(srv.URL, []scenario.Phase{count(1, 10*time.Millisecond)}, []scenario.Step{tt.step}), Options{})
		var got []hit
		for range tt.want {
			got = append(got, <-hits)
		}
		if fmt.Sprint(got) != fmt.Sprint(tt.want) {
			t.Errorf("%s: server saw %v, want %v", tt.name, got, tt.want)
		}
		// Each hop is a response; only the last one is the endpoint's.
		if rec.statuses[tt.wantStatus] != 1 || rec.get(metric.Responses) != int64(len(tt.want)) || rec.endpoints[tt.step.Request.Endpoint] != 1 {
			t.Errorf("%s: statuses %v, responses %d, per endpoint %v; want one %d, %d responses, one for %s", tt.name, rec.statuses, rec.get(metric.Responses), rec.endpoints, tt.wantStatus, len(tt.want), tt.step.Request.Endpoint)
		}
		select {
		case h := <-hits:
			t.Errorf("%s: unexpected extra request %v", tt.name, h)
		default:
		}
	}
}

func TestRunTLSVerification(t *testing.T) {
	t.Parallel()
	srv := httptest.NewTLSServer(http.HandlerFunc(ok))
	t.Cleanup(srv.Close)
	tests := []struct {
		name     string
		reject   bool // config.tls.rejectUnauthorized
		insecure bool // --insecure
		want     string
	}{
		{"self-signed certificate refused", true, false, metric.ErrCert},
		{"--insecure accepts it", true, true, "http.codes.200"},
		{"rejectUnauthorized false accepts it", false, false, "http.codes.200"},
	}
	for _, tt := range tests {
		script := newScript(srv.URL, []scenario.Phase{count(1, 10*time.Millisecond)}, []scenario.Step{get("/")})
		script.Config.TLS.RejectUnauthorized = tt.reject
		_, rec := run(t, script, Options{Insecure: tt.insecure})
		if got := rec.get(tt.want); got != 1 {
			t.Errorf("%s: %s = %d, want 1; counters %v", tt.name, tt.want, got, rec.snapshot())
		}
	}
}

func TestRunURLJoin(t *testing.T) {
	t.Parallel()
	got := make(chan string, 1)
	srv := serve(t, func(w http.ResponseWriter, r *http.Request) { got <- r.URL.RequestURI() })
	tests := []struct {
		target, url, want string
	}{
		{srv.URL, "/a/b?c=1", "/a/b?c=1"},
		{srv.URL + "/api", "/items", "/api/items"},
		{srv.URL + "/api/", "items", "/api/items"},
		{"http://127.0.0.1:9", srv.URL + "/absolute", "/absolute"}, // an absolute URL ignores the target
		{srv.URL, "", "/"},
	}
	// A URL rendering without a host is counted, and nothing is sent.
	_, rec := run(t, newScript("", []scenario.Phase{count(1, 10*time.Millisecond)}, []scenario.Step{get("{{ nothing }}/x")}), Options{})
	if rec.get(metric.ErrInvalidURL) != 1 || rec.get(metric.Requests) != 0 || rec.get(metric.VUsersFailed) != 1 {
		t.Errorf("URL without host: counters %v, want one errors.EINVALIDURL, no request, one failed user", rec.snapshot())
	}
	for _, tt := range tests {
		run(t, newScript(tt.target, []scenario.Phase{count(1, 10*time.Millisecond)}, []scenario.Step{get(tt.url)}), Options{})
		if g := <-got; g != tt.want {
			t.Errorf("target %q + url %q requested %q, want %q", tt.target, tt.url, g, tt.want)
		}
	}
}

// A server may close a kept-alive connection while its user thinks, or while
// it sits idle in config.http.pool (Node closes them after 5 s). That is the
// generator's stale connection, not a target error: it is seen before the
// request is written (see TestRunIdleClosedConnectionIsNotReused), and where
// it cannot be, an idempotent request is sent again on a fresh one.
func TestRunStaleKeepAliveIsNotAnError(t *testing.T) {
	t.Parallel()
	srv := httptest.NewUnstartedServer(http.HandlerFunc(ok))
	srv.Config.IdleTimeout = time.Millisecond
	srv.Start()
	t.Cleanup(srv.Close)
	flow := []scenario.Step{get("/first"), {Think: 50 * time.Millisecond}, get("/second")}
	for _, pool := range []int{0, 2} {
		script := newScript(srv.URL, []scenario.Phase{count(3, 30*time.Millisecond)}, flow)
		script.Config.HTTP.Pool = pool
		out, rec := run(t, script, Options{})
		if out.Completed != 3 || rec.get(metric.Responses) != 6 {
			t.Errorf("pool %d: completed %d, responses %d; want 3 and 6 (counters %v)", pool, out.Completed, rec.get(metric.Responses), rec.snapshot())
		}
	}
}
