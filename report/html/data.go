package html

import (
	"cmp"
	"fmt"
	"maps"
	"math"
	"slices"
	"strings"

	"github.com/HdrHistogram/hdrhistogram-go"

	"github.com/primeload/primeload/report"
	"github.com/primeload/primeload/report/metric"
	"github.com/primeload/primeload/report/view"
)

// series is what the page's script draws; nil points are gaps (a period
// without responses has no latency).
type series struct {
	// Time holds each intermediate period's start in Unix seconds, uPlot's time axis.
	Time      []int64    `json:"time"`
	Rate      []*float64 `json:"rate"`      // requests per second
	ErrorRate []*float64 `json:"errorRate"` // percent: report.ErrorRateMeaning
	P50       []*float64 `json:"p50"`
	P95       []*float64 `json:"p95"`
	P99       []*float64 `json:"p99"`
	// Active is the virtual users in flight at each period's end (created
	// minus completed and failed, from the run's start); Completed is the
	// users that finished their flow within the period.
	Active    []*float64 `json:"active"`
	Completed []*float64 `json:"completed"`
	// Outcomes is each status code and error per second over time
	// ("200", "ETIMEDOUT"), a line each.
	Outcomes []namedLine `json:"outcomes"`
	// EndpointP50, EndpointP95, EndpointP99 and EndpointRate hold a line per
	// endpoint (at most MaxChartEndpoints, the busiest): its latency
	// percentiles (ms) and its responses per second over time.
	EndpointP50  []namedLine `json:"endpointP50"`
	EndpointP95  []namedLine `json:"endpointP95"`
	EndpointP99  []namedLine `json:"endpointP99"`
	EndpointRate []namedLine `json:"endpointRate"`
	// Fine is the run's fine series (a point a second, report.Series) for
	// the users, rate and latency charts; empty for a report without one,
	// whose charts then draw the periods.
	Fine fine `json:"fine"`
	// Phases marks where each begun phase started on the time charts.
	Phases []phaseMark `json:"phases"`
	// Start and End bound every time chart's axis (Unix seconds): the run's
	// start and end, or the latest data while it goes on.
	Start    float64  `json:"start"`
	End      float64  `json:"end"`
	Spectrum spectrum `json:"spectrum"`
}

// spectrum is latency by percentile, HdrHistogram-plotter style: X is
// 1/(1-q), drawn on a log axis so 90%, 99%, 99.9% are evenly spaced.
type spectrum struct {
	X      []float64   `json:"x"`
	Series []namedLine `json:"series"`
}

type namedLine struct {
	Name   string     `json:"name"`
	Values []*float64 `json:"values"` // ms
}

func num(v float64) *float64 {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return nil
	}
	return &v
}

// phaseMark is a phase boundary: its name and start in Unix seconds.
type phaseMark struct {
	Name string  `json:"name"`
	Time float64 `json:"time"`
}

// MaxChartEndpoints bounds the lines of each per-endpoint chart: past a
// score, lines are no longer told apart. The tables list every endpoint.
const MaxChartEndpoints = 20

