package slo

import (
	"fmt"
	"io"
	"strings"
	"unicode/utf8"

	"github.com/primeload/primeload/report"
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
