package report

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// writerChildEnv makes the test binary a child that keeps rewriting a
// report, one period longer each time, as `run --output` does every period.
const writerChildEnv = "PRIMELOAD_TEST_REPORT_WRITER"

func TestMain(m *testing.M) {
	if path := os.Getenv(writerChildEnv); path != "" {
		os.Exit(writeForever(path))
	}
	os.Exit(m.Run())
}

// writeForever is bounded like every load loop: at most 2000 writes.
func writeForever(path string) int {
	c := NewCollector(t0, Info{Period: time.Second})
	for i := 1; i <= 2000; i++ {
		c.Sink(i).Response("GET /", time.Duration(i)*time.Millisecond, 200, 1)
		if _, err := c.Flush(t0.Add(time.Duration(i) * time.Second)); err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		if err := WriteFile(path, c.Report()); err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		fmt.Println("wrote", i)
	}
	return 0
}

// TestWriteFileSurvivesSIGKILL kills a writer mid-stream: the file on disk
// must be a complete report holding at least every period the writer had
// announced as written.
func TestWriteFileSurvivesSIGKILL(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a child process")
	}
	path := filepath.Join(t.TempDir(), "out.json")
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), writerChildEnv+"="+path)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	sc := bufio.NewScanner(out)
	announced := 0
	for announced < 25 && sc.Scan() {
		announced, _ = strconv.Atoi(strings.TrimPrefix(sc.Text(), "wrote "))
	}
	if err := cmd.Process.Kill(); err != nil { // SIGKILL: no deferred cleanup runs
		t.Fatal(err)
	}
	cmd.Wait()
	if announced < 25 {
		t.Fatalf("writer announced only %d writes before exiting", announced)
	}
	r, err := ReadFile(path)
	if err != nil {
		t.Fatalf("report after SIGKILL: %v", err)
	}
	if len(r.Intermediate) < announced {
		t.Errorf("report holds %d periods, want at least the %d announced", len(r.Intermediate), announced)
	}
	if got := r.Aggregate.Counters["http.responses"]; got != int64(len(r.Intermediate)) {
		t.Errorf("aggregate counts %d responses over %d periods: not one consistent report", got, len(r.Intermediate))
	}
	// The killed writer may have left its temporary file; the next write
	// of the same output removes it.
	if err := WriteFile(path, r); err != nil {
		t.Fatal(err)
	}
	if names := dirNames(t, filepath.Dir(path)); !slices.Equal(names, []string{"out.json"}) {
		t.Errorf("after the next write the folder holds %v, want only out.json", names)
	}
}
