package cmd

import (
	"bytes"
	"flag"
	"fmt"
	"math"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/primeload/primeload/report"
	"github.com/primeload/primeload/report/metric"
	"github.com/primeload/primeload/report/reporttest"
)

var update = flag.Bool("update", false, "rewrite golden files under testdata")

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
		{name: "period line", st: st, period: m, want: line + " · phase 2/3 Sustained load 00:20/01:00 · ETA 00:40 · 12 vusers active\n"},
		{name: "ticks between periods print nothing", st: st, want: ""},
		{name: "before the first phase", st: liveStats{Total: 2 * time.Hour, Start: start}, period: m,
			want: line + " · starting 00:00/2:00:00 · ETA 2:00:00 · 0 vusers active\n"},
		{name: "unnamed phase", st: liveStats{Elapsed: 90 * time.Second, Total: 2 * time.Minute, PhaseNo: 1, Phases: 1, Start: start}, period: m,
			want: line + " · phase 1/1 01:30/02:00 · ETA 00:30 · 0 vusers active\n"},
		{name: "draining", st: liveStats{Elapsed: 130 * time.Second, Total: 2 * time.Minute, PhaseNo: 1, Phases: 1, ActiveVUs: 4, DrainETA: 3 * time.Second, Start: start}, period: m,
			want: line + " · phase 1/1 draining 00:10 · ETA 00:03 · 4 vusers active\n"},
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
		for _, l := range strings.Split(ansi.ReplaceAllString(out, ""), "\n") {
			if n := utf8.RuneCountInString(l); n > barsWidth {
				t.Errorf("aborted=%v: a line of %d columns, over %d: %q", aborted, n, barsWidth, l)
			}
		}
		// The last frame is drawn at Close, so it shows the last stats.
		for _, want := range []string{"run", "00:30/01:00 · ETA 00:30", "vusers 7", "99.5 req/s", "p99 3.2 ms", "errors 1", "00:10/00:40", "phase 2/2 Peak"} {
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

// ansi matches the terminal control sequences mpb writes between frames.
var ansi = regexp.MustCompile(`\x1b\[[0-9;?]*[A-Za-z]`)

// The bars' texts over a run's life: on schedule, near the end, draining
// with and without an estimate, and with numbers too long for a line.
// Every line fits barsWidth with its bar, and the run never reads past 100%.
func TestBarTextsGolden(t *testing.T) {
	t.Parallel()
	base := liveStats{Total: time.Minute, Phases: 3, PhaseNo: 2, Phase: "Sustained load", PhaseTotal: 40 * time.Second,
		ActiveVUs: 12, Rate: 48.94, P99: 12.345, Errors: 3, DrainETA: -1}
	with := func(f func(*liveStats)) liveStats { st := base; f(&st); return st }
	tests := []struct {
		name string
		st   liveStats
	}{
		{"starting", with(func(st *liveStats) {
			st.PhaseNo, st.Phase, st.PhaseTotal, st.ActiveVUs, st.Rate, st.P99 = 0, "", 0, 0, 0, math.NaN()
		})},
		{"on schedule", with(func(st *liveStats) { st.Elapsed, st.PhaseElapsed = 24*time.Second, 4*time.Second })},
		{"at the end", with(func(st *liveStats) { st.Elapsed, st.PhaseElapsed = time.Minute, 40*time.Second })},
		{"draining, no estimate yet", with(func(st *liveStats) { st.Elapsed, st.PhaseElapsed = 61*time.Second, 40*time.Second })},
		{"draining with an estimate", with(func(st *liveStats) {
			st.Elapsed, st.PhaseElapsed, st.DrainETA = 84*time.Second, 40*time.Second, 7*time.Second
		})},
		{"long drain past an hour", with(func(st *liveStats) {
			st.Elapsed, st.PhaseElapsed, st.DrainETA = time.Minute+65*time.Minute, 40*time.Second, 2*time.Hour
		})},
		{"huge numbers and a long phase name", with(func(st *liveStats) {
			st.Total, st.Elapsed = 9*time.Hour, 3*time.Hour
			st.Phase = "Sustained load at ten times the seed's rate, the whole of Black Friday afternoon"
			st.ActiveVUs, st.Rate, st.P99, st.Errors = 1000000, 123456.7, 12345.6, 9876543210
		})},
	}
	var b strings.Builder
	for _, tt := range tests {
		fmt.Fprintf(&b, "%s:\n", tt.name)
		for _, text := range []string{"run    " + bar + " " + tt.st.runText(), "phase  " + bar + " " + tt.st.phaseText()} {
			fmt.Fprintf(&b, "%s\n", text)
			if n := utf8.RuneCountInString(text); n > barsWidth {
				t.Errorf("%s: %d columns, over %d: %s", tt.name, n, barsWidth, text)
			}
		}
		if tt.st.draining() && strings.Contains(tt.st.runText(), clock(tt.st.Elapsed)+"/") {
			t.Errorf("%s: the run reads past its end: %s", tt.name, tt.st.runText())
		}
		// And as mpb draws them, control sequences aside.
		var out bytes.Buffer
		d := newBars(&out)
		d.Show(tt.st, nil)
		d.Close(true)
		for _, l := range strings.Split(ansi.ReplaceAllString(out.String(), ""), "\n") {
			if n := utf8.RuneCountInString(l); n > barsWidth {
				t.Errorf("%s: mpb drew a line of %d columns, over %d: %q", tt.name, n, barsWidth, l)
			}
		}
	}
	reporttest.Golden(t, filepath.Join("testdata", "progress.golden"), []byte(b.String()), *update)
}

// bar stands for a bar in the golden file: mpb draws it, as wide as
// barWidth, with a space each side.
var bar = "[" + strings.Repeat("=", barWidth-2) + "]"

func TestDrainWindow(t *testing.T) {
	t.Parallel()
	t0 := time.Date(2026, 12, 2, 16, 0, 0, 0, time.UTC)
	w := drainWindow{span: 5 * time.Second}
	tests := []struct {
		at     time.Duration
		active int64
		want   time.Duration
	}{
		{at: 0, active: 100, want: -1},                                     // one sample: nothing to judge by
		{at: time.Second, active: 100, want: -1},                           // none finished yet
		{at: 2 * time.Second, active: 80, want: 8 * time.Second},           // 20 in 2 s: 80 take 8 s
		{at: 5 * time.Second, active: 50, want: 5 * time.Second},           // 50 in 5 s, steady
		{at: 7 * time.Second, active: 50, want: 50 * 5 * time.Second / 30}, // the window moved on: 30 in 5 s
		{at: 20 * time.Second, active: 50, want: -1},                       // a long stall: none finished in the window
		{at: 21 * time.Second, active: 0, want: 0},                         // all done
	}
	for i, tt := range tests {
		got := w.add(t0.Add(tt.at), tt.active)
		if d := got - tt.want; d < -time.Millisecond || d > time.Millisecond {
			t.Errorf("sample %d at %s with %d active: %s, want %s", i, tt.at, tt.active, got, tt.want)
		}
	}
}
