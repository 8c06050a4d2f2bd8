// Package reporttest builds reports whose contents are known, for tests of
// the packages that read reports (SLOs, JUnit, HTML, the report command).
package reporttest

import (
	"bytes"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/primeload/primeload/report"
	"github.com/primeload/primeload/report/metric"
	"github.com/primeload/primeload/runner"
	"github.com/primeload/primeload/scenario"
)

// Start is when every built run starts: fixed, so golden files are stable.
func Start() time.Time { return time.Date(2026, 11, 27, 9, 0, 0, 0, time.UTC) }

// Endpoints are the endpoints of a built run, as Artillery's
// metrics-by-endpoint names the seed's requests.
func Endpoints() []string {
	return []string{
		"/api/goods-received/",
		"/api/goods-received/{{ goodsId }}/",
		"/api/tracking-updates/",
	}
}

// EndpointMethods are the methods of Endpoints, as a loaded script records them.
func EndpointMethods() map[string][]string {
	return map[string][]string{
		"/api/goods-received/":               {"GET"},
		"/api/goods-received/{{ goodsId }}/": {"GET"},
		"/api/tracking-updates/":             {"POST"},
	}
}

// Options shape a built run.
type Options struct {
	Periods  int             // 10 s periods; 0 means 6
	PerSec   int             // requests per second; 0 means 20
	Lag      time.Duration   // added to every arrival's lag: > 10 ms makes the run untrusted
	Seed     uint64          // varies the samples; runs with equal options are equal
	Ensure   scenario.Ensure // recorded as the script's SLOs
	Script   string          // the script path; "" means "black-friday.yml"
	Failures bool            // every 50th request gets a 500 and every 200th times out
	Down     bool            // the target refuses every connection: no responses at all
	NoSeries bool            // no fine series (no Tick), as in a report of a tool that writes none
}

// Run plays a deterministic run through a real Collector and returns its
// report: latencies are long-tailed and slower on the detail endpoint, and
// every period also records virtual users created and completed.
func Run(tb testing.TB, o Options) *report.Report {
	tb.Helper()
	if o.Periods == 0 {
		o.Periods = 6
	}
	if o.PerSec == 0 {
		o.PerSec = 20
	}
	if o.Script == "" {
		o.Script = "black-friday.yml"
	}
	rng := rand.New(rand.NewPCG(o.Seed, 42))
	c := report.NewCollector(Start(), report.Info{
		Target:  "http://127.0.0.1:8080",
		Script:  report.ScriptInfo{Path: o.Script, Digest: "sha256:test", Endpoints: Endpoints(), EndpointMethods: EndpointMethods(), Ensure: o.Ensure},
		Version: "test",
		Period:  10 * time.Second,
	})
	endpoints := Endpoints()
	// fail samples a failure as the runner does: only while it is wanted.
	fail := func(ep, code, reason string, status int) {
		if c.WantSample(ep, code) {
			c.Sample(runner.FailureSample{Endpoint: ep, Code: code, Reason: reason, Status: status})
		}
	}
	// tick closes second sec of period p in the fine series, as a run's
	// ticker does on each whole second.
	tick := func(p, sec int) {
		if !o.NoSeries {
			c.Tick(Start().Add(time.Duration(p-1)*10*time.Second + time.Duration(sec)*time.Second))
		}
	}
	n := 0
	for p := 1; p <= o.Periods; p++ {
		for i := range 10 * o.PerSec {
			if i > 0 && i%o.PerSec == 0 {
				tick(p, i/o.PerSec)
			}
			n++
			sink := c.Sink(i)
			ep := endpoints[i%len(endpoints)]
			base := 8000.0
			if i%len(endpoints) == 1 {
				base = 30000
			}
			latency := time.Duration(rng.ExpFloat64()*base+float64(500*p)) * time.Microsecond
			status := 200
			sink.Count(metric.VUsersCreated, 1)
			sink.Lag(o.Lag + time.Duration(rng.IntN(2000))*time.Microsecond)
			sink.Count(metric.Requests, 1)
			switch {
			case o.Down:
				sink.Count(metric.ErrConnRefused, 1)
				fail(ep, metric.ErrConnRefused, "nothing listening on 127.0.0.1:8080", 0)
				sink.Count(metric.VUsersFailed, 1)
				continue
			case o.Failures && n%200 == 0:
				sink.Count(metric.ErrTimedOut, 1)
				fail(ep, metric.ErrTimedOut, "no complete answer from 127.0.0.1:8080 within the request timeout (config.http.timeout)", 0)
				sink.Count(metric.VUsersFailed, 1)
				continue
			case o.Failures && n%50 == 0:
				status = 500
				fail(ep, metric.Code(500), `the response was 500 {"detail":"database unavailable"}`, 500)
			}
			sink.Response(ep, latency, status, 512)
			sink.Count(metric.VUsersCompleted, 1)
		}
		tick(p, 10)
		if _, err := c.Flush(Start().Add(time.Duration(p) * 10 * time.Second)); err != nil {
			tb.Fatal(err)
		}
	}
	r := c.Report()
	r.Expected = []report.PhaseArrivals{{Name: "Black Friday peak", Expected: int64(n), Created: int64(n)}}
	return r
}

// Golden compares got with the golden file at path, rewriting it first when
// update is set (the -update flag of the calling test).
func Golden(tb testing.TB, path string, got []byte, update bool) {
	tb.Helper()
	if update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			tb.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			tb.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		tb.Fatalf("read golden file: %v (go test -update writes it)", err)
	}
	if !bytes.Equal(got, want) {
		tb.Errorf("output differs from %s (go test -update rewrites it):\n%s", path, got)
	}
}
