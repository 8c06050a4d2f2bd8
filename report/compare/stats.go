package compare

import (
	"math"
	"math/rand/v2"
	"slices"

	"github.com/HdrHistogram/hdrhistogram-go"
)

// dist is a latency distribution as its non-empty HDR buckets: each
// bucket's highest equivalent value (as HdrHistogram reports quantiles) and
// the cumulative count up to and including it.
type dist struct {
	values []int64 // µs, ascending
	cum    []int64
}

func distOf(h *hdrhistogram.Histogram) dist {
	var d dist
	var total int64
	for _, b := range h.Distribution() {
		if b.Count == 0 {
			continue
		}
		total += b.Count
		d.values = append(d.values, b.To)
		d.cum = append(d.cum, total)
	}
	return d
}

func (d dist) n() int64 {
	if len(d.cum) == 0 {
		return 0
	}
	return d.cum[len(d.cum)-1]
}

// rank is the 1-based order statistic HdrHistogram reads for percentile p
// (0–100): round(p/100·n), at least 1 and at most n.
func (d dist) rank(p float64) int64 {
	n := d.n()
	r := int64(p/100*float64(n) + 0.5)
	return min(max(r, 1), n)
}

// atRank is the value of the r-th smallest sample.
func (d dist) atRank(r int64) int64 {
	i, _ := slices.BinarySearch(d.cum, r)
	return d.values[min(i, len(d.values)-1)]
}

// atFraction is the empirical quantile function F⁻¹(u): the smallest value
// whose cumulative share reaches u.
func (d dist) atFraction(u float64) int64 {
	return d.atRank(max(int64(math.Ceil(u*float64(d.n()))), 1))
}

// resample draws the p-th percentile of one bootstrap resample (n values
// drawn with replacement) without drawing the n values: the k-th smallest
// of n draws from the empirical distribution is F⁻¹(U₍ₖ₎), and the k-th
// smallest of n uniforms is Beta(k, n+1−k). So a replicate costs one Beta
// draw and one binary search, however many requests the run made.
func (d dist) resample(rng *rand.Rand, p float64) int64 {
	k := d.rank(p)
	return d.atFraction(betaRand(rng, float64(k), float64(d.n()+1-k)))
}

// bootstrapDiff returns the (1−confidence)/2 and (1+confidence)/2
// percentiles, in µs, of new's p-th percentile minus base's over
// replicates bootstrap resamples of each.
func bootstrapDiff(rng *rand.Rand, base, new dist, p, confidence float64, replicates int) (lo, hi float64) {
	diffs := make([]float64, replicates)
	for i := range diffs {
		diffs[i] = float64(new.resample(rng, p) - base.resample(rng, p))
	}
	slices.Sort(diffs)
	tail := (1 - confidence) / 2
	return percentileOf(diffs, tail), percentileOf(diffs, 1-tail)
}

// percentileOf reads fraction f (0–1) of sorted xs by the nearest rank.
func percentileOf(xs []float64, f float64) float64 {
	i := int(math.Ceil(f*float64(len(xs)))) - 1
	return xs[min(max(i, 0), len(xs)-1)]
}

// betaRand draws from Beta(a, b), a, b ≥ 1, as X/(X+Y) of two gamma draws.
func betaRand(rng *rand.Rand, a, b float64) float64 {
	x := gammaRand(rng, a)
	return x / (x + gammaRand(rng, b))
}

// gammaRand draws from Gamma(shape, 1) for shape ≥ 1 by Marsaglia and
// Tsang's method ("A simple method for generating gamma variables", 2000):
// a squeezed rejection from a transformed normal, accepting ~98% of draws
// at any shape, so it costs the same at a rank of 3 or of 3 million.
func gammaRand(rng *rand.Rand, shape float64) float64 {
	d := shape - 1.0/3
	c := 1 / math.Sqrt(9*d)
	for {
		x := rng.NormFloat64()
		v := 1 + c*x
		if v <= 0 {
			continue
		}
		v = v * v * v
		u := rng.Float64()
		if u < 1-0.0331*x*x*x*x || math.Log(u) < 0.5*x*x+d*(1-v+math.Log(v)) {
			return d * v
		}
	}
}

// zOf is the two-sided standard normal quantile for a confidence level.
func zOf(confidence float64) float64 {
	return math.Sqrt2 * math.Erfinv(confidence)
}

// proportionDiff is Newcombe's hybrid score interval (method 10 of
// "Interval estimation for the difference between independent proportions",
// 1998) for new's error share minus base's. Unlike the plain normal
// interval it stays sensible at zero errors, the usual case.
func proportionDiff(baseErr, baseN, newErr, newN int64, confidence float64) (lo, hi float64) {
	z := zOf(confidence)
	l1, u1 := wilson(baseErr, baseN, z)
	l2, u2 := wilson(newErr, newN, z)
	p1, p2 := share(baseErr, baseN), share(newErr, newN)
	d := p2 - p1
	lo = d - math.Sqrt((p2-l2)*(p2-l2)+(u1-p1)*(u1-p1))
	hi = d + math.Sqrt((u2-p2)*(u2-p2)+(p1-l1)*(p1-l1))
	return lo, hi
}

// wilson is the Wilson score interval of k successes in n trials.
func wilson(k, n int64, z float64) (lo, hi float64) {
	if n == 0 {
		return 0, 1
	}
	p, nf := share(k, n), float64(n)
	mid := (p + z*z/(2*nf)) / (1 + z*z/nf)
	half := z / (1 + z*z/nf) * math.Sqrt(p*(1-p)/nf+z*z/(4*nf*nf))
	return max(mid-half, 0), min(mid+half, 1)
}

func share(k, n int64) float64 {
	if n == 0 {
		return 0
	}
	return float64(k) / float64(n)
}

// rateDiff is a normal interval for new's count rate minus base's, taking
// each count as Poisson (variance = count). Both durations are in seconds.
func rateDiff(baseCount int64, baseSecs float64, newCount int64, newSecs float64, confidence float64) (lo, hi float64) {
	if baseSecs <= 0 || newSecs <= 0 {
		return math.Inf(-1), math.Inf(1)
	}
	d := float64(newCount)/newSecs - float64(baseCount)/baseSecs
	se := math.Sqrt(float64(baseCount)/(baseSecs*baseSecs) + float64(newCount)/(newSecs*newSecs))
	z := zOf(confidence)
	return d - z*se, d + z*se
}
