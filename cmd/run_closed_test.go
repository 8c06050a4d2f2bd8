package cmd

import (
	"strings"
	"testing"
)

// TestRunClosedPhaseReportsItsUsers: a closed-model phase has no arrivals to
// expect; the report names its users and counts their iterations.
func TestRunClosedPhaseReportsItsUsers(t *testing.T) {
	t.Parallel()
	var h hits
	srv := itemsServer(t, &h)
	script := writeScript(t, `config:
  target: "`+srv.URL+`"
  phases:
    - name: crowd
      duration: 1
      vusers: 3
scenarios:
  - flow:
      - get:
          url: "/items"
      - think: 0.2
`)
	res := execRun(t, nil, nil, "", script)
	if res.code != wantExit(res, ExitOK) {
		t.Fatalf("exit %d\n%s", res.code, res.errOut)
	}
	if len(res.rep.Expected) != 1 {
		t.Fatalf("expected = %+v, want one phase", res.rep.Expected)
	}
	p := res.rep.Expected[0]
	if p.VUsers != 3 || p.Expected != 0 {
		t.Errorf("closed phase = %+v, want vusers 3 and nothing expected", p)
	}
	// Each of the 3 users starts at least one iteration; all are counted.
	if p.Created < 3 || p.Created != res.rep.Aggregate.Counters["vusers.created"] {
		t.Errorf("closed phase created %d iterations (vusers.created %d), want ≥ 3 and equal",
			p.Created, res.rep.Aggregate.Counters["vusers.created"])
	}
	if !strings.Contains(res.out, "3 users looping") {
		t.Errorf("summary does not show the closed phase's users:\n%s", res.out)
	}
}
