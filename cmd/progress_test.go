package cmd

import (
	"bytes"
	"math"
	"strings"
	"testing"
	"time"
)

func TestPlainDisplay(t *testing.T) {
	t.Parallel()
	st := liveStats{Elapsed: 20 * time.Second, Total: time.Minute, Phase: "Sustained load", PhaseNo: 2, Phases: 3,
		ActiveVUs: 12, Rate: 48.94, P99: 12.345, Errors: 3}
	tests := []struct {
		name   string
		st     liveStats
		period bool
		want   string
	}{
		{name: "period line", st: st, period: true, want: "[00:20/01:00] phase 2/3 Sustained load · vusers 12 · 48.9 req/s · p99 12 ms · errors 3\n"},
		{name: "ticks between periods print nothing", st: st, period: false, want: ""},
		{name: "before the first phase, no responses", st: liveStats{Total: 2 * time.Hour, P99: math.NaN()}, period: true,
			want: "[00:00/2:00:00] starting · vusers 0 · 0.0 req/s · p99 - · errors 0\n"},
		{name: "unnamed phase, slow p99", st: liveStats{Elapsed: 90 * time.Second, Total: 2 * time.Minute, PhaseNo: 1, Phases: 1, P99: 2500, Rate: 1},
			period: true, want: "[01:30/02:00] phase 1/1 · vusers 0 · 1.0 req/s · p99 2.50 s · errors 0\n"},
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
			PhaseElapsed: 5 * time.Second, PhaseTotal: 20 * time.Second, P99: math.NaN()}, false)
		d.Show(liveStats{Elapsed: 30 * time.Second, Total: time.Minute, PhaseNo: 2, Phases: 2, Phase: "Peak",
			PhaseElapsed: 10 * time.Second, PhaseTotal: 40 * time.Second, ActiveVUs: 7, Rate: 99.5, P99: 3.25, Errors: 1}, true)
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
