// Package mdsummary writes a short markdown summary of a run with its SLO
// table, for CI job pages such as GitHub's $GITHUB_STEP_SUMMARY.
package mdsummary

import (
	"bufio"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/primeload/primeload/report"
	"github.com/primeload/primeload/report/view"
)

// Write writes the markdown summary of r, with the SLO results it holds, to w.
func Write(w io.Writer, r *report.Report) error {
	results := r.SLO
	bw := bufio.NewWriter(w)
	o := view.Summarize(r)
	fmt.Fprintf(bw, "## primeload: %s %s\n\n", cell(o.Title), verdict(o, r))
	if o.Untrusted {
		fmt.Fprintf(bw, "> [!WARNING]\n> Untrusted run: %s.\n\n", o.UntrustedBy)
	}
	if o.Aborted {
		fmt.Fprint(bw, "> [!NOTE]\n> The run was interrupted before its schedule ended.\n\n")
	}
	fmt.Fprintln(bw, "| Target | Duration | Requests | Rate | Errors | p50 | p95 | p99 |")
	fmt.Fprintln(bw, "|---|--:|--:|--:|--:|--:|--:|--:|")
	fmt.Fprintf(bw, "| %s | %s | %d | %s/s | %d (%s) | %s | %s | %s |\n\n",
		cell(o.Target), o.Duration.Round(time.Second), o.Requests, strconv.FormatFloat(o.Rate, 'f', 1, 64),
		o.Tally.Failed(), view.Percent(o.ErrorRate), latency(o.Latency, o.Latency.P50), latency(o.Latency, o.Latency.P95), latency(o.Latency, o.Latency.P99))
	fmt.Fprintf(bw, "Errors: %s; HTTP 4xx: %d.\n\n", report.ErrorRateMeaning, o.Tally.HTTP4xx)
	if len(results) > 0 {
		fmt.Fprintln(bw, "| | SLO | Measured |")
		fmt.Fprintln(bw, "|---|---|---|")
		for _, res := range results {
			fmt.Fprintf(bw, "| %s | %s | %s |\n", mark(res), code(res.Title()), cell(res.Measured()))
		}
		fmt.Fprintln(bw)
	}
	if eps := view.Endpoints(r); len(eps) > 0 {
		netCol := view.EndpointErrors(eps)
		fmt.Fprintln(bw, "<details><summary>Endpoints</summary>")
		fmt.Fprintln(bw)
		head, rule := "| Endpoint | Responses | 4xx | 5xx |", "|---|--:|--:|--:|"
		if netCol {
			head, rule = head+" Network errors |", rule+"--:|"
		}
		fmt.Fprintln(bw, head+" p95 | p99 |")
		fmt.Fprintln(bw, rule+"--:|--:|")
		for _, ep := range eps {
			fmt.Fprintf(bw, "| %s | %d | %d | %d |", code(ep.Label), ep.Responses, ep.Tally.HTTP4xx, ep.Tally.HTTP5xx)
			if netCol {
				fmt.Fprintf(bw, " %d |", ep.Tally.Network)
			}
			fmt.Fprintf(bw, " %s | %s |\n", latency(ep.Latency, ep.Latency.P95), latency(ep.Latency, ep.Latency.P99))
		}
		fmt.Fprintln(bw)
		fmt.Fprintln(bw, "</details>")
	}
	if len(r.Failures) > 0 {
		fmt.Fprintln(bw)
		fmt.Fprintln(bw, "<details><summary>Failures</summary>")
		fmt.Fprintln(bw)
		fmt.Fprintln(bw, "| Endpoint | Failure | Count | Reason |")
		fmt.Fprintln(bw, "|---|---|--:|---|")
		for _, f := range r.Failures {
			fmt.Fprintf(bw, "| %s | %s | %d | %s |\n", code(f.Endpoint), cell(f.Label()), f.Count, cell(strings.Join(f.Reasons(), "; ")))
		}
		fmt.Fprintln(bw)
		fmt.Fprintln(bw, "</details>")
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("write markdown summary: %w", err)
	}
	return nil
}

// latency prints one statistic of s, or a dash when s has no samples: a
// run without responses has no latency, not a latency of 0.
func latency(s report.Summary, v float64) string {
	if s.Count == 0 {
		return "-"
	}
	return view.Ms(v) + " ms"
}

// verdict is the headline: what CI's exit code will say.
func verdict(o view.Overview, r *report.Report) string {
	switch {
	case r.Verdict == report.Interrupted:
		return "⏹️ interrupted"
	case o.Untrusted:
		return "⚠️ untrusted"
	case !r.SLOsPassed():
		return "❌ SLO failed"
	case r.Verdict == report.ExpectFailed:
		return "❌ expectations failed"
	case len(r.SLO) > 0:
		return "✅ SLOs passed"
	}
	return "✅ finished"
}

func mark(r report.SLO) string {
	switch r.Status() {
	case "ok":
		return "✅ ok"
	case "warn":
		return "⚠️ warn"
	}
	return "❌ fail"
}

// cell makes text safe inside a table cell: a pipe would end the cell and a
// newline the row; < and > would open HTML.
func cell(s string) string {
	return strings.NewReplacer("|", `\|`, "\n", " ", "\r", " ", "<", "&lt;", ">", "&gt;").Replace(s)
}

// code puts s in a code span; GitHub still needs pipes escaped there.
func code(s string) string {
	s = strings.NewReplacer("|", `\|`, "\n", " ", "\r", " ").Replace(s)
	fence := "`"
	for strings.Contains(s, fence) {
		fence += "`"
	}
	if strings.HasPrefix(s, "`") || strings.HasSuffix(s, "`") {
		s = " " + s + " "
	}
	return fence + s + fence
}
