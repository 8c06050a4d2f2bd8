package report

import (
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"
)

// Snapshot is a run's measurements from its start up to one instant,
// including the period still open: what live exporters publish. It is the
// caller's to keep; nothing in it is shared with the collector.
type Snapshot struct {
	// At is when the snapshot was taken.
	At time.Time
	// Counters are cumulative, named as in report/metric (families
	// included: "http.codes.200", per-endpoint codes).
	Counters map[string]int64
	// Buckets holds each latency summary's distribution, named as in
	// report/metric, over the bounds Snapshot was given.
	Buckets map[string]Buckets
	// VUsersActive is the virtual users started and not yet ended.
	VUsersActive int64
}

// Buckets is a distribution as cumulative counts over fixed upper bounds,
// the shape a Prometheus histogram has.
type Buckets struct {
	// Cumulative[i] counts samples at or under the i-th bound. A sample
	// counts when the lowest value its HdrHistogram bucket cannot tell
	// apart from it is at or under the bound, so a bound is exact to the
	// histogram's precision (3 significant digits).
	Cumulative []int64
	// Count is every sample, the +Inf bucket.
	Count int64
	// Sum is the samples' total, each taken at the middle of its
	// HdrHistogram bucket (as HdrHistogram's mean does).
	Sum time.Duration
}

// Snapshot drains what the shards recorded into the open period (as Flush
// does, each shard's lock held only for a pointer swap) and returns the
// cumulative totals, with each histogram as Buckets over bounds (ascending).
// It is safe to call from any goroutine, alongside Flush.
func (c *Collector) Snapshot(now time.Time, bounds []time.Duration) Snapshot {
	c.flushMu.Lock()
	c.drain()
	s := Snapshot{At: now, Counters: map[string]int64{}, Buckets: map[string]Buckets{}}
	var scratch *hdrhistogram.Histogram // dense copy of a packed endpoint histogram, reused
	for _, w := range []*window{c.agg, c.period} {
		counters, hists := w.named()
		for k, v := range counters {
			s.Counters[k] += v
		}
		for k, h := range hists {
			dense, ok := h.(*hdrhistogram.Histogram)
			if p, packed := h.(*hdrhistogram.PackedHistogram); packed {
				if scratch == nil {
					scratch = newHist()
				}
				scratch.Reset()
				p.MergeInto(scratch) // same geometry: nothing dropped
				dense, ok = scratch, true
			}
			if ok {
				s.Buckets[k] = s.Buckets[k].add(dense, bounds)
			}
		}
	}
	c.flushMu.Unlock()
	s.VUsersActive = c.Live().VUsersActive
	return s
}

// subBucketHalfMagnitude is log2 of half the sub-buckets per bucket in the
// geometry of hist.go (3 significant digits need 2048 sub-buckets, and a
// lowest value of 1 makes the unit 1 µs). TestSnapshotBucketsMatchDistribution
// holds it to the library's own iteration.
const subBucketHalfMagnitude = 10

// add returns b with h's samples (values in µs) added over bounds. It reads
// the counts array once (hdrhistogram's Distribution builds a bar per index,
// a thousand times the cost), computing each index's value range as the
// library does.
func (b Buckets) add(h *hdrhistogram.Histogram, bounds []time.Duration) Buckets {
	if b.Cumulative == nil {
		b.Cumulative = make([]int64, len(bounds))
	}
	// Counts ascend by value, so one pass finds each count's first bound;
	// the prefix sum then makes the counts cumulative.
	own := make([]int64, len(bounds))
	var sum int64 // µs: at most 6e7 per sample, room for 1.5e11 samples
	j := 0
	const half = 1 << subBucketHalfMagnitude
	for i, n := range h.Export().Counts {
		if n == 0 {
			continue
		}
		bucket := i>>subBucketHalfMagnitude - 1
		sub := int64(i&(half-1)) + half
		if bucket < 0 {
			sub -= half
			bucket = 0
		}
		from := sub << bucket
		to := from + 1<<bucket - 1
		b.Count += n
		sum += n * ((from + to) / 2)
		for j < len(bounds) && from > bounds[j].Microseconds() {
			j++
		}
		if j < len(bounds) {
			own[j] += n
		}
	}
	var run int64
	for i, n := range own {
		run += n
		b.Cumulative[i] += run
	}
	b.Sum += time.Duration(sum) * time.Microsecond
	return b
}
