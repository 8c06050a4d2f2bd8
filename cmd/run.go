package cmd

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/primeload/primeload/report"
	"github.com/primeload/primeload/report/metric"
	"github.com/primeload/primeload/runner"
	"github.com/spf13/cobra"
)

// RunOptions is everything `primeload run` needs, resolved from flags, the
// PRIMELOAD_* environment and primeload.yaml.
type RunOptions struct {
	Script      string        // the script file
	Target      string        // overrides config.target; "" keeps the script's
	Environment string        // -e: the config.environments entry to merge
	Output      string        // JSON report at the end; the run's checkpoint while it goes
	Period      time.Duration // length of an intermediate period
	Quiet       bool          // plain one-line period summaries even on a terminal
	Vars        map[string]string
	Grace       time.Duration  // how long in-flight virtual users may finish after an interrupt
	Insecure    bool           // skip TLS certificate checks
	WithTarget  bool           // start the reference target in-process and aim at it
	Segment     runner.Segment // this process's share of a distributed run
	StartAt     time.Time      // wall-clock start of the schedule; zero starts now
	JUnit       string
	HTML        string
	SummaryMD   string
	HdrLog      string
	// AllowOutsidePayload lets payload.path leave the script's folder.
	AllowOutsidePayload bool
	// DebugAddr serves net/http/pprof on this loopback address, "" for none.
	DebugAddr string
	// Trace is how many exchanges of each endpoint, and failing ones of
	// each endpoint and error, are traced; 0 traces none.
	Trace int
	// TraceFile receives the trace as JSON Lines; "" prints it to stderr.
	TraceFile string
	// Metrics is where live metrics go: served, pushed, or neither.
	Metrics MetricsOptions
	// Dashboard is the live HTML report's server, if any.
	Dashboard DashboardOptions
	// NoDefaultChecks turns off the checks a script without SLOs is
	// judged by (loadtest.Options.NoDefaultChecks).
	NoDefaultChecks bool
	// MaxEndpoints bounds the distinct endpoints recorded separately; the
	// rest are recorded as one (other) endpoint.
	MaxEndpoints int
	// MaxBodyMiB bounds one response body read, and one gzip body
	// decompressed for a capture or an expectation, in MiB.
	MaxBodyMiB int
	// SettingsFile is the settings file read, "" for none.
	SettingsFile string
	// Shape is what Artillery's --config, --overrides, --variables,
	// --dotenv and -p change in the script.
	Shape ScriptShape
	// ScenarioName runs only the scenario of that name; "" runs all.
	ScenarioName string
	// Solo runs one virtual user instead of config.phases.
	Solo bool
	// Count is Artillery's --count (its worker count); the load is the
	// same whatever it is, see the README.
	Count int
	// MaxLag is the lag rule's limit (report.LagRule): an arrival started
	// later than this counts as late.
	MaxLag time.Duration
	// beforeArrival is loadtest.Options.BeforeArrival: tests set it to
	// starve the scheduler; no flag reaches it.
	beforeArrival func()
}

func newRunCmd(s *State) *cobra.Command {
	return newRunCmdF(s, func(ctx context.Context, opts *RunOptions) error {
		return runRun(ctx, s, opts)
	})
}

