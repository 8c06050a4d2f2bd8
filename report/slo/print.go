package slo

import (
	"fmt"
	"io"
	"text/tabwriter"
	"time"

	"github.com/primeload/primeload/report"
	"github.com/primeload/primeload/report/metric"
)

// Print writes one line per SLO result after the console summary: ok or
// fail, the SLO, and what was measured against the limit.
func Print(w io.Writer, results []report.SLO) error {
	if len(results) == 0 {
		return nil
	}
	tw := tabwriter.NewWriter(w, 0, 8, 2, ' ', 0)
	fmt.Fprintln(tw, "SLOs:")
	for _, r := range results {
		fmt.Fprintf(tw, "  %-4s  %s\t%s\n", r.Status(), r.Title(), r.Measured())
	}
	return tw.Flush()
}

// MaxLagP99 is the p99 schedule lag, in milliseconds, above which a run is
// not trusted: arrivals started late, so the target saw less load than the
// script asked for and latencies understate the truth. It is the report
// package's LagWarning, so the summary's warning and the exit code agree.
const MaxLagP99 = float64(report.LagWarning) / float64(time.Millisecond)

// Untrusted reports whether the load generator fell behind its schedule, and
// why. It is the single place that decides, for both run and report.
func Untrusted(m Metrics) (bool, string) {
	lag, ok := m.Lookup(metric.ScheduleLag + ".p99")
	if !ok || lag <= MaxLagP99 {
		return false, ""
	}
	return true, fmt.Sprintf("the load generator fell behind its schedule: %s.p99 = %s ms > %s ms; latencies understate the truth, reduce the rate or use a bigger load machine",
		metric.ScheduleLag, report.FormatNumber(lag), report.FormatNumber(MaxLagP99))
}
