// Package capacity searches for the highest arrival rate at which a script
// still meets every one of its strict SLOs: it sends the script's own
// scenario mix as an open model at a rising sequence of rates, holds each
// after an unjudged warm-up, judges each step alone on its own window, and
// narrows between the last passing and the first failing rate. A step where
// the load generator, not the target, was the limit ends the search and is
// reported as such. Each step is one runner/loadtest run.
package capacity

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"math"
	"runtime"
	"slices"
	"strconv"
	"time"

	"github.com/primeload/primeload/report"
	"github.com/primeload/primeload/report/capacity"
	"github.com/primeload/primeload/report/metric"
	"github.com/primeload/primeload/report/slo"
	"github.com/primeload/primeload/report/view"
	"github.com/primeload/primeload/runner"
	"github.com/primeload/primeload/runner/loadtest"
	"github.com/primeload/primeload/scenario"
)

// Defaults for Options' zero values. Every bound is always in force.
const (
	DefaultStart       = 10.0 // arrivals/s
	DefaultGrowth      = 2.0
	DefaultPrecision   = 0.05
	DefaultMaxRate     = 1000.0 // arrivals/s
	DefaultStep        = 30 * time.Second
	DefaultWarmUp      = 10 * time.Second
	DefaultMaxDuration = 30 * time.Minute
	DefaultMaxCPU      = 0.9
	// DefaultMaxLag is the lag rule's limit (report.LagRule).
	DefaultMaxLag = report.DefaultMaxLag
)

// period is the report period of a step: one second, so that the judged
// window (a whole number of seconds after a whole-second start) is exactly
// a run of periods.
const period = time.Second

// Options shape a search. Zero values take the defaults.
type Options struct {
	Start     float64 // first arrival rate, per second
	Growth    float64 // factor between rising steps, > 1
	Precision float64 // stop bisecting when (fail-pass)/fail is at most this
	MaxRate   float64 // never ask more arrivals per second than this
	// Step is how long each rate is held and judged; WarmUp precedes it at
	// the same rate and is not judged. Both are whole seconds.
	Step, WarmUp time.Duration
	// MaxDuration bounds the whole search: no step starts that could not
	// end inside it.
	MaxDuration time.Duration
	// MaxLag and MaxCPU say when the generator is the limit: a step that
	// the lag rule (report.LagRule) with limit MaxLag finds behind its
	// schedule, or whose process used more than MaxCPU of its cores.
	MaxLag time.Duration
	MaxCPU float64
	// SLOs judge each step; nil compiles the script's ensure section.
	SLOs *slo.Set
	// Run is how one step's load is sent: loadtest options for every step
	// (target, environment, variables, TLS); phases come from the search.
	Run loadtest.Options
	// OnStep is called after each step, for progress.
	OnStep func(i int, s capacity.Step)
	// CPUTime is the process's CPU time so far; nil reads the operating
	// system. A test swaps it to make the generator look saturated.
	CPUTime func() time.Duration
	// Now is the clock; nil is time.Now.
	Now func() time.Time
}

func (o *Options) withDefaults() {
	o.Start = cmp.Or(o.Start, DefaultStart)
	o.Growth = cmp.Or(o.Growth, DefaultGrowth)
	o.Precision = cmp.Or(o.Precision, DefaultPrecision)
	o.MaxRate = cmp.Or(o.MaxRate, DefaultMaxRate)
	o.Step = cmp.Or(o.Step, DefaultStep)
	o.WarmUp = cmp.Or(o.WarmUp, DefaultWarmUp)
	o.MaxDuration = cmp.Or(o.MaxDuration, DefaultMaxDuration)
	o.MaxLag = cmp.Or(o.MaxLag, DefaultMaxLag)
	o.MaxCPU = cmp.Or(o.MaxCPU, DefaultMaxCPU)
	if o.CPUTime == nil {
		o.CPUTime = processCPU
	}
	if o.Now == nil {
		o.Now = time.Now
	}
}

// Validate reports every problem with the options at once.
func (o Options) Validate() error {
	o.withDefaults()
	var errs []error
	check := func(bad bool, format string, args ...any) {
		if bad {
			errs = append(errs, fmt.Errorf(format, args...))
		}
	}
	check(o.Start <= 0, "start rate %v: want arrivals per second above 0", o.Start)
	check(o.Growth <= 1, "growth %v: want a factor above 1, e.g. 2", o.Growth)
	check(o.Precision <= 0 || o.Precision >= 1, "precision %v: want a fraction between 0 and 1, e.g. 0.05", o.Precision)
	check(o.MaxRate < o.Start, "max rate %v is below the start rate %v", o.MaxRate, o.Start)
	for _, d := range []struct {
		name string
		v    time.Duration
	}{{"step", o.Step}, {"warm-up", o.WarmUp}} {
		check(d.v < period || d.v%period != 0, "%s %s: want whole seconds, at least 1s", d.name, d.v)
	}
	check(o.MaxDuration < o.Step+o.WarmUp, "max duration %s is shorter than one step (%s warm-up + %s)", o.MaxDuration, o.WarmUp, o.Step)
	check(o.MaxCPU <= 0 || o.MaxCPU > 1, "max CPU %v: want a share of the cores between 0 and 1", o.MaxCPU)
	return errors.Join(errs...)
}