// newRunCmdF builds the run command with runF doing the work, so tests can
// check flag parsing without sending load.
func newRunCmdF(s *State, runF func(context.Context, *RunOptions) error) *cobra.Command {
	c := &cobra.Command{
		Use:   "run SCRIPT",
		Short: "Send the load a script describes and report what happened",
		Long: `Run an Artillery-format script as an open-model load: arrivals follow the
clock and are never slowed by a slow target. Prints live progress, a console
summary and SLO results, and writes the reports asked for.

Every flag can also be set in primeload.yaml (current directory, or
--settings FILE, or PRIMELOAD_SETTINGS) or as a PRIMELOAD_* environment
variable (--with-target is PRIMELOAD_WITH_TARGET); flags win over the
environment, which wins over the file.

Exit codes: 0 ok, 1 a strict SLO failed, 2 invalid script or usage (nothing
was sent), 3 the generator fell behind its schedule or missed arrivals by
starting after --start-at (results untrusted), 4
a failure after the load was sent (a report could not be written), 21
expectations failed, 130 interrupted. When several apply, the first in the
order 130, 4, 3, 1, 21 wins. A part of a distributed run (--segment i/N, N > 1)
exits 0 instead of 1, 3 or 21: "primeload report" over all parts gates.`,
		Args: cobra.ExactArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			opts, err := runOptions(s, c, args[0], time.Now())
			if err != nil {
				return usageError(s, err)
			}
			return runF(c.Context(), opts)
		},
	}
	f := c.Flags()
	addSettingsFlag(c)
	f.StringP("target", "t", "", "base `URL`, overrides config.target")
	f.StringP("environment", "e", "", "merge config.environments.`NAME` into the config")
	f.StringP("output", "o", "", "write the JSON report to `FILE` (while the run goes, its checkpoint: a line appended per period)")
	durationFlag(f, "period", 10*time.Second, "length of an intermediate report period (a bare number is seconds)")
	boolFlag(f, "quiet", "q", "plain one-line period summaries instead of progress bars")
	f.StringArray("var", nil, "set a script variable, `NAME=VALUE` (repeatable)")
	durationFlag(f, "grace", 5*time.Second, "after Ctrl-C, how long in-flight virtual users may finish")
	boolFlag(f, "insecure", "k", "skip TLS certificate verification (as config.tls.rejectUnauthorized: false)")
	boolFlag(f, "with-target", "", "start the reference PRIMEPRE target on a free loopback port and aim the run at it")
	f.String("segment", "", "send only segment `i/N` of the schedule (1-based) in a distributed run")
	intFlag(f, "segments", 0, "split the schedule into `N` segments, this one chosen by JOB_COMPLETION_INDEX (Kubernetes Indexed Job)")
	f.String("start-at", "", "wait for this instant before the first arrival: RFC 3339 `TIME` or +DURATION from now")
	f.String("junit", "", "write a JUnit XML report to `FILE`")
	f.String("html", "", "write a self-contained HTML report to `FILE`")
	f.String("summary-md", "", "write a markdown summary to `FILE` (also appended to $GITHUB_STEP_SUMMARY when set)")
	f.String("hdr-log", "", "write per-period histograms as an HdrHistogram interval log to `FILE`")
	boolFlag(f, "allow-outside-payload", "", "let payload.path read files outside the script's folder")
	f.String("debug-addr", "", "serve Go pprof on this loopback `ADDR` (e.g. 127.0.0.1:6060) while running")
	f.Int("trace", 0, "print the first `N` requests and responses of each endpoint, and the first N failing ones of each endpoint and error, to stderr (credentials redacted)")
	f.String("trace-file", "", "write the trace to `FILE` as JSON Lines instead (alone, it traces 1 of each)")
	durationFlag(f, "max-lag", report.DefaultMaxLag, fmt.Sprintf("an arrival started later than this is late; the run is untrusted (exit 3) when over %s%% of arrivals, and at least %d, are late",
		report.FormatNumber(100*report.DefaultLateShare), report.DefaultMinLate))
	boolFlag(f, "no-default-checks", "", "judge a script without SLOs by its expectations alone, not by the default checks (error rate <= 1%, 4xx not a majority)")
	addMetricsFlags(f)
	addDashboardFlags(f)
	intFlag(f, "max-endpoints", metric.MaxEndpoints, "record at most `N` distinct endpoints separately (about 20 KB each); the rest are recorded as (other)")
	intFlag(f, "max-body-mib", runner.DefaultMaxBodyBytes>>20, "read at most `N` MiB of one response body, and decompress at most N MiB of a gzip body for a capture or expectation (each user in flight may hold that much)")
	addShapeFlags(f)
	f.String("scenario-name", "", "run only the scenario named `NAME`")
	boolFlag(f, "solo", "s", "one virtual user: replace config.phases with a single arrival (as artillery run --solo)")
	intFlag(f, "count", 1, "Artillery's worker count, accepted so that artillery's command lines run: primeload sends the same load in one process whatever `N` is")
	return c
}

