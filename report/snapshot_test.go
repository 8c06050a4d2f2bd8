package report

import (
	"maps"
	"math"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/primeload/primeload/report/metric"
)

func TestSnapshotBuckets(t *testing.T) {
	bounds := []time.Duration{time.Millisecond, 5 * time.Millisecond, 10 * time.Millisecond, time.Second}
	tests := []struct {
		name      string
		latencies []time.Duration
		want      []int64 // cumulative, per bound
		wantSum   time.Duration
	}{
		{"none", nil, []int64{0, 0, 0, 0}, 0},
		{"a bound is inclusive", []time.Duration{time.Millisecond, 5 * time.Millisecond}, []int64{1, 2, 2, 2}, 0},
		{"just over a bound", []time.Duration{1001 * time.Microsecond}, []int64{0, 1, 1, 1}, 1001 * time.Microsecond},
		{"past every bound counts only in +Inf", []time.Duration{2 * time.Second, 3 * time.Microsecond}, []int64{1, 1, 1, 1}, 0},
		{"spread", []time.Duration{100 * time.Microsecond, 2 * time.Millisecond, 7 * time.Millisecond, 9 * time.Millisecond, 500 * time.Millisecond}, []int64{1, 2, 4, 5}, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := NewCollector(t0, Info{Period: time.Second})
			for i, d := range tt.latencies {
				c.Sink(1+i).Response("GET /a", d, 200, 1)
			}
			s := c.Snapshot(t0, bounds)
			got := s.Buckets[metric.ResponseTime]
			if len(tt.latencies) == 0 {
				if _, ok := s.Buckets[metric.ResponseTime]; ok {
					t.Fatalf("empty run has a %s distribution", metric.ResponseTime)
				}
				return
			}
			if !slices.Equal(got.Cumulative, tt.want) {
				t.Errorf("cumulative = %v, want %v", got.Cumulative, tt.want)
			}
			if got.Count != int64(len(tt.latencies)) {
				t.Errorf("count = %d, want %d", got.Count, len(tt.latencies))
			}
			var exact time.Duration
			for _, d := range tt.latencies {
				exact += d
			}
			// Each sample is taken at the middle of its bucket: within 0.1%.
			if diff := got.Sum - exact; diff < -exact/1000 || diff > exact/1000 {
				t.Errorf("sum = %s, want %s within 0.1%%", got.Sum, exact)
			}
			if tt.wantSum != 0 && got.Sum != tt.wantSum {
				t.Errorf("sum = %s, want exactly %s (1 µs buckets below 2 ms)", got.Sum, tt.wantSum)
			}
			ep := s.Buckets[metric.EndpointLatency("GET /a")]
			if !slices.Equal(ep.Cumulative, got.Cumulative) {
				t.Errorf("endpoint cumulative = %v, want the overall %v", ep.Cumulative, got.Cumulative)
			}
		})
	}
}

// A snapshot covers the closed periods and the open one, and never takes
// anything away from the report: after the last flush the two agree.
func TestSnapshotMatchesReport(t *testing.T) {
	bounds := []time.Duration{time.Millisecond, time.Second}
	c := NewCollector(t0, Info{Period: time.Second})
	var ss []sample
	for i := 1; i <= 300; i++ {
		ss = append(ss, sample{sink: i, endpoint: "GET /a", latency: time.Duration(i) * 10 * time.Microsecond, status: 200 + i%2*300, bytes: 3, lag: time.Duration(i) * time.Microsecond})
	}
	record(c, ss[:100])
	c.Sink(5).Count(metric.VUsersCreated, 4)
	c.Sink(6).Count(metric.VUsersCompleted, 1)
	if _, err := c.Flush(t0.Add(time.Second)); err != nil {
		t.Fatal(err)
	}
	record(c, ss[100:200])
	mid := c.Snapshot(t0.Add(1500*time.Millisecond), bounds)
	if got := mid.Counters[metric.Requests]; got != 200 {
		t.Errorf("mid-period snapshot: %s = %d, want 200 (closed and open periods)", metric.Requests, got)
	}
	if mid.VUsersActive != 3 {
		t.Errorf("active = %d, want 3", mid.VUsersActive)
	}
	record(c, ss[200:])
	if _, err := c.Flush(t0.Add(2 * time.Second)); err != nil {
		t.Fatal(err)
	}
	end := c.Snapshot(t0.Add(2*time.Second), bounds)
	agg := c.Report().Aggregate
	if !maps.Equal(end.Counters, agg.Counters) {
		t.Errorf("final snapshot counters = %v, want the report's %v", end.Counters, agg.Counters)
	}
	for name, sum := range agg.Summaries {
		if got := end.Buckets[name].Count; got != sum.Count {
			t.Errorf("%s: snapshot count %d, report count %d", name, got, sum.Count)
		}
	}
	if len(end.Buckets) != len(agg.Summaries) {
		t.Errorf("snapshot has %d distributions, report %d", len(end.Buckets), len(agg.Summaries))
	}
}

// The counts walk equals the library's own iteration, bar by bar: the same
// samples under each bound and the same sum, over the whole range.
func TestSnapshotBucketsMatchDistribution(t *testing.T) {
	h := newHist()
	rng := rand.New(rand.NewPCG(1, 2))
	for range 20000 {
		h.RecordValue(int64(math.Exp(rng.Float64() * math.Log(highestMicros))))
	}
	h.RecordValue(lowestMicros)
	h.RecordValue(highestMicros)
	var bounds []time.Duration
	for us := int64(1); us <= highestMicros; us = us*3/2 + 1 {
		bounds = append(bounds, time.Duration(us)*time.Microsecond)
	}
	got := Buckets{}.add(h, bounds)
	want := make([]int64, len(bounds))
	var sum int64
	for _, bar := range h.Distribution() {
		sum += bar.Count * ((bar.From + bar.To) / 2)
		for i, b := range bounds {
			if bar.From <= b.Microseconds() {
				want[i] += bar.Count
			}
		}
	}
	if !slices.Equal(got.Cumulative, want) {
		t.Errorf("cumulative = %v\nwant (Distribution) %v", got.Cumulative, want)
	}
	if got.Count != h.TotalCount() || got.Sum != time.Duration(sum)*time.Microsecond {
		t.Errorf("count %d sum %s, want %d and %s", got.Count, got.Sum, h.TotalCount(), time.Duration(sum)*time.Microsecond)
	}
}

func BenchmarkSnapshot(b *testing.B) {
	c := NewCollector(t0, Info{Period: time.Second})
	for i := 1; i <= 10000; i++ {
		c.Sink(i).Response("GET /a", time.Duration(i)*37*time.Microsecond, 200, 1)
	}
	bounds := []time.Duration{time.Millisecond, 10 * time.Millisecond, 100 * time.Millisecond, time.Second}
	b.ReportAllocs()
	for b.Loop() {
		c.Snapshot(t0, bounds)
	}
}
