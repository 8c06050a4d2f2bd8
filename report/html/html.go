// Package html writes a run as one self-contained HTML page that opens
// offline: summary, SLO table, charts of request rate, error rate and latency
// percentiles over time, each endpoint's latency percentile spectrum from its
// HdrHistogram, and status code and error tables. Charts are drawn by uPlot,
// embedded in the binary and inlined into the page.
package html

import (
	"bufio"
	"bytes"
	"embed"
	"encoding/json"
	"fmt"
	"html/template"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/primeload/primeload/report"
	"github.com/primeload/primeload/report/view"
)

//go:embed assets/uPlot.iife.min.js assets/uPlot.min.css assets/uPlot.LICENSE assets/page.js assets/page.css assets/live.js page.tmpl
var files embed.FS

// page is what page.tmpl renders.
type page struct {
	Overview  view.Overview
	Verdict   string
	VerdictOK bool
	SLOs      []sloRow
	Endpoints []view.Endpoint
	// EndpointErrors shows the per-endpoint network error column.
	EndpointErrors bool
	Codes          []view.Count
	Errors         []view.Count
	Phases         []report.PhaseArrivals
	Failures       []report.Failure
	// ErrorRateMeaning is said beside the error rate.
	ErrorRateMeaning string
	Started          string
	Duration         string
	Rate             string
	Series           series
	// Inlined assets, trusted: they are ours, embedded at build time.
	UPlotJS  template.JS
	UPlotCSS template.CSS
	PageJS   template.JS
	PageCSS  template.CSS
	// LiveJS follows the live dashboard's updates; empty in a file.
	LiveJS template.JS
	// AsOf is the instant a running report's summary counts are from; nil
	// for a finished run.
	AsOf *asOf
}

// asOf is when a running report's counts were taken: the collector's
// last period's end, which its charts' fine series goes past.
type asOf struct {
	End     int64  // Unix seconds
	Clock   string // 15:04:05 UTC
	Elapsed string // since the run's start
}

type sloRow struct {
	Status   string
	Title    string
	Measured string
	Strict   bool
}

// Write writes the HTML page for r, with the SLO results it holds, to w.
func Write(w io.Writer, r *report.Report) error {
	p, err := build(r, false)
	if err != nil {
		return fmt.Errorf("write html report: %w", err)
	}
	t, err := parse()
	if err != nil {
		return fmt.Errorf("write html report: %w", err)
	}
	bw := bufio.NewWriter(w)
	if err := t.Execute(bw, p); err != nil {
		return fmt.Errorf("write html report: %w", err)
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("write html report: %w", err)
	}
	return nil
}

func parse() (*template.Template, error) {
	return template.New("page.tmpl").Funcs(template.FuncMap{
		"ms":      view.Ms,
		"percent": view.Percent,
		"url":     breakableURL,
	}).ParseFS(files, "page.tmpl")
}

// Update is what the live dashboard pushes to the pages it serves, which
// swap it in for what they show.
type Update struct {
	// Report is the markup of the page's body before its scripts.
	Report string `json:"report"`
	Series series `json:"series"`
}

// Live renders r for the live dashboard: the whole page and, as JSON, the
// Update with the same content for pages already open. A running report
// (a run still going) reads "running" where a verdict goes, and its page
// follows the dashboard's events at ./events; a finished one's page is the
// very bytes Write writes.
func Live(r *report.Report, running bool) (page, update []byte, err error) {
	p, err := build(r, running)
	if err != nil {
		return nil, nil, fmt.Errorf("render live report: %w", err)
	}
	t, err := parse()
	if err != nil {
		return nil, nil, fmt.Errorf("render live report: %w", err)
	}
	if running {
		js, err := files.ReadFile("assets/live.js")
		if err != nil {
			return nil, nil, err
		}
		p.LiveJS = template.JS(js)
	}
	var body, whole bytes.Buffer
	if err := t.ExecuteTemplate(&body, "report", p); err != nil {
		return nil, nil, fmt.Errorf("render live report: %w", err)
	}
	if err := t.Execute(&whole, p); err != nil {
		return nil, nil, fmt.Errorf("render live report: %w", err)
	}
	update, err = json.Marshal(Update{Report: body.String(), Series: p.Series})
	if err != nil {
		return nil, nil, fmt.Errorf("render live report: %w", err)
	}
	return whole.Bytes(), update, nil
}

