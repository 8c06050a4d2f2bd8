package report

import (
	"sync/atomic"
	"testing"
	"time"
)

var benchEndpoints = []string{
	"GET /api/goods-received/",
	"POST /api/goods-received/",
	"GET /api/goods-received/{{ goodsId }}/",
	"PATCH /api/goods-received/{{ goodsId }}/",
	"POST /api/auth/login/",
}

// BenchmarkRecord measures the hot path a virtual user takes per request:
// count it, record its response. Goroutines use distinct worker slots, as
// the runner does.
func BenchmarkRecord(b *testing.B) {
	c := NewCollector(t0, Info{})
	var slot atomic.Int64
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		sink := c.Sink(int(slot.Add(1)))
		i := 0
		for pb.Next() {
			sink.Count("http.requests", 1)
			sink.Response(benchEndpoints[i%len(benchEndpoints)], time.Duration(i%50_000)*time.Microsecond, 200, 512)
			i++
		}
	})
}

// BenchmarkFlush measures closing one period of a busy run: every shard
// holds samples for five endpoints.
func BenchmarkFlush(b *testing.B) {
	c := NewCollector(t0, Info{Period: 10 * time.Second})
	now := t0
	b.ReportAllocs()
	for b.Loop() {
		b.StopTimer()
		for s := range len(c.shards) {
			sink := c.Sink(s)
			for i := range 1000 {
				sink.Count("http.requests", 1)
				sink.Response(benchEndpoints[i%len(benchEndpoints)], time.Duration(i*37)*time.Microsecond, 200+i%2*300, 512)
				sink.Lag(time.Duration(i) * time.Microsecond)
			}
		}
		now = now.Add(10 * time.Second)
		b.StartTimer()
		if _, err := c.Flush(now); err != nil {
			b.Fatal(err)
		}
	}
}
