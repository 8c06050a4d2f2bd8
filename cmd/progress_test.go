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
	m := period(start, 20*time.Second, map[string]int64{"http.requests": 488, "http.responses": 487, "http.codes.200": 487, "errors.ECONNRESET": 1}, 48.8, 0.68, 12)
	st := liveStats{Elapsed: 20 * time.Second, Total: time.Minute, Phase: "Sustained load", PhaseNo: 2, Phases: 3,
		ActiveVUs: 12, Rate: 48.94, P99: 12.345, Errors: 3, Start: start}
	tests := []struct {
		name   string
		period *report.Metrics
		want   string
	}{
		{name: "a period prints its line", period: m,
			want: "[+20s] 488 requests (48.8/s) · 1 errors (ECONNRESET×1) · p50/p99 0.68/12.00 ms · codes 200×487 · phase 2/3 Sustained load · 00:20/01:00 · ETA 00:40 · 12 vusers active\n"},
		{name: "ticks between periods print nothing"},
	}
	for _, tt := range tests {
		var buf bytes.Buffer
		d := newDisplay(&buf, false, false)
		d.Show(st, tt.period)
		d.Close(false)
		want := tt.want
		if want != "" {
			want = quietLine(st, tt.period) + "\n"
		}
		if got := buf.String(); got != want {
			t.Errorf("%s:\n got %q\nwant %q", tt.name, got, want)
		}
	}
}

// period is one report period ending at end after start, with its
// counters, request rate and response time p50 and p99 (ms).
func period(start time.Time, end time.Duration, counters map[string]int64, rate, p50, p99 float64) *report.Metrics {
	return &report.Metrics{
		Counters:  counters,
		Rates:     map[string]float64{metric.RequestRate: rate},
		Summaries: map[string]report.Summary{metric.ResponseTime: {P50: p50, P99: p99}},
		Period:    start.Add(end - 10*time.Second).UnixMilli(),
		PeriodEnd: start.Add(end).UnixMilli(),
	}
}

// The --quiet lines over realistic and extreme periods: each fits
// report.SummaryWidth and keeps when, requests and rate, errors and
// latency; the rest goes in order when there is no room.
func TestQuietLinesGolden(t *testing.T) {
	t.Parallel()
	start := time.Date(2026, 11, 26, 2, 0, 0, 0, time.UTC)
	seed := liveStats{Elapsed: 20 * time.Second, Total: 40 * time.Second, Phase: "Sustained load", PhaseNo: 2, Phases: 3,
		ActiveVUs: 3, Start: start, DrainETA: -1}
	with := func(f func(*liveStats)) liveStats { st := seed; f(&st); return st }
	ok := map[string]int64{"http.requests": 469, "http.responses": 469, "http.codes.200": 372, "http.codes.201": 80, "http.codes.401": 17}
	lagged := func(m *report.Metrics, p99 float64) *report.Metrics {
		m.Summaries[metric.ScheduleLag] = report.Summary{P99: p99}
		return m
	}
	manyCodes := map[string]int64{"http.requests": 5000, "http.responses": 4990, "errors.ETIMEDOUT": 10}
	for _, c := range []int{200, 201, 204, 301, 302, 304, 400, 401, 403, 404, 409, 429, 500, 502, 503, 504} {
		manyCodes[fmt.Sprintf("http.codes.%d", c)] = int64(c)
	}
	manyErrors := map[string]int64{"http.requests": 900, "http.responses": 400, "http.codes.200": 400}
	for i, e := range []string{"ECONNRESET", "ETIMEDOUT", "ECONNREFUSED", "EPIPE", "Failed capture or match",
		"Failed expectations for request GET /api/shipments/{id}/tracking-events/latest", "EPROTO", "ECERT"} {
		manyErrors["errors."+e] = int64(100 - 10*i)
	}
	huge := map[string]int64{"http.requests": 9876543210, "http.responses": 9876543000, "http.codes.200": 9876000000,
		"http.codes.503": 543000, "errors.ETIMEDOUT": 9876543210}
	hugeStats := liveStats{Elapsed: 3 * time.Hour, Total: 9 * time.Hour, PhaseNo: 12, Phases: 30, ActiveVUs: 1000000, Start: start,
		Phase: "Sustained load at ten times the seed's rate, the whole of Black Friday afternoon"}
	tests := []struct {
		name   string
		st     liveStats
		period *report.Metrics
	}{
		{"a seed run's period", seed, lagged(period(start, 20*time.Second, ok, 46.9, 0.32, 4.69), 5.74)},
		{"starting, nothing answered", liveStats{Total: 40 * time.Second, Start: start, DrainETA: -1},
			period(start, 10*time.Second, map[string]int64{"http.requests": 3}, 0.3, 0, 0)},
		{"draining with an estimate", with(func(st *liveStats) { st.Elapsed, st.DrainETA, st.ActiveVUs = 47*time.Second, 3*time.Second, 40 }),
			lagged(period(start, 50*time.Second, ok, 46.9, 0.32, 4.69), 5.74)},
		{"a long drain past an hour", with(func(st *liveStats) {
			st.Elapsed, st.Total, st.DrainETA, st.ActiveVUs = 2*time.Hour+5*time.Minute, time.Hour, 2*time.Hour, 123456
		}), lagged(period(start, 2*time.Hour+5*time.Minute, ok, 46.9, 1234.5, 60000), 12.25)},
		{"many status codes", seed, lagged(period(start, 20*time.Second, manyCodes, 500, 3.5, 250.25), 1.5)},
		{"many errors", seed, lagged(period(start, 20*time.Second, manyErrors, 90, 3.5, 30000), 1.5)},
		{"huge numbers", hugeStats, lagged(period(start, 3*time.Hour, huge, 123456789.1, 123456.78, 1234567.89), 99999.99)},
		{"huge numbers, no phase name", with(func(st *liveStats) { st.Phase, st.ActiveVUs = "", 1000000 }),
			lagged(period(start, 20*time.Second, huge, 123456789.1, 123456.78, 1234567.89), 99999.99)},
	}
	var b strings.Builder
	for _, tt := range tests {
		line := quietLine(tt.st, tt.period)
		fmt.Fprintf(&b, "%s:\n%s\n", tt.name, line)
		if n := utf8.RuneCountInString(line); n > report.SummaryWidth {
			t.Errorf("%s: %d columns, over %d: %s", tt.name, n, report.SummaryWidth, line)
		}
		for _, want := range []string{"[+", " requests (", " errors", "p50/p99 "} {
			if !strings.Contains(line, want) {
				t.Errorf("%s: the line lost %q: %s", tt.name, want, line)
			}
		}
	}
	reporttest.Golden(t, filepath.Join("testdata", "quiet.golden"), []byte(b.String()), *update)
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
