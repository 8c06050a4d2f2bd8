package cmd

import (
	"bufio"
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"
	"github.com/primeload/primeload/report"
	"github.com/primeload/primeload/report/html"
	"github.com/primeload/primeload/report/junit"
	"github.com/primeload/primeload/report/mdsummary"
	"github.com/primeload/primeload/report/slo"
	"github.com/primeload/primeload/runner"
	"github.com/primeload/primeload/runner/loadtest"
	"github.com/primeload/primeload/scenario"
	"github.com/primeload/primeload/target"
)

// runRun loads the script, has loadtest run and judge it, and reports.
// Everything that can be checked before the first request is checked first,
// so a typo costs no load.
func runRun(ctx context.Context, s *State, o *RunOptions) error {
	// Read once: the digest that lets segment reports merge must be of the
	// very bytes that were run.
	src, err := os.ReadFile(o.Script)
	if err != nil {
		return usageError(s, fmt.Errorf("read script: %w", err))
	}
	parseEnv := o.Shape.env(s.LookupEnv)
	if o.WithTarget {
		// The target started below sets API_TOKEN for the script, so the
		// loader must not call it unset.
		parseEnv = withEnv(parseEnv, "API_TOKEN", "")
	}
	layers, err := targetLayer(o.Shape.Layers, o.Target)
	if err != nil {
		return err
	}
	script, err := scenario.Parse(o.Script, src, scenario.LoadOptions{
		Environment: o.Environment, Vars: o.Vars, AllowOutsidePayload: o.AllowOutsidePayload, Env: parseEnv,
		Layers: layers, Payload: o.Shape.Payload, Solo: o.Solo, Predicates: ifTrue,
	})
	if err != nil {
		return usageError(s, err)
	}
	if err := onlyScenario(script, o.ScenarioName); err != nil {
		return usageError(s, err)
	}
	printNotes(s.Err, script)
	if o.Count != 1 {
		fmt.Fprintf(s.Err, "note: --count %d: Artillery's worker count; primeload sends the same total load from one process\n", o.Count)
	}
	if err := loadtest.Validate(script, o.Segment); err != nil {
		return usageError(s, err)
	}
	outs := outputsOf(s, o)
	checks := outs
	if o.Trace > 0 && o.TraceFile != "" {
		checks = append(checks[:len(checks):len(checks)], output{name: "--trace-file", path: o.TraceFile, inPlace: true})
	}
	if err := checkFiles(scriptInputs(o.Script, script, o.Shape, o.SettingsFile), checks); err != nil {
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
	lm, err := startMetrics(ctx, o.Metrics, o.Segment.String())
	if err != nil {
		return usageError(s, err)
	}
	if lm != nil {
		defer lm.close(ctx)
		if lm.addr != "" {
			fmt.Fprintf(s.Err, "Prometheus metrics on http://%s/metrics\n", lm.addr)
		}
	}
	dash, err := startDashboard(ctx, o.Dashboard)
	if err != nil {
		return usageError(s, err)
	}
	if dash != nil {
		defer dash.close(ctx, func(line string) { fmt.Fprintln(s.Err, line) })
		fmt.Fprintf(s.Err, "live dashboard on http://%s/\n", dash.srv.Addr())
	}
	env := o.Shape.env(s.LookupEnv)
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
	if o.StartAt.After(time.Now()) {
		fmt.Fprintf(s.Err, "waiting until %s (--start-at) for the first arrival\n", o.StartAt.Format(time.RFC3339))
	}
	if w := remoteTargetWarning(cmp.Or(targetURL, script.Config.Target)); w != "" {
		// Before any load, framed so it stands out among the notes above it.
		bar := strings.Repeat("!", 72)
		fmt.Fprintf(s.Err, "%s\n%s\n%s\n", bar, w, bar)
	}

	tracer, closeTrace, err := openTrace(s, o)
	if err != nil {
		return usageError(s, err)
	}
	defer closeTrace()
	ckpt, dropCkpt, err := checkpointPath(o.Output)
	if err != nil {
		return usageError(s, err)
	}
	defer dropCkpt()

	// The first Ctrl-C cancels runCtx (no new arrivals, grace for those in
	// flight); a second closes kill (stop now).
	runCtx, stopArrivals := context.WithCancel(ctx)
	defer stopArrivals()
	kill := make(chan struct{})
	// The watcher outlives ctx, which the first signal may cancel at the
	// top (Main), so that it still hears the second.
	watchCtx, stopWatch := context.WithCancel(context.WithoutCancel(ctx))
	watched := make(chan struct{})
	go func() {
		defer close(watched)
		var once sync.Once
		watchInterrupts(watchCtx, s.Signals, s.Err, o.Grace, stopArrivals, func() { once.Do(func() { close(kill) }) })
	}()

	p := &progress{disp: newDisplay(s.Out, s.IsTerminal, o.Quiet), rate: rateWindow{span: time.Second}, drain: drainWindow{span: drainSpan}}
	hooks := p.hooks()
	if lm != nil {
		hooks.Collector = lm.collector
	}
	if dash != nil {
		dash.wire(&hooks)
	}
	rep, err := loadtest.Run(runCtx, script, loadtest.Options{
		Target:          targetURL,
		Vars:            o.Vars,
		Env:             env,
		Segment:         o.Segment,
		StartAt:         o.StartAt,
		Grace:           runnerGrace(o.Grace),
		Stop:            kill,
		Insecure:        o.Insecure,
		Period:          o.Period,
		MaxEndpoints:    o.MaxEndpoints,
		MaxBodyBytes:    int64(o.MaxBodyMiB) << 20,
		MaxDecodedBytes: int64(o.MaxBodyMiB) << 20,
		Log:             s.Err,
		Source:          src,
		Trace:           tracer,
		TraceN:          o.Trace,
		NoDefaultChecks: o.NoDefaultChecks,
		Checkpoint:      ckpt,
		MaxLag:          o.MaxLag,
		BeforeArrival:   o.beforeArrival,
	}, hooks)
	if rep != nil {
		defer rep.Close() // its periods, read from the checkpoint by every writer
	}
	stopWatch()
	<-watched
	if lm != nil {
		if rw := lm.stop(); rep != nil {
			rep.RemoteWrite = rw
		}
	}
	if err != nil {
		p.disp.Close(true)
		if errors.Is(err, loadtest.ErrInvalid) {
			return usageError(s, err)
		}
		return &ExitError{Code: ExitRuntime, Err: err}
	}
	p.disp.Close(rep.Aborted)
	err = finishRun(s, o, rep, outs)
	if dash != nil {
		// Now, while the report's spilled periods are still on disk.
		dash.publish(rep, func(line string) { fmt.Fprintln(s.Err, line) })
	}
	return err
}

// onlyScenario keeps only the scenario called name (--scenario-name), so
// every arrival runs it; "" keeps them all.
func onlyScenario(script *scenario.Script, name string) error {
	if name == "" {
		return nil
	}
	names := make([]string, 0, len(script.Scenarios))
	for _, sc := range script.Scenarios {
		if sc.Name == name {
			script.Scenarios = []scenario.Scenario{sc}
			return nil
		}
		names = append(names, strconv.Quote(sc.Name))
	}
	return fmt.Errorf("--scenario-name %q: %s has no such scenario (it has %s)", name, script.Path, strings.Join(names, ", "))
}

// progress draws a run's live display through loadtest's hooks.
type progress struct {
	disp  display
	rate  rateWindow  // touched only from the goroutine that calls Run, as drain
	drain drainWindow // fed only once the schedule is over
}

func (p *progress) hooks() loadtest.Hooks {
	return loadtest.Hooks{
		TickEvery: tickEvery,
		Tick:      func(sm loadtest.Sample) { p.disp.Show(p.stats(sm), nil) },
		Period:    func(m *report.Metrics, sm loadtest.Sample) { p.disp.Show(p.stats(sm), m) },
	}
}

// checkpointPath is where a run keeps its periods while it goes
// (loadtest.Options.Checkpoint), and what to do with the file afterwards.
// With --output naming a regular file (or a new one), it is that file: a
// run killed at any point leaves its complete periods there, readable by
// `primeload report`, and the final report replaces it. Otherwise (no
// --output, or a device or pipe such as /dev/stdout, which must get the
// final report only) it is a temporary file, removed at the end: a long
// run's periods live on disk either way, not in memory.
func checkpointPath(output string) (path string, drop func(), err error) {
	if output != "" {
		fi, err := os.Stat(output)
		if err != nil || fi.Mode().IsRegular() {
			return output, func() {}, nil
		}
	}
	f, err := os.CreateTemp("", "primeload-periods-*.jsonl")
	if err != nil {
		return "", nil, fmt.Errorf("create the run's checkpoint in %s (set TMPDIR to another folder): %w", os.TempDir(), err)
	}
	f.Close()
	return f.Name(), func() { os.Remove(f.Name()) }, nil
}

// drainSpan is how far back the drain's ETA looks: long enough to see
// users finish between think times, short enough to follow a change.
const drainSpan = 5 * time.Second

// tickEvery is how often progress bars redraw their numbers between periods.
const tickEvery = 250 * time.Millisecond

// stats turns a sample of the run into what the display shows.
func (p *progress) stats(sm loadtest.Sample) liveStats {
	st := liveStats{
		Total:     sm.Duration,
		Phases:    sm.Phases,
		ActiveVUs: sm.Live.VUsersActive,
		Rate:      p.rate.add(time.Now(), sm.Live.Requests),
		P99:       math.NaN(),
		Errors:    sm.Live.Errors,
		Start:     sm.Start,
	}
	if sm.Periods > 0 && sm.Live.LastP99 > 0 {
		st.P99 = float64(sm.Live.LastP99) / float64(time.Millisecond)
	}
	if !sm.ScheduleStart.IsZero() {
		st.Elapsed = time.Since(sm.ScheduleStart)
		st.PhaseNo = sm.Phase.Index + 1
		st.Phase = sm.Phase.Name
		st.PhaseTotal = sm.Phase.Duration
		st.PhaseElapsed = min(max(st.Elapsed-sm.Phase.Start, 0), sm.Phase.Duration)
	}
	st.DrainETA = -1
	if st.draining() {
		st.DrainETA = p.drain.add(time.Now(), st.ActiveVUs)
	}
	return st
}

// runnerGrace maps --grace to loadtest.Options.Grace, where 0 means the default.
func runnerGrace(d time.Duration) time.Duration {
	if d == 0 {
		return -1
	}
	return d
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

// finishRun prints the summary of a judged run, writes every output and
// chooses the exit code.
func finishRun(s *State, o *RunOptions, rep *report.Report, outs []output) error {
	// The cause comes first, where a CI log's reader looks, wrapped to the
	// summary's width: an SLO's expression and measurement can be long.
	for _, line := range loadtest.Cause(rep) {
		fmt.Fprintln(s.Out, strings.Join(report.Wrap(line, report.SummaryWidth-2), "\n  "))
	}
	fmt.Fprintln(s.Out)
	if err := printJudged(s.Out, rep); err != nil {
		return &ExitError{Code: ExitRuntime, Err: err}
	}
	werr := writeOutputs(outs, rep)
	code := verdictCode(rep.Verdict)
	if segmentDefers(code, o.Segment) {
		fmt.Fprintf(s.Out, "\nsegment %s: the verdict (exit %d) belongs to the merged run; `primeload report` over every part gates it, so this part exits 0\n", o.Segment, code)
		code = ExitOK
	}
	return exitError(code, werr)
}

// printJudged writes the console summary and the SLO results.
func printJudged(w io.Writer, rep *report.Report) error {
	if err := report.WriteSummary(w, rep); err != nil {
		return err
	}
	if len(rep.SLO) > 0 {
		fmt.Fprintln(w)
		if err := slo.Print(w, rep.SLO); err != nil {
			return err
		}
	}
	if rep.Script.Ensure.OutsidePlugin {
		// Loud, under the results a CI reader looks at: the same script
		// under Artillery would not have been judged.
		fmt.Fprintf(w, "\nNOTE: config.ensure is %s\n", scenario.EnsureOutsidePluginNote)
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

// writer is the shape of every report writer: the judged report holds the
// SLO results and the verdict.
type writer func(w io.Writer, r *report.Report) error

// output is one file the run writes at the end.
type output struct {
	name    string // the flag or variable that named it, for messages
	path    string
	inPlace bool // written into the existing file, not replaced (appended)
	write   func(rep *report.Report) error
}

// outputsOf lists the files to write, in a fixed order.
func outputsOf(s *State, o *RunOptions) []output {
	var outs []output
	file := func(name, path string, appendTo bool, write writer) {
		if path == "" {
			return
		}
		outs = append(outs, output{name: name, path: path, inPlace: appendTo, write: func(rep *report.Report) error {
			return writeFile(path, appendTo, func(w io.Writer) error { return write(w, rep) })
		}})
	}
	if o.Output != "" {
		// Atomic: the checkpoint it replaces, or the finished report, survives anything.
		outs = append(outs, output{name: "--output", path: o.Output, write: func(rep *report.Report) error {
			return report.WriteFile(o.Output, rep)
		}})
	}
	file("--junit", o.JUnit, false, junit.Write)
	file("--html", o.HTML, false, html.Write)
	file("--hdr-log", o.HdrLog, false, report.WriteHdrLog)
	file("--summary-md", o.SummaryMD, false, mdsummary.Write)
	if gh := s.Getenv("GITHUB_STEP_SUMMARY"); gh != "" {
		file("$GITHUB_STEP_SUMMARY", gh, true, mdsummary.Write)
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

// writeOutputs writes every output, going on past a failure so one bad
// path does not cost the others.
func writeOutputs(outs []output, rep *report.Report) error {
	var errs []error
	for _, o := range outs {
		if err := o.write(rep); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// ifTrue compiles Artillery's ifTrue with the ensure expressions' filtrex
// grammar, which the scenario package cannot import.
func ifTrue(expr string) (scenario.Predicate, error) {
	c, err := slo.CompileCondition(expr)
	if err != nil {
		return nil, err
	}
	return c, nil
}
