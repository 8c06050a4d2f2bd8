package cmd

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/spf13/cobra"

	"github.com/primeload/primeload/report"
	"github.com/primeload/primeload/report/compare"
)

// CompareOptions is everything `primeload compare` needs.
type CompareOptions struct {
	Base, New     string // JSON reports
	MaxRegression string // gates, e.g. "p95=10%,errors=0.1pp"
	Confidence    float64
	Replicates    int
	Seed          uint64
	NoiseFloor    time.Duration
	Output        string // -o: the comparison as JSON
	Markdown      string
	JUnit         string
	HTML          string
	// SettingsFile is the settings file read, "" for none.
	SettingsFile string
}

func newCompareCmd(s *State) *cobra.Command {
	return newCompareCmdF(s, func(ctx context.Context, o *CompareOptions) error {
		return runCompare(ctx, s, o)
	})
}

// newCompareCmdF builds the compare command with runF doing the work, so
// tests can check flag parsing apart from behaviour.
func newCompareCmdF(s *State, runF func(context.Context, *CompareOptions) error) *cobra.Command {
	c := &cobra.Command{
		Use:   "compare BASE.json NEW.json",
		Short: "Judge a run against a baseline run: regressions beyond noise, per endpoint",
		Long: `Compare two JSON reports (of single or merged distributed runs): per
endpoint and for all requests, throughput, error rate (5xx and network
errors) and latency p50/p90/p95/p99/p99.9/max, each with its difference and
whether that difference is beyond noise.

Noise is judged on the full HdrHistograms the reports carry: each
percentile's difference gets a bootstrap interval (seeded, so the verdict is
the same every time), error rates a score interval, throughput a Poisson
interval. The --confidence is for the whole comparison: each interval is
drawn at a Bonferroni-corrected level, so many endpoints do not make false
alarms likely. Latency differences under --noise-floor never count: the
bootstrap sees the noise inside a run, not how a shared machine wobbles from
run to run.

A figure regresses when it is worse beyond noise and beyond its
--max-regression limit: p50, p90, p95, p99, p999, max as a percentage (10%)
or a duration (5ms), errors in percentage points (0.1pp) or relative (%),
throughput as a relative drop (5%). The maximum is a single value with no
noise estimate: its gate compares the numbers alone, as do all latency gates
on reports without histograms (Artillery's).

Flags also come from PRIMELOAD_* variables and the settings file
(--settings, PRIMELOAD_SETTINGS, ./primeload.yaml), as for run.

Exit codes: 0 no regression, 1 a regression, 2 invalid input, 4 an output
could not be written.`,
		Example: `  primeload compare main.json pr.json
  primeload compare main.json pr.json --max-regression 'p95=10%,p99=20%,errors=0.1pp' --markdown compare.md
  primeload report part-*.json -o merged.json && primeload compare baseline.json merged.json --html compare.html`,
		Args: cobra.ExactArgs(2),
		RunE: func(c *cobra.Command, args []string) error {
			o, err := compareOptions(s, c, args)
			if err != nil {
				return usageError(s, err)
			}
			return runF(c.Context(), o)
		},
	}
	addSettingsFlag(c)
	f := c.Flags()
	f.String("max-regression", compare.DefaultGates, "the allowed regression per `METRIC=LIMIT,...`; empty gates nothing")
	f.Float64("confidence", compare.DefaultConfidence, "confidence `LEVEL` of the whole comparison, between 0 and 1")
	intFlag(f, "replicates", compare.DefaultReplicates, "bootstrap resamples per percentile")
	intFlag(f, "seed", 1, "bootstrap seed: the same seed gives the same verdict")
	f.Duration("noise-floor", compare.DefaultNoiseFloor, "latency differences below this `DURATION` are noise; 0 keeps the default, negative turns it off")
	f.StringP("output", "o", "", "write the comparison as JSON to `FILE`")
	f.String("markdown", "", "write a markdown comparison to `FILE` (also appended to $GITHUB_STEP_SUMMARY when set)")
	f.String("junit", "", "write the gates as JUnit XML to `FILE`")
	f.String("html", "", "write a self-contained HTML page with both runs' percentile spectra to `FILE`")
	return c
}

