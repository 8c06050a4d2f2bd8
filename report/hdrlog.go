package report

import (
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"
	"github.com/primeload/primeload/report/metric"
)

// HdrLog writes periods in HdrHistogram's interval log format, readable by
// HdrHistogram's own log tools (HistogramLogProcessor, HdrHistogram plotters).
// The overall response time is untagged; each endpoint and the schedule lag
// are tagged. Values are microseconds.
type HdrLog struct {
	lw *hdrhistogram.HistogramLogWriter
}

// NewHdrLog writes the log header for a run started at start; interval
// times in the log are seconds since start.
func NewHdrLog(w io.Writer, start time.Time) (*HdrLog, error) {
	lw := hdrhistogram.NewHistogramLogWriter(w)
	ms := start.UnixMilli()
	lw.SetBaseTime(ms)
	for _, write := range []func() error{
		lw.OutputLogFormatVersion,
		func() error {
			return lw.OutputComment("[primeload: values are microseconds; HistogramLogProcessor wants -outputValueUnitRatio 1000 for ms]")
		},
		func() error { return lw.OutputStartTime(ms) },
		func() error { return lw.OutputBaseTime(ms) },
		lw.OutputLegend,
	} {
		if err := write(); err != nil {
			return nil, fmt.Errorf("write hdr log header: %w", err)
		}
	}
	return &HdrLog{lw: lw}, nil
}

// WritePeriod appends one period's histograms.
func (l *HdrLog) WritePeriod(m *Metrics) error {
	for _, name := range slices.Sorted(maps.Keys(m.HDR)) {
		h, err := m.Histogram(name)
		if err != nil {
			return fmt.Errorf("write hdr log: %w", err)
		}
		h.SetTag(hdrTag(name))
		if err := l.lw.OutputIntervalHistogram(h); err != nil {
			return fmt.Errorf("write hdr log %s: %w", name, err)
		}
	}
	return nil
}

// hdrTag names a metric in the log. The format forbids commas, spaces and
// line breaks in tags, so those become underscores.
func hdrTag(name string) string {
	switch {
	case name == metric.ResponseTime:
		return ""
	case strings.HasPrefix(name, metric.EndpointResponseTime):
		name = strings.TrimPrefix(name, metric.EndpointResponseTime)
	}
	return strings.Map(func(r rune) rune {
		if r == ',' || r == ' ' || r == '\r' || r == '\n' {
			return '_'
		}
		return r
	}, name)
}

// WriteHdrLog writes every intermediate period of r as an interval log.
func WriteHdrLog(w io.Writer, r *Report) error {
	l, err := NewHdrLog(w, r.StartedAt)
	if err != nil {
		return err
	}
	return r.EachPeriod(l.WritePeriod) // spilled periods one at a time
}
