package html

import (
	"bytes"
	"flag"
	"fmt"
	"image/png"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/primeload/primeload/report"
	"github.com/primeload/primeload/report/metric"
	"github.com/primeload/primeload/report/reporttest"
	"github.com/primeload/primeload/report/slo"
	"github.com/primeload/primeload/report/view"
	"github.com/primeload/primeload/scenario"
)

var update = flag.Bool("update", false, "rewrite golden files")

func ensure() scenario.Ensure {
	return scenario.Ensure{
		Thresholds: []scenario.Threshold{{Metric: "http.response_time.p99", Limit: 250}},
		Conditions: []scenario.Condition{
			{Expression: "http.codes.500 / http.requests < 0.001", Strict: true},
			{Expression: `plugins.metrics-by-endpoint.response_time./api/goods-received/.p95 < 20`},
		},
		Legacy: []scenario.Threshold{{Metric: "maxErrorRate", Limit: 1}},
	}
}

// render writes the page for a built run with its SLOs evaluated.
func render(t *testing.T, o reporttest.Options) []byte {
	t.Helper()
	r := reporttest.Run(t, o)
	// The phase began with the run; a second mark at its middle.
	r.Expected[0].Start = r.StartedAt.UnixMilli()
	mid := r.StartedAt.Add(r.EndedAt.Sub(r.StartedAt) / 2).UnixMilli()
	r.Expected = append(r.Expected, report.PhaseArrivals{Name: "crowd", VUsers: 10, Created: 20, Start: mid})
	results, errs := slo.Check(r)
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	var buf bytes.Buffer
	if err := Write(&buf, withSLOs(r, results)); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// maskAssets replaces the inlined third-party and static assets, which the
// golden file need not repeat, with their names.
func maskAssets(t *testing.T, page []byte) []byte {
	t.Helper()
	for _, name := range []string{"assets/uPlot.LICENSE", "assets/uPlot.iife.min.js", "assets/uPlot.min.css", "assets/page.js", "assets/page.css"} {
		b, err := files.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Contains(page, b) {
			t.Fatalf("page does not inline %s unchanged", name)
		}
		page = bytes.Replace(page, b, []byte("/* "+name+" */"), 1)
	}
	return page
}

func TestGolden(t *testing.T) {
	t.Parallel()
	page := render(t, reporttest.Options{Ensure: ensure(), Failures: true, Periods: 3})
	reporttest.Golden(t, filepath.Join("testdata", "report.golden.html"), maskAssets(t, page), *update)
}

func TestSelfContained(t *testing.T) {
	t.Parallel()
	page := string(render(t, reporttest.Options{Ensure: ensure(), Failures: true}))
	// Nothing may load from elsewhere: no src or href attributes, no
	// stylesheet imports, no URLs in the markup outside the inlined code.
	for _, re := range []string{`<script[^>]+src=`, `<link[^>]+href=`, `@import`} {
		if regexp.MustCompile(re).MatchString(page) {
			t.Errorf("page matches %s: it would load something from outside", re)
		}
	}
	for _, want := range []string{
		`data-chart="rate"`, `data-chart="errors"`, `data-chart="latency"`, `data-chart="spectrum"`,
		`<td class="status">fail</td><td><code>http.codes.500 / http.requests &lt; 0.001</code>`,
		`<code>GET /api/goods-received/{{ goodsId }}/</code>`,
	} {
		if !strings.Contains(page, want) {
			t.Errorf("page lacks %s", want)
		}
	}
}

func TestEscapesScriptText(t *testing.T) {
	t.Parallel()
	r := reporttest.Run(t, reporttest.Options{Periods: 1, Script: `</script><script>alert(1)</script>.yml`})
	var buf bytes.Buffer
	if err := Write(&buf, r); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(buf.String(), "<script>alert(1)") {
		t.Error("a script path broke out of its element")
	}
}

func TestPercentileGrid(t *testing.T) {
	t.Parallel()
	tests := []struct {
		count int64
		n     int     // points
		last  float64 // last percentile, rounded to 4 decimals
	}{
		{1, 1, 0},         // one sample: only the 0th percentile has meaning
		{10, 17, 89.1181}, // 1/(1-q) stays at or below 10
		{1000, 50, 99.8878},
		{1 << 40, 100, 99.9999}, // capped by maxPercentile
	}
	for _, tt := range tests {
		g := percentileGrid(tt.count)
		if len(g) != tt.n || math.Round(g[len(g)-1]*1e4)/1e4 != tt.last {
			t.Errorf("percentileGrid(%d) has %d points ending %v, want %d ending %v", tt.count, len(g), g[len(g)-1], tt.n, tt.last)
		}
		if g[0] != 0 {
			t.Errorf("percentileGrid(%d) starts at %v, want 0", tt.count, g[0])
		}
	}
}

func TestSpectrumMatchesHistogram(t *testing.T) {
	t.Parallel()
	r := reporttest.Run(t, reporttest.Options{Periods: 2})
	sp, err := percentileSpectrum(r, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(sp.Series) != 1 || sp.Series[0].Name != "all requests" {
		t.Fatalf("series = %+v, want the run-wide line only", sp.Series)
	}
	sum := r.Aggregate.Summaries[metric.ResponseTime]
	// The grid point nearest the 90th percentile is exactly 90 (i = 5*log2(10)
	// is not whole), so compare p50, which i = 5 gives exactly.
	var got50 float64
	for i, x := range sp.X {
		if math.Abs(x-2) < 1e-9 {
			got50 = *sp.Series[0].Values[i]
		}
	}
	if got50 != sum.P50 {
		t.Errorf("spectrum at 50%% = %v ms, summary p50 = %v ms", got50, sum.P50)
	}
}

// TestBrowser opens the page in headless Chromium and fails on any console
// error or exception, on any resource the page fetched, or on a chart
// without its canvas. It saves a screenshot in testdata for people to look at.
func TestBrowser(t *testing.T) {
	tests := []struct {
		name       string
		opts       reporttest.Options
		screenshot string
		ratePoints int // the rate chart's: a point a second, or a period without a fine series
	}{
		{"full run", reporttest.Options{Ensure: ensure(), Failures: true}, "report.png", 60},
		{"untrusted single period", reporttest.Options{Periods: 1, Lag: 30 * time.Millisecond}, "", 10},
		{"target down: no responses, no histograms", reporttest.Options{Periods: 2, Down: true, Ensure: ensure()}, "", 20},
		{"no fine series: the periods", reporttest.Options{Periods: 3, NoSeries: true}, "", 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, "report.html")
			if err := os.WriteFile(path, render(t, tt.opts), 0o644); err != nil {
				t.Fatal(err)
			}
			shot := openInBrowser(t, path, tt.ratePoints)
			img, err := png.DecodeConfig(bytes.NewReader(shot))
			if err != nil {
				t.Fatalf("screenshot: %v", err)
			}
			if img.Width != 1200 || img.Height < 900 {
				t.Errorf("screenshot is %dx%d, want 1200 wide and at least the 900-pixel window tall", img.Width, img.Height)
			}
			// The tracked screenshot (README shows it) changes only when asked,
			// so a test run leaves the work tree clean.
			if tt.screenshot != "" && *update {
				if err := os.WriteFile(filepath.Join("testdata", tt.screenshot), shot, 0o644); err != nil {
					t.Fatal(err)
				}
			}
		})
	}
}

