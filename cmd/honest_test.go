package cmd

import (
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestRunAll401FailsFirstLine: a script without SLOs against a server that
// refuses every token exits with the SLO code, says why on the first line,
// and carries the reason into the JSON report and JUnit; --no-default-checks
// judges it by its (absent) expectations alone.
func TestRunAll401FailsFirstLine(t *testing.T) {
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
    - duration: 1
      arrivalCount: 6
scenarios:
  - flow:
      - get:
          url: "/me"
`)
	for _, tc := range []struct {
		name      string
		args      []string
		want      int
		firstLine string
	}{
		{"default checks", nil, ExitSLO, "FAILED: default: 4xx share"},
		{"turned off", []string{"--no-default-checks"}, ExitOK, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			junit := filepath.Join(t.TempDir(), "j.xml")
			res := execRun(t, nil, nil, "", append([]string{script, "--junit", junit}, tc.args...)...)
			if got, want := res.code, wantExit(res, tc.want); got != want {
				t.Fatalf("exit %d, want %d\n%s\n%s", got, want, res.out, res.errOut)
			}
			// Period lines ("[+1s] ...") come first when a run crosses a
			// period boundary (a loaded machine stretches a 1 s phase);
			// the judgement starts after them.
			cs := append(causes(res.out), "", "")
			first := cs[0]
			if strings.HasPrefix(first, "FAILED (untrusted)") {
				// A busy machine made the generator late: that is said
				// first, and the check's failure next.
				first = cs[1]
			}
			if tc.firstLine == "" {
				if strings.HasPrefix(first, "FAILED") {
					t.Errorf("first line %q, want no failure", first)
				}
				return
			}
			if !strings.HasPrefix(first, tc.firstLine) || !strings.Contains(first, `HTTP 401: the response was 401 {"detail":"invalid token"}`) {
				t.Errorf("first line %q, want %q with the 401's reason", first, tc.firstLine)
			}
			if !strings.Contains(string(res.raw), `the response was 401 {\"detail\":\"invalid token\"}`) {
				t.Errorf("JSON report lacks the 401's reason")
			}
			x, err := os.ReadFile(junit)
			if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(string(x), `<failure message="measured 100 (limit 50)"`) || !strings.Contains(string(x), "invalid token") {
				t.Errorf("JUnit lacks the failed default check or the reason:\n%s", x)
			}
		})
	}
}