// timeSeries turns r's intermediate periods into per-period points.
func timeSeries(r *report.Report, periods []*report.Metrics, endpoints []view.Endpoint) series {
	// Empty, not nil: the page's script reads arrays, and JSON null is not one.
	s := series{Time: []int64{}, Rate: []*float64{}, ErrorRate: []*float64{}, P50: []*float64{}, P95: []*float64{}, P99: []*float64{},
		Active: []*float64{}, Completed: []*float64{}, Outcomes: []namedLine{},
		EndpointP50: []namedLine{}, EndpointP95: []namedLine{}, EndpointP99: []namedLine{}, EndpointRate: []namedLine{}}
	s.Outcomes = outcomeLines(periods)
	s.Fine = fineSeries(r.Series)
	s.Phases = []phaseMark{}
	s.Start, s.End = runSpan(r, periods)
	for _, p := range r.Expected {
		if p.Start != 0 {
			s.Phases = append(s.Phases, phaseMark{Name: p.Name, Time: float64(p.Start) / 1000})
		}
	}
	busiest := slices.Clone(endpoints)
	slices.SortStableFunc(busiest, func(a, b view.Endpoint) int { return cmp.Compare(b.Responses, a.Responses) })
	for _, ep := range busiest[:min(len(busiest), MaxChartEndpoints)] {
		// Values start empty, not nil: a live report may have the
		// endpoint in its aggregate before any period is handed over.
		line := func() namedLine { return namedLine{Name: ep.Label, Values: []*float64{}} }
		p50, p95, p99, rate := line(), line(), line(), line()
		for _, m := range periods {
			lat, ok := m.Summaries[metric.EndpointLatency(ep.Name)]
			if !ok || lat.Count == 0 {
				p50.Values, p95.Values, p99.Values = append(p50.Values, nil), append(p95.Values, nil), append(p99.Values, nil)
				rate.Values = append(rate.Values, perSecond(0, m))
				continue
			}
			p50.Values, p95.Values, p99.Values = append(p50.Values, num(lat.P50)), append(p95.Values, num(lat.P95)), append(p99.Values, num(lat.P99))
			rate.Values = append(rate.Values, perSecond(lat.Count, m))
		}
		s.EndpointP50, s.EndpointP95 = append(s.EndpointP50, p50), append(s.EndpointP95, p95)
		s.EndpointP99, s.EndpointRate = append(s.EndpointP99, p99), append(s.EndpointRate, rate)
	}
	var active int64
	for _, m := range periods {
		s.Time = append(s.Time, m.Period/1000)
		done := m.Counters[metric.VUsersCompleted]
		active += m.Counters[metric.VUsersCreated] - done - m.Counters[metric.VUsersFailed]
		s.Active, s.Completed = append(s.Active, num(float64(active))), append(s.Completed, num(float64(done)))
		requests := float64(m.Counters[metric.Requests])
		secs := m.Duration().Seconds()
		var rate, errRate *float64
		if secs > 0 {
			rate = num(requests / secs)
		}
		errRate = num(m.Tally().ErrorRate(m.Counters[metric.Requests]))
		s.Rate = append(s.Rate, rate)
		s.ErrorRate = append(s.ErrorRate, errRate)
		lat, ok := m.Summaries[metric.ResponseTime]
		if !ok || lat.Count == 0 {
			s.P50, s.P95, s.P99 = append(s.P50, nil), append(s.P95, nil), append(s.P99, nil)
			continue
		}
		s.P50, s.P95, s.P99 = append(s.P50, num(lat.P50)), append(s.P95, num(lat.P95)), append(s.P99, num(lat.P99))
	}
	return s
}

// runSpan is when r began and ended, in Unix seconds. A running report's
// end is its last flush, which its fine series and periods may be past.
func runSpan(r *report.Report, periods []*report.Metrics) (start, end float64) {
	sec := func(ms int64) float64 { return float64(ms) / 1000 }
	start, end = sec(r.StartedAt.UnixMilli()), sec(r.EndedAt.UnixMilli())
	if r.StartedAt.IsZero() {
		start, end = math.Inf(1), math.Inf(-1)
	}
	for _, m := range periods {
		start, end = min(start, sec(m.Period)), max(end, sec(m.PeriodEnd))
	}
	if r.Series != nil {
		for _, p := range r.Series.Points {
			start, end = min(start, sec(p.Time)), max(end, sec(p.Time+r.Series.Step))
		}
	}
	if start > end { // nothing to go by: no start and no data
		return 0, 0
	}
	return start, end
}

// fine is report.Series as the page draws it: Time in Unix seconds of each
// point's start, Rate in requests per second, P50 to P99 in ms, Active the
// users in flight at the point's end, Ended the users that completed or
// failed per second.
type fine struct {
	Step   float64    `json:"step"` // seconds
	Time   []float64  `json:"time"`
	Rate   []*float64 `json:"rate"`
	P50    []*float64 `json:"p50"`
	P95    []*float64 `json:"p95"`
	P99    []*float64 `json:"p99"`
	Active []*float64 `json:"active"`
	Ended  []*float64 `json:"ended"`
}

func fineSeries(s *report.Series) fine {
	f := fine{Time: []float64{}, Rate: []*float64{}, P50: []*float64{}, P95: []*float64{}, P99: []*float64{}, Active: []*float64{}, Ended: []*float64{}}
	if s == nil {
		return f
	}
	f.Step = float64(s.Step) / 1000
	for _, p := range s.Points {
		f.Time = append(f.Time, float64(p.Time)/1000)
		var rate, ended *float64
		if secs := float64(p.Length) / 1000; secs > 0 {
			rate, ended = num(float64(p.Requests)/secs), num(float64(p.Ended)/secs)
		}
		f.Rate, f.Ended = append(f.Rate, rate), append(f.Ended, ended)
		f.Active = append(f.Active, num(float64(p.Active)))
		q := func(at float64) *float64 {
			if v, ok := p.Latency.Quantile(at); ok {
				return num(v)
			}
			return nil
		}
		f.P50, f.P95, f.P99 = append(f.P50, q(0.50)), append(f.P95, q(0.95)), append(f.P99, q(0.99))
	}
	return f
}

