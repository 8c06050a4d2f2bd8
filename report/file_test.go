package report

import (
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"

	"github.com/primeload/primeload/report/metric"
	"github.com/primeload/primeload/scenario"
)

// smallReport is a two-period report with known contents.
func smallReport(t testing.TB) *Report {
	t.Helper()
	return laggingReport(t, 10*time.Microsecond)
}

// laggingReport is smallReport with arrival i of a period lagging i*lagStep.
func laggingReport(t testing.TB, lagStep time.Duration) *Report {
	t.Helper()
	c := NewCollector(t0, Info{Period: 10 * time.Second, Target: "http://127.0.0.1:8080", Version: "0.1.0",
		Script: ScriptInfo{Path: "examples/black-friday.yml", Endpoints: []string{"GET /api/goods-received/"},
			Ensure: scenario.Ensure{Thresholds: []scenario.Threshold{{Metric: "http.response_time.p99", Limit: 500}}}}})
	for p := 1; p <= 2; p++ {
		for i := range 50 {
			record(c, []sample{{sink: i, endpoint: "GET /api/goods-received/", latency: time.Duration(i*p+1) * time.Millisecond, status: 200, bytes: 100, lag: time.Duration(i) * lagStep}})
		}
		if _, err := c.Flush(t0.Add(time.Duration(p) * 10 * time.Second)); err != nil {
			t.Fatal(err)
		}
	}
	r := c.Report()
	r.Expected = []PhaseArrivals{{Name: "warm up", Expected: 100, Created: 100}}
	return r
}

func TestWriteFileRoundTrip(t *testing.T) {
	path := filepath.Join(t.TempDir(), "out.json")
	if err := os.WriteFile(path, []byte("previous"), 0o644); err != nil {
		t.Fatal(err)
	}
	want := smallReport(t)
	if err := WriteFile(path, want); err != nil {
		t.Fatal(err)
	}
	got, err := ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	// JSON keeps instants, not monotonic readings or locations.
	want.StartedAt, want.EndedAt = want.StartedAt.UTC(), want.EndedAt.UTC()
	got.StartedAt, got.EndedAt = got.StartedAt.UTC(), got.EndedAt.UTC()
	if !reflect.DeepEqual(got, want) {
		t.Errorf("read back differs:\n got %+v\nwant %+v", got, want)
	}
	entries, _ := os.ReadDir(filepath.Dir(path))
	if len(entries) != 1 {
		t.Errorf("directory holds %d entries, want only the report (no temp files left)", len(entries))
	}
	if info, _ := os.Stat(path); info.Mode().Perm() != 0o644 {
		t.Errorf("mode = %v, want 0644", info.Mode().Perm())
	}
}

func TestWriteFileFailsWithoutDirectory(t *testing.T) {
	path := filepath.Join(t.TempDir(), "missing", "out.json")
	err := WriteFile(path, smallReport(t))
	if err == nil || !strings.Contains(err.Error(), path) {
		t.Fatalf("WriteFile = %v, want an error naming %s", err, path)
	}
}

