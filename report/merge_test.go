package report

import (
	"bytes"
	"maps"
	"math"
	"math/rand/v2"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/primeload/primeload/report/metric"
)

// splitRun plays samples spread over three periods into one collector, and
// the same samples split between two collectors (generators) that flush a
// few milliseconds apart, as separate machines do.
func splitRun(t *testing.T) (whole *Report, parts []*Report) {
	t.Helper()
	rng := rand.New(rand.NewPCG(1, 2))
	info := Info{Period: 10 * time.Second, Script: ScriptInfo{Path: "black-friday.yml", Digest: "sha256:abc"}}
	all := NewCollector(t0, info)
	a := NewCollector(t0, info)
	b := NewCollector(t0.Add(4*time.Millisecond), info)
	eps := []string{"GET /api/goods-received/", "POST /api/goods-received/", "GET /api/goods-received/{{ goodsId }}/"}
	for p := 1; p <= 3; p++ {
		for i := range 2000 {
			// Long-tailed latencies, so percentiles span many buckets.
			s := sample{
				sink:     i,
				endpoint: eps[rng.IntN(len(eps))],
				latency:  time.Duration(rng.ExpFloat64()*20000+100) * time.Microsecond,
				status:   []int{200, 200, 200, 201, 500}[rng.IntN(5)],
				bytes:    rng.Int64N(5000),
				lag:      time.Duration(rng.IntN(3000)) * time.Microsecond,
			}
			record(all, []sample{s})
			if i%3 == 0 {
				record(a, []sample{s})
			} else {
				record(b, []sample{s})
			}
		}
		end := t0.Add(time.Duration(p) * 10 * time.Second)
		for _, c := range []struct {
			c    *Collector
			skew time.Duration
		}{{all, 0}, {a, 0}, {b, 7 * time.Millisecond}} {
			if _, err := c.c.Flush(end.Add(c.skew)); err != nil {
				t.Fatal(err)
			}
		}
	}
	whole = all.Report()
	whole.Expected = []PhaseArrivals{{Name: "warm up", Expected: 6000, Created: 5990, Skipped: 10}, {Name: "crowd", Created: 900, VUsers: 30}}
	ra, rb := a.Report(), b.Report()
	ra.Expected = []PhaseArrivals{{Name: "warm up", Expected: 2000, Created: 1995, Skipped: 5}, {Name: "crowd", Created: 300, VUsers: 10}}
	rb.Expected = []PhaseArrivals{{Name: "warm up", Expected: 4000, Created: 3995, Skipped: 5}, {Name: "crowd", Created: 600, VUsers: 20}}
	return whole, []*Report{ra, rb}
}

func TestMergeEqualsOneReportOfAllSamples(t *testing.T) {
	whole, parts := splitRun(t)
	got, err := Merge(parts, false)
	if err != nil {
		t.Fatal(err)
	}
	compare := func(where string, got, want *Metrics) {
		t.Helper()
		if !reflect.DeepEqual(got.Counters, want.Counters) {
			t.Errorf("%s counters = %v, want %v", where, got.Counters, want.Counters)
		}
		if !reflect.DeepEqual(got.Summaries, want.Summaries) {
			t.Errorf("%s summaries differ:\n got %v\nwant %v", where, got.Summaries, want.Summaries)
		}
		for name := range want.HDR {
			gh, err1 := got.Histogram(name)
			wh, err2 := want.Histogram(name)
			if err1 != nil || err2 != nil || !gh.Equals(wh) {
				t.Errorf("%s histogram %q differs (%v, %v)", where, name, err1, err2)
			}
		}
	}
	compare("aggregate", got.Aggregate, whole.Aggregate)
	if len(got.Intermediate) != len(whole.Intermediate) {
		t.Fatalf("merged %d periods, want %d", len(got.Intermediate), len(whole.Intermediate))
	}
	for i := range whole.Intermediate {
		compare("period "+string(rune('1'+i)), got.Intermediate[i], whole.Intermediate[i])
	}
	if want := whole.Expected; !reflect.DeepEqual(got.Expected, want) {
		t.Errorf("expected = %+v, want %+v", got.Expected, want)
	}
	if *got.ScheduleLag != *whole.ScheduleLag {
		t.Errorf("schedule lag = %+v, want %+v", *got.ScheduleLag, *whole.ScheduleLag)
	}
	if !got.StartedAt.Equal(t0) || !got.EndedAt.Equal(t0.Add(30*time.Second+7*time.Millisecond)) {
		t.Errorf("bounds = %v..%v", got.StartedAt, got.EndedAt)
	}
}

