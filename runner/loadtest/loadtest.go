// Package loadtest runs a compiled script end to end and judges it: the
// runner sends the load into a report collector, periods are flushed on
// wall-clock boundaries, and the finished report carries the phases'
// arrivals, the SLO results and the verdict. The CLI is one caller; any Go
// program that embeds primeload gets the same report from the same call.
package loadtest

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/primeload/primeload/report"
	"github.com/primeload/primeload/report/metric"
	"github.com/primeload/primeload/report/slo"
	"github.com/primeload/primeload/runner"
	"github.com/primeload/primeload/scenario"
)

// Version is primeload's version, stamped into every report.
const Version = "0.1.0"

// DefaultPeriod is the length of an intermediate period when Options.Period is 0.
const DefaultPeriod = 10 * time.Second

// DefaultTickEvery is how often Hooks.Tick is called when Hooks.TickEvery is 0.
const DefaultTickEvery = 250 * time.Millisecond

// Options shape one run. The zero value runs the script as written.
type Options struct {
	// Target overrides config.target; "" keeps the script's.
	Target string
	// Vars set script variables; they win over config.variables, payload
	// rows and before-flow captures.
	Vars map[string]string
	// Env looks up $env.NAME and $processEnvironment.NAME; nil sees none.
	Env func(string) (string, bool)
	// Segment is this process's share of a distributed run; zero for all.
	Segment runner.Segment
	// StartAt is the wall-clock instant of the schedule start; zero starts now.
	StartAt time.Time
	// Grace is how long virtual users in flight may finish once ctx is
	// cancelled: 0 means runner.DefaultGrace, negative none.
	Grace time.Duration
	// Stop, when closed, ends the grace period at once (a second Ctrl-C).
	Stop <-chan struct{}
	// Insecure skips TLS certificate checks.
	Insecure bool
	// Period is the length of an intermediate period; 0 means DefaultPeriod.
	Period time.Duration
	// MaxEndpoints bounds the distinct endpoints recorded separately (see
	// report.Info), and named from rendered URLs (runner.Options); 0 means
	// metric.MaxEndpoints.
	MaxEndpoints int
	// MaxBodyBytes and MaxDecodedBytes are runner.Options' (how much of a
	// response body is read, and decompressed for a capture or an
	// expectation); 0 means the runner's defaults.
	MaxBodyBytes, MaxDecodedBytes int64
	// Log receives the script's log steps and, once each, problems that do
	// not stop the run (a period that could not be flushed); nil discards.
	Log io.Writer
	// Source is the script's content as read. Its digest is recorded so the
	// parts of a distributed run merge only with parts of the same script;
	// nil records none and merging falls back to the path.
	Source []byte
	// Seed makes scenario picks and $random* values repeatable; 0 picks one.
	Seed uint64
	// Trace and TraceN are runner.Options' (a sample of exchanges with
	// their requests and responses); nil traces nothing.
	Trace  runner.Tracer
	TraceN int
	// NoDefaultChecks judges a script without SLOs by nothing but its
	// expectations, as before the default checks (defaultChecks).
	NoDefaultChecks bool
	// Checkpoint is a file the run keeps its periods in as it goes (see
	// report.Checkpoint): created before any load, one line appended per
	// period, so memory holds the aggregate and the open period however
	// long the run, and a killed run leaves every complete period on disk.
	// The finished report's periods stay in it (report.Report.Spill): the
	// report reads them back one at a time whenever it is written, through
	// a descriptor it holds until Report.Close, so the caller may replace
	// the file with that report or remove it. "" keeps the periods in memory.
	Checkpoint string
	// MaxLag is the lag rule's limit (report.LagRule): how late an arrival
	// may start before it counts as late; 0 means report.DefaultMaxLag.
	MaxLag time.Duration
	// BeforeArrival is runner.Options.BeforeArrival, for tests that starve
	// the scheduler.
	BeforeArrival func()
}

