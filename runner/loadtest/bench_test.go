package loadtest

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"runtime"
	"runtime/metrics"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/primeload/primeload/report/metric"
	"github.com/primeload/primeload/scenario"
)

// endpointBudgetMiB is issue 13's bound for a run of 1,000 distinct
// endpoints, which took 3.4 GiB before per-endpoint histograms were packed.
const endpointBudgetMiB = 300

// BenchmarkRunEndpoints runs two whole load tests (runner, collector,
// periods, final report) of the same 10,000 requests against a loopback
// server, one whose flow has a single request step and one with
// metric.MaxEndpoints distinct steps, and reports each run's peak memory
// and what each endpoint added. 1,000 endpoints must stay within
// endpointBudgetMiB; before per-endpoint histograms were packed (06e4c5f)
// they cost 2.5 MiB each.
func BenchmarkRunEndpoints(b *testing.B) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte(`{"ok":true}`))
	}))
	b.Cleanup(srv.Close)
	const many = metric.MaxEndpoints
	one, all := endpointsScript(b, srv.URL, 1), endpointsScript(b, srv.URL, many)
	var peakOne, peakAll uint64
	for b.Loop() {
		peakOne = max(peakOne, peakOfRun(b, one, 1))
		peakAll = max(peakAll, peakOfRun(b, all, many))
	}
	mib := float64(peakAll) / (1 << 20)
	b.ReportMetric(float64(peakOne)/(1<<20), "peak-MiB-1")
	b.ReportMetric(mib, fmt.Sprintf("peak-MiB-%d", many))
	b.ReportMetric(float64(peakAll-min(peakOne, peakAll))/(1<<20)/(many-1), "MiB/endpoint")
	if mib > endpointBudgetMiB {
		b.Errorf("%d endpoints peaked at %.0f MiB, over the %d MiB budget", many, mib, endpointBudgetMiB)
	}
}

// endpointsScript is 10 users sending 10,000 requests over that many
// distinct request steps.
func endpointsScript(b *testing.B, target string, endpoints int) *scenario.Script {
	const users, requests = 10, 10_000
	var src strings.Builder
	fmt.Fprintf(&src, "config:\n  target: %q\n  phases:\n    - duration: 1\n      arrivalCount: %d\nscenarios:\n  - flow:\n      - loop:\n", target, users)
	for i := range endpoints {
		fmt.Fprintf(&src, "          - get: {url: \"/items/%d\"}\n", i)
	}
	fmt.Fprintf(&src, "        count: %d\n", requests/users/endpoints)
	script, err := scenario.Parse("endpoints.yml", []byte(src.String()), scenario.LoadOptions{})
	if err != nil {
		b.Fatal(err)
	}
	return script
}

// peakOfRun runs script and returns the highest mappedBytes seen meanwhile,
// after checking that every request and endpoint was recorded.
func peakOfRun(b *testing.B, script *scenario.Script, endpoints int) uint64 {
	runtime.GC()
	done := make(chan struct{})
	var peak uint64
	var wg sync.WaitGroup
	wg.Go(func() { peak = sampleMapped(done) })
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	rep, err := Run(ctx, script, Options{Period: 2 * time.Second}, Hooks{})
	cancel()
	close(done)
	wg.Wait()
	if err != nil {
		b.Fatal(err)
	}
	if got := rep.Aggregate.Counters[metric.Requests]; got != 10_000 {
		b.Fatalf("%d requests, want 10000", got)
	}
	if got := len(rep.Aggregate.Endpoints()); got != endpoints {
		b.Fatalf("%d endpoints in the report, want %d", got, endpoints)
	}
	return peak
}

// mappedBytes is the memory the Go runtime holds from the system and has
// not returned: an upper bound of the process's resident Go memory.
func mappedBytes() uint64 {
	s := []metrics.Sample{{Name: "/memory/classes/total:bytes"}, {Name: "/memory/classes/heap/released:bytes"}}
	metrics.Read(s)
	return s[0].Value.Uint64() - s[1].Value.Uint64()
}

// sampleMapped returns the highest mappedBytes seen every 10 ms until done.
func sampleMapped(done <-chan struct{}) uint64 {
	peak := mappedBytes()
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case <-done:
			return max(peak, mappedBytes())
		case <-tick.C:
			peak = max(peak, mappedBytes())
		}
	}
}
