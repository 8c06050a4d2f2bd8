package cmd

import (
	"bytes"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/primeload/primeload/report"
	"github.com/primeload/primeload/report/metric"
)

func TestPlainDisplay(t *testing.T) {
	t.Parallel()
	start := time.Date(2026, 11, 26, 2, 0, 0, 0, time.UTC)
	m := &report.Metrics{
		Counters:  map[string]int64{"http.requests": 488, "http.responses": 487, "errors.ECONNRESET": 1},
		Rates:     map[string]float64{metric.RequestRate: 48.8},
		Summaries: map[string]report.Summary{metric.ResponseTime: {P50: 0.68, P99: 12}},
		Period:    start.Add(10 * time.Second).UnixMilli(),
		PeriodEnd: start.Add(20 * time.Second).UnixMilli(),
	}
	var periodLine bytes.Buffer
	if err := report.WritePeriodLine(&periodLine, m, start); err != nil {
		t.Fatal(err)
	}
	line := strings.TrimSuffix(periodLine.String(), "\n")
	st := liveStats{Elapsed: 20 * time.Second, Total: time.Minute, Phase: "Sustained load", PhaseNo: 2, Phases: 3,
		ActiveVUs: 12, Rate: 48.94, P99: 12.345, Errors: 3, Start: start}
	tests := []struct {
		name   string
		st     liveStats
		period *report.Metrics
		want   string
	}{
		{name: "period line", st: st, period: m, want: line + " · phase 2/3 Sustained load 00:20/01:00 · 12 vusers active\n"},
		{name: "ticks between periods print nothing", st: st, want: ""},
		{name: "before the first phase", st: liveStats{Total: 2 * time.Hour, Start: start}, period: m,
			want: line + " · starting 00:00/2:00:00 · 0 vusers active\n"},
		{name: "unnamed phase", st: liveStats{Elapsed: 90 * time.Second, Total: 2 * time.Minute, PhaseNo: 1, Phases: 1, Start: start}, period: m,
			want: line + " · phase 1/1 01:30/02:00 · 0 vusers active\n"},
	}
	for _, tt := range tests {
		var buf bytes.Buffer
		d := newDisplay(&buf, false, false)
		d.Show(tt.st, tt.period)
		d.Close(false)
		if got := buf.String(); got != tt.want {
			t.Errorf("%s:\n got %q\nwant %q", tt.name, got, tt.want)
		}
	}
	if !strings.Contains(line, "488 requests") {
		t.Errorf("period line %q does not show the period's requests", line)
	}
}

func TestQuietTerminalIsPlain(t *testing.T) {
	t.Parallel()
	if _, ok := newDisplay(&bytes.Buffer{}, true, true).(*plainDisplay); !ok {
		t.Error("--quiet on a terminal should print plain lines")
	}
	if _, ok := newDisplay(&bytes.Buffer{}, true, false).(*barDisplay); !ok {
		t.Error("a terminal without --quiet should draw bars")
	}
}

func TestBarDisplay(t *testing.T) {
	t.Parallel()
	for _, aborted := range []bool{false, true} {
		var buf bytes.Buffer
		d := newBars(&buf)
		d.Show(liveStats{Elapsed: 5 * time.Second, Total: time.Minute, PhaseNo: 1, Phases: 2, Phase: "Warm up",
			PhaseElapsed: 5 * time.Second, PhaseTotal: 20 * time.Second, P99: math.NaN()}, nil)
		d.Show(liveStats{Elapsed: 30 * time.Second, Total: time.Minute, PhaseNo: 2, Phases: 2, Phase: "Peak",
			PhaseElapsed: 10 * time.Second, PhaseTotal: 40 * time.Second, ActiveVUs: 7, Rate: 99.5, P99: 3.25, Errors: 1}, nil)
		d.Close(aborted)
		out := buf.String()
		// The last frame is drawn at Close, so it shows the last stats.
		for _, want := range []string{"run", "00:30 / 01:00", "vusers 7", "99.5 req/s", "p99 3.2 ms", "errors 1", "00:10 / 00:40", "phase 2/2 Peak"} {
			if !strings.Contains(out, want) {
				t.Errorf("aborted=%v: bars %q do not show %q", aborted, out, want)
			}
		}
	}
}

func TestRateWindow(t *testing.T) {
	t.Parallel()
	t0 := time.Date(2026, 11, 26, 2, 0, 0, 0, time.UTC)
	w := rateWindow{span: time.Second}
	tests := []struct {
		at    time.Duration
		total int64
		want  float64
	}{
		{at: 0, total: 0, want: 0},                                 // one sample: no rate yet
		{at: 250 * time.Millisecond, total: 25, want: 100},         // 25 in 0.25 s
		{at: 500 * time.Millisecond, total: 50, want: 100},         // steady
		{at: time.Second, total: 100, want: 100},                   // window full
		{at: 1250 * time.Millisecond, total: 100, want: 75},        // a stall shows within the second: 75 in 1 s
		{at: 2250 * time.Millisecond, total: 100, want: 0},         // a whole second without requests
		{at: 2500 * time.Millisecond, total: 150, want: 50 / 1.25}, // burst after the stall, over the kept span
		{at: 2500 * time.Millisecond, total: 150, want: 50 / 1.25}, // same instant twice changes nothing
	}
	for i, tt := range tests {
		if got := w.add(t0.Add(tt.at), tt.total); math.Abs(got-tt.want) > 1e-9 {
			t.Errorf("sample %d at %s total %d: rate %v, want %v", i, tt.at, tt.total, got, tt.want)
		}
	}
}