// Hooks let a caller watch a run. Every hook may be nil. They are called
// from the goroutine that called Run, except Phase, and must return quickly:
// the run's period flushes wait for them.
type Hooks struct {
	// Phase is called from the scheduler when a phase starts.
	Phase func(runner.PhasePlan)
	// Tick is called every TickEvery with a sample of the run, for live
	// progress.
	Tick      func(Sample)
	TickEvery time.Duration
	// Period is called after each intermediate period is flushed.
	Period func(period *report.Metrics, s Sample)
	// Step is called after each whole second closes a point of the fine
	// series (report.Series, report.SeriesStep), for live views that move
	// faster than the periods.
	Step func(s Sample)
	// Collector is called once, before any load, with the collector the
	// run records into, for exporters that read it while the run goes
	// (report.Collector.Snapshot is safe from any goroutine).
	Collector func(*report.Collector)
	// Checkpoint is called, from the goroutine that writes
	// Options.Checkpoint, each time a period is safely on disk, with the
	// number of periods written so far.
	Checkpoint func(periods int)
}

// Sample is one look at a run in progress.
type Sample struct {
	Live report.Live
	// Start is the collector's start, which period lines count from.
	Start time.Time
	// ScheduleStart is zero until the first phase starts.
	ScheduleStart time.Time
	// Phase is the current phase, valid once ScheduleStart is set.
	Phase runner.PhasePlan
	// Phases and Duration describe this segment's whole schedule.
	Phases   int
	Duration time.Duration
	// Periods is how many intermediate periods were flushed so far.
	Periods int
	// Arrivals is each phase's arrivals so far, as a checkpoint records
	// them (the report's Expected while the run goes).
	Arrivals []report.PhaseArrivals
}

// Validate reports every problem that would stop script from running under
// opts, before anything is sent: its SLOs and its schedule.
func Validate(script *scenario.Script, seg runner.Segment) error {
	_, _, err := prepare(script, seg)
	return err
}

func prepare(script *scenario.Script, seg runner.Segment) (*slo.Set, *runner.Schedule, error) {
	slos, errs := slo.Compile(script.Config.Ensure, slo.ScriptNames(script))
	sched, err := runner.NewSchedule(script.Config.Phases, seg)
	if err != nil {
		errs = append(errs, fmt.Errorf("%s: %w", script.Path, err))
	}
	return slos, sched, errors.Join(errs...)
}

// ErrInvalid marks an error returned before any load was sent: the script,
// its SLOs or the options cannot run.
var ErrInvalid = errors.New("invalid input")

// invalidError is an error before any load: errors.Is(err, ErrInvalid)
// holds and its text is the problem's own.
type invalidError struct{ err error }

func (e invalidError) Error() string   { return e.err.Error() }
func (e invalidError) Unwrap() []error { return []error{e.err, ErrInvalid} }

func invalid(err error) error { return invalidError{err} }

