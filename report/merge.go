package report

import (
	"cmp"
	"errors"
	"fmt"
	"maps"
	"math"
	"slices"
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"
	"github.com/primeload/primeload/report/metric"
)

// defaultPeriodLength aligns periods of reports that do not record their
// period length (Artillery's own reports use 10 s).
const defaultPeriodLength = 10_000

// Merge combines the reports of the parts of one distributed run into one:
// counters and expected arrivals add, histograms merge losslessly from their
// encoded form and summaries are recomputed from the merged histograms, and
// intermediate periods are merged when they fall on the same wall-clock
// period boundary. Reports of different scripts are refused unless force.
// SLO results are dropped: they must be evaluated again on the merged data.
//
// A sum that would pass the int64 maximum (only a corrupt or forged part
// gets there) is held at the maximum rather than wrapping to a negative
// count, and named in the result's Saturated; a histogram whose merged count
// would overflow is refused, since it cannot be capped without lying about
// its distribution.
func Merge(reports []*Report, force bool) (*Report, error) {
	if len(reports) == 0 {
		return nil, errors.New("merge: no reports")
	}
	first := reports[0]
	for i, r := range reports[1:] {
		if !force && !sameScript(first.Script, r.Script) {
			return nil, fmt.Errorf("merge: report %d is from script %s, report 1 from %s: merge parts of one run, or force it",
				i+2, scriptName(r.Script), scriptName(first.Script))
		}
		if !force && r.PeriodLength != first.PeriodLength {
			return nil, fmt.Errorf("merge: report %d has %d ms periods, report 1 has %d ms: periods cannot align",
				i+2, r.PeriodLength, first.PeriodLength)
		}
	}
	out := &Report{
		Target:       first.Target,
		Script:       first.Script,
		Environment:  first.Environment,
		Version:      first.Version,
		PeriodLength: first.PeriodLength,
		StartedAt:    first.StartedAt,
		EndedAt:      first.EndedAt,

		MetricsNamespace: first.MetricsNamespace,
	}
	var sat saturation
	aggs := make([]*Metrics, 0, len(reports))
	slots := map[int64][]*Metrics{}
	length := cmp.Or(first.PeriodLength, defaultPeriodLength)
	phases := map[string]int{}
	for i, r := range reports {
		if r.Aggregate == nil {
			return nil, fmt.Errorf("merge: report %d has no aggregate", i+1)
		}
		aggs = append(aggs, r.Aggregate)
		for _, m := range r.Intermediate {
			// The midpoint places a period in its slot even when generators
			// flush a few ms apart or a run starts or ends mid-period.
			// Decode keeps 0 <= Period <= PeriodEnd, so this cannot overflow.
			slot := (m.Period + (m.PeriodEnd-m.Period)/2) / length
			slots[slot] = append(slots[slot], m)
		}
		for _, p := range r.Expected {
			j, ok := phases[p.Name]
			if !ok {
				j = len(out.Expected)
				phases[p.Name] = j
				out.Expected = append(out.Expected, PhaseArrivals{Name: p.Name, Start: p.Start})
			}
			e, name := &out.Expected[j], fmt.Sprintf("phase %q ", p.Name)
			if p.Start != 0 && (e.Start == 0 || p.Start < e.Start) {
				e.Start = p.Start // the parts share one schedule; the earliest clock wins
			}
			sat.add(name+"expected", &e.Expected, p.Expected)
			sat.add(name+"created", &e.Created, p.Created)
			sat.add(name+"skipped", &e.Skipped, p.Skipped)
			sat.add(name+"vusers", &e.VUsers, p.VUsers)
		}
		sat.add("missedArrivals", &out.MissedArrivals, r.MissedArrivals)
		out.Aborted = out.Aborted || r.Aborted
		if r.StartedAt.Before(out.StartedAt) {
			out.StartedAt = r.StartedAt
		}
		if r.EndedAt.After(out.EndedAt) {
			out.EndedAt = r.EndedAt
		}
	}
	var err error
	if out.Aggregate, err = mergeMetrics(aggs, sat.within("aggregate")); err != nil {
		return nil, fmt.Errorf("merge aggregate: %w", err)
	}
	out.Intermediate = []*Metrics{}
	for _, slot := range slices.Sorted(maps.Keys(slots)) {
		at := time.UnixMilli(slot * length).UTC().Format(time.RFC3339)
		m, err := mergeMetrics(slots[slot], sat.within("period "+at))
		if err != nil {
			return nil, fmt.Errorf("merge period at %s: %w", at, err)
		}
		out.Intermediate = append(out.Intermediate, m)
	}
	if s, ok := out.Aggregate.Summaries[metric.ScheduleLag]; ok {
		out.ScheduleLag = &s
	}
	series := make([]*Series, len(reports))
	for i, r := range reports {
		series[i] = r.Series
	}
	if out.Series, err = mergeSeries(series); err != nil {
		return nil, fmt.Errorf("merge: %w", err)
	}
	out.Saturated = sat.names
	out.Failures = mergeFailures(reports)
	// The parts were judged by one rule: the merge is, again, over the
	// merged lag histogram.
	if err := out.JudgeLag(first.LagRule()); err != nil {
		return nil, fmt.Errorf("merge: %w", err)
	}
	return out, nil
}

