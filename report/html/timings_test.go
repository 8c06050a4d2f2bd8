package html

import (
	"slices"
	"testing"
	"time"

	"github.com/primeload/primeload/report"
	"github.com/primeload/primeload/report/metric"
	"github.com/primeload/primeload/runner"
)

// TestSpectrumHasExtendedMetrics: the percentile chart draws the
// config.http.extendedMetrics histograms a run recorded, and no others
// (here plain HTTP: no http.tls).
func TestSpectrumHasExtendedMetrics(t *testing.T) {
	t.Parallel()
	start := time.Date(2026, 11, 26, 10, 0, 0, 0, time.UTC)
	c := report.NewCollector(start, report.Info{Period: time.Second})
	sink := c.Sink(1)
	for i := range 20 {
		d := time.Duration(i+1) * time.Millisecond
		sink.Response("", d, 200, 1)
		sink.Timings(runner.Timings{TCP: d / 4, Total: d})
	}
	if _, err := c.Flush(start.Add(time.Second)); err != nil {
		t.Fatal(err)
	}
	sp, err := percentileSpectrum(c.Report(), nil)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, s := range sp.Series {
		names = append(names, s.Name)
	}
	if want := []string{"all requests", metric.HTTPDNS, metric.HTTPTCP, metric.HTTPTotal}; !slices.Equal(names, want) {
		t.Errorf("series %v, want %v", names, want)
	}
}
