package cmd

import (
	"fmt"
	"io"
	"math"
	"sync"
	"time"

	"github.com/primeload/primeload/report"
	"github.com/vbauerster/mpb/v8"
	"github.com/vbauerster/mpb/v8/decor"
)

// liveStats is one look at a running test, for the live display.
type liveStats struct {
	Elapsed, Total time.Duration // since the schedule started; whole schedule
	Phase          string        // current phase's name, "" when unnamed
	PhaseNo        int           // 1-based; 0 before the first phase
	Phases         int
	PhaseElapsed   time.Duration
	PhaseTotal     time.Duration
	ActiveVUs      int64
	Rate           float64   // requests per second over about the last second
	P99            float64   // ms, last period; NaN when it had no responses
	Errors         int64     // whole run so far: every errors.* counter
	Start          time.Time // the collector's start, which period lines count from
	// DrainETA is how long the users still in flight after the schedule
	// should take to finish, judged by how fast they have been finishing;
	// negative while there is nothing to judge by.
	DrainETA time.Duration
}

// draining reports whether the schedule is over and users are finishing.
func (st liveStats) draining() bool { return st.Total > 0 && st.Elapsed >= st.Total }

// scheduleText says where the run is on its schedule, never past its end:
// "00:24/01:00 · ETA 00:36" while arrivals go on, then
// "draining 00:14 · ETA 00:03" while the users in flight finish.
func (st liveStats) scheduleText() string {
	if !st.draining() {
		return fmt.Sprintf("%s/%s · ETA %s", clock(st.Elapsed), clock(st.Total), clock(st.Total-st.Elapsed))
	}
	s := "draining " + clock(st.Elapsed-st.Total)
	if st.DrainETA >= 0 {
		s += " · ETA " + clock(st.DrainETA)
	}
	return s
}

// display shows a run's progress. Show is called on every tick with period
// nil, and right after a period was flushed with that period; Close ends
// the display.
type display interface {
	Show(st liveStats, period *report.Metrics)
	Close(aborted bool)
}

// newDisplay picks progress bars for a terminal, else one plain line per period.
func newDisplay(w io.Writer, terminal, quiet bool) display {
	if terminal && !quiet {
		return newBars(w)
	}
	return &plainDisplay{w: w}
}

// plainDisplay prints one line per period: readable in CI logs and pipes.
type plainDisplay struct {
	w io.Writer
}

func (d *plainDisplay) Show(st liveStats, period *report.Metrics) {
	if period != nil {
		fmt.Fprintln(d.w, quietLine(st, period))
	}
}

// quietLine is a period's line within report.SummaryWidth: the period's
// numbers, then where the run is on its schedule, its phase and its
// active users, shortened or left out in that order of importance before
// the period's own (report.PeriodParts) when the line is too wide.
func quietLine(st liveStats, period *report.Metrics) string {
	// The period's elapsed time is at its start: the ETA is the news.
	short := "ETA " + clock(st.Total-st.Elapsed)
	if st.draining() {
		short = "draining " + clock(st.Elapsed-st.Total)
		if st.DrainETA >= 0 {
			short = "draining, ETA " + clock(st.DrainETA)
		}
	}
	phase := report.LinePart{Text: st.phaseLabel(), Drop: 4}
	if st.PhaseNo > 0 && st.Phase != "" {
		phase.Short = fmt.Sprintf("phase %d/%d", st.PhaseNo, st.Phases)
	}
	parts := append(report.PeriodParts(period, st.Start),
		phase,
		report.LinePart{Text: st.scheduleText(), Short: short, Drop: 2},
		report.LinePart{Text: fmt.Sprintf("%d vusers active", st.ActiveVUs), Short: fmt.Sprintf("%d vusers", st.ActiveVUs), Drop: 3})
	return report.FitParts(parts, report.SummaryWidth)
}

func (d *plainDisplay) Close(bool) {}

func (st liveStats) phaseLabel() string {
	if st.PhaseNo == 0 {
		return "starting"
	}
	s := fmt.Sprintf("phase %d/%d", st.PhaseNo, st.Phases)
	if st.Phase != "" {
		s += " " + st.Phase
	}
	return s
}

// barsWidth is the widest line the bars draw, as the summary's.
const barsWidth = report.SummaryWidth

// barWidth is the width of each bar itself, brackets included.
const barWidth = 24

// barLabel is the width of "run   " and "phase ", before each bar.
const barLabel = 6

// barText fits a bar's text beside it, keeping its start: the schedule
// and the phase come first. mpb puts a space each side of the bar.
func barText(s string) string {
	return report.CutEnd(s, barsWidth-barLabel-barWidth-2)
}

// runText is the text beside the run bar.
func (st liveStats) runText() string {
	return barText(fmt.Sprintf("%s · %.1f req/s · errors %d · p99 %s", st.scheduleText(), st.Rate, st.Errors, fmtMs(st.P99)))
}