func TestMergeRefuses(t *testing.T) {
	_, parts := splitRun(t)
	other := *parts[1]
	other.Script = ScriptInfo{Path: "other.yml", Digest: "sha256:def"}
	noHDR := *parts[1]
	agg := *noHDR.Aggregate
	agg.HDR = map[string]string{}
	noHDR.Aggregate = &agg
	moved := *parts[1] // same content at another path: the digest decides
	moved.Script.Path = "/srv/load/black-friday.yml"
	noDigest := *parts[1]
	noDigest.Script = ScriptInfo{Path: "elsewhere.yml"}
	otherPeriod := *parts[1]
	otherPeriod.PeriodLength = 5000

	for _, tc := range []struct {
		name    string
		reports []*Report
		force   bool
		wantErr string
	}{
		{"nothing to merge", nil, false, "no reports"},
		{"different scripts", []*Report{parts[0], &other}, false, "from script other.yml (sha256:def)"},
		{"different scripts forced", []*Report{parts[0], &other}, true, ""},
		{"same script at another path", []*Report{parts[0], &moved}, false, ""},
		{"no digest and another path", []*Report{parts[0], &noDigest}, false, "from script elsewhere.yml, report 1 from black-friday.yml (sha256:abc)"},
		{"different period lengths", []*Report{parts[0], &otherPeriod}, false, "5000 ms periods"},
		{"summaries without histograms", []*Report{parts[0], &noHDR}, false, "cannot be merged without loss"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Merge(tc.reports, tc.force)
			if tc.wantErr == "" {
				if err != nil {
					t.Fatalf("Merge: %v, want success", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("Merge error = %v, want it to contain %q", err, tc.wantErr)
			}
		})
	}
}

func TestMergeAlignsPartialPeriods(t *testing.T) {
	// Generator a starts 6 s into a period, b on a boundary; both end 3 s
	// into their third period, flushing on boundaries as cmd does.
	run := func(start time.Time, skew time.Duration) *Report {
		c := NewCollector(start, Info{Period: 10 * time.Second})
		now := start
		for _, end := range []time.Time{t0.Add(10 * time.Second), t0.Add(20 * time.Second), t0.Add(23 * time.Second)} {
			c.Sink(0).Count("http.requests", 1)
			now = end.Add(skew)
			if _, err := c.Flush(now); err != nil {
				t.Fatal(err)
			}
		}
		return c.Report()
	}
	got, err := Merge([]*Report{run(t0.Add(6*time.Second), 5*time.Millisecond), run(t0, 0)}, false)
	if err != nil {
		t.Fatal(err)
	}
	var bounds [][2]int64
	var requests []int64
	for _, m := range got.Intermediate {
		bounds = append(bounds, [2]int64{m.Period - t0.UnixMilli(), m.PeriodEnd - t0.UnixMilli()})
		requests = append(requests, m.Counters["http.requests"])
	}
	wantBounds := [][2]int64{{0, 10005}, {10000, 20005}, {20000, 23005}}
	if !reflect.DeepEqual(bounds, wantBounds) || !reflect.DeepEqual(requests, []int64{2, 2, 2}) {
		t.Errorf("merged periods %v with requests %v, want %v with 2 each", bounds, requests, wantBounds)
	}
}

// TestMergeSaturates: sums that would pass the int64 maximum are held
// there and named, where they used to wrap negative (two counters at the
// maximum merged to -2, which Decode then refused); sums that reach it
// exactly are exact and not flagged.
func TestMergeSaturates(t *testing.T) {
	t.Parallel()
	const max = math.MaxInt64
	// Each row sets one figure of part 1 to a and of part 2 to b, and reads it back merged.
	type figure struct {
		set func(r *Report, v int64)
		get func(r *Report) int64
	}
	aggCounter := figure{
		func(r *Report, v int64) { r.Aggregate.Counters[metric.Requests] = v },
		func(r *Report) int64 { return r.Aggregate.Counters[metric.Requests] },
	}
	periodCounter := figure{
		func(r *Report, v int64) { r.Intermediate[1].Counters[metric.Code(500)] = v },
		func(r *Report) int64 { return r.Intermediate[1].Counters[metric.Code(500)] },
	}
	created := figure{
		func(r *Report, v int64) { r.Expected[0].Created = v },
		func(r *Report) int64 { return r.Expected[0].Created },
	}
	missed := figure{
		func(r *Report, v int64) { r.MissedArrivals = v },
		func(r *Report) int64 { return r.MissedArrivals },
	}
	_, base := splitRun(t)
	for _, tc := range []struct {
		name          string
		fig           figure
		a, b, want    int64
		wantSaturated []string
	}{
		{"aggregate counters both at the maximum", aggCounter, max, max, max, []string{"aggregate counter http.requests"}},
		{"aggregate counter just past", aggCounter, max - 1, 2, max, []string{"aggregate counter http.requests"}},
		{"aggregate counter reaching it exactly", aggCounter, max - 1, 1, max, nil},
		{"period counter", periodCounter, max, 1, max, []string{"period 2026-11-26T10:00:10Z counter http.codes.500"}},
		{"phase created", created, max, max, max, []string{`phase "warm up" created`}},
		{"missed arrivals", missed, max / 2, max/2 + 2, max, []string{"missedArrivals"}},
		{"ordinary sums", missed, 3, 4, 7, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			parts := []*Report{cloneCounts(base[0]), cloneCounts(base[1])}
			tc.fig.set(parts[0], tc.a)
			tc.fig.set(parts[1], tc.b)
			got, err := Merge(parts, false)
			if err != nil {
				t.Fatal(err)
			}
			if v := tc.fig.get(got); v != tc.want {
				t.Errorf("merged figure = %d, want %d", v, tc.want)
			}
			if !slices.Equal(got.Saturated, tc.wantSaturated) {
				t.Errorf("Saturated = %q, want %q", got.Saturated, tc.wantSaturated)
			}
			// The merged report must read back: no negative count anywhere.
			var buf bytes.Buffer
			if err := Encode(&buf, got); err != nil {
				t.Fatal(err)
			}
			back, err := Decode(&buf)
			if err != nil {
				t.Fatalf("merged report does not read back: %v", err)
			}
			if !slices.Equal(back.Saturated, tc.wantSaturated) {
				t.Errorf("read back Saturated = %q, want %q", back.Saturated, tc.wantSaturated)
			}
		})
	}
}

