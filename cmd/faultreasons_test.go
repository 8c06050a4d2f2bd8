package cmd

import (
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestRunFaultReasons: against real local servers that fail in the usual
// ways (nothing listening, TLS to a plain-HTTP port, a server that stalls
// past the request timeout) a script without SLOs exits 1 by the default
// error-rate check, and the console, the JSON report and JUnit each carry
// the failure's reason in words. The 401-only server is
// TestRunAll401FailsFirstLine.
func TestRunFaultReasons(t *testing.T) {
	t.Parallel()
	plain := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	t.Cleanup(plain.Close)
	release := make(chan struct{})
	stalled := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select { // past the script's 0.3 s timeout, until the test ends
		case <-release:
		case <-r.Context().Done():
		}
	}))
	t.Cleanup(stalled.Close)
	t.Cleanup(func() { close(release) })
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	refused := ln.Addr().String()
	ln.Close() // nothing listens there now

	tests := []struct {
		name, target, reason string
	}{
		{"refused port", "http://" + refused, "ECONNREFUSED: nothing listening on " + refused},
		{"TLS to a plain port", "https://" + strings.TrimPrefix(plain.URL, "http://"), "EPROTO: TLS handshake to a plain-HTTP port"},
		{"stalled server", stalled.URL, "ETIMEDOUT: no complete answer from " + strings.TrimPrefix(stalled.URL, "http://") + " within the request timeout"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			script := writeScript(t, `config:
  target: "`+tt.target+`"
  http:
    timeout: 0.3
  phases:
    - duration: 1
      arrivalCount: 3
scenarios:
  - flow:
      - get:
          url: "/"
`)
			junit := filepath.Join(t.TempDir(), "j.xml")
			res := execRun(t, nil, nil, "", script, "--junit", junit)
			if want := wantExit(res, ExitSLO); res.code != want {
				t.Fatalf("exit %d, want %d\n%s\n%s", res.code, want, res.out, res.errOut)
			}
			code, reason, _ := strings.Cut(tt.reason, ": ")
			if !strings.Contains(res.out, "FAILED: default: error rate") || !strings.Contains(res.out, code+" ×3") || !strings.Contains(res.out, reason) {
				t.Errorf("console lacks the failed check, %s ×3 or %q:\n%s", code, reason, res.out)
			}
			if !strings.Contains(string(res.raw), reason) {
				t.Errorf("JSON report lacks %q", reason)
			}
			x, err := os.ReadFile(junit)
			if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(string(x), reason) {
				t.Errorf("JUnit lacks %q:\n%s", reason, x)
			}
		})
	}
}
