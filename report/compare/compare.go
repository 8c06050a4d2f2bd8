// Package compare judges a run against a baseline run: per endpoint and
// overall, throughput, error rate and latency percentiles, each with its
// difference and whether that difference is beyond noise, judged on the
// reports' full HdrHistograms (a bootstrap interval on each percentile's
// difference), and gates that turn "worse beyond noise and beyond the
// allowed limit" into a regression. It reads reports; it sends nothing.
package compare

import (
	"cmp"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"time"

	"github.com/primeload/primeload/report"
	"github.com/primeload/primeload/report/metric"
	"github.com/primeload/primeload/report/view"
)

// Defaults for Options' zero values.
const (
	DefaultConfidence = 0.95
	DefaultReplicates = 10000
	DefaultNoiseFloor = time.Millisecond
)

// minSamples is the fewest latencies a percentile is judged on: below it
// the bootstrap, which only reshuffles what was seen, calls three samples
// against three "beyond noise" whenever they do not overlap.
const minSamples = 30

// Overall names the row of all requests.
const Overall = "all requests"

// Options say how differences are judged. Zero values take the defaults.
type Options struct {
	Gates []Gate
	// Confidence is the family-wise level (0.95): the chance that two runs
	// of the same code are judged to have no regression at all, however many
	// endpoints and gates there are. Each interval is drawn at the
	// Bonferroni level 1 − (1 − Confidence)/tests, tests being the gated
	// figures compared; without it a dozen endpoints would flag one of every
	// two identical runs.
	Confidence float64
	// Replicates is the number of bootstrap resamples per percentile.
	Replicates int
	// Seed seeds the bootstrap, so a comparison gives the same verdict every time.
	Seed uint64
	// NoiseFloor is the smallest latency difference that can count. The
	// bootstrap measures the sampling noise inside each run, not the
	// run-to-run wobble of a shared machine, which on a fast endpoint
	// dwarfs a fraction of a millisecond.
	NoiseFloor time.Duration
}

func (o Options) withDefaults() Options {
	o.Confidence = cmp.Or(o.Confidence, DefaultConfidence)
	o.Replicates = cmp.Or(o.Replicates, DefaultReplicates)
	if o.NoiseFloor == 0 {
		o.NoiseFloor = DefaultNoiseFloor
	}
	o.NoiseFloor = max(o.NoiseFloor, 0)
	return o
}

// Status is the verdict on one difference.
type Status string

// The verdicts, from best to worst.
const (
	StatusBetter = Status("better")
	// StatusNoise: the difference is within noise (or below the noise floor).
	StatusNoise = Status("noise")
	// StatusUntested: no noise estimate (no histogram, or the maximum: a
	// single extreme value) and no gate it breaks.
	StatusUntested = Status("untested")
	// StatusWorse: worse beyond noise, but within its gate or not gated.
	StatusWorse = Status("worse")
	// StatusRegression: worse beyond noise and beyond its gate's limit.
	StatusRegression = Status("regression")
)

// Diff is one figure in both runs.
type Diff struct {
	Metric string  `json:"metric"`
	Unit   string  `json:"unit"` // ms, req/s or %
	Base   float64 `json:"base"`
	New    float64 `json:"new"`
	Delta  float64 `json:"delta"` // New - Base
	// Relative is Delta/Base in percent; absent when Base is 0.
	Relative *float64 `json:"relative,omitempty"`
	// Low and High bound Delta at the comparison's confidence; absent when
	// there is no noise estimate.
	Low    *float64 `json:"low,omitempty"`
	High   *float64 `json:"high,omitempty"`
	Status Status   `json:"status"`
	Gate   string   `json:"gate,omitempty"`
	// Why explains the status in words.
	Why string `json:"why"`
}

// Row is the comparison of one endpoint, or of all requests.
type Row struct {
	Name      string `json:"name"`
	Diffs     []Diff `json:"diffs"`
	Regressed bool   `json:"regressed"`
	// Only is "base" or "new" for an endpoint measured in one run only,
	// which is listed and not judged.
	Only string `json:"only,omitempty"`
	// Spectrum is the latency by percentile of both runs, for the HTML chart.
	Spectrum *Spectrum `json:"-"`
}

// Spectrum is latency (ms) at a grid of percentiles in both runs.
type Spectrum struct {
	Percentiles []float64
	Base, New   []float64
}

// Side describes one of the two runs.
type Side struct {
	File     string    `json:"file,omitempty"`
	Script   string    `json:"script"`
	Target   string    `json:"target"`
	Started  time.Time `json:"started"`
	Seconds  float64   `json:"seconds"`
	Requests int64     `json:"requests"`
}