// cloneCounts copies r deeply enough that setting a counter, a phase or the
// missed arrivals of the copy leaves r as it was.
func cloneCounts(r *Report) *Report {
	c := *r
	clone := func(m *Metrics) *Metrics {
		mc := *m
		mc.Counters = maps.Clone(m.Counters)
		return &mc
	}
	c.Aggregate = clone(r.Aggregate)
	c.Intermediate = nil
	for _, m := range r.Intermediate {
		c.Intermediate = append(c.Intermediate, clone(m))
	}
	c.Expected = slices.Clone(r.Expected)
	return &c
}

// TestMergeRefusesOverflowingHistogram: a histogram cannot be held at a
// bound without misstating its distribution, so a merge whose count would
// overflow is an error naming the histogram.
func TestMergeRefusesOverflowingHistogram(t *testing.T) {
	t.Parallel()
	parts := []*Report{smallReport(t), smallReport(t)}
	for _, p := range parts {
		h := newHist()
		if err := h.RecordValues(1000, 1<<62); err != nil {
			t.Fatal(err)
		}
		enc, err := encodeHist(nil, h)
		if err != nil {
			t.Fatal(err)
		}
		p.Aggregate.HDR[metric.ResponseTime] = enc
	}
	_, err := Merge(parts, false)
	if err == nil || !strings.Contains(err.Error(), `histogram "http.response_time"`) || !strings.Contains(err.Error(), "int64 maximum") {
		t.Fatalf("Merge = %v, want an error naming http.response_time and the int64 maximum", err)
	}
}

func TestSummaryWarnsOfSaturatedSums(t *testing.T) {
	t.Parallel()
	r := smallReport(t)
	r.Saturated = []string{"aggregate counter http.requests", "missedArrivals", `phase "a" created`, `phase "b" created`}
	var buf bytes.Buffer
	if err := WriteSummary(&buf, r); err != nil {
		t.Fatal(err)
	}
	want := `WARNING: merging held 4 sums at the int64 maximum instead of wrapping (aggregate counter http.requests, missedArrivals, phase "a" created and 1 more)`
	if !strings.Contains(unwrapped(buf.String()), want) {
		t.Errorf("summary lacks %q:\n%s", want, buf.String())
	}
}