// runOptions resolves the options; now anchors a relative --start-at.
func runOptions(s *State, c *cobra.Command, script string, now time.Time) (*RunOptions, error) {
	st, err := loadSettings(s, c)
	if err != nil {
		return nil, err
	}
	o := &RunOptions{
		Script:      script,
		Target:      st.String("target"),
		Environment: st.String("environment"),
		Output:      st.String("output"),
		JUnit:       st.String("junit"),
		HTML:        st.String("html"),
		SummaryMD:   st.String("summary-md"),
		HdrLog:      st.String("hdr-log"),
		DebugAddr:   st.String("debug-addr"),
		TraceFile:   st.String("trace-file"),

		SettingsFile: st.file,
	}
	var errs []error
	collect := func(err error) {
		if err != nil {
			errs = append(errs, err)
		}
	}
	boolOpt := func(key string, dst *bool) {
		b, err := st.Bool(key)
		*dst = b
		collect(err)
	}
	boolOpt("quiet", &o.Quiet)
	boolOpt("insecure", &o.Insecure)
	boolOpt("with-target", &o.WithTarget)
	boolOpt("allow-outside-payload", &o.AllowOutsidePayload)
	boolOpt("solo", &o.Solo)
	o.ScenarioName = st.String("scenario-name")
	o.Shape, err = scriptShape(st)
	collect(err)
	o.Count, err = st.Int("count")
	collect(err)
	if err == nil && o.Count < 1 {
		collect(st.errorf("count", "%d: want 1 or more", o.Count))
	}

	o.Period, err = st.Duration("period")
	collect(err)
	if err == nil && o.Period < 100*time.Millisecond {
		collect(st.errorf("period", "%s is too short (use 100ms or more)", o.Period))
	}
	o.MaxEndpoints, err = st.Int("max-endpoints")
	collect(err)
	if err == nil && o.MaxEndpoints < 1 {
		collect(st.errorf("max-endpoints", "%d: want at least 1", o.MaxEndpoints))
	}
	o.MaxBodyMiB, err = st.Int("max-body-mib")
	collect(err)
	if err == nil && (o.MaxBodyMiB < 1 || o.MaxBodyMiB > maxBodyMiB) {
		collect(st.errorf("max-body-mib", "%d is out of range (1 to %d)", o.MaxBodyMiB, maxBodyMiB))
	}
	o.MaxLag, err = st.Duration("max-lag")
	collect(err)
	if err == nil && o.MaxLag <= 0 {
		collect(st.errorf("max-lag", "%s: want a positive duration", o.MaxLag))
	}
	o.Grace, err = st.Duration("grace")
	collect(err)
	if err == nil && o.Grace < 0 {
		collect(st.errorf("grace", "%s is negative", o.Grace))
	}
	o.Vars, err = st.Pairs("var")
	collect(err)
	o.NoDefaultChecks, err = st.Bool("no-default-checks")
	collect(err)
	o.Trace, err = st.Int("trace")
	collect(err)
	if err == nil && o.Trace < 0 {
		collect(st.errorf("trace", "%d is negative", o.Trace))
	}
	if o.Trace == 0 && o.TraceFile != "" {
		o.Trace = 1
	}

	if o.WithTarget && o.Target != "" {
		collect(fmt.Errorf("%s and %s: give one of them, --with-target chooses the target itself", st.source("target"), st.source("with-target")))
	}
	if o.Target != "" && !strings.HasPrefix(o.Target, "http://") && !strings.HasPrefix(o.Target, "https://") {
		collect(st.errorf("target", "%q is not an http:// or https:// URL", o.Target))
	}
	if o.DebugAddr != "" {
		collect(checkLoopback(o.DebugAddr, st.source("debug-addr")))
	}

	seg, err := segmentOf(st, s)
	collect(err)
	o.Segment = seg
	o.Metrics, err = metricsOptions(st)
	collect(err)
	o.Dashboard, err = dashboardOptions(st)
	collect(err)

	if at := st.String("start-at"); at != "" {
		t, err := parseStartAt(at, now)
		if err != nil {
			collect(st.errorf("start-at", "%v", err))
		}
		o.StartAt = t
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...) // one per line: fix them all in one pass
	}
	return o, nil
}

