package runner

import (
	"net"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

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

func newConnServer(t *testing.T) *connServer {
	t.Helper()
	s := &connServer{perConn: map[string]int{}}
	s.Server = httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		s.perConn[r.RemoteAddr]++
		s.mu.Unlock()
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
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv := newConnServer(t)
			out, rec := run(t, newScript(srv.URL, []scenario.Phase{tt.phase}, tt.flow), Options{})
			if out.Failed != 0 {
				t.Fatalf("%d users failed: %v", out.Failed, rec.snapshot())
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