// Search runs the capacity search for script. Cancelling ctx stops the
// step under way (it is not judged) and returns the steps done so far,
// with LimitInterrupted. The error is non-nil only when a step could not be
// run at all.
func Search(ctx context.Context, script *scenario.Script, o Options) (*capacity.Result, error) {
	if err := o.Validate(); err != nil {
		return nil, fmt.Errorf("%w: %w", loadtest.ErrInvalid, err)
	}
	o.withDefaults()
	slos := o.SLOs
	if slos == nil {
		var errs []error
		if slos, errs = slo.Compile(script.Config.Ensure, slo.ScriptNames(script)); len(errs) > 0 {
			return nil, fmt.Errorf("%w: %w", loadtest.ErrInvalid, errors.Join(errs...))
		}
	}
	names, strict := sloNames(slos)
	if strict == 0 {
		return nil, fmt.Errorf("%w: %s has no strict SLOs to judge steps by: add config.ensure (e.g. thresholds: [http.response_time.p95: 500]) or give --slo", loadtest.ErrInvalid, script.Path)
	}
	target := cmp.Or(o.Run.Target, script.Config.Target)
	res := &capacity.Result{
		Script: script.Path, Target: target, SLOs: names, Started: o.Now(), Steps: []capacity.Step{},
		Settings: capacity.Settings{
			Start: o.Start, Growth: o.Growth, Precision: o.Precision, MaxRate: o.MaxRate,
			StepSeconds: o.Step.Seconds(), WarmSeconds: o.WarmUp.Seconds(), MaxSeconds: o.MaxDuration.Seconds(),
			MaxLagMs: float64(o.MaxLag) / float64(time.Millisecond), MaxCPU: o.MaxCPU,
		},
	}
	s := &search{start: o.Start, growth: o.Growth, precision: o.Precision, maxRate: o.MaxRate}
	// A step costs its warm-up and hold, up to a period waiting for its
	// start, and the drain of the users still in flight.
	cost := o.WarmUp + o.Step + period + runnerDrain(o.Run.Grace)
	for {
		rate, stage, done, limit := s.next()
		if done {
			res.Limit = limit
			break
		}
		if ctx.Err() != nil {
			res.Limit = capacity.LimitInterrupted
			break
		}
		if o.Now().Add(cost).Sub(res.Started) > o.MaxDuration {
			res.Limit = capacity.LimitTime
			break
		}
		st, err := runStep(ctx, script, slos, o, rate, stage)
		if err != nil {
			return nil, err
		}
		if st == nil { // interrupted mid-step: not judged
			res.Limit = capacity.LimitInterrupted
			break
		}
		s.record(*st)
		res.Steps = append(res.Steps, *st)
		if o.OnStep != nil {
			o.OnStep(len(res.Steps)-1, *st)
		}
	}
	res.Seconds = o.Now().Sub(res.Started).Seconds()
	return res, nil
}

// runnerDrain is what the time budget allows for the users still in
// flight when a step's schedule ends.
func runnerDrain(grace time.Duration) time.Duration {
	if grace < 0 {
		return 0
	}
	return cmp.Or(grace, runner.DefaultGrace)
}

// sloNames lists the SLOs as people read them, and counts the strict ones.
func sloNames(slos *slo.Set) (names []string, strict int) {
	for _, r := range slos.Evaluate(&report.Metrics{}) {
		names = append(names, r.Title())
		if r.Strict {
			strict++
		}
	}
	return names, strict
}

