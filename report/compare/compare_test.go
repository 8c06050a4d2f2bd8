package compare

import (
	"math"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"

	"github.com/primeload/primeload/report"
	"github.com/primeload/primeload/report/metric"
)

// run is a synthetic run: per endpoint, n latencies drawn as base + an
// exponential tail, and errs 500s.
type run struct {
	seed     uint64
	shift    time.Duration // added to every latency
	n        int
	errEvery int // every errEvery-th response is a 500; 0: none
	noHDR    bool
}

var testEndpoints = []string{"GET /a", "GET /b", "POST /c"}

func (o run) report(t *testing.T) *report.Report {
	t.Helper()
	rng := rand.New(rand.NewPCG(o.seed, 7))
	m := &report.Metrics{Counters: map[string]int64{}, Summaries: map[string]report.Summary{}, HDR: map[string]string{}, Period: 0, PeriodEnd: 10_000}
	all := hdrhistogram.New(1, 60_000_000, 3)
	for i, ep := range testEndpoints {
		h := hdrhistogram.New(1, 60_000_000, 3)
		for j := range o.n {
			us := int64(2000*(i+1)) + int64(rng.ExpFloat64()*3000) + o.shift.Microseconds()
			if err := h.RecordValue(us); err != nil {
				t.Fatal(err)
			}
			code := "200"
			if o.errEvery > 0 && j%o.errEvery == 0 {
				code = "500"
			}
			m.Counters["http.codes."+code]++
			m.Counters[metric.EndpointCodePrefix(ep)+code]++
		}
		all.Merge(h)
		put(t, m, metric.EndpointLatency(ep), h, o.noHDR)
	}
	put(t, m, metric.ResponseTime, all, o.noHDR)
	m.Counters["http.requests"] = int64(o.n * len(testEndpoints))
	m.Counters["http.responses"] = m.Counters["http.requests"]
	start := time.Date(2026, 11, 27, 9, 0, 0, 0, time.UTC)
	return &report.Report{
		Aggregate: m, Target: "http://127.0.0.1:1", StartedAt: start, EndedAt: start.Add(10 * time.Second),
		Script: report.ScriptInfo{Path: "s.yml", Endpoints: testEndpoints},
	}
}

func put(t *testing.T, m *report.Metrics, name string, h *hdrhistogram.Histogram, noHDR bool) {
	t.Helper()
	q := h.ValueAtPercentilesSlice([]float64{50, 75, 90, 95, 99, 99.9})
	ms := func(us int64) float64 { return float64(us) / 1000 }
	m.Summaries[name] = report.Summary{Min: ms(h.Min()), Max: ms(h.Max()), Count: h.TotalCount(), Mean: h.Mean() / 1000,
		P50: ms(q[0]), Median: ms(q[0]), P75: ms(q[1]), P90: ms(q[2]), P95: ms(q[3]), P99: ms(q[4]), P999: ms(q[5])}
	if noHDR {
		return
	}
	b, err := h.Encode(hdrhistogram.V2CompressedEncodingCookieBase)
	if err != nil {
		t.Fatal(err)
	}
	m.HDR[name] = string(b)
}

func mustGates(t *testing.T, s string) []Gate {
	t.Helper()
	g, err := ParseGates(s)
	if err != nil {
		t.Fatal(err)
	}
	return g
}

func TestCompareVerdicts(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		base, new run
		gates     string
		want      bool     // regressed
		wantRows  []string // rows that regressed, when want
	}{
		{name: "same code, other samples: noise", base: run{seed: 1, n: 2000}, new: run{seed: 2, n: 2000}, gates: DefaultGates},
		{name: "20 ms slower everywhere", base: run{seed: 1, n: 500}, new: run{seed: 2, n: 500, shift: 20 * time.Millisecond},
			gates: DefaultGates, want: true, wantRows: []string{Overall, "GET /a", "GET /b", "POST /c"}},
		{name: "20 ms slower but the gate allows 50 ms", base: run{seed: 1, n: 500}, new: run{seed: 2, n: 500, shift: 20 * time.Millisecond},
			gates: "p95=50ms,p99=50ms"},
		{name: "faster is no regression", base: run{seed: 1, n: 500, shift: 20 * time.Millisecond}, new: run{seed: 2, n: 500}, gates: DefaultGates},
		{name: "errors from 0 to 2%", base: run{seed: 1, n: 2000}, new: run{seed: 2, n: 2000, errEvery: 50}, gates: "errors=0.1pp",
			want: true, wantRows: []string{Overall, "GET /a", "GET /b", "POST /c"}},
		{name: "errors within the gate", base: run{seed: 1, n: 2000}, new: run{seed: 2, n: 2000, errEvery: 50}, gates: "errors=5pp"},
		{name: "a tiny sample is not judged", base: run{seed: 1, n: 3}, new: run{seed: 2, n: 3, shift: 20 * time.Millisecond}, gates: DefaultGates},
		{name: "no HDR: numbers alone, gated", base: run{seed: 1, n: 500, noHDR: true}, new: run{seed: 2, n: 500, shift: 20 * time.Millisecond, noHDR: true},
			gates: DefaultGates, want: true, wantRows: []string{Overall, "GET /a", "GET /b", "POST /c"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			res, err := Compare(tt.base.report(t), tt.new.report(t), Options{Gates: mustGates(t, tt.gates), Seed: 1})
			if err != nil {
				t.Fatal(err)
			}
			var out strings.Builder
			if err := WriteText(&out, res); err != nil {
				t.Fatal(err)
			}
			if res.Regressed != tt.want {
				t.Fatalf("regressed = %v, want %v\n%s", res.Regressed, tt.want, out.String())
			}
			var got []string
			for _, row := range res.Rows() {
				if row.Regressed {
					got = append(got, row.Name)
				}
			}
			if tt.want && strings.Join(got, "|") != strings.Join(tt.wantRows, "|") {
				t.Errorf("regressed rows %q, want %q\n%s", got, tt.wantRows, out.String())
			}
		})
	}
}

