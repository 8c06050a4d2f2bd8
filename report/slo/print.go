package slo

import (
	"fmt"
	"io"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/primeload/primeload/report"
	"github.com/primeload/primeload/report/metric"
)

// Print writes one line per SLO result after the console summary: ok or
// fail, the SLO, and what was measured against the limit. It keeps within
// report.SummaryWidth: an expression too long for its column wraps across
// the line and its measurement goes under it, in the measurement column
// (the report files keep both in full).
func Print(w io.Writer, results []report.SLO) error {
	if len(results) == 0 {
		return nil
	}
	const lead = 8 // "  fail  "
	avail := report.SummaryWidth - lead
	titleW, measW := 0, 0
	for _, r := range results {
		titleW = max(titleW, utf8.RuneCountInString(r.Title()))
		measW = max(measW, utf8.RuneCountInString(r.Measured()))
	}
	if titleW+2+measW > avail {
		titleW = max(avail-2-measW, minTitle)
		measW = avail - 2 - titleW
	}
	var b strings.Builder
	b.WriteString("SLOs:\n")
	for _, r := range results {
		title, meas := []string{r.Title()}, report.Wrap(r.Measured(), measW)
		under := 0 // the title lines before the measurement starts
		if utf8.RuneCountInString(r.Title()) > titleW {
			title = report.Wrap(r.Title(), avail)
			under = len(title)
		}
		for i := range max(len(title), under+len(meas)) {
			line := strings.Repeat(" ", lead)
			if i == 0 {
				line = fmt.Sprintf("  %-4s  ", r.Status())
			}
			if i < len(title) {
				line += title[i]
			}
			if m := i - under; m >= 0 && m < len(meas) {
				line += strings.Repeat(" ", lead+titleW+2-utf8.RuneCountInString(line)) + meas[m]
			}
			b.WriteString(strings.TrimRight(line, " ") + "\n")
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// minTitle is the narrowest the expression column gets beside a long
// measurement.
const minTitle = 40

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
