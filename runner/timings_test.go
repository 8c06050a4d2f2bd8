package runner

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/primeload/primeload/scenario"
)

// TestExtendedMetricsTimings: under config.http.extendedMetrics every
// response has its Timings: the phases of opening the connection it came
// over, repeated for each response over that connection, as Artillery's
// HTTP client reports them; TLS is a handshake's only over HTTPS and DNS a
// lookup's only for a host name; off, none are recorded.
func TestExtendedMetricsTimings(t *testing.T) {
	t.Parallel()
	plain := serve(t, ok)
	secure := httptest.NewTLSServer(http.HandlerFunc(ok))
	t.Cleanup(secure.Close)
	const users, steps = 2, 3
	flow := []scenario.Step{get("/a"), get("/b"), get("/c")}
	tests := []struct {
		name     string
		target   string
		pool     int
		extended bool
	}{
		{"plain http", plain.URL, 0, true},
		{"plain http to a name", strings.Replace(plain.URL, "127.0.0.1", "localhost", 1), 0, true},
		{"https", secure.URL, 0, true},
		{"https through config.http.pool", secure.URL, 1, true},
		{"plain http, off", plain.URL, 0, false},
		{"https, off", secure.URL, 0, false},
	}
	for _, tt := range tests {
		script := newScript(tt.target, []scenario.Phase{count(users, 20*time.Millisecond)}, flow)
		script.Config.HTTP.ExtendedMetrics = tt.extended
		script.Config.HTTP.Pool = tt.pool
		_, rec := run(t, script, Options{Insecure: true})
		if got := rec.statuses[200]; got != users*steps {
			t.Fatalf("%s: %d responses 200, want %d (counters %v)", tt.name, got, users*steps, rec.snapshot())
		}
		if !tt.extended {
			if len(rec.timings) != 0 {
				t.Errorf("%s: %d Timings recorded without extendedMetrics", tt.name, len(rec.timings))
			}
			continue
		}
		if len(rec.timings) != users*steps {
			t.Fatalf("%s: %d Timings, want one per response (%d)", tt.name, len(rec.timings), users*steps)
		}
		https := tt.target == secure.URL
		named := !strings.Contains(tt.target, "127.0.0.1")
		dials := users // each user its own connection
		if tt.pool > 0 {
			dials = tt.pool // the users share the pool's
		}
		// A connection's phases, with how many responses carried them.
		perConn := map[Timings]int{}
		for i, tm := range rec.timings {
			if tm.HTTPS != https || tm.TCP <= 0 || (tm.TLS > 0) != https || (tm.DNS > 0) != named ||
				tm.Total <= 0 || tm.DNS < 0 || tm.TLS < 0 {
				t.Errorf("%s: response %d: %+v, want https %v, a connect, a handshake over HTTPS only, a lookup for a name only", tt.name, i, tm, https)
			}
			tm.Total = 0
			perConn[tm]++
		}
		if len(perConn) != dials {
			t.Errorf("%s: %d distinct dials' phases, want %d: %v", tt.name, len(perConn), dials, perConn)
		}
		for phases, n := range perConn {
			if n != users*steps/dials {
				t.Errorf("%s: %+v on %d responses, want each connection's on %d", tt.name, phases, n, users*steps/dials)
			}
		}
	}
}

// TestExtendedMetricsRedirect: each hop of a followed redirect is a
// response of its own, as in Artillery, and so are its Timings: a hop over
// the kept-alive connection repeats its phases, a hop to another server
// has that server's dial, TLS included.
func TestExtendedMetricsRedirect(t *testing.T) {
	t.Parallel()
	secure := httptest.NewTLSServer(http.HandlerFunc(ok))
	t.Cleanup(secure.Close)
	plain := serve(t, func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/here":
			http.Redirect(w, r, "/there", http.StatusFound)
		case "/away":
			http.Redirect(w, r, secure.URL+"/", http.StatusFound)
		default:
			ok(w, r)
		}
	})
	script := newScript(plain.URL, []scenario.Phase{count(1, time.Millisecond)}, []scenario.Step{get("/here"), get("/away")})
	script.Config.HTTP.ExtendedMetrics = true
	_, rec := run(t, script, Options{Insecure: true})
	if len(rec.timings) != 4 {
		t.Fatalf("%d Timings, want 4 (a redirect and its target, twice): %+v", len(rec.timings), rec.timings)
	}
	// /here dials the plain server, /there and /away reuse it, / on the
	// TLS server dials again.
	first, last := rec.timings[0], rec.timings[3]
	for i, tm := range rec.timings[1:3] {
		if tm.TCP != first.TCP || tm.DNS != first.DNS || tm.HTTPS || tm.TLS != 0 {
			t.Errorf("response %d: %+v, want the plain connection's phases %+v", i+2, tm, first)
		}
	}
	if first.TCP <= 0 || first.HTTPS || last.TCP <= 0 || last.TCP == first.TCP || !last.HTTPS || last.TLS <= 0 {
		t.Errorf("first %+v, last %+v: want a plain dial, then a TLS one", first, last)
	}
}
