package report

import (
	"fmt"
	"maps"
	"math/bits"
	"slices"
	"strconv"
	"strings"
	"time"
)

// The fine series: one point a second for the report's time charts,
// whatever --period is, kept small enough to live in memory for a whole
// run. Latency goes into a log-bucket sketch (8 buckets per doubling, so a
// percentile read from it is at most 12.5% high), not an HdrHistogram: a
// second's sketch is at most sketchBuckets counters, and a point keeps only
// the buckets it used.

// SeriesStep is the length of a fine series point before any coarsening.
const SeriesStep = time.Second

// MaxSeriesPoints bounds a series: past it, neighbouring points are merged
// in pairs (the step doubles), so a day-long run keeps at most this many
// points, each 24 s long, and memory does not grow with the run.
const MaxSeriesPoints = 3600

// subBuckets is the sketch's buckets per doubling of the latency.
const subBuckets = 8

// sketchBuckets covers 0 µs to highestMicros: values below subBuckets have
// a bucket each, every doubling above them subBuckets more.
var sketchBuckets = bucketOf(highestMicros) + 1

// bucketOf is the sketch bucket of a latency of us microseconds.
func bucketOf(us int64) int {
	if us < subBuckets {
		return int(max(us, 0))
	}
	e := bits.Len64(uint64(us)) - 1 // us is in [2^e, 2^(e+1))
	m := int(us>>(e-3)) & (subBuckets - 1)
	return subBuckets + (e-3)*subBuckets + m
}

// bucketTop is the highest latency, in microseconds, bucket b holds: what
// a percentile that falls in b reads as (HdrHistogram's "highest
// equivalent value" convention, so the sketch never reads low).
func bucketTop(b int) int64 {
	if b < subBuckets {
		return int64(b)
	}
	e := (b-subBuckets)/subBuckets + 3
	m := int64((b - subBuckets) % subBuckets)
	return (subBuckets+m+1)<<(e-3) - 1
}

// secondSketch counts latencies by bucket. The zero value is empty.
type secondSketch struct {
	counts []uint32 // len sketchBuckets once used
	n      int64
}

func (k *secondSketch) record(us int64) {
	if k.counts == nil {
		k.counts = make([]uint32, sketchBuckets)
	}
	k.counts[bucketOf(us)]++
	k.n++
}

// drainInto adds k to acc, sketchBuckets counters, and empties k.
func (k *secondSketch) drainInto(acc []int64) {
	if k.n == 0 {
		return
	}
	for b, c := range k.counts {
		if c != 0 {
			acc[b] += int64(c)
			k.counts[b] = 0
		}
	}
	k.n = 0
}

// Series is the fine series of a run: points of Step milliseconds, each
// starting at a multiple of Step since the Unix epoch, so the series of
// separate generators line up and merge point by point.
type Series struct {
	Step   int64         `json:"step"` // ms
	Points []SeriesPoint `json:"points"`
}

// SeriesPoint is what happened in one step. Requests, Responses, Errors and
// Ended (virtual users that completed or failed) are counts within the
// step; Active is the users in flight at its end; Latency is the step's
// response times as secondSketch buckets.
type SeriesPoint struct {
	Time      int64  `json:"t"`  // Unix ms of the step's start
	Length    int64  `json:"ms"` // ms of the step the run covered: less at its edges
	Requests  int64  `json:"requests"`
	Responses int64  `json:"responses"`
	Errors    int64  `json:"errors"`
	Ended     int64  `json:"ended"`
	Active    int64  `json:"active"`
	Latency   Sketch `json:"latency"`
}

// Sketch is a step's latencies: the buckets it used, in bucket order, each
// packed in one word (bucket<<binShift | count), so a point costs 8 bytes a
// used bucket and reading a percentile walks them without sorting. A
// Sketch in a Series is never changed in place (add builds a new one), so
// a copy of the series shares them: the live dashboard's copy each second
// is one slice, not one per point. In JSON it is one string of
// "index:count" pairs, so an indented report keeps a point on a few lines
// instead of one line per number.
type Sketch struct{ bins []uint64 }

// binShift puts the bucket index (below 256: TestSketchBuckets) above a
// count of up to maxBinCount latencies.
const (
	binShift    = 56
	maxBinCount = 1<<binShift - 1
)