// TestWriteAtomicFailureKeepsPrevious: a writer failing halfway leaves the
// previous file whole, or no file, and never its temporary file.
func TestWriteAtomicFailureKeepsPrevious(t *testing.T) {
	t.Parallel()
	errHalfway := errors.New("halfway")
	halfThenFail := func(w io.Writer) error {
		io.WriteString(w, strings.Repeat("new ", 50000)) // beyond one buffer: bytes reach the file
		return errHalfway
	}
	tests := []struct {
		name     string
		previous string // "" for no file
		write    func(io.Writer) error
		wantErr  error
		want     string // "" for no file
	}{
		{"replaces previous", "previous", func(w io.Writer) error { _, err := io.WriteString(w, "new"); return err }, nil, "new"},
		{"creates", "", func(w io.Writer) error { _, err := io.WriteString(w, "new"); return err }, nil, "new"},
		{"failure keeps previous", "previous", halfThenFail, errHalfway, "previous"},
		{"failure creates nothing", "", halfThenFail, errHalfway, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			path := filepath.Join(dir, "junit.xml")
			if tt.previous != "" {
				if err := os.WriteFile(path, []byte(tt.previous), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			if err := WriteAtomic(path, tt.write); !errors.Is(err, tt.wantErr) {
				t.Fatalf("WriteAtomic = %v, want %v", err, tt.wantErr)
			}
			got, err := os.ReadFile(path)
			switch {
			case tt.want == "" && !errors.Is(err, fs.ErrNotExist):
				t.Errorf("file holds %.20q (err %v), want no file", got, err)
			case tt.want != "" && string(got) != tt.want:
				t.Errorf("file holds %.20q (err %v), want %q", got, err, tt.want)
			}
			if names := dirNames(t, dir); len(names) > 1 || len(names) == 1 && names[0] != "junit.xml" {
				t.Errorf("directory holds %v, want at most junit.xml", names)
			}
		})
	}
}

// TestWriteAtomicRemovesStaleTemps: temporary files of the same output left
// by a dead process go; a live process's, this process's and other
// outputs' files stay.
func TestWriteAtomicRemovesStaleTemps(t *testing.T) {
	t.Parallel()
	dead := exec.Command(os.Args[0], "-test.run=^$")
	if err := dead.Run(); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	tmp := func(base string, pid int) string { return fmt.Sprintf(".%s.%d-123456.tmp", base, pid) }
	stale := tmp("out.json", dead.Process.Pid)
	keep := []string{
		tmp("out.json", os.Getppid()),       // a live writer
		tmp("out.json", os.Getpid()),        // ourselves
		tmp("other.json", dead.Process.Pid), // another output's
		".out.json.123456.tmp",              // no process id: not ours to judge
		"out.json.1-2.tmp",                  // not hidden: the user's file
	}
	for _, name := range append([]string{stale}, keep...) {
		if err := os.WriteFile(filepath.Join(dir, name), []byte("partial"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := WriteFile(filepath.Join(dir, "out.json"), smallReport(t)); err != nil {
		t.Fatal(err)
	}
	got := dirNames(t, dir)
	want := append([]string{"out.json"}, keep...)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Errorf("directory holds\n %v\nwant\n %v", got, want)
	}
}

func dirNames(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	slices.Sort(names)
	return names
}

func TestDecodeRejects(t *testing.T) {
	var good bytes.Buffer
	if err := Encode(&good, smallReport(t)); err != nil {
		t.Fatal(err)
	}
	enc := smallReport(t).Aggregate.HDR[metric.ResponseTime]
	wide, err := hdrhistogram.New(1, 1<<50, 5).Encode(hdrhistogram.V2CompressedEncodingCookieBase)
	if err != nil {
		t.Fatal(err)
	}
	other := hdrhistogram.New(1, highestMicros, sigDigits)
	other.RecordValue(5)
	otherEnc, _ := other.Encode(hdrhistogram.V2CompressedEncodingCookieBase)
	raw, _ := base64.StdEncoding.DecodeString(enc)
	truncated := base64.StdEncoding.EncodeToString(raw[:len(raw)/2])
	replace := func(old, new string) string { return strings.Replace(good.String(), old, new, 1) }

	for _, tc := range []struct {
		name, in, wantErr string
	}{
		{"empty", "", "empty input"},
		{"truncated JSON", good.String()[:good.Len()/2], "truncated JSON"},
		{"not JSON", "<html>", "line 1, column 1: invalid JSON"},
		{"wrong type", `{"aggregate": {"counters": {"http.requests": "ten"}}}`, `field "aggregate.counters": got JSON string, want int64`},
		{"wrong type at the top", `{"aggregate": {}, "aborted": "yes"}`, `field "aborted": got JSON string, want bool`},
		{"no aggregate", `{"intermediate": []}`, `missing "aggregate"`},
		{"trailing data", good.String() + "{}", "unexpected data after the report's JSON object"},
		{"histogram not base64", replace(enc, "!!!not base64!!!"), `histogram "http.response_time": histogram is not base64`},
		{"histogram truncated", replace(enc, truncated), `histogram "http.response_time"`},
		{"histogram of another geometry", replace(enc, string(wide)), "geometry is not primeload's"},
		{"histogram disagrees with summary", replace(enc, string(otherEnc)), "holds 1 values but its summary counts 100"},
		{"negative counter", `{"aggregate": {"counters": {"http.requests": -1}}}`, `counter "http.requests" is negative`},
		{"null period", `{"aggregate": {}, "intermediate": [null]}`, "intermediate[0]: null period"},
		{"period not a number", `{"aggregate": {"period": "soon"}}`, `period "soon": want milliseconds since the epoch`},
		{"reversed bounds", `{"aggregate": {"period": 10, "periodEnd": 5}}`, "periodEnd 5 is before period 10"},
		{"period before the epoch", `{"aggregate": {"period": -10, "periodEnd": 5}}`, "period -10: want milliseconds since the epoch, not before it"},
		{"negative missed arrivals", `{"aggregate": {}, "missedArrivals": -1}`, "missedArrivals -1: must not be negative"},
		{"negative phase count", `{"aggregate": {}, "expected": [{"name": "warm up", "created": -2}]}`, `expected[0] (phase "warm up"): counts must not be negative`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Decode(strings.NewReader(tc.in))
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("Decode error = %v, want it to contain %q", err, tc.wantErr)
			}
		})
	}
}

func TestDecodeReadsArtilleryReport(t *testing.T) {
	// The shape of Artillery's --output: no histograms to merge, but the
	// summary and SLO lookups still work.
	in := `{"aggregate": {"counters": {"http.requests": 20, "http.codes.200": 20},
		"rates": {"http.request_rate": 2}, "firstMetricAt": 1700000000000, "lastMetricAt": 1700000010000,
		"period": 1700000000000, "summaries": {"http.response_time": {"min": 1, "max": 9, "count": 20, "p99": 8.9}},
		"histograms": {"http.response_time": {"min": 1, "max": 9, "count": 20, "p99": 8.9}}},
		"intermediate": [{"counters": {"http.requests": 20}, "period": "1700000000000", "lastMetricAt": 1700000009000}]}`
	r, err := Decode(strings.NewReader(in))
	if err != nil {
		t.Fatal(err)
	}
	if v, ok := r.Aggregate.Lookup("http.response_time.p99"); !ok || v != 8.9 {
		t.Errorf("p99 = %v, %v; want 8.9", v, ok)
	}
	if m := r.Intermediate[0]; m.Period != 1700000000000 || m.PeriodEnd != 1700000009000 {
		t.Errorf("intermediate bounds = %d..%d, want the string period read and the end taken from lastMetricAt", m.Period, m.PeriodEnd)
	}
}

// FuzzDecode feeds arbitrary bytes to Decode: it must return an error or a
// report that survives a round trip, and never panic or allocate without bound.
func FuzzDecode(f *testing.F) {
	var good bytes.Buffer
	if err := Encode(&good, smallReport(f)); err != nil {
		f.Fatal(err)
	}
	f.Add(good.Bytes())
	f.Add([]byte(`{"aggregate": {"hdr": {"x": "HISTFAAAACt42pJpmSzMwMDAzgABzFCaEcyZ3M5g/wEisFiY6eF+RiZAAAAA//9qwwX5"}}}`))
	f.Add([]byte(`{"aggregate": {"summaries": {"x": {"count": 1}}}, "intermediate": [{}]}`))
	f.Add([]byte(`{}`))
	f.Fuzz(func(t *testing.T, in []byte) {
		r, err := Decode(bytes.NewReader(in))
		if err != nil {
			return
		}
		var out bytes.Buffer
		if err := Encode(&out, r); err != nil {
			t.Fatalf("re-encode a decoded report: %v", err)
		}
		if _, err := Decode(&out); err != nil {
			t.Fatalf("a decoded report does not decode again: %v\n%s", err, out.Bytes())
		}
	})
}

// An output that is not a regular file is written through, never replaced:
// a pipe stays a pipe (as /dev/null must stay a device) and a symbolic
// link keeps pointing at its target, which gets the new content.
func TestWriteAtomicKeepsSpecialFiles(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "pipe")
	if err := syscallMkfifo(fifo); err != nil {
		t.Skipf("no FIFOs here: %v", err)
	}
	got := make(chan []byte, 1)
	go func() {
		f, err := os.Open(fifo)
		if err != nil {
			got <- nil
			return
		}
		defer f.Close()
		b, _ := io.ReadAll(f)
		got <- b
	}()
	if err := WriteAtomic(fifo, func(w io.Writer) error { _, err := io.WriteString(w, "through the pipe"); return err }); err != nil {
		t.Fatalf("WriteAtomic(fifo): %v", err)
	}
	if b := <-got; string(b) != "through the pipe" {
		t.Errorf("the pipe's reader got %q", b)
	}
	if fi, err := os.Lstat(fifo); err != nil || fi.Mode()&fs.ModeNamedPipe == 0 {
		t.Errorf("after the write %s is %v (%v), want still a named pipe", fifo, fi.Mode(), err)
	}

	target := filepath.Join(dir, "real.json")
	link := filepath.Join(dir, "link.json")
	if err := os.WriteFile(target, []byte("old"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(target, link); err != nil {
		t.Fatal(err)
	}
	if err := WriteAtomic(link, func(w io.Writer) error { _, err := io.WriteString(w, "new"); return err }); err != nil {
		t.Fatalf("WriteAtomic(link): %v", err)
	}
	if fi, err := os.Lstat(link); err != nil || fi.Mode()&fs.ModeSymlink == 0 {
		t.Errorf("after the write %s is %v (%v), want still a symbolic link", link, fi.Mode(), err)
	}
	if b, _ := os.ReadFile(target); string(b) != "new" {
		t.Errorf("the link's target holds %q, want %q", b, "new")
	}

	if err := WriteAtomic(dir, func(w io.Writer) error { return nil }); err == nil || !strings.Contains(err.Error(), "is a directory") {
		t.Errorf("WriteAtomic(a directory) = %v, want an error saying it is a directory", err)
	}
}
