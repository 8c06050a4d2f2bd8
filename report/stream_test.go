package report

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"testing"
	"time"

	"github.com/primeload/primeload/report/metric"
)

// spilledRun writes a checkpoint of n busy periods at path, the way a run
// does but without a sync per line (a fixture, not a durability test), and
// returns the final report with its periods spilled to it.
func spilledRun(tb testing.TB, path string, n int) *Report {
	tb.Helper()
	c := NewCollector(t0, Info{Period: time.Second, DropPeriods: true, Target: "http://127.0.0.1:1", Version: "test"})
	ck, err := CreateCheckpoint(path, c.Report())
	if err != nil {
		tb.Fatal(err)
	}
	for i := 1; i <= n; i++ {
		for s := range 2 {
			sink := c.Sink(s)
			for j := range 20 {
				sink.Count(metric.Requests, 1)
				// "<&>" checks the HTML escaping agrees with the encoder's.
				sink.Response(benchEndpoints[j%len(benchEndpoints)]+"?q=<&>", time.Duration(j*37+i%97)*time.Millisecond, 200+j%2*300, 512)
			}
		}
		m, err := c.Flush(t0.Add(time.Duration(i) * time.Second))
		if err != nil {
			tb.Fatal(err)
		}
		if err := ck.encode(checkpointLine{Period: m}); err != nil {
			tb.Fatal(err)
		}
		if _, err := ck.f.Write(ck.buf.Bytes()); err != nil {
			tb.Fatal(err)
		}
		ck.periods++
	}
	if err := ck.Close(); err != nil {
		tb.Fatal(err)
	}
	rep := c.Report()
	sp, err := ck.OpenPeriods()
	if err != nil {
		tb.Fatal(err)
	}
	rep.Spill(sp)
	tb.Cleanup(func() { rep.Close() })
	return rep
}

// inMemory is the assembly before streaming: every period read back into
// the report, then the report encoded at once.
func inMemory(t *testing.T, r *Report) []byte {
	t.Helper()
	whole := *r
	whole.spilled = nil
	whole.Intermediate = nil
	if err := r.EachPeriod(func(m *Metrics) error {
		whole.Intermediate = append(whole.Intermediate, m)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if whole.Intermediate == nil {
		whole.Intermediate = []*Metrics{}
	}
	var buf bytes.Buffer
	if err := encodeIndented(&buf, &whole); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// TestEncodeSpilledSameBytes: a report whose periods stay in its
// checkpoint encodes, period by period, to the very bytes of the same
// report encoded at once, and WriteFile may replace the checkpoint it
// reads from.
func TestEncodeSpilledSameBytes(t *testing.T) {
	tests := []struct {
		name    string
		periods int
		inMem   int // periods after the file broke, kept in Intermediate
	}{
		{"no period", 0, 0},
		{"one period", 1, 0},
		{"many periods", 300, 0},
		{"spilled and in memory", 40, 3},
		{"only in memory", 0, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "run.json")
			rep := spilledRun(t, path, tt.periods)
			for i := range tt.inMem {
				rep.Intermediate = append(rep.Intermediate, &Metrics{Period: int64(i), PeriodEnd: int64(i + 1), Counters: map[string]int64{metric.Requests: 1}})
			}
			if got := rep.Periods(); got != tt.periods+tt.inMem {
				t.Fatalf("Periods() = %d, want %d", got, tt.periods+tt.inMem)
			}
			want := inMemory(t, rep)
			var got bytes.Buffer
			if err := Encode(&got, rep); err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got.Bytes(), want) {
				i := 0
				for i < min(got.Len(), len(want)) && got.Bytes()[i] == want[i] {
					i++
				}
				t.Fatalf("streamed report differs at byte %d of %d/%d:\n got …%q\nwant …%q", i, got.Len(), len(want),
					got.Bytes()[max(0, i-40):min(got.Len(), i+40)], want[max(0, i-40):min(len(want), i+40)])
			}
			if err := WriteFile(path, rep); err != nil {
				t.Fatal(err)
			}
			onDisk, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(onDisk, want) {
				t.Errorf("WriteFile over the checkpoint wrote %d bytes, not the %d the report encodes to", len(onDisk), len(want))
			}
			back, err := ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			if len(back.Intermediate) != tt.periods+tt.inMem || back.Aborted {
				t.Errorf("read back %d periods, aborted %v; want %d, a finished report", len(back.Intermediate), back.Aborted, tt.periods+tt.inMem)
			}
		})
	}
}

// TestSpilledStopsAtBadLine: a line that does not read ends the periods
// for every reader alike, and OpenPeriods says which line it was.
func TestSpilledStopsAtBadLine(t *testing.T) {
	path := filepath.Join(t.TempDir(), "run.json")
	spilledRun(t, path, 5)
	full, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	lines := bytes.SplitAfter(full, []byte("\n"))
	lines[4] = []byte("{\"period\":x}\n") // the fourth period
	if err := os.WriteFile(path, bytes.Join(lines, nil), 0o644); err != nil {
		t.Fatal(err)
	}
	sp, err := (&Checkpoint{path: path}).OpenPeriods()
	if err == nil || !bytes.Contains([]byte(err.Error()), []byte(path+": line 5")) {
		t.Fatalf("OpenPeriods: %v, want an error naming %s: line 5", err, path)
	}
	defer sp.Close()
	for range 2 {
		n := 0
		if err := sp.Each(func(*Metrics) error { n++; return nil }); err != nil || n != 3 || sp.Len() != 3 {
			t.Errorf("Each: %d periods (Len %d), %v; want the 3 before the bad line, no error", n, sp.Len(), err)
		}
	}
}

// BenchmarkEncodeSpilled is the end of a run: the final report written
// from its checkpoint. peak-heap-B, the most heap in use above the
// starting point while it is written, stays flat from 100 periods to
// 10,000: the periods come from the file one at a time. The collector runs
// at GOGC=10 meanwhile, so the peak is what is live, not how much garbage
// the default pacing lets pile up before its first collection.
func BenchmarkEncodeSpilled(b *testing.B) {
	defer debug.SetGCPercent(debug.SetGCPercent(10))
	for _, n := range []int{100, 10_000} {
		b.Run(fmt.Sprintf("periods=%d", n), func(b *testing.B) {
			rep := spilledRun(b, filepath.Join(b.TempDir(), "run.json"), n)
			var peak uint64
			b.ReportAllocs()
			for b.Loop() {
				runtime.GC()
				w := &heapWatch{base: heapBytes()}
				if err := Encode(w, rep); err != nil {
					b.Fatal(err)
				}
				peak = max(peak, w.peak-min(w.peak, w.base))
			}
			b.ReportMetric(float64(peak), "peak-heap-B")
		})
	}
}

// heapWatch discards what is written and samples the heap at each write.
type heapWatch struct{ base, peak uint64 }

func (w *heapWatch) Write(p []byte) (int, error) {
	w.peak = max(w.peak, heapBytes())
	return len(p), nil
}

var _ io.Writer = (*heapWatch)(nil)

// heapBytes is the heap's objects, live or not yet swept.
func heapBytes() uint64 {
	s := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	metrics.Read(s)
	return s[0].Value.Uint64()
}