// perSecond is n over period m's length; nil for a period of no length.
func perSecond(n int64, m *report.Metrics) *float64 {
	secs := m.Duration().Seconds()
	if secs <= 0 {
		return nil
	}
	return num(float64(n) / secs)
}

// outcomeLines has a line per status code and error counter seen in any
// period, by counter name (errors, then codes), each the counter per
// second over time.
func outcomeLines(periods []*report.Metrics) []namedLine {
	names := map[string]bool{}
	for _, m := range periods {
		for name := range m.Counters {
			if strings.HasPrefix(name, metric.CodePrefix) || strings.HasPrefix(name, metric.ErrorPrefix) {
				names[name] = true
			}
		}
	}
	lines := []namedLine{}
	for _, name := range slices.Sorted(maps.Keys(names)) {
		line := namedLine{Name: strings.TrimPrefix(strings.TrimPrefix(name, metric.CodePrefix), metric.ErrorPrefix)}
		for _, m := range periods {
			line.Values = append(line.Values, perSecond(m.Counters[name], m))
		}
		lines = append(lines, line)
	}
	return lines
}

// ticksPerHalf is how many points the spectrum takes each time the distance
// to 100% halves, as HdrHistogram's percentile output does by default.
const ticksPerHalf = 5

// maxPercentile ends the spectrum: beyond it a histogram has no resolution left.
const maxPercentile = 99.9999

// percentileSpectrum decodes the run-wide and each endpoint's HdrHistogram
// and reads them all at one shared grid of percentiles, so one x axis serves
// every line. The grid stops where the largest histogram runs out of samples.
func percentileSpectrum(r *report.Report, endpoints []view.Endpoint) (spectrum, error) {
	sp := spectrum{X: []float64{}, Series: []namedLine{}}
	m := r.Aggregate
	if m == nil {
		return sp, nil
	}
	names := []string{metric.ResponseTime}
	labels := []string{"all requests"}
	for _, ep := range endpoints {
		names = append(names, metric.EndpointLatency(ep.Name))
		labels = append(labels, ep.Label)
	}
	// config.http.extendedMetrics' phases, where the run recorded them.
	names = append(names, metric.ExtendedSummaries()...)
	labels = append(labels, metric.ExtendedSummaries()...)
	var hs []*hdrhistogram.Histogram
	var hsLabels []string
	var most int64
	for i, name := range names {
		if _, ok := m.HDR[name]; !ok {
			continue
		}
		h, err := m.Histogram(name)
		if err != nil {
			return sp, fmt.Errorf("percentile spectrum: %w", err)
		}
		if h.TotalCount() == 0 {
			continue
		}
		most = max(most, h.TotalCount())
		hs = append(hs, h)
		hsLabels = append(hsLabels, labels[i])
	}
	if len(hs) == 0 {
		return sp, nil
	}
	grid := percentileGrid(most)
	for _, p := range grid {
		sp.X = append(sp.X, 1/(1-p/100))
	}
	for i, h := range hs {
		line := namedLine{Name: hsLabels[i]}
		for _, us := range h.ValueAtPercentilesSlice(grid) {
			line.Values = append(line.Values, num(float64(us)/1000))
		}
		sp.Series = append(sp.Series, line)
	}
	return sp, nil
}

// percentileGrid returns percentiles from 0 towards 100, ticksPerHalf per
// halving of the distance to 100, until a histogram of count values has no
// further resolution (1/(1-q) beyond count) or maxPercentile.
func percentileGrid(count int64) []float64 {
	var grid []float64
	for i := 0; ; i++ {
		remaining := math.Pow(2, -float64(i)/ticksPerHalf) // 1 - q
		p := 100 * (1 - remaining)
		if p > maxPercentile || 1/remaining > float64(count) {
			break
		}
		grid = append(grid, p)
	}
	return grid
}
