package cmd

import (
	"strings"
	"testing"
)

// TestRunExpectLikeArtillery: through the run command against a real
// server, as Artillery 2.0.34 runs its expect plugin (issue 18): without
// config.plugins.expect an expect: is noted and never checked, so the run
// exits 0; with it a failed check is counted and the user goes on to its
// next request, completing; only reportFailuresAsErrors fails the user.
func TestRunExpectLikeArtillery(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, plugins string
		want          int
		counters      map[string]int64
		next          int // GET /items requests after the checked one
	}{
		{"without the plugin nothing is checked", "", ExitOK,
			map[string]int64{"vusers.completed": 3, "vusers.failed": 0}, 3},
		{"a failed check goes on", "  plugins: {expect: {}}\n", ExitExpect,
			map[string]int64{"plugins.expect.failed": 3, "vusers.completed": 3, "vusers.failed": 0}, 3},
		// Its errors breach the default error-rate SLO, which wins.
		{"reportFailuresAsErrors ends the user", "  plugins: {expect: {reportFailuresAsErrors: true}}\n", ExitSLO,
			map[string]int64{"plugins.expect.failed": 3, "vusers.completed": 0, "vusers.failed": 3}, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var h hits
			srv := itemsServer(t, &h)
			script := writeScript(t, "config:\n  target: \""+srv.URL+"\"\n  phases: [{duration: 1, arrivalCount: 3}]\n"+tt.plugins+
				"scenarios:\n  - flow:\n      - get: {url: /items/missing, expect: [{statusCode: 200}]}\n      - get: {url: /items}\n")
			res := execRun(t, nil, nil, "", script)
			if res.code != wantExit(res, tt.want) || res.rep == nil {
				t.Fatalf("exit %d, want %d\nstdout:\n%s\nstderr:\n%s", res.code, tt.want, res.out, res.errOut)
			}
			for name, want := range tt.counters {
				if got := res.rep.Aggregate.Counters[name]; got != want {
					t.Errorf("%s = %d, want %d", name, got, want)
				}
			}
			if got := h.count("GET /items"); got != tt.next {
				t.Errorf("the server got GET /items %d times, want %d", got, tt.next)
			}
			noted := strings.Contains(res.out+res.errOut, "not checked: config.plugins.expect is not configured")
			if noted != (tt.plugins == "") {
				t.Errorf("note that expect is not checked printed: %v, want %v\n%s%s", noted, tt.plugins == "", res.out, res.errOut)
			}
			if tt.plugins == "" {
				for name := range res.rep.Aggregate.Counters {
					if strings.HasPrefix(name, "plugins.expect") {
						t.Errorf("counted %s without the plugin", name)
					}
				}
			}
		})
	}
}