// compareOptions resolves the options from flags, PRIMELOAD_* and the settings file.
func compareOptions(s *State, c *cobra.Command, args []string) (*CompareOptions, error) {
	st, err := loadSettings(s, c)
	if err != nil {
		return nil, err
	}
	o := &CompareOptions{Base: args[0], New: args[1], MaxRegression: st.String("max-regression"),
		Output: st.String("output"), Markdown: st.String("markdown"), JUnit: st.String("junit"), HTML: st.String("html"),
		SettingsFile: st.file}
	var errs []error
	collect := func(err error) { errs = append(errs, err) }
	o.Confidence, err = st.Float("confidence")
	collect(err)
	o.Replicates, err = st.Int("replicates")
	collect(err)
	seed, err := st.Int("seed")
	collect(err)
	if seed < 0 {
		collect(st.errorf("seed", "%d is negative", seed))
	}
	o.Seed = uint64(max(seed, 0))
	o.NoiseFloor, err = st.Duration("noise-floor")
	collect(err)
	return o, errors.Join(errs...)
}

// maxReplicates bounds --replicates: far past any precision that matters,
// short of a comparison that takes minutes.
const maxReplicates = 1_000_000

func runCompare(_ context.Context, s *State, o *CompareOptions) error {
	gates, err := compare.ParseGates(o.MaxRegression)
	if err != nil {
		return &ExitError{Code: ExitUsage, Err: fmt.Errorf("--max-regression: %w", err)}
	}
	if o.Replicates < 100 || o.Replicates > maxReplicates {
		return &ExitError{Code: ExitUsage, Err: fmt.Errorf("--replicates %d: want 100 to %d", o.Replicates, maxReplicates)}
	}
	type out struct {
		name     string
		path     string
		appendTo bool
		write    func(io.Writer, *compare.Result) error
	}
	outs := []out{{"--output", o.Output, false, writeCompareJSON}, {"--markdown", o.Markdown, false, compare.WriteMarkdown},
		{"--junit", o.JUnit, false, compare.WriteJUnit}, {"--html", o.HTML, false, compare.WriteHTML}}
	if gh := s.Getenv("GITHUB_STEP_SUMMARY"); gh != "" {
		outs = append(outs, out{"$GITHUB_STEP_SUMMARY", gh, true, compare.WriteMarkdown})
	}
	checks := make([]output, len(outs))
	for i, w := range outs {
		checks[i] = output{name: w.name, path: w.path, inPlace: w.appendTo}
	}
	inputs := []inputFile{{"the base report", o.Base}, {"the new report", o.New}, {"settings file", o.SettingsFile}}
	if err := checkFiles(inputs, checks); err != nil {
		return &ExitError{Code: ExitUsage, Err: err}
	}
	var errs []error
	base, err := report.ReadFile(o.Base)
	errs = append(errs, err)
	next, err := report.ReadFile(o.New)
	errs = append(errs, err)
	if err := errors.Join(errs...); err != nil {
		return &ExitError{Code: ExitUsage, Err: err}
	}
	res, err := compare.Compare(base, next, compare.Options{
		Gates: gates, Confidence: o.Confidence, Replicates: o.Replicates, Seed: o.Seed, NoiseFloor: o.NoiseFloor,
	})
	if err != nil {
		return &ExitError{Code: ExitUsage, Err: err}
	}
	res.Base.File, res.New.File = o.Base, o.New
	if err := compare.WriteText(s.Out, res); err != nil {
		return &ExitError{Code: ExitRuntime, Err: err}
	}
	for _, w := range outs {
		if w.path == "" {
			continue
		}
		if err := writeFile(w.path, w.appendTo, func(f io.Writer) error { return w.write(f, res) }); err != nil {
			errs = append(errs, err)
		}
	}
	code := ExitOK
	if res.Regressed {
		code = ExitSLO // a regression fails the job as a failed SLO does
	}
	return exitError(code, errors.Join(errs...))
}

func writeCompareJSON(w io.Writer, r *compare.Result) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	if err := enc.Encode(r); err != nil {
		return fmt.Errorf("encode comparison: %w", err)
	}
	return nil
}
