package cmd

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/primeload/primeload/report"
)

// okScript writes a script of count arrivals over duration seconds, each
// one GET against a server of its own that answers 200 with no body.
func okScript(t *testing.T, duration string, count int) string {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	t.Cleanup(srv.Close)
	return writeScript(t, fmt.Sprintf("config:\n  target: %q\n  phases:\n    - duration: %s\n      arrivalCount: %d\nscenarios:\n  - flow:\n      - get:\n          url: \"/\"\n",
		srv.URL, duration, count))
}

// firstLine is the first line of a run's output after its period lines
// (--quiet prints one whenever the run crosses a period boundary).
func firstLine(out string) string {
	for _, line := range strings.Split(out, "\n") {
		if !strings.HasPrefix(line, "[+") {
			return line
		}
	}
	return ""
}

// execStarved is execRun with the scheduler delayed by stall before each
// arrival (RunOptions.beforeArrival, which no flag reaches).
func execStarved(t *testing.T, stall time.Duration, args ...string) runResult {
	t.Helper()
	out := filepath.Join(t.TempDir(), "report.json")
	var stdout, stderr bytes.Buffer
	s := TestState(&stdout, &stderr, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	c := newRunCmdF(s, func(ctx context.Context, o *RunOptions) error {
		o.beforeArrival = func() { time.Sleep(stall) }
		return runRun(ctx, s, o)
	})
	c.SetArgs(append([]string{"--quiet", "-o", out}, args...))
	c.SetOut(s.Out)
	c.SetErr(s.Err)
	c.SilenceUsage, c.SilenceErrors = true, true
	res := runResult{code: exitCode(s, c.ExecuteContext(withState(ctx, s)))}
	res.out, res.errOut = stdout.String(), stderr.String()
	rep, err := report.ReadFile(out)
	if err != nil {
		t.Fatalf("report: %v\n%s\n%s", err, res.out, res.errOut)
	}
	res.rep = rep
	return res
}

// TestRunStarvedSchedulerUntrusted: a generator whose scheduler is starved
// (each arrival's start delayed 30 ms, so every one after the first is
// late) exits 3, says so first and records the lag in the JSON report. A
// looser --max-lag than the starvation makes the same run trusted.
func TestRunStarvedSchedulerUntrusted(t *testing.T) {
	t.Parallel()
	// 20 arrivals 10 ms apart: a 30 ms stall each puts arrival i about
	// 20*i ms behind.
	script := okScript(t, "0.2", 20)
	res := execStarved(t, 30*time.Millisecond, script)
	if res.code != ExitUntrusted {
		t.Fatalf("exit %d, want %d\n%s\n%s", res.code, ExitUntrusted, res.out, res.errOut)
	}
	if first := firstLine(res.out); !strings.HasPrefix(first, "FAILED (untrusted): the load generator fell behind its schedule") {
		t.Errorf("first line %q", first)
	}
	l := res.rep.Lag
	if l == nil || !l.FellBehind || l.Arrivals != 20 || l.Late < 18 || l.LimitMs != 10 || res.rep.Verdict != report.Untrusted {
		t.Errorf("report lag %+v, verdict %s; want 20 arrivals, at least 18 late, limit 10 ms, untrusted", l, res.rep.Verdict)
	}

	// A 1 ms stall with 1 s allowed: not late however busy the machine is.
	res = execStarved(t, time.Millisecond, script, "--max-lag", "1s")
	if res.code != ExitOK || res.rep.Lag == nil || res.rep.Lag.LimitMs != 1000 || res.rep.Lag.Late != 0 {
		t.Errorf("--max-lag 1s: exit %d, lag %+v; want 0 and nothing late\n%s", res.code, res.rep.Lag, res.out)
	}
}

// TestRunQuietSixArrivals: a quiet 6-arrival run is trusted, and the
// summary shows the lag distribution it was judged by. One arrival late by
// 10.6 ms, which failed such runs under a p99 limit, is the rule's table
// test (report.TestLagRuleFellBehind); here every try must pass.
func TestRunQuietSixArrivals(t *testing.T) {
	t.Parallel()
	script := okScript(t, "1", 6)
	for range 3 {
		res := execRun(t, nil, nil, "", script)
		if res.code != ExitOK {
			t.Fatalf("exit %d, want 0\n%s\n%s", res.code, res.out, res.errOut)
		}
		if !strings.Contains(res.out, "arrivals later than 10 ms") || res.rep.Lag == nil || res.rep.Lag.Arrivals != 6 {
			t.Errorf("no lag distribution in the summary or report (%+v)\n%s", res.rep.Lag, res.out)
		}
	}
}
