package capacity

import (
	"bufio"
	"embed"
	"encoding/json"
	"fmt"
	"html/template"
	"io"
	"strconv"
	"strings"

	"github.com/primeload/primeload/report/html"
	"github.com/primeload/primeload/report/view"
)

// WriteJSON writes the result for CI, with the capacity at its top level.
func WriteJSON(w io.Writer, r *Result) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	if err := enc.Encode(r); err != nil {
		return fmt.Errorf("encode capacity result: %w", err)
	}
	return nil
}

// WriteStep writes one finished step as a line of the step table, so a
// long search shows its progress as it goes.
func WriteStep(w io.Writer, i int, s Step) error {
	_, err := fmt.Fprintln(w, stepLine(i, s))
	return err
}

// StepHeader is the step table's header line.
func StepHeader() string {
	return fmt.Sprintf("%3s %-7s %8s %8s %8s %8s %8s %8s %7s  %s", "#", "stage", "asked/s", "got/s", "req/s", "p50", "p95", "p99", "errors", "verdict")
}

func stepLine(i int, s Step) string {
	line := fmt.Sprintf("%3d %-7s %8s %8s %8s %8s %8s %8s %7s  %s", i+1, s.Stage, rateStr(s.Rate), rateStr(s.Achieved), rateStr(s.RequestRate),
		view.Ms(s.P50), view.Ms(s.P95), view.Ms(s.P99), strconv.FormatFloat(s.ErrorRate, 'f', 2, 64)+"%", s.Verdict())
	switch {
	case s.Generator != "":
		line += ": " + s.Generator
	case len(s.Failed) > 0:
		line += ": " + strings.Join(s.Failed, "; ")
	}
	return line
}

// WriteText writes the search for a terminal: the step table, the knee and
// the answer.
func WriteText(w io.Writer, r *Result) error {
	bw := bufio.NewWriter(w)
	fmt.Fprintf(bw, "capacity search: %s on %s\n", r.Script, r.Target)
	fmt.Fprintf(bw, "SLOs: %s\n", strings.Join(r.SLOs, "; "))
	fmt.Fprintln(bw, "latencies in ms; asked/got are arrivals per second")
	fmt.Fprintln(bw, StepHeader())
	for i, s := range r.Steps {
		fmt.Fprintln(bw, stepLine(i, s))
	}
	fmt.Fprintln(bw)
	if r.Knee != nil {
		fmt.Fprintf(bw, "knee of latency against throughput: %s requests/s (arrivals %s/s), p95 %s ms\n",
			rateStr(r.Knee.RequestRate), rateStr(r.Knee.Rate), view.Ms(r.Knee.P95))
	}
	if r.RequireMet != nil {
		verdict := "met"
		if !*r.RequireMet {
			verdict = "NOT met"
		}
		fmt.Fprintf(bw, "requirement %s: %s\n", r.Require, verdict)
	}
	fmt.Fprintf(bw, "capacity: %s\n", r.Summary)
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("write capacity result: %w", err)
	}
	return nil
}

//go:embed page.tmpl
var pageFS embed.FS

type htmlPage struct {
	Result *Result
	Lines  []string
	Header string
	Chart  chart
	Assets html.Assets
}

// chart is latency percentiles against achieved request rate, one point per
// step the generator kept up with, sorted by rate.
type chart struct {
	X    []float64 `json:"x"`
	P50  []float64 `json:"p50"`
	P95  []float64 `json:"p95"`
	P99  []float64 `json:"p99"`
	Knee *Knee     `json:"knee"`
}

// WriteHTML writes the search as one self-contained page: the answer, the
// chart of latency percentiles against throughput and the step table.
func WriteHTML(w io.Writer, r *Result) error {
	assets, err := html.LoadAssets()
	if err != nil {
		return fmt.Errorf("write capacity html: %w", err)
	}
	p := htmlPage{Result: r, Header: StepHeader(), Assets: assets, Chart: chart{X: []float64{}, P50: []float64{}, P95: []float64{}, P99: []float64{}, Knee: r.Knee}}
	for i, s := range r.Steps {
		p.Lines = append(p.Lines, stepLine(i, s))
	}
	for _, s := range sortedByRate(r.Steps) {
		p.Chart.X = append(p.Chart.X, s.RequestRate)
		p.Chart.P50, p.Chart.P95, p.Chart.P99 = append(p.Chart.P50, s.P50), append(p.Chart.P95, s.P95), append(p.Chart.P99, s.P99)
	}
	t, err := template.New("page.tmpl").Funcs(template.FuncMap{"deref": func(b *bool) bool { return b != nil && *b }}).ParseFS(pageFS, "page.tmpl")
	if err != nil {
		return fmt.Errorf("write capacity html: %w", err)
	}
	bw := bufio.NewWriter(w)
	if err := t.Execute(bw, p); err != nil {
		return fmt.Errorf("write capacity html: %w", err)
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("write capacity html: %w", err)
	}
	return nil
}