// TestCompareFalseAlarms checks the family-wise level on its own terms: of
// many pairs of runs of the same distribution, at most about 5% may flag a
// regression anywhere, with a dozen gated figures per pair.
func TestCompareFalseAlarms(t *testing.T) {
	t.Parallel()
	const pairs = 40
	alarms := 0
	for i := range uint64(pairs) {
		res, err := Compare(run{seed: 2 * i, n: 400}.report(t), run{seed: 2*i + 1, n: 400}.report(t),
			Options{Gates: mustGates(t, "p50=0%,p95=0%,p99=0%"), NoiseFloor: -1, Seed: i, Replicates: 3000})
		if err != nil {
			t.Fatal(err)
		}
		if res.Regressed {
			alarms++
		}
	}
	// Binomial(40, 0.05) exceeds 6 with probability ~1%.
	t.Logf("%d of %d identical pairs flagged", alarms, pairs)
	if alarms > 6 {
		t.Errorf("%d of %d identical pairs flagged a regression, want about 5%% at most", alarms, pairs)
	}
}

func TestCompareReproducible(t *testing.T) {
	t.Parallel()
	b, n := run{seed: 1, n: 300}.report(t), run{seed: 2, n: 300, shift: time.Millisecond}.report(t)
	var first string
	for i := range 3 {
		res, err := Compare(b, n, Options{Gates: mustGates(t, DefaultGates), Seed: 42})
		if err != nil {
			t.Fatal(err)
		}
		var out strings.Builder
		WriteText(&out, res)
		if i == 0 {
			first = out.String()
		} else if out.String() != first {
			t.Fatalf("the same seed gave another comparison:\n%s\nthen\n%s", first, out.String())
		}
	}
}

func TestBootstrapCoversTheTruth(t *testing.T) {
	t.Parallel()
	// Exponential latencies with a known 1 ms shift: the interval of the
	// p95 difference must contain 1 ms in about 95% of repetitions.
	const reps = 200
	covered := 0
	rng := rand.New(rand.NewPCG(3, 4))
	for range reps {
		var d [2]dist
		for k := range d {
			h := hdrhistogram.New(1, 60_000_000, 3)
			for range 1000 {
				h.RecordValue(10_000 + int64(k)*1000 + int64(rng.ExpFloat64()*5000))
			}
			d[k] = distOf(h)
		}
		lo, hi := bootstrapDiff(rng, d[0], d[1], 95, 0.95, 2000)
		if lo <= 1000 && 1000 <= hi {
			covered++
		}
	}
	if share := float64(covered) / reps; math.Abs(share-0.95) > 0.05 {
		t.Errorf("the 95%% interval covered the true difference %.0f%% of the time", 100*share)
	}
}

func TestParseGates(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in, want, err string
	}{
		{in: "p95=10%,errors=0.1pp", want: "p95=10%,errors=0.1pp"},
		{in: " p99 = 5ms , throughput=5% ", want: "p99=5ms,throughput=5%"},
		{in: "max=1s", want: "max=1000ms"},
		{in: "errors=50%", want: "errors=50%"},
		{in: "", want: ""},
		{in: "p95=10", err: `"p95=10": limit "10": want a percentage (10%) or a duration (5ms)`},
		{in: "p96=10%", err: `unknown metric "p96": want one of p50, p90, p95, p99, p999, max, errors, throughput`},
		{in: "errors=1ms", err: `want a non-negative number with a unit: 1pp or 1%`},
		{in: "p95", err: `want METRIC=LIMIT`},
		{in: "p95=1%,p95=2%", err: `p95 is limited twice`},
		{in: "throughput=-1%", err: `want a non-negative number`},
	}
	for _, tt := range tests {
		gates, err := ParseGates(tt.in)
		if tt.err != "" {
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("ParseGates(%q) error %v, want it to say %q", tt.in, err, tt.err)
			}
			continue
		}
		if err != nil {
			t.Errorf("ParseGates(%q): %v", tt.in, err)
			continue
		}
		var got []string
		for _, g := range gates {
			got = append(got, g.String())
		}
		if strings.Join(got, ",") != tt.want {
			t.Errorf("ParseGates(%q) = %q, want %q", tt.in, strings.Join(got, ","), tt.want)
		}
	}
}

// TestCompareMergedReports compares the merged reports of distributed runs,
// whose histograms were merged without loss.
func TestCompareMergedReports(t *testing.T) {
	t.Parallel()
	merged := func(runs ...run) *report.Report {
		var reps []*report.Report
		for _, r := range runs {
			reps = append(reps, r.report(t))
		}
		m, err := report.Merge(reps, false)
		if err != nil {
			t.Fatal(err)
		}
		return m
	}
	base := merged(run{seed: 1, n: 400}, run{seed: 3, n: 400})
	for _, tt := range []struct {
		name string
		new  *report.Report
		want bool
	}{
		{"same code", merged(run{seed: 2, n: 400}, run{seed: 4, n: 400}), false},
		{"one part 20 ms slower", merged(run{seed: 2, n: 400}, run{seed: 4, n: 400, shift: 20 * time.Millisecond}), true},
	} {
		res, err := Compare(base, tt.new, Options{Gates: mustGates(t, DefaultGates), Seed: 1})
		if err != nil {
			t.Fatal(err)
		}
		if res.Regressed != tt.want || res.Base.Requests != 2400 {
			t.Errorf("%s: regressed %v with %d base requests, want %v with 2400", tt.name, res.Regressed, res.Base.Requests, tt.want)
		}
	}
}
