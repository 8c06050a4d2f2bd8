package cmd

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/primeload/primeload/report"
)

// helperArgsEnv carries the arguments of `primeload run` into a child
// process that re-runs this test binary, so a test can SIGKILL a real run.
const helperArgsEnv = "PRIMELOAD_TEST_HELPER_ARGS"

// TestHelperRun is not a test: it is the child process of
// TestRunSurvivesSIGKILL, running primeload on the real process state.
func TestHelperRun(t *testing.T) {
	args := os.Getenv(helperArgsEnv)
	if args == "" {
		t.Skip("child process helper")
	}
	s := SystemState()
	defer s.StopSignals()
	os.Exit(Execute(context.Background(), s, strings.Split(args, "\n")))
}

func TestRunSurvivesSIGKILL(t *testing.T) {
	t.Parallel()
	var h hits
	srv := itemsServer(t, &h)
	script := writeScript(t, tinyScript(srv.URL, 6000, "")) // a minute's worth, never finished
	raw := string(mustRead(t, script))
	mustWrite(t, script, strings.Replace(raw, "duration: 1\n", "duration: 60\n", 1))
	out := filepath.Join(t.TempDir(), "report.json")

	cmd := exec.Command(os.Args[0], "-test.run=^TestHelperRun$")
	cmd.Env = append(os.Environ(), helperArgsEnv+"="+strings.Join([]string{"run", script, "--quiet", "--period", "200ms", "-o", out}, "\n"))
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	killed := false
	defer func() {
		if !killed {
			cmd.Process.Kill()
			cmd.Wait()
		}
	}()
	mid := waitForReport(t, out, func(r *report.Report) bool { return len(r.Intermediate) >= 2 })
	if mid == nil {
		t.Fatal("no report with two periods appeared")
	}
	if err := cmd.Process.Kill(); err != nil { // SIGKILL: no handler runs, nothing is flushed
		t.Fatal(err)
	}
	cmd.Wait()
	killed = true

	rep, err := report.ReadFile(out)
	if err != nil {
		t.Fatalf("the report left by a killed run does not read: %v", err)
	}
	if !rep.Aborted || len(rep.Intermediate) < 2 || rep.Aggregate.Counters["http.requests"] == 0 {
		t.Errorf("report after SIGKILL: aborted=%v, %d periods, %d requests; want aborted, the periods written so far, their requests",
			rep.Aborted, len(rep.Intermediate), rep.Aggregate.Counters["http.requests"])
	}
	var sum int64
	for _, m := range rep.Intermediate {
		sum += m.Counters["http.requests"]
	}
	if sum != rep.Aggregate.Counters["http.requests"] {
		t.Errorf("the periods hold %d requests but the aggregate %d: the file mixes two writes", sum, rep.Aggregate.Counters["http.requests"])
	}
	if n := matches(t, filepath.Dir(out), ".report.json.*.tmp"); n > 1 {
		t.Errorf("%d temporary files left beside the report, want at most the one being written when killed", n)
	}
}

func matches(t *testing.T, dir, pattern string) int {
	t.Helper()
	m, err := filepath.Glob(filepath.Join(dir, pattern))
	if err != nil {
		t.Fatal(err)
	}
	return len(m)
}
