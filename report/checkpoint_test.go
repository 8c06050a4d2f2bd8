package report

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/primeload/primeload/report/metric"
)

// checkpointRun records n periods into a collector that drops them and
// appends each to a checkpoint at path, as a run with --output does.
func checkpointRun(t testing.TB, path string, n int) (*Collector, *Checkpoint) {
	t.Helper()
	c := NewCollector(t0, Info{Period: time.Second, DropPeriods: true, Target: "http://127.0.0.1:1", Version: "test"})
	ck, err := CreateCheckpoint(path, c.Report())
	if err != nil {
		t.Fatal(err)
	}
	for i := 1; i <= n; i++ {
		s := c.Sink(i)
		s.Count(metric.Requests, 1)
		s.Response("GET /", time.Duration(i)*time.Millisecond, 200, 1)
		if i%3 == 0 {
			c.WantSample("GET /", "ECONNRESET")
		}
		m, err := c.Flush(t0.Add(time.Duration(i) * time.Second))
		if err != nil {
			t.Fatal(err)
		}
		st := CheckpointState{Expected: []PhaseArrivals{{Name: "p", Expected: int64(2 * n), Created: int64(i)}}, Failures: c.failures.list()}
		if err := ck.Append(m, st); err != nil {
			t.Fatal(err)
		}
	}
	return c, ck
}

// checkpointLines is checkpointRun's closed file in a new folder, and its content.
func checkpointLines(t *testing.T, n int) (path string, content []byte) {
	t.Helper()
	path = filepath.Join(t.TempDir(), "run.json")
	_, ck := checkpointRun(t, path, n)
	ck.Close()
	content, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return path, content
}

// TestCheckpointReadsAsUnfinishedReport: a checkpoint decodes as the report
// a killed run leaves: every period, their fold as the aggregate (equal to
// the collector's own), the last line's arrivals and failures, aborted.
func TestCheckpointReadsAsUnfinishedReport(t *testing.T) {
	path := filepath.Join(t.TempDir(), "run.json")
	c, ck := checkpointRun(t, path, 7)
	defer ck.Close()
	if got := len(c.Report().Intermediate); got != 0 {
		t.Fatalf("a collector with DropPeriods kept %d periods", got)
	}
	r, err := ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !r.Aborted || len(r.Intermediate) != 7 || r.Target != "http://127.0.0.1:1" {
		t.Fatalf("aborted %v, %d periods, target %q; want aborted, 7, the head's target", r.Aborted, len(r.Intermediate), r.Target)
	}
	want := c.Report().Aggregate
	for _, name := range []string{metric.Requests, metric.Responses} {
		if r.Aggregate.Counters[name] != want.Counters[name] || want.Counters[name] != 7 {
			t.Errorf("%s: checkpoint %d, collector %d, want 7", name, r.Aggregate.Counters[name], want.Counters[name])
		}
	}
	if g, w := r.Aggregate.Summaries[metric.ResponseTime], want.Summaries[metric.ResponseTime]; g != w {
		t.Errorf("response time folded from the periods %+v, collector's %+v", g, w)
	}
	if len(r.Expected) != 1 || r.Expected[0].Created != 7 {
		t.Errorf("expected %+v, want the last line's (created 7)", r.Expected)
	}
	// Failures are written only when they change; the reader carries them.
	if len(r.Failures) != 1 || r.Failures[0].Count != 2 {
		t.Errorf("failures %+v, want ECONNRESET counted 2 (periods 3 and 6)", r.Failures)
	}
	if !r.EndedAt.Equal(t0.Add(7 * time.Second)) {
		t.Errorf("ended at %v, want the last period's end %v", r.EndedAt, t0.Add(7*time.Second))
	}
}

