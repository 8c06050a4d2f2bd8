package cmd

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"

	"github.com/primeload/primeload/runner"
)

// --trace prints why an all-401 run failed; --trace-file writes the same
// as JSON Lines. The token the script sends is empty, and the trace
// shows it without showing any token.
func TestRunTrace(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusUnauthorized)
		w.Write([]byte(`{"detail":"invalid token"}`))
	}))
	t.Cleanup(srv.Close)
	script := writeScript(t, `config:
  target: "`+srv.URL+`"
  phases:
    - duration: 0.3
      arrivalCount: 3
scenarios:
  - flow:
      - get:
          url: "/items"
          headers:
            Authorization: "Bearer {{ $env.API_TOKEN }}"
`)
	empty := map[string]string{"API_TOKEN": ""} // set, but to nothing
	t.Run("text on stderr", func(t *testing.T) {
		t.Parallel()
		res := execRun(t, empty, nil, "", script, "--trace", "1")
		for _, want := range []string{"--- trace GET /items (first)", "> GET " + srv.URL + "/items", "> Authorization: Bearer [redacted, 0 bytes]",
			"< HTTP/1.1 401 Unauthorized", `< | {"detail":"invalid token"}`} {
			if !strings.Contains(res.errOut, want) {
				t.Errorf("stderr lacks %q:\n%s", want, res.errOut)
			}
		}
		// One first exchange; its failure (the 401) is the first of its kind too.
		if n := strings.Count(res.errOut, "--- trace "); n != 1 {
			t.Errorf("%d exchanges traced, want 1", n)
		}
	})
	t.Run("JSON Lines in a file", func(t *testing.T) {
		t.Parallel()
		path := filepath.Join(t.TempDir(), "trace.jsonl")
		res := execRun(t, empty, nil, "", script, "--trace", "2", "--trace-file", path)
		if strings.Contains(res.errOut, "--- trace") {
			t.Errorf("the trace went to stderr too:\n%s", res.errOut)
		}
		lines := bytes.Split(bytes.TrimSpace(mustRead(t, path)), []byte("\n"))
		if len(lines) != 2 {
			t.Fatalf("%d lines, want 2", len(lines))
		}
		for _, line := range lines {
			var x runner.Exchange
			if err := json.Unmarshal(line, &x); err != nil {
				t.Fatalf("%v: %s", err, line)
			}
			if x.Response == nil || x.Response.Status != http.StatusUnauthorized || x.Endpoint != "/items" {
				t.Errorf("traced %s", line)
			}
		}
	})
}
