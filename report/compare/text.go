package compare

import (
	"bufio"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/primeload/primeload/report/view"
)

// cells is one Diff as the text outputs show it.
type cells struct {
	metric, base, new, delta, interval, verdict string
}

func cellsOf(d Diff) cells {
	c := cells{metric: d.Metric, base: num(d, d.Base), new: num(d, d.New), verdict: string(d.Status)}
	c.delta = signed(d, d.Delta)
	if d.Relative != nil {
		c.delta += " (" + signedFloat(*d.Relative, 1) + "%)"
	}
	c.interval = "-"
	if d.Low != nil && d.High != nil {
		c.interval = "[" + signed(d, *d.Low) + ", " + signed(d, *d.High) + "]"
	}
	if d.Gate != "" {
		c.verdict += " (" + d.Gate + ")"
	}
	return c
}

// num formats a value in its unit; error rates keep three decimals so
// 0.1 pp gates read exactly.
func num(d Diff, v float64) string {
	switch d.Unit {
	case "ms":
		if v < 0 {
			return "-" + view.Ms(-v) + " ms"
		}
		return view.Ms(v) + " ms"
	case "%":
		return strconv.FormatFloat(v, 'f', 3, 64) + "%"
	}
	return strconv.FormatFloat(v, 'f', 1, 64) + " " + d.Unit
}

func signed(d Diff, v float64) string {
	s := num(d, v)
	if strings.IndexAny(s, "123456789") < 0 {
		s, v = strings.TrimPrefix(s, "-"), 0 // "-0.0" reads as a change: it rounds to none
	}
	if d.Unit == "%" {
		s = strings.TrimSuffix(s, "%") + "pp"
	}
	if v >= 0 {
		return "+" + s
	}
	return s
}

func signedFloat(v float64, prec int) string {
	s := strconv.FormatFloat(v, 'f', prec, 64)
	if v >= 0 {
		return "+" + s
	}
	return s
}

// Verdict is the comparison in one line.
func (r *Result) Verdict() string {
	if !r.Regressed {
		return "no regression beyond noise"
	}
	var names []string
	for _, row := range r.Rows() {
		if row.Regressed {
			names = append(names, row.Name)
		}
	}
	return fmt.Sprintf("regression in %d of %d: %s", len(names), len(r.Rows()), strings.Join(names, ", "))
}

// settings states how the comparison judged, for every output.
func (r *Result) settings() string {
	gates := "none"
	if len(r.Gates) > 0 {
		gates = strings.Join(r.Gates, ", ")
	}
	return fmt.Sprintf("gates %s; %s confidence overall, %s per interval (bootstrap: %d resamples, seed %d); latency noise floor %s ms",
		gates, view.Percent(100*r.Confidence), view.Percent(100*r.Level), r.Replicates, r.Seed, view.Ms(r.NoiseFloor))
}

func sideLine(name string, s Side) string {
	return fmt.Sprintf("%-4s %s: %s on %s, %.1f s, %d requests", name, s.File, s.Script, s.Target, s.Seconds, s.Requests)
}

// WriteText writes the comparison for a terminal, within 100 columns.
func WriteText(w io.Writer, r *Result) error {
	bw := bufio.NewWriter(w)
	fmt.Fprintln(bw, sideLine("base", r.Base))
	fmt.Fprintln(bw, sideLine("new", r.New))
	fmt.Fprintln(bw, r.settings())
	for _, row := range r.Rows() {
		fmt.Fprintln(bw)
		mark := ""
		if row.Regressed {
			mark = "  << REGRESSION"
		}
		fmt.Fprintf(bw, "%s%s\n", row.Name, mark)
		if row.Only != "" {
			fmt.Fprintf(bw, "  measured in the %s run only: not compared\n", row.Only)
			continue
		}
		fmt.Fprintf(bw, "  %-10s %11s %11s %20s %22s  %s\n", "", "base", "new", "difference", "interval", "verdict")
		for _, d := range row.Diffs {
			// The gates are on the settings line; the verdict alone keeps the table in 100 columns.
			c := cellsOf(d)
			fmt.Fprintf(bw, "  %-10s %11s %11s %20s %22s  %s\n", c.metric, c.base, c.new, c.delta, c.interval, d.Status)
		}
	}
	fmt.Fprintln(bw)
	for _, n := range r.Notes {
		fmt.Fprintln(bw, "note:", n)
	}
	fmt.Fprintln(bw, "verdict:", r.Verdict())
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("write comparison: %w", err)
	}
	return nil
}

// WriteMarkdown writes the comparison as GitHub markdown, for a pull request
// comment or $GITHUB_STEP_SUMMARY: the verdict, the regressions, the overall
// table, and each endpoint's table folded.
func WriteMarkdown(w io.Writer, r *Result) error {
	bw := bufio.NewWriter(w)
	icon := "✅"
	if r.Regressed {
		icon = "❌"
	}
	fmt.Fprintf(bw, "## primeload compare: %s %s\n\n", icon, r.Verdict())
	fmt.Fprintf(bw, "Base `%s` (%d requests) → new `%s` (%d requests). %s.\n\n",
		mdCell(r.Base.File), r.Base.Requests, mdCell(r.New.File), r.New.Requests, mdCell(r.settings()))
	for _, n := range r.Notes {
		fmt.Fprintf(bw, "> [!NOTE]\n> %s\n\n", mdCell(n))
	}
	if r.Regressed {
		fmt.Fprintln(bw, "| Regressed | Metric | Base | New | Difference |")
		fmt.Fprintln(bw, "|---|---|--:|--:|--:|")
		for _, row := range r.Rows() {
			for _, d := range row.Diffs {
				if d.Status == StatusRegression {
					c := cellsOf(d)
					fmt.Fprintf(bw, "| `%s` | %s | %s | %s | %s |\n", mdCell(row.Name), c.metric, c.base, c.new, c.delta)
				}
			}
		}
		fmt.Fprintln(bw)
	}
	mdTable(bw, r.Overall)
	for _, row := range r.Endpoints {
		mark := ""
		if row.Regressed {
			mark = " ❌"
		}
		fmt.Fprintf(bw, "<details><summary><code>%s</code>%s</summary>\n\n", htmlEscape(row.Name), mark)
		mdTable(bw, row)
		fmt.Fprint(bw, "</details>\n\n")
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("write comparison markdown: %w", err)
	}
	return nil
}

func mdTable(w io.Writer, row Row) {
	if row.Only != "" {
		fmt.Fprintf(w, "Measured in the %s run only: not compared.\n\n", row.Only)
		return
	}
	fmt.Fprintf(w, "| %s | Base | New | Difference | Interval | Verdict |\n", mdCell(row.Name))
	fmt.Fprintln(w, "|---|--:|--:|--:|--:|---|")
	for _, d := range row.Diffs {
		c := cellsOf(d)
		fmt.Fprintf(w, "| %s | %s | %s | %s | %s | %s |\n", c.metric, c.base, c.new, c.delta, c.interval, c.verdict)
	}
	fmt.Fprintln(w)
}

// mdCell keeps a value inside one table cell.
func mdCell(s string) string {
	return strings.NewReplacer("|", `\|`, "\n", " ", "`", "'").Replace(s)
}

func htmlEscape(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;").Replace(s)
}