// TestCheckpointTornLastLine: whatever byte a kill stops the last write at,
// the file reads as the periods before it; a broken line that is not the
// last is an error naming its line.
func TestCheckpointTornLastLine(t *testing.T) {
	_, full := checkpointLines(t, 3)
	lines := bytes.SplitAfter(full, []byte("\n"))
	lastStart := len(full) - len(lines[len(lines)-2]) // lines ends with an empty piece
	for cut := lastStart; cut < len(full); cut += max(1, (len(full)-lastStart)/40) {
		r, err := Decode(bytes.NewReader(full[:cut]))
		if err != nil {
			t.Fatalf("cut at byte %d of %d: %v", cut, len(full), err)
		}
		if len(r.Intermediate) != 2 {
			t.Fatalf("cut at byte %d: %d periods, want the 2 complete ones", cut, len(r.Intermediate))
		}
	}
	corrupt := bytes.Replace(full, []byte(`{"period":`), []byte(`{"period":x`), 1)
	_, err := Decode(bytes.NewReader(corrupt))
	if err == nil || !strings.Contains(err.Error(), "line 2") {
		t.Errorf("a corrupt second line: %v, want an error naming line 2", err)
	}
	if _, err := Decode(strings.NewReader(checkpointMagic)); err == nil || !strings.Contains(err.Error(), "killed before") {
		t.Errorf("a head cut short: %v, want the empty-checkpoint error", err)
	}
}