func bin(idx int, n int64) uint64       { return uint64(idx)<<binShift | uint64(n) }
func binOf(w uint64) (idx int, n int64) { return int(w >> binShift), int64(w & maxBinCount) }

// sketchOf packs the non-zero counters of acc (indexed by bucket). A
// count past maxBinCount, which only a forged report could hold, is kept
// at maxBinCount.
func sketchOf(acc []int64) Sketch {
	used := 0
	for _, c := range acc {
		if c > 0 {
			used++
		}
	}
	if used == 0 {
		return Sketch{}
	}
	bins := make([]uint64, 0, used)
	for idx, c := range acc {
		if c > 0 {
			bins = append(bins, bin(idx, min(c, maxBinCount)))
		}
	}
	return Sketch{bins}
}

// merged is a new sketch holding a's counts and b's; neither changes.
func (a Sketch) merged(b Sketch) Sketch {
	if len(b.bins) == 0 {
		return a
	}
	if len(a.bins) == 0 {
		return b
	}
	out := make([]uint64, 0, len(a.bins)+len(b.bins))
	i, j := 0, 0
	for i < len(a.bins) && j < len(b.bins) {
		ia, na := binOf(a.bins[i])
		ib, nb := binOf(b.bins[j])
		switch {
		case ia < ib:
			out = append(out, a.bins[i])
			i++
		case ib < ia:
			out = append(out, b.bins[j])
			j++
		default:
			out = append(out, bin(ia, min(na+nb, maxBinCount)))
			i++
			j++
		}
	}
	out = append(out, a.bins[i:]...)
	out = append(out, b.bins[j:]...)
	return Sketch{slices.Clip(out)}
}

// MarshalText writes the pairs in bucket order.
func (b Sketch) MarshalText() ([]byte, error) {
	var sb strings.Builder
	for i, w := range b.bins {
		if i > 0 {
			sb.WriteByte(' ')
		}
		idx, n := binOf(w)
		sb.WriteString(strconv.Itoa(idx))
		sb.WriteByte(':')
		sb.WriteString(strconv.FormatInt(n, 10))
	}
	return []byte(sb.String()), nil
}

// UnmarshalText reads what MarshalText wrote, in any order, refusing
// buckets out of range and counts past maxBinCount.
func (b *Sketch) UnmarshalText(text []byte) error {
	var acc []int64
	for _, pair := range strings.Fields(string(text)) {
		k, v, ok := strings.Cut(pair, ":")
		idx, err1 := strconv.Atoi(k)
		n, err2 := strconv.ParseInt(v, 10, 64)
		if !ok || err1 != nil || err2 != nil || idx < 0 || idx >= sketchBuckets || n < 0 || n > maxBinCount {
			return fmt.Errorf("latency bucket %q: want index:count with index 0 to %d and count 0 to %d", pair, sketchBuckets-1, int64(maxBinCount))
		}
		if acc == nil {
			acc = make([]int64, sketchBuckets)
		}
		// Kept at maxBinCount: repeated pairs of a forged report must not
		// wrap around to a negative sum, which sketchOf would drop.
		acc[idx] = min(acc[idx]+n, maxBinCount)
	}
	*b = sketchOf(acc)
	return nil
}

// Count is the number of latencies in b.
func (b Sketch) Count() int64 {
	var n int64
	for _, w := range b.bins {
		_, c := binOf(w)
		n += c
	}
	return n
}

// Quantile returns the latency in milliseconds at q (0 to 1), and false
// when b is empty.
func (b Sketch) Quantile(q float64) (float64, bool) {
	n := b.Count()
	if n == 0 {
		return 0, false
	}
	// The rank of q, as HdrHistogram takes it: at least one value.
	rank := max(int64(q*float64(n)+0.5), 1)
	var seen int64
	for _, w := range b.bins {
		idx, c := binOf(w)
		seen += c
		if seen >= rank {
			return msOf(bucketTop(idx)), true
		}
	}
	idx, _ := binOf(b.bins[len(b.bins)-1])
	return msOf(bucketTop(idx)), true
}

// add folds o's counts and latencies into p; the caller decides what the
// two make of Length and Active (one generator's consecutive steps: the sum
// and the later; several generators' same step: the longer and the sum).
func (p *SeriesPoint) add(o SeriesPoint) {
	p.Requests += o.Requests
	p.Responses += o.Responses
	p.Errors += o.Errors
	p.Ended += o.Ended
	p.Latency = p.Latency.merged(o.Latency)
}