// Run sends the load script describes and returns the finished, judged
// report. Cancelling ctx is an interrupt: no new arrivals start, virtual
// users in flight get Options.Grace, and the report comes back marked
// aborted. The error is non-nil only when the run could not be done: before
// any load (errors.Is(err, ErrInvalid)), or when the measurements could
// not be folded into a report.
func Run(ctx context.Context, script *scenario.Script, opts Options, hooks Hooks) (*report.Report, error) {
	slos, sched, err := prepare(script, opts.Segment)
	if err != nil {
		return nil, invalid(err)
	}
	if err := checkStartAt(opts.StartAt, sched.Duration(), time.Now()); err != nil {
		return nil, invalid(err)
	}
	target := opts.Target
	if target == "" {
		target = script.Config.Target
	}
	period := opts.Period
	if period <= 0 {
		period = DefaultPeriod
	}
	start := time.Now()
	if opts.StartAt.After(start) {
		start = opts.StartAt
	}
	col := report.NewCollector(start, report.Info{
		Target:       target,
		Script:       scriptInfo(script, opts.Source),
		Environment:  script.Environment,
		Segment:      segmentLabel(opts.Segment),
		Version:      Version,
		Period:       period,
		MaxEndpoints: opts.MaxEndpoints,
		DropPeriods:  opts.Checkpoint != "",

		MetricsNamespace: script.Config.Plugins.Endpoints.Namespace,
	})
	l := &live{col: col, sched: sched, start: start, hooks: hooks, log: opts.Log, progress: &runner.Progress{}}
	l.phaseBase = make([]arrivals, len(sched.Phases))
	if opts.Checkpoint != "" {
		// Before any load: an output that cannot be written is a usage
		// error now, not a lost report after the whole run.
		head := col.Report()
		head.Expected = l.phasesSoFar()
		if l.ckpt, err = startCheckpointer(opts.Checkpoint, head, hooks.Checkpoint, opts.Log); err != nil {
			return nil, invalid(err)
		}
	}
	if hooks.Collector != nil {
		hooks.Collector(col)
	}
	out, err := l.run(ctx, script, runner.Options{
		Target:   opts.Target,
		Vars:     opts.Vars,
		Env:      opts.Env,
		Segment:  opts.Segment,
		StartAt:  opts.StartAt,
		Grace:    opts.Grace,
		Stop:     opts.Stop,
		Insecure: opts.Insecure,
		Log:      opts.Log,
		Seed:     opts.Seed,
		Trace:    opts.Trace,
		TraceN:   opts.TraceN,
		Progress: l.progress,
		OnPhase:  l.onPhase,
		// The runner folds rendered names at the collector's bound, so
		// both agree on which endpoints are (other).
		MaxEndpoints:    opts.MaxEndpoints,
		MaxBodyBytes:    opts.MaxBodyBytes,
		MaxDecodedBytes: opts.MaxDecodedBytes,
		BeforeArrival:   opts.BeforeArrival,
	})
	if err != nil {
		if l.ckpt != nil {
			l.ckpt.wait()
		}
		return nil, err
	}
	rep := col.Report()
	if l.ckpt != nil {
		l.ckpt.finish(rep) // every period, the last included, is handed over by now
	}
	fillOutcome(rep, out, sched)
	rep.Aborted = out.Aborted || ctx.Err() != nil
	JudgeWith(rep, slos, !opts.NoDefaultChecks, report.WithLimit(opts.MaxLag))
	return rep, nil
}

// checkStartAt refuses a start so far in the past that the whole schedule
// is over: such a run would send nothing and only count misses. A start
// less late joins the schedule where it is, and the arrivals it missed make
// the run untrusted (report.Report.Untrusted).
func checkStartAt(at time.Time, duration time.Duration, now time.Time) error {
	if at.IsZero() {
		return nil
	}
	if late := now.Sub(at); late >= duration {
		return fmt.Errorf("start time (--start-at) %s is %s in the past, and the whole schedule takes %s: no arrival would be sent; give a later time or +DURATION",
			at.UTC().Format(time.RFC3339), late.Round(time.Millisecond), duration)
	}
	return nil
}

// live is a run in progress: the runner in one goroutine, and the caller's
// goroutine flushing periods and calling the hooks.
type live struct {
	col      *report.Collector
	sched    *runner.Schedule
	start    time.Time
	hooks    Hooks
	log      io.Writer
	progress *runner.Progress
	ckpt     *checkpointer // nil without Options.Checkpoint

	mu            sync.Mutex
	scheduleStart time.Time
	phase         runner.PhasePlan
	// phaseBase[i] is how many virtual users had been created and skipped
	// when phase i started, so a checkpoint can tell each phase's arrivals.
	phaseBase []arrivals
	started   int // phases started so far
	periods   int
}