// runStep holds rate for the warm-up and the step, and judges the step's
// window alone. It returns nil when ctx ended the step.
func runStep(ctx context.Context, script *scenario.Script, slos *slo.Set, o Options, rate float64, stage capacity.Stage) (*capacity.Step, error) {
	sc := *script
	sc.Config.Phases = []scenario.Phase{
		{Name: "warm-up " + rateLabel(rate), Kind: scenario.PhaseConstant, Duration: o.WarmUp, ArrivalRate: rate},
		{Name: "step " + rateLabel(rate), Kind: scenario.PhaseConstant, Duration: o.Step, ArrivalRate: rate},
	}
	ro := o.Run
	ro.Period = period
	// Start on a period boundary, so the judged window starts on one too.
	now := o.Now()
	ro.StartAt = now.Truncate(period).Add(period)
	cpu0, wall0 := o.CPUTime(), now
	rep, err := loadtest.Run(ctx, &sc, ro, loadtest.Hooks{})
	if err != nil {
		return nil, fmt.Errorf("capacity step at %s arrivals/s: %w", rateLabel(rate), err)
	}
	if rep.Aborted || ctx.Err() != nil {
		return nil, nil
	}
	cpu := float64(o.CPUTime()-cpu0) / float64(o.Now().Sub(wall0)) / float64(runtime.GOMAXPROCS(0))
	window, err := stepWindow(rep, ro.StartAt.Add(o.WarmUp))
	if err != nil {
		return nil, fmt.Errorf("capacity step at %s arrivals/s: %w", rateLabel(rate), err)
	}
	// A capacity search judges by its own SLOs only.
	loadtest.JudgeWith(window, slos, false, report.WithLimit(o.MaxLag))
	return measure(window, o, rate, stage, cpu), nil
}

// stepWindow merges the periods from judgedFrom on (the step, and the drain
// of its last users) into one report to judge.
func stepWindow(rep *report.Report, judgedFrom time.Time) (*report.Report, error) {
	var parts []*report.Report
	for _, m := range rep.Intermediate {
		if m.Period >= judgedFrom.UnixMilli() {
			parts = append(parts, &report.Report{Aggregate: m, Script: rep.Script, PeriodLength: rep.PeriodLength})
		}
	}
	if len(parts) == 0 {
		return nil, errors.New("no period after the warm-up was recorded")
	}
	w, err := report.Merge(parts, true)
	if err != nil {
		return nil, fmt.Errorf("merge the step's periods: %w", err)
	}
	w.Target, w.StartedAt, w.EndedAt = rep.Target, judgedFrom, rep.EndedAt
	// A late start misses a prefix of the schedule (runner.Options.StartAt):
	// the arrivals it missed within the warm-up, phase 0, are not the
	// judged window's, which still got every one of its own.
	w.MissedArrivals = rep.MissedArrivals
	if len(rep.Expected) > 0 {
		w.MissedArrivals = max(0, rep.MissedArrivals-rep.Expected[0].Expected)
	}
	return w, nil
}

// measure reads a judged step window into a step row, and decides whether
// the generator was the limit.
func measure(w *report.Report, o Options, rate float64, stage capacity.Stage, cpu float64) *capacity.Step {
	m := w.Aggregate
	ov := view.Summarize(w)
	secs := o.Step.Seconds()
	st := &capacity.Step{
		Stage: stage, Rate: rate, Started: w.StartedAt, Seconds: secs,
		Achieved:    float64(m.Counters[metric.VUsersCreated]) / secs,
		RequestRate: float64(ov.Requests) / secs,
		Requests:    ov.Requests,
		ErrorRate:   ov.ErrorRate,
		CPU:         cpu,
		Pass:        w.SLOsPassed(),
	}
	lat := m.Summaries[metric.ResponseTime]
	st.P50, st.P95, st.P99 = lat.P50, lat.P95, lat.P99
	st.LagP99 = m.Summaries[metric.ScheduleLag].P99
	for _, r := range w.SLO {
		if r.Strict && !r.OK {
			st.Failed = append(st.Failed, r.Title()+" ("+r.Measured()+")")
		}
	}
	switch {
	case st.Achieved < 0.9*rate:
		st.Generator = fmt.Sprintf("started %s of the %s arrivals asked", rateLabel(st.Achieved), rateLabel(rate))
	case w.MissedArrivals > 0:
		st.Generator = fmt.Sprintf("%d arrivals could not start", w.MissedArrivals)
	case w.FellBehind():
		st.Generator = fmt.Sprintf("%d of %d arrivals started more than %s late", w.Lag.Late, w.Lag.Arrivals, o.MaxLag)
	case cpu > o.MaxCPU:
		st.Generator = fmt.Sprintf("generator CPU %.0f%% of %d cores > %.0f%%", 100*cpu, runtime.GOMAXPROCS(0), 100*o.MaxCPU)
	}
	if st.Generator != "" {
		st.Pass = false
	}
	slices.Sort(st.Failed)
	return st
}

func rateLabel(r float64) string {
	if r == math.Trunc(r) {
		return strconv.FormatFloat(r, 'f', 0, 64) + "/s"
	}
	return strconv.FormatFloat(r, 'f', 2, 64) + "/s"
}
