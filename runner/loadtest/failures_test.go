package loadtest

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/primeload/primeload/report"
	"github.com/primeload/primeload/report/metric"
	"github.com/primeload/primeload/scenario"
)

// unauthorized is a server that refuses every token, as an API does when
// API_TOKEN is wrong or missing.
func unauthorized(t *testing.T) string {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusUnauthorized)
		w.Write([]byte(`{"detail":"invalid token"}`))
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

// refusedPort is a loopback port with nothing listening.
func refusedPort(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

// stalled accepts connections and never answers until the test ends.
func stalled(t *testing.T) string {
	done := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-done:
		case <-r.Context().Done():
		}
	}))
	t.Cleanup(func() {
		close(done)
		srv.Close()
	})
	return srv.URL
}

// failingScript sends n arrivals, each a GET /me whose token it captures.
func failingScript(target string, n int, timeout string) string {
	return `config:
  target: "` + target + `"
  http:
    timeout: ` + timeout + `
  phases:
    - duration: 1
      arrivalCount: ` + strconv.Itoa(n) + `
scenarios:
  - flow:
      - get:
          url: "/me"
          capture:
            - json: "$.token"
              as: token
          expect:
            - statusCode: 200
`
}

func runScript(t *testing.T, src string) *report.Report {
	t.Helper()
	script, err := scenario.Parse("failing.yml", []byte(src), scenario.LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	rep, err := Run(ctx, script, Options{Period: time.Second}, Hooks{})
	if err != nil {
		t.Fatal(err)
	}
	return rep
}

// TestFailureSamplesRealServers: each way a target fails is counted at its
// endpoint with samples whose reason says what happened.
func TestFailureSamplesRealServers(t *testing.T) {
	t.Parallel()
	plain := unauthorized(t)
	for _, tc := range []struct {
		name    string
		target  string
		timeout string
		code    string
		reason  string // a sample's reason contains it
	}{
		{"401 fails the capture", plain, "5", metric.ErrCaptureMiss, `capture $.token failed: the response was 401 {"detail":"invalid token"}`},
		{"401 is sampled as a status", plain, "5", metric.Code(401), `the response was 401 {"detail":"invalid token"}`},
		{"refused port", "http://" + refusedPort(t), "5", metric.ErrConnRefused, "nothing listening on 127.0.0.1:"},
		{"TLS to a plain port", strings.Replace(plain, "http://", "https://", 1), "5", metric.ErrProto, "TLS handshake to a plain-HTTP port"},
		{"stalled server", stalled(t), "0.3", metric.ErrTimedOut, "within the request timeout"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			rep := runScript(t, failingScript(tc.target, 5, tc.timeout))
			var got *report.Failure
			for i := range rep.Failures {
				if rep.Failures[i].Code == tc.code {
					got = &rep.Failures[i]
				}
			}
			if got == nil {
				t.Fatalf("no failure %s in %+v", tc.code, rep.Failures)
			}
			// Named as the endpoint's other metrics are.
			ep := rep.Script.Endpoints[0]
			if got.Endpoint != ep || got.Count != 5 || len(got.Samples) != report.MaxFailureSamples {
				t.Errorf("failure = %s ×%d with %d samples, want %s ×5 with %d", got.Endpoint, got.Count, len(got.Samples), ep, report.MaxFailureSamples)
			}
			if !strings.Contains(got.Reason(), tc.reason) {
				t.Errorf("reason = %q, want it to contain %q", got.Reason(), tc.reason)
			}
		})
	}
}
