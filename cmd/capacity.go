package cmd

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/spf13/cobra"

	"github.com/primeload/primeload/report/capacity"
	"github.com/primeload/primeload/report/slo"
	"github.com/primeload/primeload/runner"
	runcap "github.com/primeload/primeload/runner/capacity"
	"github.com/primeload/primeload/runner/loadtest"
	"github.com/primeload/primeload/scenario"
)

// CapacityOptions is everything `primeload capacity` needs.
type CapacityOptions struct {
	Script      string
	Target      string
	Environment string
	Vars        map[string]string
	WithTarget  bool
	Insecure    bool
	SLOs        []string
	Search      runcap.Options // the search's bounds and steps
	Baseline    float64
	Require     string
	Output      string
	HTML        string
	// SettingsFile is the settings file read, "" for none.
	SettingsFile string
}

func newCapacityCmd(s *State) *cobra.Command {
	return newCapacityCmdF(s, func(ctx context.Context, o *CapacityOptions) error {
		return runCapacity(ctx, s, o)
	})
}

// newCapacityCmdF builds the capacity command with runF doing the work, so
// tests can check flag parsing apart from behaviour.
func newCapacityCmdF(s *State, runF func(context.Context, *CapacityOptions) error) *cobra.Command {
	c := &cobra.Command{
		Use:   "capacity SCRIPT",
		Short: "Find the highest arrival rate at which the script still meets every SLO",
		Long: `Search for the target's capacity: the script's own scenario mix (weights,
flows, payloads) is sent as an open model at a rising sequence of arrival
rates (--start, times --growth each step, never above --max-rate). Each
rate is held for --warm-up, not judged, then for --step, judged alone by
the script's strict SLOs (config.ensure, or --slo) on that step's window.
The first failing step stops the rise; the search then bisects between the
last passing and the first failing rate until they are within --precision,
and re-checks the best passing rate once, so one lucky step does not decide.

When the load generator, not the target, is the limit (run's lag rule: too many
arrivals later than --max-lag, arrivals it could not start, or its own CPU over --max-cpu)
the search stops and says so: that rate is not the target's capacity.

The whole search never runs longer than --max-duration; Ctrl-C stops the
step under way and reports the steps done so far. The script's phases are
not used; its before and after flows run once per step.

Flags also come from PRIMELOAD_* variables and the settings file
(--settings, PRIMELOAD_SETTINGS, ./primeload.yaml), as for run.

Exit codes: 0 found, or --require met (a lower bound the generator cut
short still proves it), 1 below --require, 2 invalid input, 3 the
generator was the limit before the question was answered, 4 an output
could not be written, 130 interrupted.`,
		Example: `  primeload capacity --with-target examples/black-friday-capacity.yml --baseline-rate 20 --require 10x
  primeload capacity -t http://127.0.0.1:8080 script.yml --step 30s --max-rate 2000 -o capacity.json --html capacity.html`,
		Args: cobra.ExactArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			o, err := capacityOptions(s, c, args[0])
			if err != nil {
				return usageError(s, err)
			}
			return runF(c.Context(), o)
		},
	}
	addSettingsFlag(c)
	f := c.Flags()
	f.StringP("target", "t", "", "base `URL`, overrides config.target")
	f.StringP("environment", "e", "", "merge config.environments.`NAME` into the config")
	f.StringArray("var", nil, "set a script variable, `NAME=VALUE` (repeatable)")
	boolFlag(f, "with-target", "", "start the reference PRIMEPRE target in this process and search it (it then shares the generator's CPUs)")
	boolFlag(f, "insecure", "", "skip TLS certificate verification")
	f.StringArray("slo", nil, "a strict SLO `EXPRESSION` (repeatable), replacing the script's ensure section")
	f.Float64("start", runcap.DefaultStart, "first arrival `RATE` per second")
	f.Float64("growth", runcap.DefaultGrowth, "`FACTOR` between rising steps")
	f.Float64("precision", runcap.DefaultPrecision, "stop bisecting when (fail - pass) / fail is at most this `FRACTION`")
	f.Float64("max-rate", runcap.DefaultMaxRate, "never ask more than this many arrivals per second (`RATE`)")
	f.Duration("step", runcap.DefaultStep, "how long each rate is held and judged (whole seconds)")
	f.Duration("warm-up", runcap.DefaultWarmUp, "how long each rate runs, unjudged, before its step (whole seconds)")
	f.Duration("max-duration", runcap.DefaultMaxDuration, "the longest the whole search may take")
	f.Duration("max-lag", runcap.DefaultMaxLag, "an arrival later than this is late; a step with over 1% late (and at least 5) is the generator's limit, as run's lag rule")
	f.Float64("max-cpu", runcap.DefaultMaxCPU, "generator CPU `SHARE` of its cores past which it is the limit")
	f.Float64("baseline-rate", 0, "normal traffic in arrivals per second (`RATE`), to state capacity as a multiple of it")
	f.String("require", "", "exit 1 below this capacity: a multiple of --baseline-rate (10x) or an arrival rate (500)")
	f.StringP("output", "o", "", "write the result as JSON to `FILE` (the capacity at its top level)")
	f.String("html", "", "write a self-contained HTML page with latency against throughput to `FILE`")
	return c
}