// build gathers what the page shows of r; running says the run goes on.
func build(r *report.Report, running bool) (*page, error) {
	// The charts need every period's summaries, not its histograms, which
	// are most of a period's size: a run's spilled periods come back
	// without them.
	var periods []*report.Metrics
	if err := r.EachPeriod(func(m *report.Metrics) error {
		light := *m
		light.HDR = nil
		periods = append(periods, &light)
		return nil
	}); err != nil {
		return nil, fmt.Errorf("read the report's periods: %w", err)
	}
	o := view.Summarize(r)
	p := &page{
		Overview:         o,
		Endpoints:        view.Endpoints(r),
		Codes:            view.StatusCodes(r),
		Errors:           view.Errors(r),
		Phases:           r.Expected,
		Failures:         r.Failures,
		ErrorRateMeaning: report.ErrorRateMeaning,
		Started:          r.StartedAt.UTC().Format("2006-01-02 15:04:05 UTC"),
		Duration:         o.Duration.Round(time.Second).String(),
		Rate:             strconv.FormatFloat(o.Rate, 'f', 1, 64),
		Series:           timeSeries(r, periods, view.Endpoints(r)),
	}
	// The judge's order (loadtest.Judge); a report never judged has no
	// Verdict and is described by what it holds.
	switch {
	case running:
		p.Verdict, p.VerdictOK = "running: the report so far", true
		if !r.EndedAt.IsZero() {
			p.AsOf = &asOf{End: r.EndedAt.Unix(), Clock: r.EndedAt.UTC().Format("15:04:05 MST"), Elapsed: p.Duration}
		}
	case r.Verdict == report.Interrupted:
		p.Verdict = "interrupted: the run did not send its whole schedule"
	case o.Untrusted:
		p.Verdict = "untrusted: the load generator fell behind its schedule"
	case !r.SLOsPassed():
		p.Verdict = "SLO failed"
	case r.Verdict == report.ExpectFailed:
		p.Verdict = "expectations failed"
	case len(r.SLO) > 0:
		p.Verdict, p.VerdictOK = "SLOs passed", true
	default:
		p.Verdict, p.VerdictOK = "finished", true
	}
	for _, res := range r.SLO {
		p.SLOs = append(p.SLOs, sloRow{Status: res.Status(), Title: res.Title(), Measured: res.Measured(), Strict: res.Strict})
	}
	p.EndpointErrors = view.EndpointErrors(p.Endpoints)
	sp, err := percentileSpectrum(r, p.Endpoints)
	if err != nil {
		return nil, err
	}
	p.Series.Spectrum = sp
	for _, a := range []struct {
		name string
		js   *template.JS
		css  *template.CSS
	}{
		{"assets/uPlot.iife.min.js", &p.UPlotJS, nil},
		{"assets/page.js", &p.PageJS, nil},
		{"assets/uPlot.min.css", nil, &p.UPlotCSS},
		{"assets/page.css", nil, &p.PageCSS},
	} {
		b, err := files.ReadFile(a.name)
		if err != nil {
			return nil, err
		}
		if a.name == "assets/uPlot.iife.min.js" {
			// uPlot's MIT license travels with every copy of its code;
			// html/template drops comments written in the template itself.
			lic, err := files.ReadFile("assets/uPlot.LICENSE")
			if err != nil {
				return nil, err
			}
			b = append([]byte("/*\n"+string(lic)+"*/\n"), b...)
		}
		if a.js != nil {
			*a.js = template.JS(b)
		} else {
			*a.css = template.CSS(b)
		}
	}
	return p, nil
}

// breakableURL marks up a URL so a narrow card breaks it only after a
// slash of its path: the scheme, host and port stay on one line.
func breakableURL(u string) template.HTML {
	origin, path := u, ""
	if i := strings.Index(u, "://"); i >= 0 {
		if j := strings.IndexByte(u[i+3:], '/'); j >= 0 {
			origin, path = u[:i+3+j], u[i+3+j:]
		}
	}
	var b strings.Builder
	b.WriteString(`<span class="nobr">` + template.HTMLEscapeString(origin) + `</span>`)
	for seg := range strings.SplitAfterSeq(path, "/") {
		b.WriteString(template.HTMLEscapeString(seg))
		if strings.HasSuffix(seg, "/") {
			b.WriteString("<wbr>")
		}
	}
	return template.HTML(b.String())
}
