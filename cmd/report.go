package cmd

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/primeload/primeload/report"
	"github.com/primeload/primeload/report/slo"
	"github.com/primeload/primeload/runner/loadtest"
)

// ReportOptions is everything `primeload report` needs.
type ReportOptions struct {
	Files []string // JSON reports: one to re-check, several to merge
	// SLOs are --slo expressions; when given they replace the SLOs the
	// report recorded from its script.
	SLOs      []string
	Output    string // -o: write the (merged, re-evaluated) JSON report
	Force     bool   // merge reports of different scripts
	HTML      string
	JUnit     string
	SummaryMD string
	// SettingsFile is the settings file read, "" for none.
	SettingsFile string
}

func newReportCmd(s *State) *cobra.Command {
	return newReportCmdF(s, func(ctx context.Context, o *ReportOptions) error {
		return runReport(ctx, s, o)
	})
}

// newReportCmdF builds the report command with runF doing the work, so
// tests can check flag parsing apart from behaviour.
func newReportCmdF(s *State, runF func(context.Context, *ReportOptions) error) *cobra.Command {
	c := &cobra.Command{
		Use:   "report FILE.json [FILE.json ...]",
		Short: "Re-check a JSON report's SLOs, or merge the reports of a distributed run",
		Long: `With one report: print its console summary again and evaluate its SLOs
again, those its script recorded or the --slo expressions given, and write
the HTML, JUnit and markdown outputs asked for.

With several reports (the parts of one distributed run): merge them first.
Counters add, histograms merge without loss, and intermediate periods align
on wall-clock period boundaries. Only the parts of one distributed run
merge: reports of different scripts, the same segment twice, segments of
different splits or with some missing, and a whole run among them are
refused naming the files (exit 2) unless --force, which merges anyway with
a warning.

Flags also come from PRIMELOAD_* variables and the settings file
(--settings, PRIMELOAD_SETTINGS, ./primeload.yaml), as for run.

Exit codes are those of run: 0 ok, 1 a strict SLO failed, 2 invalid input,
3 the generator fell behind its schedule (results untrusted), 4 an output
could not be written, 21 expectations failed, 130 the run was interrupted
or killed (a merge with such a part is incomplete and cannot pass).`,
		Example: `  primeload report run.json --html run.html
  primeload report part-1.json part-2.json -o merged.json --junit junit.xml
  primeload report run.json --slo 'http.response_time.p99 < 250' --slo 'http.codes.500 / http.requests < 0.001'`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			o, err := reportOptions(s, c, args)
			if err != nil {
				return usageError(s, err)
			}
			return runF(c.Context(), o)
		},
	}
	addSettingsFlag(c)
	f := c.Flags()
	f.StringArray("slo", nil, "a strict SLO `EXPRESSION` (repeatable), replacing those the report recorded")
	f.StringP("output", "o", "", "write the merged, re-evaluated JSON report to `FILE`")
	boolFlag(f, "force", "", "merge reports that are not the parts of one run (different scripts, duplicate, missing or overlapping segments), with a warning")
	f.String("html", "", "write a self-contained HTML report to `FILE`")
	f.String("junit", "", "write a JUnit XML report to `FILE`")
	f.String("summary-md", "", "write a markdown summary to `FILE` (also appended to $GITHUB_STEP_SUMMARY when set)")
	return c
}

// reportOptions resolves the options from flags, PRIMELOAD_* and the settings file.
func reportOptions(s *State, c *cobra.Command, files []string) (*ReportOptions, error) {
	st, err := loadSettings(s, c)
	if err != nil {
		return nil, err
	}
	o := &ReportOptions{Files: files, Output: st.String("output"), HTML: st.String("html"), JUnit: st.String("junit"), SummaryMD: st.String("summary-md"),
		SettingsFile: st.file}
	var errs []error
	if o.SLOs, err = st.Strings("slo"); err != nil {
		errs = append(errs, err)
	}
	if o.Force, err = st.Bool("force"); err != nil {
		errs = append(errs, err)
	}
	return o, errors.Join(errs...)
}

// runReport reads (and merges) the reports and judges them as a live run
// is judged, prints the summary, writes the outputs and exits as run does.
func runReport(ctx context.Context, s *State, o *ReportOptions) error {
	outs := outputsOf(s, &RunOptions{Output: o.Output, JUnit: o.JUnit, SummaryMD: o.SummaryMD, HTML: o.HTML})
	inputs := []inputFile{{"settings file", o.SettingsFile}}
	for _, f := range o.Files {
		// -o part-1.json would replace a part with the merge of all.
		inputs = append(inputs, inputFile{"the report", f})
	}
	if err := checkFiles(inputs, outs); err != nil {
		return &ExitError{Code: ExitUsage, Err: err}
	}
	rep, err := loadReports(ctx, s, o.Files, o.Force)
	if ierr := interrupted(ctx, "reading reports"); ierr != nil {
		return ierr
	}
	if err != nil {
		return &ExitError{Code: ExitUsage, Err: err}
	}
	set, errs := reportSLOs(rep, o.SLOs)
	if len(errs) > 0 {
		return usageError(s, errors.Join(errs...))
	}
	// An aborted report (interrupted, killed, or a merge with such a part)
	// did not send its schedule: it is judged interrupted, so an incomplete
	// distributed run cannot pass the gate.
	loadtest.Judge(rep, set)
	if err := printJudged(s.Out, rep); err != nil {
		return &ExitError{Code: ExitRuntime, Err: err}
	}
	return exitError(verdictCode(rep.Verdict), writeOutputs(outs, rep))
}

// loadReports reads every file and merges them when there are several:
// only the parts of one distributed run (report.CheckParts), unless force,
// which merges anyway and says loudly what is wrong.
func loadReports(ctx context.Context, s *State, files []string, force bool) (*report.Report, error) {
	reps := make([]*report.Report, 0, len(files))
	var errs []error
	for _, f := range files {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		r, err := report.ReadFile(f)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		reps = append(reps, r)
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	if len(reps) == 1 {
		return reps[0], nil
	}
	parts := make([]report.Part, len(reps))
	for i, r := range reps {
		parts[i] = report.Part{Name: files[i], Report: r}
	}
	if err := report.CheckParts(parts); err != nil {
		if !force {
			return nil, fmt.Errorf("these reports are not the parts of one distributed run (--force merges them anyway):\n%w", err)
		}
		for _, line := range strings.Split(err.Error(), "\n") {
			warn := "WARNING: --force: merging anyway, the merged figures are wrong: " + line
			fmt.Fprintln(s.Err, warn)
			fmt.Fprintln(s.Out, warn)
		}
	}
	merged, err := report.Merge(reps, force)
	if err != nil {
		return nil, err
	}
	return merged, nil
}

// reportSLOs compiles the --slo expressions when given, else the SLOs the
// report recorded from its script.
func reportSLOs(rep *report.Report, exprs []string) (*slo.Set, []error) {
	if len(exprs) > 0 {
		return slo.CompileExpressions(exprs, slo.ReportNames(rep))
	}
	set, errs := slo.FromReport(rep)
	for i, err := range errs {
		errs[i] = fmt.Errorf("SLO recorded in the report: %w (check it with --slo instead)", err)
	}
	return set, errs
}