// Result is a whole comparison.
type Result struct {
	Base       Side     `json:"base"`
	New        Side     `json:"new"`
	Gates      []string `json:"gates"`
	Confidence float64  `json:"confidence"`
	// Level is the two-sided level of each interval: Confidence, Bonferroni-corrected.
	Level      float64 `json:"level"`
	Replicates int     `json:"replicates"`
	Seed       uint64  `json:"seed"`
	NoiseFloor float64 `json:"noiseFloorMs"`
	Overall    Row     `json:"overall"`
	Endpoints  []Row   `json:"endpoints"`
	// Notes say what limits the comparison: missing histograms, untrusted
	// runs, different scripts.
	Notes     []string `json:"notes,omitempty"`
	Regressed bool     `json:"regressed"`
}

// Rows returns the overall row followed by the endpoints.
func (r *Result) Rows() []Row { return append([]Row{r.Overall}, r.Endpoints...) }

// Compare judges run new against run base.
func Compare(base, new *report.Report, o Options) (*Result, error) {
	o = o.withDefaults()
	if o.Confidence <= 0 || o.Confidence >= 1 {
		return nil, fmt.Errorf("compare: confidence %v: want a level between 0 and 1, e.g. 0.95", o.Confidence)
	}
	if base.Aggregate == nil || new.Aggregate == nil {
		return nil, fmt.Errorf("compare: a report has no aggregate")
	}
	bEps, nEps := endpointSamples(base), endpointSamples(new)
	rows := 1
	for name := range bEps {
		if _, ok := nEps[name]; ok {
			rows++
		}
	}
	tests := max(rows*len(o.Gates), 1)
	c := &comparer{o: o, level: 1 - (1-o.Confidence)/float64(tests), rng: rand.New(rand.NewPCG(o.Seed, 0x9e3779b97f4a7c15))}
	res := &Result{
		Base: sideOf(base), New: sideOf(new),
		Confidence: o.Confidence, Level: c.level, Replicates: o.Replicates, Seed: o.Seed,
		NoiseFloor: float64(o.NoiseFloor) / float64(time.Millisecond),
		Endpoints:  []Row{},
	}
	for _, g := range o.Gates {
		res.Gates = append(res.Gates, g.String())
	}
	res.Notes = notes(base, new)

	bo, no := view.Summarize(base), view.Summarize(new)
	res.Overall = c.row(Overall,
		sample{rep: base, hist: metric.ResponseTime, requests: bo.Requests, errors: bo.Tally.HTTP5xx + bo.Tally.Network},
		sample{rep: new, hist: metric.ResponseTime, requests: no.Requests, errors: no.Tally.HTTP5xx + no.Tally.Network})
	if c.missingHDR {
		res.Notes = append(res.Notes, "a report has no HDR histograms (an Artillery report?): latency differences are single numbers, not tested against noise, and a gate on them compares those numbers alone")
	}

	for _, name := range endpointNames(bEps, nEps) {
		b, inBase := bEps[name]
		n, inNew := nEps[name]
		switch {
		case !inNew:
			res.Endpoints = append(res.Endpoints, Row{Name: name, Only: "base"})
		case !inBase:
			res.Endpoints = append(res.Endpoints, Row{Name: name, Only: "new"})
		default:
			res.Endpoints = append(res.Endpoints, c.row(name, b, n))
		}
	}
	for _, row := range res.Rows() {
		res.Regressed = res.Regressed || row.Regressed
	}
	return res, c.err
}

func sideOf(r *report.Report) Side {
	o := view.Summarize(r)
	return Side{Script: r.Script.Path, Target: r.Target, Started: r.StartedAt, Seconds: o.Duration.Seconds(), Requests: o.Requests}
}

func notes(base, new *report.Report) []string {
	var ns []string
	if base.Script.Digest != "" && new.Script.Digest != "" && base.Script.Digest != new.Script.Digest {
		ns = append(ns, fmt.Sprintf("the runs are of different scripts (%s, %s): differences may be the script's, not the target's", base.Script.Digest, new.Script.Digest))
	}
	for _, s := range []struct {
		name string
		r    *report.Report
	}{{"base", base}, {"new", new}} {
		if bad, why := s.r.Untrusted(); bad {
			ns = append(ns, s.name+" run untrusted: "+why)
		}
		if s.r.Aborted {
			ns = append(ns, s.name+" run was interrupted before its schedule ended")
		}
	}
	return ns
}

// sample is what one run says about one row.
type sample struct {
	rep              *report.Report
	hist             string
	requests, errors int64
}