func (l *live) run(ctx context.Context, script *scenario.Script, ropts runner.Options) (*runner.Outcome, error) {
	type result struct {
		out *runner.Outcome
		err error
	}
	done := make(chan result, 1)
	go func() {
		out, err := runner.Run(ctx, script, l.col, ropts)
		done <- result{out, err}
	}()

	every := l.hooks.TickEvery
	if every <= 0 {
		every = DefaultTickEvery
	}
	var tickC <-chan time.Time
	if l.hooks.Tick != nil {
		tick := time.NewTicker(every)
		defer tick.Stop()
		tickC = tick.C
	}
	flush := time.NewTimer(time.Until(l.col.NextFlush(l.start)))
	defer flush.Stop()
	// The fine series steps on whole seconds, as periods flush on their
	// boundaries, so the series of separate generators line up.
	nextSecond := func(t time.Time) time.Duration {
		return time.Until(t.Truncate(report.SeriesStep).Add(report.SeriesStep))
	}
	second := time.NewTimer(nextSecond(l.start))
	defer second.Stop()
	// A failing flush is reported once; the load goes on and the final
	// flush decides.
	var flushFailed bool
	for {
		select {
		case res := <-done:
			if res.err != nil {
				return nil, invalid(res.err)
			}
			end := time.Now()
			l.col.Tick(end)
			m, err := l.col.Flush(end)
			if err != nil {
				return nil, fmt.Errorf("flush the last period: %w", err)
			}
			l.spill(m)
			if _, err := l.col.Aggregate(); err != nil {
				return nil, err
			}
			return res.out, nil
		case <-tickC:
			l.hooks.Tick(l.sample())
		case now := <-second.C:
			second.Reset(nextSecond(now))
			l.col.Tick(now)
			if l.hooks.Step != nil {
				l.hooks.Step(l.sample())
			}
		case now := <-flush.C:
			flush.Reset(time.Until(l.col.NextFlush(now)))
			m, err := l.col.Flush(now)
			if err != nil {
				if !flushFailed && l.log != nil {
					fmt.Fprintln(l.log, "primeload:", err)
				}
				flushFailed = true
				continue
			}
			l.mu.Lock()
			l.periods++
			l.mu.Unlock()
			l.spill(m)
			if l.hooks.Period != nil {
				l.hooks.Period(m, l.sample())
			}
		}
	}
}

// arrivals are running totals of the runner's progress.
type arrivals struct{ created, skipped int64 }

func (l *live) arrivals() arrivals {
	return arrivals{created: l.progress.Created(), skipped: l.progress.Skipped()}
}

func (l *live) onPhase(p runner.PhasePlan) {
	now := l.arrivals()
	l.mu.Lock()
	if l.scheduleStart.IsZero() {
		l.scheduleStart = time.Now().Add(-p.Start)
	}
	l.phase = p
	if p.Index < len(l.phaseBase) {
		l.phaseBase[p.Index] = now
		l.started = p.Index + 1
	}
	l.mu.Unlock()
	if l.hooks.Phase != nil {
		l.hooks.Phase(p)
	}
}

func (l *live) sample() Sample {
	lv := l.col.Live()
	arrivals := l.phasesSoFar()
	l.mu.Lock()
	defer l.mu.Unlock()
	return Sample{
		Live:          lv,
		Start:         l.start,
		ScheduleStart: l.scheduleStart,
		Phase:         l.phase,
		Phases:        len(l.sched.Phases),
		Duration:      l.sched.Duration(),
		Periods:       l.periods,
		Arrivals:      arrivals,
	}
}

// spill hands a flushed period to the checkpoint, with the run's state.
func (l *live) spill(m *report.Metrics) {
	if l.ckpt == nil {
		return
	}
	l.ckpt.add(m, report.CheckpointState{Expected: l.phasesSoFar(), Failures: l.col.Failures()})
}

// phasesSoFar is each phase's arrivals so far: a started phase's are those
// counted between its start and the next phase's; the runner's exact
// per-phase counts replace them in the final report.
func (l *live) phasesSoFar() []report.PhaseArrivals {
	now := l.arrivals()
	l.mu.Lock()
	defer l.mu.Unlock()
	out := make([]report.PhaseArrivals, 0, len(l.sched.Phases))
	for i, p := range l.sched.Phases {
		pa := report.PhaseArrivals{Name: phaseName(p.Index, p.Name), Expected: int64(p.Expected)}
		if i < l.started {
			end := now
			if i+1 < l.started {
				end = l.phaseBase[i+1]
			}
			pa.Created = end.created - l.phaseBase[i].created
			pa.Skipped = end.skipped - l.phaseBase[i].skipped
			if p.Kind == scenario.PhaseClosed {
				pa.VUsers = int64(p.VUsers)
			}
			pa.Start = l.scheduleStart.Add(p.Start).UnixMilli()
		}
		out = append(out, pa)
	}
	return out
}