func openInBrowser(t *testing.T, path string, ratePoints int) []byte {
	t.Helper()
	b := reporttest.StartBrowser(t, 90*time.Second)
	bctx := b.Ctx
	if err := chromedp.Do(bctx, chromedp.Navigate("file://"+path)); err != nil {
		t.Fatalf("open %s: %v", path, err)
	}
	charts, err := chromedp.Run(bctx, chromedp.Evaluate[[]string](`Array.from(document.querySelectorAll("[data-chart]")).map(e => e.dataset.chart + ":" + e.querySelectorAll("canvas").length)`))
	if err != nil {
		t.Fatal(err)
	}
	if got, want := strings.Join(charts, " "), "users:1 rate:1 errors:1 latency:1 outcomes:1 endpointRate:1 endpointP50:1 endpointP95:1 endpointP99:1 spectrum:1"; got != want {
		t.Errorf("chart canvases %q, want %q", got, want)
	}
	// Every run has periods, so the time charts that need no response have
	// points: active users, the request rate, codes and errors (a refused
	// target has its errors) and each endpoint's rate.
	points, err := chromedp.Run(bctx, chromedp.Evaluate[[]string](`["users", "rate", "outcomes", "endpointRate"].map(n => n + ":" + document.querySelector('[data-chart="' + n + '"]').dataset.points)`))
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range points {
		if strings.HasSuffix(p, ":0") || strings.HasSuffix(p, ":undefined") {
			t.Errorf("chart %s has no points drawn", p)
		}
	}
	if want := fmt.Sprintf("rate:%d", ratePoints); points[1] != want {
		t.Errorf("rate chart drew %s, want %s", points[1], want)
	}
	// Every time chart marks both phase starts; the spectrum has no time.
	marks, err := chromedp.Run(bctx, chromedp.Evaluate[[]string](`Array.from(document.querySelectorAll("[data-chart]")).map(e => e.dataset.chart + ":" + e.dataset.phases)`))
	if err != nil {
		t.Fatal(err)
	}
	if got, want := strings.Join(marks, " "), "users:2 rate:2 errors:2 latency:2 outcomes:2 endpointRate:2 endpointP50:2 endpointP95:2 endpointP99:2 spectrum:undefined"; got != want {
		t.Errorf("phase marks drawn %q, want %q", got, want)
	}
	// Every time chart spans the run, however few its points: uPlot
	// stretches a lone period's point to years.
	spans, err := chromedp.Run(bctx, chromedp.Evaluate[[]string](`primeloadCharts.filter(u => u.scales.x.time).map(u =>
		u.root.parentElement.dataset.chart + ":" + (u.scales.x.max - u.scales.x.min) + ":" + (u.scales.x.min === primeloadSeries.start && u.scales.x.max === primeloadSeries.end))`))
	if err != nil {
		t.Fatal(err)
	}
	if len(spans) != 9 {
		t.Errorf("%d time charts, want 9: %q", len(spans), spans)
	}
	for _, sp := range spans {
		if !strings.HasSuffix(sp, ":true") {
			t.Errorf("time chart's x axis (name:seconds:spans the run) %s, want the run's span", sp)
		}
	}
	b.CheckOffline(t)
	png, err := chromedp.Run(bctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatal(err)
	}
	b.CheckConsole(t)
	return png
}