// append adds a point, folding it into the last one when both fall in the
// same step, and coarsens s when it grows past MaxSeriesPoints. A point
// stamped before the last one (the wall clock set back mid-run: Tick
// stamps with it) is folded into the last too, so the points stay in the
// time order Decode checks.
func (s *Series) append(p SeriesPoint) {
	p.Time -= p.Time % s.Step
	if n := len(s.Points); n > 0 && s.Points[n-1].Time >= p.Time {
		last := &s.Points[n-1]
		last.add(p)
		last.Length += p.Length
		last.Active = p.Active // the later of the two ends the step
		return
	}
	s.Points = append(s.Points, p)
	if len(s.Points) > MaxSeriesPoints {
		s.coarsen(2 * s.Step)
	}
}

// coarsen re-bins s into steps of step ms, a multiple of its own.
func (s *Series) coarsen(step int64) {
	out := s.Points[:0]
	for _, p := range s.Points {
		p.Time -= p.Time % step
		if n := len(out); n > 0 && out[n-1].Time == p.Time {
			out[n-1].add(p)
			out[n-1].Length += p.Length
			out[n-1].Active = p.Active
			continue
		}
		out = append(out, p)
	}
	clear(s.Points[len(out):])
	s.Points = out
	s.Step = step
}

// clone copies s deeply enough that appending to s leaves the copy as it
// was: the points, not their sketches, which add never changes in place.
func (s *Series) clone() *Series {
	if s == nil {
		return nil
	}
	return &Series{Step: s.Step, Points: slices.Clone(s.Points)}
}

// mergeSeries sums the series of several generators point by point, at
// the coarsest step among them; Active is summed too (users in flight on
// all generators). If one report has no series the merge has none: a
// series without one generator's traffic would read low, and the charts
// fall back to the periods.
func mergeSeries(all []*Series) (*Series, error) {
	var step int64
	for _, s := range all {
		if s == nil {
			return nil, nil
		}
		if err := s.validate(); err != nil {
			return nil, fmt.Errorf("merge fine series: %w", err)
		}
		step = max(step, s.Step)
	}
	if step == 0 {
		return nil, nil
	}
	byTime := map[int64]*SeriesPoint{}
	for _, s := range all {
		c := s.clone()
		for c.Step < step {
			c.coarsen(2 * c.Step) // steps are a second doubled, so this ends at step
		}
		for _, p := range c.Points {
			if q := byTime[p.Time]; q != nil {
				q.add(p)
				q.Length = max(q.Length, p.Length)
				q.Active += p.Active
				continue
			}
			p := p
			byTime[p.Time] = &p
		}
	}
	out := &Series{Step: step}
	for _, t := range slices.Sorted(maps.Keys(byTime)) {
		out.Points = append(out.Points, *byTime[t])
	}
	for len(out.Points) > MaxSeriesPoints {
		out.coarsen(2 * out.Step)
	}
	return out, nil
}

// validate checks what Decode read: a step of whole seconds doubled, at
// most MaxSeriesPoints points on step boundaries in time order, counts not
// negative. A nil series is valid (the report has none).
func (s *Series) validate() error {
	if s == nil {
		return nil
	}
	sec := SeriesStep.Milliseconds()
	if s.Step < sec || s.Step%sec != 0 || bits.OnesCount64(uint64(s.Step/sec)) != 1 {
		return fmt.Errorf("step %d: want 1000 ms doubled zero or more times", s.Step)
	}
	if len(s.Points) > MaxSeriesPoints {
		return fmt.Errorf("%d points: at most %d", len(s.Points), MaxSeriesPoints)
	}
	for i, p := range s.Points {
		if p.Time%s.Step != 0 || (i > 0 && p.Time <= s.Points[i-1].Time) {
			return fmt.Errorf("points[%d]: t %d must be a multiple of the step after the point before", i, p.Time)
		}
		if min(p.Length, p.Requests, p.Responses, p.Errors, p.Ended, p.Active) < 0 {
			return fmt.Errorf("points[%d]: counts must not be negative", i)
		}
	}
	return nil
}