// TestCheckpointOpenPeriods: the periods stream back in order.
func TestCheckpointOpenPeriods(t *testing.T) {
	_, ck := checkpointRun(t, filepath.Join(t.TempDir(), "run.json"), 5)
	defer ck.Close()
	sp, err := ck.OpenPeriods()
	if err != nil {
		t.Fatal(err)
	}
	defer sp.Close()
	var got []int64
	if err := sp.Each(func(m *Metrics) error {
		got = append(got, m.Counters[metric.Requests])
		if m.Counters[metric.Requests] != 1 {
			return fmt.Errorf("period with %d requests", m.Counters[metric.Requests])
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if len(got) != 5 || ck.Periods() != 5 || sp.Len() != 5 {
		t.Errorf("read %d periods back (Len %d), appended %d, want 5", len(got), sp.Len(), ck.Periods())
	}
}

// TestCheckpointSyncs: Append syncs once per checkpointSyncEvery of run
// time, whatever the period, and Close syncs what is left, so 100 ms
// periods do not flush the disk ten times a second while a 10 s run still
// syncs every period.
func TestCheckpointSyncs(t *testing.T) {
	start := t0.Add(3 * time.Second) // not on a slot boundary, as a run's start is not
	for _, tt := range []struct {
		period  time.Duration
		n       int
		appends int // syncs after the appends, before Close
		total   int // and after Close
	}{
		{10 * time.Second, 5, 5, 5},
		{100 * time.Millisecond, 250, 2, 3}, // 3 s to 28 s: the 10 s and 20 s slots, then Close
		{100 * time.Millisecond, 70, 1, 1},  // ends on the 10 s boundary: nothing left for Close
		{time.Second, 3, 0, 1},
	} {
		t.Run(fmt.Sprintf("%v×%d", tt.period, tt.n), func(t *testing.T) {
			c := NewCollector(start, Info{Period: tt.period, DropPeriods: true})
			ck, err := CreateCheckpoint(filepath.Join(t.TempDir(), "run.json"), c.Report())
			if err != nil {
				t.Fatal(err)
			}
			at := start
			for range tt.n {
				at = c.NextFlush(at)
				m, err := c.Flush(at)
				if err != nil {
					t.Fatal(err)
				}
				if err := ck.Append(m, CheckpointState{}); err != nil {
					t.Fatal(err)
				}
			}
			if ck.syncs != tt.appends {
				t.Errorf("%d syncs after %d periods of %v, want %d", ck.syncs, tt.n, tt.period, tt.appends)
			}
			if err := ck.Close(); err != nil {
				t.Fatal(err)
			}
			if ck.syncs != tt.total {
				t.Errorf("%d syncs after Close, want %d", ck.syncs, tt.total)
			}
		})
	}
}

// BenchmarkCheckpointAppend is the per-period cost of keeping a run's
// report on disk, after `written` periods are already there. Appending
// costs the same after 10,000 periods as after none; rewriting the whole
// report every period (what runs did before checkpoints, "rewrite") grows
// with the run.
func BenchmarkCheckpointAppend(b *testing.B) {
	busy := func(c *Collector, i int) {
		for s := range 8 {
			sink := c.Sink(s)
			for j := range 200 {
				sink.Count(metric.Requests, 1)
				sink.Response(benchEndpoints[j%len(benchEndpoints)], time.Duration(j*37+i)*time.Microsecond, 200, 512)
			}
		}
	}
	for _, written := range []int{0, 1_000, 10_000} {
		b.Run(fmt.Sprintf("append/written=%d", written), func(b *testing.B) {
			path := filepath.Join(b.TempDir(), "run.json")
			c := NewCollector(t0, Info{Period: time.Second, DropPeriods: true})
			ck, err := CreateCheckpoint(path, c.Report())
			if err != nil {
				b.Fatal(err)
			}
			defer ck.Close()
			busy(c, 0)
			m, err := c.Flush(t0.Add(time.Second))
			if err != nil {
				b.Fatal(err)
			}
			for range written {
				if err := ck.Append(m, CheckpointState{}); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportAllocs()
			var cpu time.Duration
			for b.Loop() {
				// Each a 100 ms period after the last, as in bench/soak.sh's long mode.
				m.Period, m.PeriodEnd = m.PeriodEnd, m.PeriodEnd+100
				before := cpuTime(b)
				if err := ck.Append(m, CheckpointState{}); err != nil {
					b.Fatal(err)
				}
				cpu += cpuTime(b) - before
			}
			b.ReportMetric(float64(cpu.Nanoseconds())/float64(b.N), "cpu-ns/op")
		})
	}
	for _, written := range []int{0, 1_000} {
		b.Run(fmt.Sprintf("rewrite/written=%d", written), func(b *testing.B) {
			path := filepath.Join(b.TempDir(), "run.json")
			c := NewCollector(t0, Info{Period: time.Second})
			busy(c, 0)
			for i := range written + 1 {
				if _, err := c.Flush(t0.Add(time.Duration(i+1) * time.Second)); err != nil {
					b.Fatal(err)
				}
			}
			rep := c.Report()
			b.ReportAllocs()
			for b.Loop() {
				if err := WriteFile(path, rep); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// TestCheckpointInvalidPeriodNamesFileAndLine: a period that decodes but
// does not hold together is refused by the line that carries it, and the
// error names the file.
func TestCheckpointInvalidPeriodNamesFileAndLine(t *testing.T) {
	tests := []struct {
		name, old, new, want string
	}{
		{"negative counter", `"http.requests":1`, `"http.requests":-1`, `counter "http.requests" is negative`},
		{"end before start", `"periodEnd":`, `"periodEnd":1,"x":`, "is before period"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path, full := checkpointLines(t, 3)
			lines := bytes.SplitAfter(full, []byte("\n"))
			if !bytes.Contains(lines[2], []byte(tt.old)) {
				t.Fatalf("line 3 has no %s: %s", tt.old, lines[2])
			}
			lines[2] = bytes.Replace(lines[2], []byte(tt.old), []byte(tt.new), 1)
			if err := os.WriteFile(path, bytes.Join(lines, nil), 0o644); err != nil {
				t.Fatal(err)
			}
			_, err := ReadFile(path)
			if err == nil {
				t.Fatal("read a checkpoint with an invalid period")
			}
			for _, want := range []string{path, "line 3: ", tt.want} {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error %q does not say %q", err, want)
				}
			}
		})
	}
}

// TestCheckpointHeadHasNoSeries: the fine series is not checkpointed, so a
// head made after some ticks must not carry a partial one that a killed
// run's report would then present as the whole run's.
func TestCheckpointHeadHasNoSeries(t *testing.T) {
	path := filepath.Join(t.TempDir(), "run.json")
	head := smallReport(t)
	head.Series = &Series{Step: 1000, Points: []SeriesPoint{{Time: 1_700_000_000_000, Length: 1000, Requests: 3}}}
	ck, err := CreateCheckpoint(path, head)
	if err != nil {
		t.Fatal(err)
	}
	defer ck.Close()
	r, err := ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if r.Series != nil {
		t.Errorf("the checkpoint's head carries a fine series: %+v", r.Series)
	}
}