// maxBodyMiB bounds --max-body-mib: the HTTP client counts a body in an
// int32, and a GiB per user in flight is already more than a generator holds.
const maxBodyMiB = 1024

// segmentOf reads --segment i/N, or --segments N with the Kubernetes Indexed
// Job's JOB_COMPLETION_INDEX (0-based) choosing i.
func segmentOf(st *settings, s *State) (runner.Segment, error) {
	var seg runner.Segment
	if raw := st.String("segment"); raw != "" {
		var err error
		if seg, err = runner.ParseSegment(raw); err != nil {
			return runner.Segment{}, st.errorf("segment", "%v", err)
		}
	}
	n, err := st.Int("segments")
	if err != nil {
		return runner.Segment{}, err
	}
	if n == 0 {
		return seg, nil
	}
	if n < 0 {
		return runner.Segment{}, st.errorf("segments", "%d is negative", n)
	}
	if seg.Count != 0 {
		if seg.Count != n {
			return runner.Segment{}, fmt.Errorf("%s says %s segments but %s says %d", st.source("segment"), strconv.Itoa(seg.Count), st.source("segments"), n)
		}
		return seg, nil
	}
	idx, ok := s.LookupEnv("JOB_COMPLETION_INDEX")
	if !ok {
		return runner.Segment{}, fmt.Errorf("%s needs JOB_COMPLETION_INDEX (set by a Kubernetes Indexed Job) to pick this process's segment; outside Kubernetes use --segment i/N", st.source("segments"))
	}
	i, err := strconv.Atoi(strings.TrimSpace(idx))
	if err != nil || i < 0 || i >= n {
		return runner.Segment{}, fmt.Errorf("JOB_COMPLETION_INDEX=%q: want a whole number from 0 to %d for %s %d", idx, n-1, st.source("segments"), n)
	}
	return runner.Segment{Index: i + 1, Count: n}, nil
}

// parseStartAt accepts RFC 3339 ("2026-11-26T03:00:00Z") or "+30s" from now.
func parseStartAt(raw string, now time.Time) (time.Time, error) {
	raw = strings.TrimSpace(raw)
	if rest, ok := strings.CutPrefix(raw, "+"); ok {
		d, err := time.ParseDuration(rest)
		if err != nil || d < 0 {
			return time.Time{}, fmt.Errorf("%q is not +DURATION (e.g. +30s)", raw)
		}
		return now.Add(d), nil
	}
	t, err := time.Parse(time.RFC3339Nano, raw)
	if err != nil {
		return time.Time{}, fmt.Errorf("%q is neither RFC 3339 (e.g. 2026-11-26T03:00:00Z) nor +DURATION (e.g. +30s)", raw)
	}
	return t, nil
}

// checkLoopback refuses debug listeners reachable from other machines: pprof
// exposes memory contents.
func checkLoopback(addr, src string) error {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("%s: %q is not HOST:PORT (e.g. 127.0.0.1:6060)", src, addr)
	}
	if !isLoopbackHost(host) {
		return fmt.Errorf("%s: %q is not a loopback address (use 127.0.0.1 or [::1])", src, addr)
	}
	return nil
}

// isLoopbackHost reports whether host (a name or an IP, without port or
// brackets) is this machine's loopback: localhost or a loopback IP.
func isLoopbackHost(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// remoteTargetWarning is the warning a run prints before its first arrival
// when its target is not this machine: a forgotten -e, or an example's
// default, would otherwise aim the whole load at someone's host. "" for a
// loopback target.
func remoteTargetWarning(target string) string {
	u, err := url.Parse(target)
	if err != nil || u.Hostname() == "" || isLoopbackHost(u.Hostname()) {
		return ""
	}
	return fmt.Sprintf("WARNING: the target %s is not this machine: every arrival goes to %s. Press Ctrl-C now unless that host is yours to load.", target, u.Hostname())
}
