package cmd

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// TestRootEnsureIsEnforcedLoudly: config.ensure without config.plugins.ensure
// still gates the run (Artillery would not load its plugin and exit 0), and
// both the load-time note and the summary say so; with the plugin named
// there is nothing to say.
func TestRootEnsureIsEnforcedLoudly(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	t.Cleanup(srv.Close)
	const note = "config.ensure is enforced, though config.plugins.ensure is not set"
	for _, tc := range []struct {
		name, plugins string
		wantNote      bool
	}{
		{"root ensure alone", "", true},
		{"with the ensure plugin", "  plugins:\n    ensure: {}\n", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			script := writeScript(t, "config:\n  target: \""+srv.URL+"\"\n"+tc.plugins+`  ensure:
    conditions:
      - expression: "http.requests < 0"
scenarios:
  - flow:
      - get:
          url: "/"
`)
			res := execRun(t, nil, nil, "", script)
			if got, want := res.code, wantExit(res, ExitSLO); got != want {
				t.Fatalf("exit %d, want %d: the check must be enforced either way\n%s\n%s", got, want, res.out, res.errOut)
			}
			if got := strings.Contains(res.out, "\nNOTE: "+note); got != tc.wantNote {
				t.Errorf("summary note present: %v, want %v\n%s", got, tc.wantNote, res.out)
			}
			if got := strings.Contains(res.errOut, "note: "+script+":3:3: config.ensure: enforced"); got != tc.wantNote {
				t.Errorf("load-time note at config.ensure present: %v, want %v\n%s", got, tc.wantNote, res.errOut)
			}
			if got := res.rep != nil && res.rep.Script.Ensure.OutsidePlugin; got != tc.wantNote {
				t.Errorf("report script.ensure.outsidePlugin = %v, want %v", got, tc.wantNote)
			}
		})
	}
}
