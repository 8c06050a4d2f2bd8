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
// response has its Timings, with the dial's phases on the first response
// over a connection and 0 on the kept-alive ones after it, as Artillery's
// got timings give; TLS is a handshake's only over HTTPS; off, none are
// recorded.
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
		dials := users // each user its own connection
		if tt.pool > 0 {
			dials = tt.pool // the users share the pool's
		}
		dialled := 0
		for i, tm := range rec.timings {
			if tm.HTTPS != https {
				t.Errorf("%s: response %d: HTTPS %v, want %v", tt.name, i, tm.HTTPS, https)
			}
			if tm.DNS < 0 || tm.TCP < 0 || tm.TLS < 0 || tm.Total <= 0 || tm.DNS+tm.TCP+tm.TLS > tm.Total {
				t.Errorf("%s: response %d: %+v, want phases >= 0 within a total > 0", tt.name, i, tm)
			}
			switch {
			case tm.TCP > 0:
				dialled++
				if named := !strings.Contains(tt.target, "127.0.0.1"); named != (tm.DNS > 0) {
					t.Errorf("%s: response %d: %+v, want a lookup exactly when the host is a name", tt.name, i, tm)
				}
				if https && tm.TLS <= 0 {
					t.Errorf("%s: response %d: %+v, want a TLS handshake on a new connection", tt.name, i, tm)
				}
				if !https && tm.TLS != 0 {
					t.Errorf("%s: response %d: %+v, want no TLS over plain HTTP", tt.name, i, tm)
				}
			case tm.DNS != 0 || tm.TLS != 0:
				t.Errorf("%s: response %d: %+v: a kept-alive connection's phases are all 0", tt.name, i, tm)
			}
		}
		if dialled != dials {
			t.Errorf("%s: %d responses over a new connection, want %d (%+v)", tt.name, dialled, dials, rec.timings)
		}
	}
}

// TestExtendedMetricsRedirect: each hop of a followed redirect is a
// response of its own, as in Artillery, and so are its Timings: a hop to
// another server has that server's dial, TLS included.
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
	for i, want := range []struct{ dialled, https bool }{{true, false}, {false, false}, {false, false}, {true, true}} {
		tm := rec.timings[i]
		if (tm.TCP > 0) != want.dialled || tm.HTTPS != want.https || (tm.TLS > 0) != (want.dialled && want.https) {
			t.Errorf("response %d: %+v, want dialled %v, https %v", i, tm, want.dialled, want.https)
		}
	}
}
