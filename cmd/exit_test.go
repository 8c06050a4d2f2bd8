package cmd

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/primeload/primeload/report/reporttest"
)

// TestExitError: an output that could not be written after the load was
// sent is a runtime failure (4) whatever the verdict, except an interrupt.
func TestExitError(t *testing.T) {
	t.Parallel()
	failed := errors.New("write r.html: no such file or directory")
	tests := []struct {
		code   int
		failed error
		want   int
	}{
		{ExitOK, nil, ExitOK},
		{ExitSLO, nil, ExitSLO},
		{ExitOK, failed, ExitRuntime},
		{ExitSLO, failed, ExitRuntime},
		{ExitUntrusted, failed, ExitRuntime},
		{ExitExpect, failed, ExitRuntime},
		{ExitInterrupted, failed, ExitInterrupted},
	}
	for _, tt := range tests {
		got := ExitOK
		var ee *ExitError
		if err := exitError(tt.code, tt.failed); errors.As(err, &ee) {
			got = ee.Code
		} else if err != nil {
			t.Fatalf("exitError(%d, %v) = %v, not an *ExitError", tt.code, tt.failed, err)
		}
		if got != tt.want {
			t.Errorf("exitError(%d, %v) exits %d, want %d", tt.code, tt.failed, got, tt.want)
		}
	}
}

// TestRunOutputLostAfterLoad: the folder of an output vanishes while the
// run waits for its start: the load is sent and measured, the JSON report
// is written, and the run exits 4 naming the file it could not write.
func TestRunOutputLostAfterLoad(t *testing.T) {
	t.Parallel()
	var h hits
	srv := itemsServer(t, &h)
	gone := filepath.Join(t.TempDir(), "gone")
	if err := os.Mkdir(gone, 0o755); err != nil {
		t.Fatal(err)
	}
	go func() {
		// checkFiles runs before the wait for --start-at; the load starts after it.
		time.Sleep(700 * time.Millisecond)
		os.RemoveAll(gone)
	}()
	res := execRun(t, nil, nil, "", writeScript(t, tinyScript(srv.URL, 2, "")), "--start-at", "+1500ms", "--html", filepath.Join(gone, "r.html"))
	if res.code != ExitRuntime {
		t.Fatalf("exit %d, want %d\nstderr:\n%s", res.code, ExitRuntime, res.errOut)
	}
	if !strings.Contains(res.errOut, "r.html") {
		t.Errorf("stderr does not name r.html:\n%s", res.errOut)
	}
	if res.rep == nil || res.rep.Aggregate.Counters["http.requests"] != 4 {
		t.Errorf("want the JSON report of the 4 requests sent, got %+v", res.rep)
	}
}

// TestInterruptReachesEveryCommand: Ctrl-C (Main cancels the context every
// command runs under) stops validate, report and serve before their work
// is done, with exit 130.
func TestInterruptReachesEveryCommand(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	script := writeScript(t, tinyScript("http://127.0.0.1:1", 1, ""))
	rep := reportFile(t, dir, "r.json", reporttest.Options{}, nil)
	for _, args := range [][]string{
		{"validate", script},
		{"report", rep},
		{"serve", "--addr", "127.0.0.1:0", "--database-url", "postgres://postgres@127.0.0.1:1/none"},
	} {
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		var out, errOut bytes.Buffer
		if code := Execute(ctx, TestState(&out, &errOut, nil), args); code != ExitInterrupted || !strings.Contains(errOut.String(), "interrupted") {
			t.Errorf("%v after Ctrl-C: exit %d, stderr %q; want %d saying it was interrupted", args, code, errOut.String(), ExitInterrupted)
		}
	}
}