func BenchmarkWrite(b *testing.B) {
	r := reporttest.Run(b, reporttest.Options{Ensure: ensure(), Failures: true, Periods: 30})
	results, errs := slo.Check(r)
	if len(errs) > 0 {
		b.Fatal(errs)
	}
	b.ReportAllocs()
	for b.Loop() {
		if err := Write(&bytes.Buffer{}, withSLOs(r, results)); err != nil {
			b.Fatal(err)
		}
	}
}

// withSLOs stores results in r, where the writers read them.
func withSLOs(r *report.Report, results []report.SLO) *report.Report {
	r.SLO = results
	return r
}

// TestVerdictFollowsJudge: the page's verdict says what the judge said.
func TestVerdictFollowsJudge(t *testing.T) {
	t.Parallel()
	for v, want := range map[report.Verdict]string{
		report.Interrupted:  "interrupted: the run did not send its whole schedule",
		report.ExpectFailed: "expectations failed",
		report.Pass:         "finished",
	} {
		r := reporttest.Run(t, reporttest.Options{Periods: 1})
		r.Verdict = v
		p, err := build(r, false)
		if err != nil {
			t.Fatal(err)
		}
		if p.Verdict != want || p.VerdictOK != (v == report.Pass) {
			t.Errorf("verdict %s: page says %q (ok %v), want %q", v, p.Verdict, p.VerdictOK, want)
		}
	}
}

func TestBreakableURL(t *testing.T) {
	t.Parallel()
	tests := []struct{ in, want string }{
		{"http://127.0.0.1:36541", `<span class="nobr">http://127.0.0.1:36541</span>`},
		{"http://127.0.0.1:8080/api/v2/", `<span class="nobr">http://127.0.0.1:8080</span>/<wbr>api/<wbr>v2/<wbr>`},
		{"http://[::1]:8080/a?b=<c>", `<span class="nobr">http://[::1]:8080</span>/<wbr>a?b=&lt;c&gt;`},
		{"(no target)", `<span class="nobr">(no target)</span>`},
	}
	for _, tt := range tests {
		if got := string(breakableURL(tt.in)); got != tt.want {
			t.Errorf("breakableURL(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

// A closed phase has no arrivals to expect: the page says how many users
// looped, as the console does, not "0".
func TestClosedPhaseShowsUsers(t *testing.T) {
	t.Parallel()
	r := reporttest.Run(t, reporttest.Options{})
	r.Expected = append(r.Expected, report.PhaseArrivals{Name: "crowd", Created: 2400, VUsers: 40})
	var buf bytes.Buffer
	if err := Write(&buf, r); err != nil {
		t.Fatal(err)
	}
	if want := "<tr><td>crowd</td><td>40 users looping</td><td>2400</td>"; !strings.Contains(buf.String(), want) {
		t.Errorf("the page lacks %q", want)
	}
}

// The per-endpoint and per-outcome series add up to the run's totals: each
// point is a period's count over its length.
func TestSeriesAddUp(t *testing.T) {
	t.Parallel()
	r := reporttest.Run(t, reporttest.Options{Failures: true, Periods: 3})
	eps := view.Endpoints(r)
	s := timeSeries(r, r.Intermediate, eps)
	total := func(l namedLine) float64 {
		var n float64
		for i, v := range l.Values {
			if v != nil {
				n += *v * r.Intermediate[i].Duration().Seconds()
			}
		}
		return n
	}
	if len(s.EndpointRate) != len(eps) || len(s.EndpointP95) != len(eps) {
		t.Fatalf("%d rate and %d p95 lines for %d endpoints", len(s.EndpointRate), len(s.EndpointP95), len(eps))
	}
	byLabel := map[string]view.Endpoint{}
	for _, ep := range eps {
		byLabel[ep.Label] = ep
	}
	for _, l := range s.EndpointRate {
		ep := byLabel[l.Name]
		if got, want := total(l), float64(ep.Latency.Count); math.Abs(got-want) > 1e-6 {
			t.Errorf("%s: the rate line adds up to %v responses, want %v", l.Name, got, want)
		}
	}
	if len(s.Outcomes) == 0 {
		t.Fatal("no status code or error lines")
	}
	for _, l := range s.Outcomes {
		name := metric.CodePrefix + l.Name
		if _, ok := r.Aggregate.Counters[name]; !ok {
			name = metric.ErrorPrefix + l.Name
		}
		if got, want := total(l), float64(r.Aggregate.Counters[name]); math.Abs(got-want) > 1e-6 {
			t.Errorf("%s: the line adds up to %v, want the counter's %v", l.Name, got, want)
		}
	}
}
