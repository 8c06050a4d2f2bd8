package cmd

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/google/uuid"
	"github.com/primeload/primeload/report"
	"github.com/primeload/primeload/report/html"
	"github.com/primeload/primeload/report/junit"
	"github.com/primeload/primeload/report/mdsummary"
	"github.com/primeload/primeload/report/slo"
	"github.com/primeload/primeload/runner"
	"github.com/primeload/primeload/scenario"
	"github.com/primeload/primeload/target"
)

// tickEvery is how often progress bars redraw their numbers between periods.
const tickEvery = 250 * time.Millisecond

// runRun loads the script, sends its load and reports. Everything that can
// be checked before the first request is checked first, so a typo costs no load.
func runRun(ctx context.Context, s *State, o *RunOptions) error {
	// Read once: the digest that lets segment reports merge must be of the
	// very bytes that were run.
	src, err := os.ReadFile(o.Script)
	if err != nil {
		return usageError(s, fmt.Errorf("read script: %w", err))
	}
	script, err := scenario.Parse(o.Script, src, scenario.LoadOptions{
		Environment: o.Environment, Vars: o.Vars, AllowOutsidePayload: o.AllowOutsidePayload, Env: s.LookupEnv,
	})
	if err != nil {
		return usageError(s, err)
	}
	slos, errs := slo.Compile(script.Config.Ensure, script.Endpoints)
	if len(errs) > 0 {
		return usageError(s, errors.Join(errs...))
	}
	sched, err := runner.NewSchedule(script.Config.Phases, o.Segment)
	if err != nil {
		return usageError(s, fmt.Errorf("%s: %w", o.Script, err))
	}
	outs := outputsOf(s, o)
	if err := checkOutputs(outs); err != nil {
		return usageError(s, err)
	}

	if o.DebugAddr != "" {
		addr, stop, err := startDebug(ctx, o.DebugAddr)
		if err != nil {
			return usageError(s, err)
		}
		defer stop()
		fmt.Fprintf(s.Err, "pprof on http://%s/debug/pprof/\n", addr)
	}
	env := s.LookupEnv
	targetURL := o.Target
	if o.WithTarget {
		url, token, stop, err := startTarget(ctx)
		if err != nil {
			return usageError(s, err)
		}
		defer stop()
		targetURL, env = url, withEnv(env, "API_TOKEN", token)
		fmt.Fprintf(s.Err, "reference target on %s (API_TOKEN set for the script)\n", url)
	}
	if targetURL == "" {
		targetURL = script.Config.Target
	}

	start := later(time.Now(), o.StartAt)
	if o.StartAt.After(time.Now()) {
		fmt.Fprintf(s.Err, "waiting until %s (--start-at) for the first arrival\n", o.StartAt.Format(time.RFC3339))
	}
	col := report.NewCollector(start, report.Info{
		Target:      targetURL,
		Script:      scriptInfo(script, src),
		Environment: script.Environment,
		Segment:     segmentLabel(o.Segment),
		Version:     Version,
		Period:      o.Period,
	})
	r := &liveRun{s: s, o: o, col: col, sched: sched, start: start, rate: rateWindow{span: time.Second}}
	rep, out, err := r.run(ctx, script, runner.Options{
		Target:   targetURL,
		Vars:     o.Vars,
		Env:      env,
		Segment:  o.Segment,
		StartAt:  o.StartAt,
		Grace:    runnerGrace(o.Grace),
		Insecure: o.Insecure,
		Log:      s.Err,
	})
	if err != nil {
		return &ExitError{Code: ExitUsage, Err: err}
	}
	return r.finish(rep, out, slos, outs)
}

// later returns the later of two instants.
func later(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}

// runnerGrace maps --grace to runner.Options.Grace, where 0 means the default.
func runnerGrace(d time.Duration) time.Duration {
	if d == 0 {
		return -1
	}
	return d
}