// capacityOptions resolves the options from flags, PRIMELOAD_* and the settings file.
func capacityOptions(s *State, c *cobra.Command, script string) (*CapacityOptions, error) {
	st, err := loadSettings(s, c)
	if err != nil {
		return nil, err
	}
	o := &CapacityOptions{Script: script, Target: st.String("target"), Environment: st.String("environment"),
		Require: st.String("require"), Output: st.String("output"), HTML: st.String("html"), SettingsFile: st.file}
	var errs []error
	collect := func(err error) { errs = append(errs, err) }
	o.Vars, err = st.Pairs("var")
	collect(err)
	o.SLOs, err = st.Strings("slo")
	collect(err)
	o.WithTarget, err = st.Bool("with-target")
	collect(err)
	o.Insecure, err = st.Bool("insecure")
	collect(err)
	for key, dst := range map[string]*float64{
		"start": &o.Search.Start, "growth": &o.Search.Growth, "precision": &o.Search.Precision, "max-rate": &o.Search.MaxRate,
		"max-cpu": &o.Search.MaxCPU, "baseline-rate": &o.Baseline,
	} {
		*dst, err = st.Float(key)
		collect(err)
	}
	for key, dst := range map[string]*time.Duration{
		"step": &o.Search.Step, "warm-up": &o.Search.WarmUp, "max-duration": &o.Search.MaxDuration, "max-lag": &o.Search.MaxLag,
	} {
		*dst, err = st.Duration(key)
		collect(err)
	}
	if o.Target != "" && !strings.HasPrefix(o.Target, "http://") && !strings.HasPrefix(o.Target, "https://") {
		collect(st.errorf("target", "%q is not an http:// or https:// URL", o.Target))
	}
	return o, errors.Join(errs...)
}

func runCapacity(ctx context.Context, s *State, o *CapacityOptions) error {
	requireX, requireRate, err := capacity.ParseRequire(o.Require, o.Baseline)
	var errs []error
	errs = append(errs, err, o.Search.Validate())
	if o.Baseline < 0 {
		errs = append(errs, fmt.Errorf("--baseline-rate %v: want arrivals per second above 0", o.Baseline))
	}
	if o.WithTarget && o.Target != "" {
		errs = append(errs, errors.New("--target and --with-target: give one of them, --with-target chooses the target itself"))
	}
	vars := o.Vars
	if err := errors.Join(errs...); err != nil {
		return usageError(s, err)
	}
	src, err := os.ReadFile(o.Script)
	if err != nil {
		return usageError(s, fmt.Errorf("read script: %w", err))
	}
	script, err := scenario.Parse(o.Script, src, scenario.LoadOptions{Environment: o.Environment, Vars: vars, Predicates: ifTrue})
	if err != nil {
		return usageError(s, err)
	}
	outs := []struct {
		name, path string
		write      func(io.Writer, *capacity.Result) error
	}{{"--output", o.Output, capacity.WriteJSON}, {"--html", o.HTML, capacity.WriteHTML}}
	checks := make([]output, len(outs))
	for i, w := range outs {
		checks[i] = output{name: w.name, path: w.path}
	}
	if err := checkFiles(scriptInputs(o.Script, script, ScriptShape{}, o.SettingsFile), checks); err != nil {
		return usageError(s, err)
	}
	search := o.Search
	if len(o.SLOs) > 0 {
		set, errs := slo.CompileExpressions(o.SLOs, slo.ScriptNames(script))
		if len(errs) > 0 {
			return usageError(s, errors.Join(errs...))
		}
		search.SLOs = set
	}

	env := s.LookupEnv
	search.Run = loadtest.Options{Target: o.Target, Vars: vars, Env: env, Insecure: o.Insecure, Source: src, Log: io.Discard}
	if o.WithTarget {
		url, token, stop, err := startTarget(ctx)
		if err != nil {
			return usageError(s, err)
		}
		defer stop()
		search.Run.Target, search.Run.Env = url, withEnv(env, "API_TOKEN", token)
		fmt.Fprintf(s.Err, "reference target on %s (API_TOKEN set for the script)\n", url)
	}
	fmt.Fprintln(s.Err, capacity.StepHeader())
	search.OnStep = func(i int, st capacity.Step) { capacity.WriteStep(s.Err, i, st) }

	// Ctrl-C stops the step under way; a second one ends its users' grace.
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	kill := make(chan struct{})
	var once sync.Once
	search.Run.Stop = kill
	watchCtx, stopWatch := context.WithCancel(context.Background())
	watched := make(chan struct{})
	go func() {
		defer close(watched)
		watchInterrupts(watchCtx, s.Signals, s.Err, runner.DefaultGrace, cancel, func() { once.Do(func() { close(kill) }) })
	}()
	res, err := runcap.Search(ctx, script, search)
	stopWatch()
	<-watched
	if err != nil {
		if errors.Is(err, loadtest.ErrInvalid) {
			return usageError(s, err)
		}
		return &ExitError{Code: ExitRuntime, Err: err}
	}
	res.BaselineRate, res.Require = o.Baseline, o.Require
	res.Finish(requireX, requireRate)

	if err := capacity.WriteText(s.Out, res); err != nil {
		return &ExitError{Code: ExitRuntime, Err: err}
	}
	errs = nil
	for _, w := range outs {
		if w.path == "" {
			continue
		}
		if err := writeFile(w.path, false, func(f io.Writer) error { return w.write(f, res) }); err != nil {
			errs = append(errs, err)
		}
	}
	code := capacityExit(res)
	return exitError(code, errors.Join(errs...))
}

// capacityExit is the exit code of a finished search. A requirement
// decides when one was given: a lower bound that meets it answers the
// question even if the generator stopped the search.
func capacityExit(res *capacity.Result) int {
	switch {
	case res.Limit == capacity.LimitInterrupted:
		return ExitInterrupted
	case res.RequireMet != nil && *res.RequireMet:
		return ExitOK
	case res.Limit == capacity.LimitGenerator:
		return ExitUntrusted
	case res.RequireMet != nil:
		return ExitSLO
	}
	return ExitOK
}