// fillOutcome copies what only the runner knows into the report.
func fillOutcome(rep *report.Report, out *runner.Outcome, sched *runner.Schedule) {
	rep.Expected = rep.Expected[:0]
	for i, p := range out.Phases {
		pa := report.PhaseArrivals{
			Name: phaseName(p.Index, p.Name), Expected: int64(p.Expected), Created: int64(p.Created), Skipped: int64(p.Skipped),
		}
		if i < len(sched.Phases) && p.Kind == scenario.PhaseClosed {
			pa.VUsers = int64(sched.Phases[i].VUsers)
		}
		if i < len(sched.Phases) && !out.Started.IsZero() && out.Ended.Sub(out.Started) >= sched.Phases[i].Start {
			pa.Start = out.Started.Add(sched.Phases[i].Start).UnixMilli()
		}
		rep.Expected = append(rep.Expected, pa)
	}
	rep.MissedArrivals = int64(out.Missed)
	if !out.Started.IsZero() {
		rep.StartedAt = out.Started
	}
	if !out.Ended.IsZero() {
		rep.EndedAt = out.Ended
	}
}

// phaseName is the phase's name, or "phase N" for an unnamed one.
func phaseName(i int, name string) string {
	if name != "" {
		return name
	}
	return fmt.Sprintf("phase %d", i+1)
}

// segmentLabel is the report's segment field: empty for a whole run.
func segmentLabel(seg runner.Segment) string {
	if seg == (runner.Segment{}) {
		return ""
	}
	return seg.String()
}

// scriptInfo records the script in the report so SLOs can be re-checked later.
func scriptInfo(sc *scenario.Script, src []byte) report.ScriptInfo {
	info := report.ScriptInfo{Path: sc.Path, Endpoints: sc.Endpoints, Scenarios: sc.ScenarioLabels(), EndpointMethods: sc.EndpointMethods, Ensure: sc.Config.Ensure}
	if src != nil {
		info.Digest = report.ScriptDigest(src)
	}
	return info
}

// Judge evaluates slos over the report's aggregate, stores the results and
// the verdict in it and returns the verdict. It is the one judge of a run:
// Run calls it on a live run, `primeload report` on a report read back or
// merged, so both say the same of the same measurements. The verdicts win
// in the order report.Interrupted, Untrusted, SLOFailed, ExpectFailed: an
// aborted run (interrupted, killed, or merged with such a part) did not send
// its schedule, so nothing else it says can pass a gate; an untrusted run's
// latencies are wrong in either direction, so neither a pass nor a failure
// says anything about the target; then strict SLOs, then expectations, as
// Artillery orders them.
func Judge(rep *report.Report, slos *slo.Set) report.Verdict {
	return JudgeWith(rep, slos, true, rep.LagRule())
}

// JudgeWith is Judge, applying the default checks to a script without SLOs
// only when defaults is set, and judging the schedule lag by lag.
func JudgeWith(rep *report.Report, slos *slo.Set, defaults bool, lag report.LagRule) report.Verdict {
	if rep.Aggregate == nil {
		rep.Aggregate = &report.Metrics{Counters: map[string]int64{}}
	}
	agg := rep.Aggregate
	results := slos.Evaluate(agg)
	if defaults && slos.Len() == 0 {
		results = defaultChecks(rep)
	}
	slo.Record(rep, results)
	// A histogram that does not decode was refused when the report was
	// read or merged; the lag it would have counted stays unjudged.
	_ = rep.JudgeLag(lag)
	untrusted, _ := rep.Untrusted() // the summary says why in plain words
	switch {
	case rep.Aborted:
		rep.Verdict = report.Interrupted
	case untrusted:
		rep.Verdict = report.Untrusted
	case !rep.SLOsPassed():
		rep.Verdict = report.SLOFailed
	case agg.Counters[metric.ExpectFailed] > 0:
		rep.Verdict = report.ExpectFailed
	default:
		rep.Verdict = report.Pass
	}
	if rep.Verdict == report.Interrupted || rep.Verdict == report.Untrusted {
		// SLOs that held over a run that missed arrivals, fell behind or
		// stopped early say nothing about the target: a reader of passed
		// must not see true where the exit code says the gate failed.
		f := false
		rep.Passed = &f
	}
	return rep.Verdict
}
