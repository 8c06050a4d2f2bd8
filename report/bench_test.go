package report

import (
	"fmt"
	"runtime"
	"strconv"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/primeload/primeload/report/metric"
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

// BenchmarkFlush measures closing one period. "busy" is a busy run's: every
// shard holds 1,000 samples over five endpoints. "soak" is bench/soak.sh's
// long mode: 100 ms periods of 25 responses, each period on the same
// generator core as the responses, so its cost shows in their latencies.
func BenchmarkFlush(b *testing.B) {
	for _, bc := range []struct {
		name     string
		perShard int
		period   time.Duration
	}{{"busy", 1000, 10 * time.Second}, {"soak", 25, 100 * time.Millisecond}} {
		b.Run(bc.name, func(b *testing.B) {
			c := NewCollector(t0, Info{Period: bc.period})
			now := t0
			var cpu time.Duration
			b.ReportAllocs()
			for b.Loop() {
				b.StopTimer()
				for s := range len(c.shards) {
					if bc.perShard < 100 && s > 1 {
						break // a sparse period reaches a few shards
					}
					sink := c.Sink(s)
					for i := range bc.perShard {
						sink.Count("http.requests", 1)
						sink.Response(benchEndpoints[i%len(benchEndpoints)], time.Duration(1000+i*37)*time.Microsecond, 200+i%2*300, 512)
						sink.Lag(time.Duration(i) * time.Microsecond)
					}
				}
				now = now.Add(bc.period)
				b.StartTimer()
				before := cpuTime(b)
				if _, err := c.Flush(now); err != nil {
					b.Fatal(err)
				}
				cpu += cpuTime(b) - before
			}
			// On a shared machine wall time counts waiting for a core;
			// the process's CPU time counts only the work (GC included).
			b.ReportMetric(float64(cpu.Nanoseconds())/float64(b.N), "cpu-ns/op")
		})
	}
}

// BenchmarkEndpointMemory measures what each distinct endpoint costs a run:
// every shard records every endpoint over two periods, as users spread over
// all shards do, and the live heap afterwards is divided by the endpoints.
func BenchmarkEndpointMemory(b *testing.B) {
	for _, endpoints := range []int{50, metric.MaxEndpoints} {
		b.Run(strconv.Itoa(endpoints), func(b *testing.B) { benchEndpointMemory(b, endpoints) })
	}
}

func benchEndpointMemory(b *testing.B, endpoints int) {
	names := make([]string, endpoints)
	for i := range names {
		names[i] = fmt.Sprintf("GET /api/items/%d/", i)
	}
	var live uint64
	b.ReportAllocs()
	for b.Loop() {
		runtime.GC()
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		c := NewCollector(t0, Info{Period: 10 * time.Second})
		now := t0
		for range 2 {
			for s := range len(c.shards) {
				sink := c.Sink(s)
				for i := range 20 * endpoints {
					sink.Response(names[i%endpoints], time.Duration(100+i*997%400_000)*time.Microsecond, 200, 512)
				}
			}
			now = now.Add(10 * time.Second)
			if _, err := c.Flush(now); err != nil {
				b.Fatal(err)
			}
		}
		runtime.GC()
		runtime.ReadMemStats(&after)
		live = after.HeapAlloc - before.HeapAlloc
		runtime.KeepAlive(c)
	}
	b.ReportMetric(float64(live)/float64(endpoints)/(1<<20), "MiB/endpoint")
	b.ReportMetric(float64(live)/(1<<20), "MiB")
}

// BenchmarkReport measures Collector.Report on an hour's run (360 periods
// of 10 s, a fine point a second), what the live dashboard calls each
// second: "cached" is a call within a period, "locked" the part of it that
// holds flushMu (Flush and Snapshot wait that long behind a render),
// "series" the rest, and "flushed" the locked part of the first call
// after a Flush, which encodes the aggregate.
func BenchmarkReport(b *testing.B) {
	c := NewCollector(t0, Info{Period: 10 * time.Second})
	now := t0
	for p := range 360 {
		for range 10 {
			for i := range 20 {
				sink := c.Sink(1 + i%3)
				sink.Count(metric.Requests, 1)
				sink.Response(benchEndpoints[i%len(benchEndpoints)], time.Duration(1000+i*337+p)*time.Microsecond, 200, 512)
			}
			now = now.Add(time.Second)
			c.Tick(now)
		}
		if _, err := c.Flush(now); err != nil {
			b.Fatal(err)
		}
	}
	b.Run("cached", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			c.Report()
		}
	})
	// What of it holds flushMu.
	b.Run("locked", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			c.report()
		}
	})
	// The fine series' copy, which Report makes after letting flushMu go.
	b.Run("series", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			c.fineSeries()
		}
	})
	b.Run("flushed", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			b.StopTimer()
			now = now.Add(time.Second)
			if _, err := c.Flush(now); err != nil {
				b.Fatal(err)
			}
			b.StartTimer()
			c.report()
		}
	})
}

// BenchmarkSeriesMemory measures what the fine series holds after a full
// MaxSeriesPoints seconds (the heap grown from the first second's to the
// last), each second's 500 latencies spread over 1 to 50 ms (45 buckets),
// and what the live dashboard's copy of it costs.
func BenchmarkSeriesMemory(b *testing.B) {
	var held uint64
	var c *Collector
	for b.Loop() {
		c = NewCollector(t0, Info{Period: 24 * time.Hour})
		now := t0
		sink := c.Sink(1)
		var before, after runtime.MemStats
		for s := range MaxSeriesPoints {
			if s == 1 { // the collector's own state is made: count from here
				runtime.GC()
				runtime.ReadMemStats(&before)
			}
			for i := range 500 {
				sink.Response(benchEndpoints[0], time.Duration(1000+(i*7919+s)%49_000)*time.Microsecond, 200, 512)
			}
			now = now.Add(time.Second)
			c.Tick(now)
		}
		runtime.GC()
		runtime.ReadMemStats(&after)
		held = after.HeapAlloc - before.HeapAlloc
	}
	runtime.KeepAlive(c)
	b.ReportMetric(float64(held)/(MaxSeriesPoints-1), "B/point")
	b.ReportMetric(float64(held)/(1<<20), "MiB")
	runtime.GC()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	cp := c.fineSeries()
	runtime.ReadMemStats(&after)
	runtime.KeepAlive(cp)
	b.ReportMetric(float64(after.TotalAlloc-before.TotalAlloc)/(1<<10), "KiB/copy")
}

// cpuTime is the CPU time the process has used, user and system.
func cpuTime(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
