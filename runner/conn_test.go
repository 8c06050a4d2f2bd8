package runner

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/primeload/primeload/report/metric"
	"github.com/primeload/primeload/scenario"
)

// connServer is a test server that counts the connections it accepted and
// the requests each connection carried.
type connServer struct {
	*httptest.Server
	mu       sync.Mutex
	accepted int
	perConn  map[string]int // requests by client address
}

// newConnServer starts a connServer that takes delay to answer.
func newConnServer(t *testing.T, delay time.Duration) *connServer {
	t.Helper()
	s := &connServer{perConn: map[string]int{}}
	s.Server = httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		s.perConn[r.RemoteAddr]++
		s.mu.Unlock()
		time.Sleep(delay)
		ok(w, r)
	}))
	s.Config.ConnState = func(_ net.Conn, st http.ConnState) {
		if st == http.StateNew {
			s.mu.Lock()
			s.accepted++
			s.mu.Unlock()
		}
	}
	s.Start()
	t.Cleanup(s.Close)
	return s
}

// counts returns how many connections were accepted and how many
// connections carried each number of requests.
func (s *connServer) counts() (accepted int, byRequests map[int]int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	byRequests = map[int]int{}
	for _, n := range s.perConn {
		byRequests[n]++
	}
	return s.accepted, byRequests
}

// Each virtual user owns its connection for its lifetime, as Artillery's
// do: users that think between two requests hold one connection each at
// the target, and each connection carries both requests of its user. A pool
// shared by all users would let the second requests reuse the first ones'
// connections and show the target far fewer connections than users.
func TestRunEachUserHoldsItsConnection(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name         string
		phase        scenario.Phase
		flow         []scenario.Step
		pool         int           // config.http.pool
		delay        time.Duration // the server's answer time
		wantAccepted int
		wantPerConn  int // requests every connection carried; 0 skips the check
	}{
		{
			name:         "arrivals thinking between two requests",
			phase:        count(20, 100*time.Millisecond),
			flow:         []scenario.Step{get("/first"), {Think: 300 * time.Millisecond}, get("/second")},
			wantAccepted: 20,
			wantPerConn:  2,
		},
		{
			name:         "one request each, arriving after the previous user ended",
			phase:        count(5, 500*time.Millisecond),
			flow:         []scenario.Step{get("/only")},
			wantAccepted: 5,
			wantPerConn:  1,
		},
		{
			// A closed-model user keeps its connection from one
			// iteration to the next.
			name:         "closed-model users",
			phase:        closed(3, 200*time.Millisecond),
			flow:         []scenario.Step{get("/first"), get("/second")},
			wantAccepted: 3,
		},
		{
			// config.http.pool shares its connections among all users;
			// a slow server makes more users want one than there are.
			name:         "a pool of 2 shared by all users",
			phase:        count(20, 100*time.Millisecond),
			flow:         []scenario.Step{get("/first"), {Think: 50 * time.Millisecond}, get("/second")},
			pool:         2,
			delay:        20 * time.Millisecond,
			wantAccepted: 2,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv := newConnServer(t, tt.delay)
			script := newScript(srv.URL, []scenario.Phase{tt.phase}, tt.flow)
			script.Config.HTTP.Pool = tt.pool
			out, rec := run(t, script, Options{})
			if out.Failed != 0 || rec.get(metric.Responses) != rec.get(metric.Requests) {
				t.Fatalf("%d users failed, %d of %d requests answered: %v", out.Failed, rec.get(metric.Responses), rec.get(metric.Requests), rec.snapshot())
			}
			accepted, byRequests := srv.counts()
			if accepted != tt.wantAccepted {
				t.Errorf("the server accepted %d connections, want %d (requests per connection: %v)", accepted, tt.wantAccepted, byRequests)
			}
			if tt.wantPerConn > 0 && byRequests[tt.wantPerConn] != tt.wantAccepted {
				t.Errorf("connections by requests carried = %v, want all %d with %d", byRequests, tt.wantAccepted, tt.wantPerConn)
			}
		})
	}
}