func endpointSamples(r *report.Report) map[string]sample {
	out := map[string]sample{}
	for _, ep := range view.Endpoints(r) {
		if ep.Responses == 0 && ep.Tally.Network == 0 && !ep.HasLatency {
			continue // named by the script, never called
		}
		out[ep.Name] = sample{
			rep: r, hist: metric.EndpointLatency(ep.Name),
			requests: ep.Responses + ep.Tally.Network, errors: ep.Tally.HTTP5xx + ep.Tally.Network,
		}
	}
	return out
}

// endpointNames is the base's endpoints, sorted, then those only new has.
func endpointNames(base, new map[string]sample) []string {
	var names []string
	for name := range base {
		names = append(names, name)
	}
	slices.Sort(names)
	var extra []string
	for name := range new {
		if _, ok := base[name]; !ok {
			extra = append(extra, name)
		}
	}
	slices.Sort(extra)
	return append(names, extra...)
}

type comparer struct {
	o          Options
	level      float64 // of each interval
	rng        *rand.Rand
	missingHDR bool
	err        error
}

func (c *comparer) row(name string, b, n sample) Row {
	row := Row{Name: name}
	row.Diffs = append(row.Diffs, c.throughput(b, n), c.errorRate(b, n))
	row.Diffs = append(row.Diffs, c.latency(&row, b, n)...)
	for _, d := range row.Diffs {
		row.Regressed = row.Regressed || d.Status == StatusRegression
	}
	return row
}

func (c *comparer) gate(metric string) (Gate, bool) {
	i := slices.IndexFunc(c.o.Gates, func(g Gate) bool { return g.Metric == metric })
	if i < 0 {
		return Gate{}, false
	}
	return c.o.Gates[i], true
}

func (c *comparer) throughput(b, n sample) Diff {
	bs, ns := sideOf(b.rep).Seconds, sideOf(n.rep).Seconds
	d := newDiff(MetricThroughput, "req/s", rate(b.requests, bs), rate(n.requests, ns))
	lo, hi := rateDiff(b.requests, bs, n.requests, ns, c.level)
	g, gated := c.gate(MetricThroughput)
	over := gated && d.Relative != nil && -*d.Relative > g.Limit
	c.judge(&d, interval(lo, hi), d.Delta < 0, gated, over, g)
	return d
}

func (c *comparer) errorRate(b, n sample) Diff {
	d := newDiff(MetricErrors, "%", 100*share(b.errors, b.requests), 100*share(n.errors, n.requests))
	var iv *[2]float64
	if b.requests > 0 && n.requests > 0 {
		lo, hi := proportionDiff(b.errors, b.requests, n.errors, n.requests, c.level)
		iv = interval(100*lo, 100*hi)
	}
	g, gated := c.gate(MetricErrors)
	over := false
	if gated {
		switch {
		case g.Unit == "pp":
			over = d.Delta > g.Limit
		case d.Relative != nil:
			over = *d.Relative > g.Limit
		default: // no errors before: any error is an infinite relative rise
			over = d.Delta > 0
		}
	}
	c.judge(&d, iv, d.Delta > 0, gated, over, g)
	return d
}

// latency compares every latency percentile of one row, and fills its spectrum.
func (c *comparer) latency(row *Row, b, n sample) []Diff {
	bs, bOK := b.rep.Aggregate.Summaries[b.hist]
	ns, nOK := n.rep.Aggregate.Summaries[n.hist]
	if !bOK || !nOK || bs.Count == 0 || ns.Count == 0 {
		return nil
	}
	bd, bHist := c.dist(b.rep, b.hist)
	nd, nHist := c.dist(n.rep, n.hist)
	withHDR := bHist && nHist
	if !withHDR {
		c.missingHDR = true
	} else {
		row.Spectrum = spectrum(bd, nd)
	}
	floor := float64(c.o.NoiseFloor) / float64(time.Millisecond)
	var diffs []Diff
	for _, q := range latencyMetrics {
		var d Diff
		var iv *[2]float64
		if withHDR {
			d = newDiff(q.name, "ms", msOf(bd.atRank(bd.rank(q.p))), msOf(nd.atRank(nd.rank(q.p))))
			if q.name != MetricMax {
				lo, hi := bootstrapDiff(c.rng, bd, nd, q.p, c.level, c.o.Replicates)
				iv = interval(lo/1000, hi/1000)
			}
		} else {
			bv, ok1 := bs.Stat(q.name)
			nv, ok2 := ns.Stat(q.name)
			if !ok1 || !ok2 {
				continue
			}
			d = newDiff(q.name, "ms", bv, nv)
		}
		g, gated := c.gate(q.name)
		over := false
		if gated {
			if g.Unit == "ms" {
				over = d.Delta > g.Limit
			} else {
				over = d.Relative == nil && d.Delta > 0 || d.Relative != nil && *d.Relative > g.Limit
			}
		}
		if withHDR && min(bd.n(), nd.n()) < minSamples {
			d.Status, d.Why = StatusUntested, fmt.Sprintf("fewer than %d samples in a run: too few to tell noise", minSamples)
			d.Gate = gateName(gated, g)
			diffs = append(diffs, d)
			continue
		}
		if math.Abs(d.Delta) < floor {
			d.Status, d.Why = StatusNoise, fmt.Sprintf("%s ms is below the %s ms noise floor", view.Ms(math.Abs(d.Delta)), view.Ms(floor))
			d.Gate = gateName(gated, g)
			d.Low, d.High = ivBounds(iv)
			diffs = append(diffs, d)
			continue
		}
		c.judge(&d, iv, d.Delta > 0, gated, over, g)
		diffs = append(diffs, d)
	}
	return diffs
}

