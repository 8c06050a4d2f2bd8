package slo

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/primeload/primeload/report"
)

// Print writes one line per result after the console summary: ok or fail,
// the SLO, and what was measured against the limit.
func Print(w io.Writer, results []Result) error {
	if len(results) == 0 {
		return nil
	}
	tw := tabwriter.NewWriter(w, 0, 8, 2, ' ', 0)
	fmt.Fprintln(tw, "SLOs:")
	for _, r := range results {
		fmt.Fprintf(tw, "  %-4s  %s\t%s\n", Status(r), Title(r), Measured(r))
	}
	return tw.Flush()
}

// Status is "ok", "fail", or "warn" for a failed SLO that is not strict.
func Status(r Result) string {
	switch {
	case r.OK:
		return "ok"
	case r.Strict:
		return "fail"
	}
	return "warn"
}

// Title is the SLO as a person reads it: the expression, led by the legacy
// key it came from when that is not already part of it.
func Title(r Result) string {
	if r.Name == "" || strings.Contains(r.Expression, r.Name) {
		return r.Expression
	}
	return r.Name + ": " + r.Expression
}

// Measured describes the measurement: "212.3 (limit 250)" for a comparison
// with a constant, else the metrics that were read.
func Measured(r Result) string {
	var s string
	switch {
	case r.Value != nil && r.Limit != nil:
		s = formatNumber(*r.Value) + " (limit " + formatNumber(*r.Limit) + ")"
	default:
		s = r.Detail
	}
	if !r.Strict && !r.OK {
		s += " [strict: false, warning only]"
	}
	return s
}

// MaxLagP99 is the p99 schedule lag, in milliseconds, above which a run is
// not trusted: arrivals started late, so the target saw less load than the
// script asked for and latencies understate the truth. It is the report
// package's LagWarning, so the summary's warning and the exit code agree.
const MaxLagP99 = float64(report.LagWarning) / float64(time.Millisecond)

// Untrusted reports whether the load generator fell behind its schedule, and
// why. It is the single place that decides, for both run and report.
func Untrusted(m Metrics) (bool, string) {
	lag, ok := m.Lookup(report.ScheduleLag + ".p99")
	if !ok || lag <= MaxLagP99 {
		return false, ""
	}
	return true, fmt.Sprintf("the load generator fell behind its schedule: %s.p99 = %s ms > %s ms; latencies understate the truth, reduce the rate or use a bigger load machine",
		report.ScheduleLag, formatNumber(lag), formatNumber(MaxLagP99))
}