// Response is the one channel for http.responses, http.codes.<code> and
// the bytes of every response read, a followed redirect's included (a
// redirect chain failing on a later hop); the runner never Counts them.
// Reporting a measure on both channels would count it twice.
func TestRunCountsEachMeasureOnce(t *testing.T) {
	t.Parallel()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	dead := "http://" + l.Addr().String() // nothing listens once closed
	l.Close()
	const body = `{"ok":true}`
	srv := serve(t, func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/away" {
			w.Header().Set("Location", dead+"/gone")
			w.WriteHeader(http.StatusFound)
			w.Write([]byte("moved"))
			return
		}
		w.Write([]byte(body))
	})
	tests := []struct {
		name        string
		flow        []scenario.Step
		wantCounted map[string]int64 // through Count, beyond vusers.* and http.requests
		wantTotal   map[string]int64 // as a report shows them
	}{
		{
			name:        "completed exchanges",
			flow:        []scenario.Step{get("/a"), get("/b")},
			wantCounted: map[string]int64{},
			wantTotal:   map[string]int64{metric.Responses: 6, "http.codes.200": 6, metric.Downloaded: 6 * int64(len(body))},
		},
		{
			name:        "a redirect chain failing on its second hop",
			flow:        []scenario.Step{get("/away")},
			wantCounted: map[string]int64{metric.ErrConnRefused: 3, "plugins.metrics-by-endpoint./away.errors.ECONNREFUSED": 3},
			// A redirect's body is not counted downloaded, as in Artillery.
			wantTotal: map[string]int64{metric.Responses: 3, "http.codes.302": 3, metric.Downloaded: 0, metric.ErrConnRefused: 3},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, rec := run(t, newScript(srv.URL, []scenario.Phase{count(3, 30*time.Millisecond)}, tt.flow), Options{})
			got := rec.counted()
			for name := range got {
				if name == metric.Requests || strings.HasPrefix(name, "vusers.") {
					delete(got, name)
				}
			}
			if fmt.Sprint(got) != fmt.Sprint(tt.wantCounted) {
				t.Errorf("counted %v, want %v", got, tt.wantCounted)
			}
			for name, want := range tt.wantTotal {
				if got := rec.get(name); got != want {
					t.Errorf("%s = %d, want %d", name, got, want)
				}
			}
		})
	}
}

// A pooled connection idle when the grace period ends is closed with the
// others; the after flow must dial a fresh one, not pick the closed one.
func TestRunPoolAfterCutOff(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	srv := serve(t, func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/hold" {
			cancel()
			<-r.Context().Done()
		}
		ok(w, r)
	})
	script := newScript(srv.URL, []scenario.Phase{count(2, 200*time.Millisecond)}, []scenario.Step{get("/{{ path }}")})
	script.Config.Payloads = []scenario.Payload{{Fields: []string{"path"}, Order: "sequence", Rows: [][]string{{"fast"}, {"hold"}}}}
	script.Config.HTTP.Pool = 2
	script.After = []scenario.Step{get("/teardown")}
	out, rec := runCtx(ctx, t, script, Options{Grace: 50 * time.Millisecond})
	if !out.Aborted || out.CutOff != 1 || out.Completed != 1 {
		t.Errorf("aborted %v, cut off %d, completed %d; want true, 1, 1", out.Aborted, out.CutOff, out.Completed)
	}
	if got := rec.get("http.codes.200"); got != 2 {
		t.Errorf("%d answers, want /fast and the after flow's /teardown (counters %v)", got, rec.snapshot())
	}
}

// config.http.pool reaches the runner as its own setting, not as maxSockets.
func TestPoolKeyParses(t *testing.T) {
	t.Parallel()
	s, err := scenario.Parse("pool.yml", []byte(`config:
  target: "http://127.0.0.1:9"
  phases: [{duration: 1, arrivalRate: 1}]
  http: {pool: 7, maxSockets: 3}
scenarios:
  - flow: [{get: {url: "/"}}]
`), scenario.LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := s.Config.HTTP, (scenario.HTTPConfig{Timeout: s.Config.HTTP.Timeout, Pool: 7, MaxSockets: 3}); got != want {
		t.Errorf("config.http = %+v, want %+v", got, want)
	}
}

// A request over a connection the user already holds, or one from the
// pool, allocates nothing: request and response objects, buffers and the
// connection are all reused. The server is fasthttp's, which allocates
// nothing per request either, so the count is the runner's own.
func TestRequestDoesNotAllocate(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector makes sync.Pool drop items")
	}
	for _, pool := range []int{0, 1} {
		e := benchEngineConfig(t, nil, scenario.Config{HTTP: scenario.HTTPConfig{Pool: pool}})
		v := e.newVU(0, 0)
		defer v.conns.close()
		req := get("/api/goods-received/").Request
		send := func() {
			if v.request(t.Context(), req) != flowOK {
				t.Fatal("request failed")
			}
		}
		send() // the first dials
		if got := testing.AllocsPerRun(200, send); got != 0 {
			t.Errorf("pool %d: a request allocates %v times, want 0", pool, got)
		}
	}
}
