package report

import (
	"fmt"
	"sync"
	"testing"

	"github.com/primeload/primeload/report/metric"
	"github.com/primeload/primeload/runner"
)

// failAll records n failures of code at endpoint from g goroutines, each
// offering a sample whenever the collector wants one, and returns how many
// were wanted.
func failAll(c *Collector, endpoint, code string, g, n int) int {
	var mu sync.Mutex
	wanted := 0
	var wg sync.WaitGroup
	for w := range g {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range n / g {
				if c.WantSample(endpoint, code) {
					mu.Lock()
					wanted++
					mu.Unlock()
					c.Sample(runner.FailureSample{Endpoint: endpoint, Code: code, Reason: fmt.Sprintf("reason %d.%d", w, i)})
				}
			}
		}()
	}
	wg.Wait()
	return wanted
}

func TestFailuresCountAllKeepFew(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name       string
		endpoints  []string // known to the collector
		endpoint   string
		code       string
		goroutines int
		n          int
	}{
		{"known pair", []string{"GET /me"}, "GET /me", metric.ErrConnRefused, 8, 4000},
		{"status code", []string{"GET /me"}, "GET /me", metric.Code(401), 4, 1000},
		{"unknown endpoint goes through the locked map", nil, "GET /other", metric.ExpectFailed, 4, 400},
		{"unknown code", []string{"GET /me"}, "GET /me", "errors.ESOMETHINGNEW", 2, 10},
		{"fewer failures than the quota", []string{"GET /me"}, "GET /me", metric.ErrProto, 1, 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c := NewCollector(t0, Info{Script: ScriptInfo{Endpoints: tc.endpoints}})
			wanted := failAll(c, tc.endpoint, tc.code, tc.goroutines, tc.n)
			want := min(tc.n, MaxFailureSamples)
			if wanted != want {
				t.Errorf("samples wanted = %d, want %d", wanted, want)
			}
			fs := c.Report().Failures
			if len(fs) != 1 {
				t.Fatalf("failures = %+v, want one", fs)
			}
			f := fs[0]
			if f.Endpoint != tc.endpoint || f.Code != tc.code || f.Count != int64(tc.n) || len(f.Samples) != want {
				t.Errorf("failure = %s %s ×%d with %d samples, want %s %s ×%d with %d", f.Endpoint, f.Code, f.Count, len(f.Samples),
					tc.endpoint, tc.code, tc.n, want)
			}
		})
	}
}

func TestFailuresUnknownPairsAreBounded(t *testing.T) {
	t.Parallel()
	c := NewCollector(t0, Info{})
	for i := range maxFailureKeys + 10 {
		c.WantSample(fmt.Sprintf("GET /%d", i), metric.ErrConnReset)
	}
	if got := len(c.Report().Failures); got != maxFailureKeys {
		t.Errorf("failures kept = %d, want the bound %d", got, maxFailureKeys)
	}
}

func TestMergeFailures(t *testing.T) {
	t.Parallel()
	part := func(n int, reasons ...string) *Report {
		f := Failure{Endpoint: "GET /me", Code: metric.Code(401), Count: int64(n)}
		for _, r := range reasons {
			f.Samples = append(f.Samples, FailureSample{Reason: r, Status: 401})
		}
		return &Report{Failures: []Failure{f, {Endpoint: "GET /x", Code: metric.ErrConnRefused, Count: 1}}}
	}
	got := mergeFailures([]*Report{part(5, "a", "b"), part(7, "c", "d", "e"), part(1, "f")})
	if len(got) != 2 {
		t.Fatalf("merged = %+v, want two failures", got)
	}
	f := got[0]
	if f.Code != metric.Code(401) || f.Count != 13 || len(f.Samples) != MaxFailureSamples || f.Samples[2].Reason != "c" {
		t.Errorf("merged 401 = %+v, want ×13 with samples a, b, c", f)
	}
	if got[1].Count != 3 {
		t.Errorf("merged ECONNREFUSED count = %d, want 3", got[1].Count)
	}
}

func TestFailureLabel(t *testing.T) {
	for code, want := range map[string]string{
		metric.ErrConnRefused: "ECONNREFUSED",
		metric.Code(503):      "HTTP 503",
		metric.ExpectFailed:   "expect failed",
		metric.ErrCaptureMiss: "Failed capture or match",
	} {
		if got := (Failure{Code: code}).Label(); got != want {
			t.Errorf("Label(%s) = %q, want %q", code, got, want)
		}
	}
}

// BenchmarkWantSampleFull is a failure past its quota, the cost every
// failure of a failing run pays: one map lookup and one atomic add, no lock
// and no allocation.
func BenchmarkWantSampleFull(b *testing.B) {
	c := NewCollector(t0, Info{Script: ScriptInfo{Endpoints: benchEndpoints}})
	for range MaxFailureSamples {
		c.WantSample(benchEndpoints[0], metric.ErrConnRefused)
	}
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if c.WantSample(benchEndpoints[0], metric.ErrConnRefused) {
				b.Fatal("a sample past the quota was wanted")
			}
		}
	})
}