// saturation adds int64 figures without wrapping, and remembers which
// ones it had to hold at a bound.
type saturation struct{ names []string }

// add sets *dst to *dst+v, held at the int64 bounds; name says which figure
// it is when it had to be held.
func (s *saturation) add(name string, dst *int64, v int64) {
	a := *dst
	*dst = a + v
	switch {
	case a > 0 && v > 0 && *dst < 0:
		*dst = math.MaxInt64
	case a < 0 && v < 0 && *dst >= 0:
		*dst = math.MinInt64
	default:
		return
	}
	if !slices.Contains(s.names, name) {
		s.names = append(s.names, name)
	}
}

// within is add for the counters of one merged period (or the aggregate).
func (s *saturation) within(where string) func(counter string, dst *int64, v int64) {
	return func(counter string, dst *int64, v int64) { s.add(where+" counter "+counter, dst, v) }
}

func sameScript(a, b ScriptInfo) bool {
	if a.Digest != "" && b.Digest != "" {
		return a.Digest == b.Digest
	}
	return a.Path == b.Path
}

func scriptName(s ScriptInfo) string {
	if s.Digest == "" {
		return s.Path
	}
	return s.Path + " (" + s.Digest + ")"
}

// mergeMetrics merges periods into one spanning all of them, adding
// counters through add.
func mergeMetrics(ms []*Metrics, add func(counter string, dst *int64, v int64)) (*Metrics, error) {
	out := &Metrics{
		Counters:  map[string]int64{},
		Rates:     map[string]float64{},
		Summaries: map[string]Summary{},
		HDR:       map[string]string{},
		Period:    ms[0].Period,
		PeriodEnd: ms[0].PeriodEnd,
	}
	hists := map[string]*hdrhistogram.Histogram{}
	for _, m := range ms {
		out.Period = min(out.Period, m.Period)
		out.PeriodEnd = max(out.PeriodEnd, m.PeriodEnd)
		for k, v := range m.Counters {
			sum := out.Counters[k]
			add(k, &sum, v)
			out.Counters[k] = sum
		}
		for name := range m.Summaries {
			if _, ok := m.HDR[name]; !ok {
				return nil, fmt.Errorf("summary %q has no histogram (an Artillery report?), so it cannot be merged without loss", name)
			}
		}
		for name := range m.HDR {
			h, err := m.Histogram(name)
			if err != nil {
				return nil, err
			}
			if dst, ok := hists[name]; ok {
				if h.TotalCount() > math.MaxInt64-dst.TotalCount() {
					return nil, fmt.Errorf("histogram %q: %d + %d values pass the int64 maximum (a corrupt part?)", name, dst.TotalCount(), h.TotalCount())
				}
				if dropped := dst.Merge(h); dropped != 0 {
					return nil, fmt.Errorf("histogram %q: %d values dropped while merging", name, dropped)
				}
			} else {
				hists[name] = h
			}
		}
	}
	named := make(map[string]hist, len(hists))
	for name, h := range hists {
		named[name] = h
	}
	if err := out.setHists(named, nil); err != nil {
		return nil, err
	}
	return out, nil
}