// phaseText is the text beside the phase bar.
func (st liveStats) phaseText() string {
	users := fmt.Sprintf("vusers %d", st.ActiveVUs)
	if st.draining() {
		users += " left"
	}
	return barText(fmt.Sprintf("%s/%s · %s · %s", clock(st.PhaseElapsed), clock(st.PhaseTotal), users, st.phaseLabel()))
}

// barDisplay draws two mpb bars, the whole run and the current phase.
type barDisplay struct {
	p       *mpb.Progress
	run, ph *mpb.Bar
	mu      sync.Mutex
	st      liveStats
}

func newBars(w io.Writer) *barDisplay {
	// State decides what is a terminal (it may wrap stdout), so mpb must
	// refresh whatever the writer looks like to it.
	d := &barDisplay{p: mpb.New(mpb.WithOutput(w), mpb.WithWidth(barsWidth), mpb.WithRefreshRate(250*time.Millisecond), mpb.WithAutoRefresh())}
	get := func() liveStats { d.mu.Lock(); defer d.mu.Unlock(); return d.st }
	text := func(f func(liveStats) string) decor.Decorator {
		return decor.Any(func(decor.Statistics) string { return f(get()) })
	}
	// Bars start with total 0 so mpb never completes them on its own:
	// the phase bar is reused for every phase.
	d.run = d.p.New(0, mpb.BarStyle(), mpb.BarWidth(barWidth),
		mpb.PrependDecorators(text(func(liveStats) string { return "run   " })),
		mpb.AppendDecorators(text(func(st liveStats) string { return st.runText() })))
	d.ph = d.p.New(0, mpb.BarStyle(), mpb.BarWidth(barWidth),
		mpb.PrependDecorators(text(func(liveStats) string { return "phase " })),
		mpb.AppendDecorators(text(func(st liveStats) string { return st.phaseText() })))
	return d
}

func (d *barDisplay) Show(st liveStats, _ *report.Metrics) {
	d.mu.Lock()
	d.st = st
	d.mu.Unlock()
	d.run.SetTotal(st.Total.Milliseconds(), false)
	d.run.SetCurrent(min(st.Elapsed, st.Total).Milliseconds())
	d.ph.SetTotal(st.PhaseTotal.Milliseconds(), false)
	d.ph.SetCurrent(min(st.PhaseElapsed, st.PhaseTotal).Milliseconds())
}

func (d *barDisplay) Close(aborted bool) {
	for _, b := range []*mpb.Bar{d.run, d.ph} {
		if aborted {
			b.Abort(false)
		} else {
			b.SetTotal(-1, true)
		}
	}
	d.p.Wait()
}

// rateWindow estimates the live request rate from running totals sampled
// on each tick, over about the last second: a period's rate would update
// only every --period.
type rateWindow struct {
	span time.Duration
	at   []time.Time
	n    []int64
}

// add records the running total at an instant and returns the rate over
// the window, 0 until two samples are apart.
func (w *rateWindow) add(at time.Time, total int64) float64 {
	w.at, w.n = append(w.at, at), append(w.n, total)
	// Keep one sample at or before the window start, so the rate covers it all.
	for len(w.at) > 2 && !w.at[1].After(at.Add(-w.span)) {
		w.at, w.n = w.at[1:], w.n[1:]
	}
	dt := at.Sub(w.at[0]).Seconds()
	if dt <= 0 {
		return 0
	}
	return float64(total-w.n[0]) / dt
}

// drainWindow estimates how long the users in flight after the schedule
// take to finish, from how fast they finished over about the last span.
type drainWindow struct {
	span   time.Duration
	at     []time.Time
	active []int64
}

// add records the users in flight at an instant and returns the estimate,
// -1 until some have finished within the window; 0 when none are left.
func (w *drainWindow) add(at time.Time, active int64) time.Duration {
	if active <= 0 {
		return 0
	}
	w.at, w.active = append(w.at, at), append(w.active, active)
	for len(w.at) > 2 && !w.at[1].After(at.Add(-w.span)) {
		w.at, w.active = w.at[1:], w.active[1:]
	}
	dt, done := at.Sub(w.at[0]), w.active[0]-active
	if dt <= 0 || done <= 0 {
		return -1
	}
	return time.Duration(float64(dt) * float64(active) / float64(done))
}

// clock formats a duration as mm:ss, or h:mm:ss past an hour.
func clock(d time.Duration) string {
	d = d.Round(time.Second)
	h, m, s := int(d.Hours()), int(d.Minutes())%60, int(d.Seconds())%60
	if h > 0 {
		return fmt.Sprintf("%d:%02d:%02d", h, m, s)
	}
	return fmt.Sprintf("%02d:%02d", m, s)
}

// fmtMs formats milliseconds for people; "-" when there was nothing to measure.
func fmtMs(ms float64) string {
	switch {
	case math.IsNaN(ms):
		return "-"
	case ms >= 1000:
		return fmt.Sprintf("%.2f s", ms/1000)
	case ms >= 10:
		return fmt.Sprintf("%.0f ms", ms)
	default:
		return fmt.Sprintf("%.1f ms", ms)
	}
}