// segmentLabel is the report's segment field: empty for a whole run.
func segmentLabel(seg runner.Segment) string {
	if seg == (runner.Segment{}) {
		return ""
	}
	return seg.String()
}

// usageError prints every problem, one per line, and exits 2.
func usageError(s *State, err error) error {
	fmt.Fprintln(s.Err, err)
	return &ExitError{Code: ExitUsage}
}

// startTarget starts the reference target in this process with a fresh
// token; stop drains it and returns once it has exited.
func startTarget(ctx context.Context) (url, token string, stop func(), err error) {
	token = "primeload-" + uuid.NewString()
	url, stopCtx, err := target.StartLocal(ctx, target.LocalOptions{Token: token})
	if err != nil {
		return "", "", nil, err
	}
	return url, token, func() {
		// Virtual users are done by now; in-flight stragglers get a moment.
		c, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		_ = stopCtx(c)
	}, nil
}

// withEnv overlays one variable on an environment lookup.
func withEnv(lookup func(string) (string, bool), name, value string) func(string) (string, bool) {
	return func(k string) (string, bool) {
		if k == name {
			return value, true
		}
		return lookup(k)
	}
}

// scriptInfo records the script in the report so SLOs can be re-checked later.
func scriptInfo(sc *scenario.Script, src []byte) report.ScriptInfo {
	return report.ScriptInfo{
		Path: sc.Path, Digest: report.ScriptDigest(src), Endpoints: sc.Endpoints, Ensure: report.EnsureFrom(sc.Config.Ensure),
	}
}

// liveRun is one run in progress: the runner in one goroutine, and this one
// flushing periods, drawing progress and writing the report as it goes.
type liveRun struct {
	s     *State
	o     *RunOptions
	col   *report.Collector
	sched *runner.Schedule
	start time.Time // the collector's start

	mu         sync.Mutex
	schedStart time.Time // zero until the first phase starts
	phase      runner.PhasePlan
	periods    int
	rate       rateWindow
}

// run sends the load until the schedule ends or an interrupt stops it, and
// returns the final report (SLOs not yet evaluated) and the runner's outcome.
func (r *liveRun) run(ctx context.Context, script *scenario.Script, ropts runner.Options) (*report.Report, *runner.Outcome, error) {
	runCtx, stopArrivals := context.WithCancel(ctx)
	defer stopArrivals()
	kill := make(chan struct{})
	ropts.Stop = kill
	ropts.OnPhase = r.onPhase

	type result struct {
		out *runner.Outcome
		err error
	}
	done := make(chan result, 1)
	go func() {
		out, err := runner.Run(runCtx, script, r.col, ropts)
		done <- result{out, err}
	}()

	watchCtx, stopWatch := context.WithCancel(ctx)
	interrupted := make(chan bool, 1)
	go func() {
		var once sync.Once
		interrupted <- watchInterrupts(watchCtx, r.s.Signals, r.s.Err, r.o.Grace, stopArrivals, func() { once.Do(func() { close(kill) }) })
	}()

	disp := newDisplay(r.s.Out, r.s.IsTerminal, r.o.Quiet)
	tick := time.NewTicker(tickEvery)
	defer tick.Stop()
	flush := time.NewTimer(time.Until(r.col.NextFlush(r.start)))
	defer flush.Stop()
	var res result
	// Failures while the run goes on are reported once each; the load
	// continues, and the final flush and write decide the outcome.
	var flushFailed, writeFailed bool
loop:
	for {
		select {
		case res = <-done:
			break loop
		case <-tick.C:
			disp.Show(r.stats(), nil)
		case now := <-flush.C:
			flush.Reset(time.Until(r.col.NextFlush(now)))
			m, err := r.col.Flush(now)
			if err != nil {
				if !flushFailed {
					fmt.Fprintln(r.s.Err, "primeload:", err)
				}
				flushFailed = true
				continue
			}
			r.mu.Lock()
			r.periods++
			r.mu.Unlock()
			disp.Show(r.stats(), m)
			// A report on disk after every period: a crash or SIGKILL
			// loses at most the period in progress.
			if err := r.writeProgress(); err != nil {
				if !writeFailed {
					fmt.Fprintln(r.s.Err, "primeload:", err)
				}
				writeFailed = true
			}
		}
	}
	stopWatch()
	wasInterrupted := <-interrupted
	if res.err != nil {
		disp.Close(true)
		return nil, nil, res.err
	}
	if _, err := r.col.Flush(time.Now()); err != nil {
		disp.Close(true)
		return nil, nil, err
	}
	aborted := res.out.Aborted || wasInterrupted
	disp.Close(aborted)
	rep := r.col.Report()
	fillOutcome(rep, res.out, r.sched)
	rep.Aborted = aborted
	return rep, res.out, nil
}