// dist decodes a row's histogram; false when the report has none.
func (c *comparer) dist(r *report.Report, name string) (dist, bool) {
	if _, ok := r.Aggregate.HDR[name]; !ok {
		return dist{}, false
	}
	h, err := r.Aggregate.Histogram(name)
	if err != nil {
		c.err = cmp.Or(c.err, fmt.Errorf("compare %s: %w", name, err))
		return dist{}, false
	}
	return distOf(h), true
}

// judge sets d's status from its interval (nil: no noise estimate), whether
// its direction is the bad one, and its gate.
func (c *comparer) judge(d *Diff, iv *[2]float64, worse, gated, over bool, g Gate) {
	d.Gate = gateName(gated, g)
	d.Low, d.High = ivBounds(iv)
	level := view.Percent(100 * c.level)
	beyond := iv != nil && (iv[0] > 0 || iv[1] < 0)
	switch {
	case d.Delta == 0:
		d.Status, d.Why = StatusNoise, "no difference"
	case iv != nil && !beyond:
		d.Status, d.Why = StatusNoise, fmt.Sprintf("the %s interval of the difference includes 0", level)
	case !worse:
		d.Status, d.Why = StatusBetter, "better"
		if iv == nil {
			d.Status, d.Why = StatusUntested, "better, without a noise estimate"
		}
	case gated && over:
		d.Status, d.Why = StatusRegression, fmt.Sprintf("worse beyond noise and beyond the %s limit", g)
		if iv == nil {
			d.Why = fmt.Sprintf("worse beyond the %s limit (no noise estimate for a single value)", g)
		}
	case iv == nil:
		d.Status, d.Why = StatusUntested, "worse, without a noise estimate"
	case gated:
		d.Status, d.Why = StatusWorse, fmt.Sprintf("worse beyond noise, within the %s limit", g)
	default:
		d.Status, d.Why = StatusWorse, "worse beyond noise, not gated"
	}
}

func gateName(gated bool, g Gate) string {
	if !gated {
		return ""
	}
	return g.String()
}

func newDiff(metric, unit string, base, new float64) Diff {
	d := Diff{Metric: metric, Unit: unit, Base: base, New: new, Delta: new - base}
	if base != 0 {
		rel := d.Delta / base * 100
		d.Relative = &rel
	}
	return d
}

func interval(lo, hi float64) *[2]float64 {
	if math.IsInf(lo, 0) || math.IsInf(hi, 0) || math.IsNaN(lo) || math.IsNaN(hi) {
		return nil
	}
	return &[2]float64{lo, hi}
}

func ivBounds(iv *[2]float64) (lo, hi *float64) {
	if iv == nil {
		return nil, nil
	}
	return &iv[0], &iv[1]
}

func rate(count int64, secs float64) float64 {
	if secs <= 0 {
		return 0
	}
	return float64(count) / secs
}

func msOf(us int64) float64 { return float64(us) / 1000 }

// spectrumPoints is the spectrum's grid: 0% then ten points per decade of
// the distance to 100%, to 99.999%.
func spectrumGrid() []float64 {
	var ps []float64
	for i := 0; i <= 50; i++ {
		ps = append(ps, 100*(1-math.Pow(10, -float64(i)/10)))
	}
	return ps
}

// spectrum reads both runs at the grid's percentiles, up to where the larger
// run runs out of samples: past 1/(1-q) > n a percentile is just the maximum.
func spectrum(b, n dist) *Spectrum {
	s := &Spectrum{}
	most := float64(max(b.n(), n.n()))
	for _, p := range spectrumGrid() {
		if p > 0 && 1/(1-p/100) > most {
			break
		}
		s.Percentiles = append(s.Percentiles, p)
		s.Base = append(s.Base, msOf(b.atRank(b.rank(p))))
		s.New = append(s.New, msOf(n.atRank(n.rank(p))))
	}
	return s
}
