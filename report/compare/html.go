package compare

import (
	"bufio"
	"embed"
	"fmt"
	"html/template"
	"io"

	"github.com/primeload/primeload/report/html"
)

//go:embed page.tmpl
var pageFS embed.FS

type htmlPage struct {
	Result   *Result
	Settings string
	Rows     []htmlRow
	// Spectra is indexed by row; rows without histograms have none.
	Spectra map[int]htmlSpectrum
	Assets  html.Assets
}

type htmlRow struct {
	Row
	Cells       []htmlCell
	HasSpectrum bool
}

type htmlCell struct {
	cells
	Class, Why string
}

func (c htmlCell) Metric() string   { return c.metric }
func (c htmlCell) Base() string     { return c.base }
func (c htmlCell) New() string      { return c.new }
func (c htmlCell) Delta() string    { return c.delta }
func (c htmlCell) Interval() string { return c.interval }
func (c htmlCell) Verdict() string  { return c.verdict }

type htmlSpectrum struct {
	Name string    `json:"name"`
	X    []float64 `json:"x"`
	Base []float64 `json:"base"`
	New  []float64 `json:"new"`
}

// WriteHTML writes the comparison as one self-contained page that opens
// offline: the tables, and per row both runs' latency percentile spectra
// overlaid, drawn by the uPlot the run report embeds.
func WriteHTML(w io.Writer, r *Result) error {
	assets, err := html.LoadAssets()
	if err != nil {
		return fmt.Errorf("write comparison html: %w", err)
	}
	p := htmlPage{Result: r, Settings: r.settings(), Spectra: map[int]htmlSpectrum{}, Assets: assets}
	for i, row := range r.Rows() {
		hr := htmlRow{Row: row}
		for _, d := range row.Diffs {
			hr.Cells = append(hr.Cells, htmlCell{cells: cellsOf(d), Class: string(d.Status), Why: d.Why})
		}
		if s := row.Spectrum; s != nil {
			hr.HasSpectrum = true
			sp := htmlSpectrum{Name: row.Name, Base: s.Base, New: s.New}
			for _, q := range s.Percentiles {
				sp.X = append(sp.X, 1/(1-q/100))
			}
			p.Spectra[i] = sp
		}
		p.Rows = append(p.Rows, hr)
	}
	t, err := template.ParseFS(pageFS, "page.tmpl")
	if err != nil {
		return fmt.Errorf("write comparison html: %w", err)
	}
	bw := bufio.NewWriter(w)
	if err := t.Execute(bw, p); err != nil {
		return fmt.Errorf("write comparison html: %w", err)
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("write comparison html: %w", err)
	}
	return nil
}