func (r *liveRun) onPhase(p runner.PhasePlan) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.schedStart.IsZero() {
		r.schedStart = time.Now().Add(-p.Start)
	}
	r.phase = p
}

// stats samples the run for the display.
func (r *liveRun) stats() liveStats {
	live := r.col.Live()
	r.mu.Lock()
	defer r.mu.Unlock()
	st := liveStats{
		Total:     r.sched.Duration(),
		Phases:    len(r.sched.Phases),
		ActiveVUs: live.VUsersActive,
		Rate:      r.rate.add(time.Now(), live.Requests),
		P99:       math.NaN(),
		Errors:    live.Errors,
		Start:     r.start,
	}
	if r.periods > 0 && live.LastP99 > 0 {
		st.P99 = float64(live.LastP99) / float64(time.Millisecond)
	}
	if !r.schedStart.IsZero() {
		st.Elapsed = time.Since(r.schedStart)
		st.PhaseNo = r.phase.Index + 1
		st.Phase = r.phase.Name
		st.PhaseTotal = r.phase.Duration
		st.PhaseElapsed = min(max(st.Elapsed-r.phase.Start, 0), r.phase.Duration)
	}
	return st
}

// writeProgress rewrites --output with the periods so far. Until the final
// write the report says aborted, which is what it is if the process dies.
func (r *liveRun) writeProgress() error {
	if r.o.Output == "" {
		return nil
	}
	rep := r.col.Report()
	rep.Aborted = true
	for _, p := range r.sched.Phases {
		rep.Expected = append(rep.Expected, report.PhaseArrivals{Name: phaseName(p.Index, p.Name), Expected: int64(p.Expected)})
	}
	return report.WriteFile(r.o.Output, rep)
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

// finish evaluates the SLOs, prints the summary, writes every output and
// chooses the exit code.
func (r *liveRun) finish(rep *report.Report, out *runner.Outcome, slos *slo.Set, outs []output) error {
	results := slos.Evaluate(rep.Aggregate)
	slo.Record(rep, results)
	untrusted, _ := slo.Untrusted(rep.Aggregate) // the summary says why in plain words

	w := r.s.Out
	fmt.Fprintln(w)
	if err := report.WriteSummary(w, rep); err != nil {
		return &ExitError{Code: ExitUsage, Err: err}
	}
	if len(results) > 0 {
		fmt.Fprintln(w)
		if err := slo.Print(w, results); err != nil {
			return &ExitError{Code: ExitUsage, Err: err}
		}
	}
	var errs []error
	for _, o := range outs {
		if err := o.write(rep, results); err != nil {
			errs = append(errs, err)
		}
	}
	code := exitFor(rep.Aborted, untrusted, !slo.Passed(results), out.ExpectFailed > 0)
	if segmentDefers(code, r.o.Segment) {
		fmt.Fprintf(w, "\nsegment %s: the verdict (exit %d) belongs to the merged run; `primeload report` over every part gates it, so this part exits 0\n", r.o.Segment, code)
		code = ExitOK
	}
	if len(errs) > 0 {
		// A report that could not be written fails the run even when the
		// load went well: CI must not pass with a missing artefact.
		return &ExitError{Code: max(code, ExitUsage), Err: errors.Join(errs...)}
	}
	if code != ExitOK {
		return &ExitError{Code: code}
	}
	return nil
}

// segmentDefers reports whether one part of a distributed run should leave
// its verdict to the merge. A part's SLOs, lag and expectations describe a
// slice of the load: the merged report judges the whole, and a part exiting
// non-zero would make a Kubernetes Indexed Job retry it, sending its load
// again. Interrupts and usage errors still count.
func segmentDefers(code int, seg runner.Segment) bool {
	switch code {
	case ExitSLO, ExitUntrusted, ExitExpect:
		return seg.Count > 1
	}
	return false
}

// exitFor chooses the exit code of a finished run. An interrupted run is
// incomplete, so 130 wins. An untrusted run (the generator fell behind) comes
// next: its latencies are wrong in either direction, late arrivals hide
// queueing and a starved generator adds its own delay, so neither a pass nor
// a failure says anything about the target; CI should rerun on a bigger
// machine rather than blame the service. Then a strict SLO failure, then
// failed expectations, as Artillery orders them.
func exitFor(aborted, untrusted, sloFailed, expectFailed bool) int {
	switch {
	case aborted:
		return ExitInterrupted
	case untrusted:
		return ExitUntrusted
	case sloFailed:
		return ExitSLO
	case expectFailed:
		return ExitExpect
	}
	return ExitOK
}

// writer is the shape of every report writer: the report and its SLO results.
type writer func(w io.Writer, r *report.Report, results []slo.Result) error

// output is one file the run writes at the end.
type output struct {
	path  string
	write func(rep *report.Report, results []slo.Result) error
}

// outputsOf lists the files to write, in a fixed order.
func outputsOf(s *State, o *RunOptions) []output {
	var outs []output
	file := func(path string, appendTo bool, write writer) {
		if path == "" {
			return
		}
		outs = append(outs, output{path: path, write: func(rep *report.Report, results []slo.Result) error {
			return writeFile(path, appendTo, func(w io.Writer) error { return write(w, rep, results) })
		}})
	}
	if o.Output != "" {
		// Atomic, as after every period: the last complete report survives anything.
		outs = append(outs, output{path: o.Output, write: func(rep *report.Report, _ []slo.Result) error {
			return report.WriteFile(o.Output, rep)
		}})
	}
	file(o.JUnit, false, junit.Write)
	file(o.HTML, false, html.Write)
	file(o.HdrLog, false, func(w io.Writer, r *report.Report, _ []slo.Result) error { return report.WriteHdrLog(w, r) })
	file(o.SummaryMD, false, mdsummary.Write)
	if gh := s.Getenv("GITHUB_STEP_SUMMARY"); gh != "" {
		file(gh, true, mdsummary.Write)
	}
	return outs
}

// writeFile replaces path atomically with what write produces, or appends
// to it (GitHub's step summary, which other steps also write).
func writeFile(path string, appendTo bool, write func(io.Writer) error) error {
	if !appendTo {
		if err := report.WriteAtomic(path, write); err != nil {
			return fmt.Errorf("write %s: %w", path, err)
		}
		return nil
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644)
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	bw := bufio.NewWriter(f)
	err = write(bw)
	if err == nil {
		err = bw.Flush()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}

// checkOutputs fails before any load when an output could not be written,
// rather than after an hour of measurements.
func checkOutputs(outs []output) error {
	var errs []error
	for _, o := range outs {
		dir := filepath.Dir(o.path)
		if fi, err := os.Stat(dir); err != nil || !fi.IsDir() {
			errs = append(errs, fmt.Errorf("output %s: folder %s does not exist", o.path, dir))
		} else if fi, err := os.Stat(o.path); err == nil && fi.IsDir() {
			errs = append(errs, fmt.Errorf("output %s: is a folder, want a file name", o.path))
		}
	}
	return errors.Join(errs...)
}
