package cmd

import (
	"bytes"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/primeload/primeload/report"
	"github.com/primeload/primeload/runner"
	"github.com/primeload/primeload/scenario"
)

// buildBinary builds the primeload command into a temporary folder, so a
// test can do to it what only a real process allows, such as SIGKILL.
func buildBinary(t *testing.T) string {
	t.Helper()
	goBin, err := exec.LookPath("go") // go test puts its own go first on PATH
	if err != nil {
		t.Fatalf("find the go command: %v", err)
	}
	bin := filepath.Join(t.TempDir(), "primeload")
	build := exec.Command(goBin, "build", "-o", bin, "..")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// TestRunSIGKILLLeavesLastPeriod kills the real binary with SIGKILL, which
// no handler can catch, in the middle of a run with --output: the file on
// disk must still be a complete report holding every period written before
// the kill.
func TestRunSIGKILLLeavesLastPeriod(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and kills the binary")
	}
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte(`{"ok":true}`))
	}))
	t.Cleanup(srv.Close)
	bin := buildBinary(t)
	script := writeScript(t, `config:
  target: "http://127.0.0.1:9"
  phases:
    - duration: 60
      arrivalRate: 10
scenarios:
  - flow:
      - get:
          url: "/"
`)
	out := filepath.Join(t.TempDir(), "report.json")
	var stderr bytes.Buffer
	run := exec.Command(bin, "run", script, "-t", srv.URL, "--period", "1s", "-o", out, "--quiet")
	run.Stderr = &stderr
	if err := run.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- run.Wait() }()
	t.Cleanup(func() {
		run.Process.Kill()
		<-exited
	})

	// Two periods on disk: the file has been replaced at least once.
	var mid *report.Report
	deadline := time.After(time.Minute)
	poll := time.NewTicker(50 * time.Millisecond)
	defer poll.Stop()
	for mid == nil {
		select {
		case err := <-exited:
			t.Fatalf("the run ended (%v) before two periods were on disk; stderr:\n%s", err, stderr.String())
		case <-deadline:
			t.Fatalf("no report with two periods appeared within a minute; stderr:\n%s", stderr.String())
		case <-poll.C:
			if _, err := os.Stat(out); err != nil {
				continue // no period written yet
			}
			// Reading while the run replaces the file checks each write is atomic.
			r, err := report.ReadFile(out)
			if err != nil {
				t.Fatalf("the report on disk mid-run does not read: %v", err)
			}
			if len(r.Intermediate) >= 2 {
				mid = r
			}
		}
	}
	if err := run.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	var exit *exec.ExitError
	if err := <-exited; !errors.As(err, &exit) || exit.ExitCode() != -1 {
		t.Fatalf("the run ended with %v, not by SIGKILL; stderr:\n%s", err, stderr.String())
	}
	exited <- nil // for the cleanup

	rep, err := report.ReadFile(out)
	if err != nil {
		t.Fatalf("report left by a SIGKILLed run: %v", err)
	}
	if len(rep.Intermediate) < len(mid.Intermediate) {
		t.Errorf("the report holds %d periods, fewer than the %d seen on disk before the kill", len(rep.Intermediate), len(mid.Intermediate))
	}
	// The aggregate is the fold of exactly the periods it came with.
	var sum int64
	for _, p := range rep.Intermediate {
		sum += p.Counters["http.requests"]
	}
	if got := rep.Aggregate.Counters["http.requests"]; got != sum || got == 0 {
		t.Errorf("aggregate http.requests = %d, periods add up to %d: want equal and above zero", got, sum)
	}
	// Until its final write a report says it is unfinished, so a reader of
	// a killed run's file knows the schedule did not complete.
	if !rep.Aborted || len(rep.Expected) != 1 || rep.Expected[0].Expected != 600 || rep.Expected[0].Created >= 600 {
		t.Errorf("aborted %v, expected %+v; want an unfinished report of 600 expected arrivals", rep.Aborted, rep.Expected)
	}
}

// thinkTime is how long steps make a user wait, loops included; requests
// take more on top.
func thinkTime(steps []scenario.Step) time.Duration {
	var d time.Duration
	for _, s := range steps {
		switch {
		case s.Loop != nil:
			d += time.Duration(s.Loop.Count) * thinkTime(s.Loop.Steps)
		case s.Request != nil:
			d += s.Request.Think
		default:
			d += s.Think
		}
	}
	return d
}

// TestThousandUsersExample keeps examples/thousand-users.yml what its
// comment promises: the seed's endpoints, 1000 users, every one of them
// still there when the last arrives and for a minute after.
func TestThousandUsersExample(t *testing.T) {
	t.Parallel()
	script, err := scenario.Load("../examples/thousand-users.yml", scenario.LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	seed, err := scenario.Load("../examples/seed-load-test.yml", scenario.LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := script.Endpoints, seed.Endpoints; !slices.Equal(got, want) {
		t.Errorf("endpoints %q, want the seed's %q", got, want)
	}
	var users int
	var arriving time.Duration
	for _, p := range script.Config.Phases {
		users += runner.ExpectedArrivals(p)
		arriving += p.Duration
	}
	if users != 1000 {
		t.Errorf("%d users arrive, want 1000", users)
	}
	for _, sc := range script.Scenarios {
		if got, want := thinkTime(sc.Flow), arriving+time.Minute; got < want {
			t.Errorf("scenario %q thinks %v in all, want at least %v: its first users would leave before the minute with all 1000 is over", sc.Name, got, want)
		}
	}
}
