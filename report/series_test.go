package report

import (
	"bytes"
	"math"
	"math/rand/v2"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"
)

// TestSketchBuckets: every latency falls in a bucket whose top is at or
// above it and at most 12.5% (one sub-bucket) higher, and buckets rise
// with the latency.
func TestSketchBuckets(t *testing.T) {
	t.Parallel()
	prev := -1
	for _, us := range []int64{0, 1, 7, 8, 9, 15, 16, 17, 100, 999, 1000, 1024, 4095, 4096, 123_456, highestMicros - 1, highestMicros} {
		b := bucketOf(us)
		if b < prev || b >= sketchBuckets {
			t.Errorf("bucketOf(%d) = %d after %d (of %d buckets)", us, b, prev, sketchBuckets)
		}
		prev = b
		top := bucketTop(b)
		if top < us || float64(top) > float64(us)*1.125+1 {
			t.Errorf("bucketOf(%d) = %d tops at %d: want within [%d, %d]", us, b, top, us, int64(float64(us)*1.125+1))
		}
		if b > 0 && bucketTop(b-1) >= us {
			t.Errorf("bucket %d below %d's tops at %d, not below it", b-1, us, bucketTop(b-1))
		}
	}
	if sketchBuckets > 200 {
		t.Errorf("%d buckets for 0 µs to 60 s: a second's sketch is meant to stay small", sketchBuckets)
	}
}

// TestSketchQuantiles: percentiles read from a sketch are within one
// bucket (12.5%) above the exact ones, never below.
func TestSketchQuantiles(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(1, 2))
	for _, name := range []string{"uniform", "lognormal", "bimodal"} {
		var k secondSketch
		var exact []int64
		for range 20_000 {
			var us int64
			switch name {
			case "uniform":
				us = 500 + rng.Int64N(10_000)
			case "lognormal":
				us = int64(math.Exp(7 + rng.NormFloat64()))
			case "bimodal":
				us = 800 + rng.Int64N(200)
				if rng.IntN(100) == 0 {
					us = 900_000 + rng.Int64N(100_000)
				}
			}
			k.record(us)
			exact = append(exact, us)
		}
		slices.Sort(exact)
		acc := make([]int64, sketchBuckets)
		k.drainInto(acc)
		got := sketchOf(acc)
		if k.n != 0 || got.Count() != 20_000 {
			t.Fatalf("%s: drained %d, %d left", name, got.Count(), k.n)
		}
		for _, q := range []float64{0.5, 0.95, 0.99, 0.999} {
			want := msOf(exact[int(math.Ceil(q*float64(len(exact))))-1])
			v, ok := got.Quantile(q)
			if !ok || v < want || v > want*1.125+0.001 {
				t.Errorf("%s p%g = %.3f ms, exact %.3f ms: want within 12.5%% above", name, 100*q, v, want)
			}
		}
	}
	if _, ok := (Sketch{}).Quantile(0.5); ok {
		t.Error("an empty sketch has a median")
	}
}

func sketchOfMicros(us ...int64) Sketch {
	acc := make([]int64, sketchBuckets)
	for _, v := range us {
		acc[bucketOf(v)]++
	}
	return sketchOf(acc)
}

func point(t int64, responses int64, active int64, us ...int64) SeriesPoint {
	return SeriesPoint{Time: t, Length: 1000, Requests: responses, Responses: responses, Active: active, Latency: sketchOfMicros(us...)}
}

// TestSketchMerged: merging sums the counts bucket by bucket, keeps bucket
// order, and changes neither input, which the series' copies share.
func TestSketchMerged(t *testing.T) {
	t.Parallel()
	a := sketchOfMicros(1, 1, 1000, 50_000)
	b := sketchOfMicros(1, 9, 1000, 1000, 2_000_000)
	aText, _ := a.MarshalText()
	bText, _ := b.MarshalText()
	m := a.merged(b)
	if got, want := m, sketchOfMicros(1, 1, 1000, 50_000, 1, 9, 1000, 1000, 2_000_000); !reflect.DeepEqual(got, want) {
		t.Errorf("merged = %v, want %v", got, want)
	}
	if a2, _ := a.MarshalText(); string(a2) != string(aText) {
		t.Errorf("merging changed its receiver: %s, was %s", a2, aText)
	}
	if b2, _ := b.MarshalText(); string(b2) != string(bText) {
		t.Errorf("merging changed its argument: %s, was %s", b2, bText)
	}
	var back Sketch
	if err := back.UnmarshalText([]byte("9:2 1:3 9:1")); err != nil {
		t.Fatal(err)
	}
	if text, _ := back.MarshalText(); string(text) != "1:3 9:3" {
		t.Errorf("pairs out of order and repeated read as %q, want \"1:3 9:3\"", text)
	}
	// 200 pairs of the largest count sum past int64: kept at maxBinCount.
	if err := back.UnmarshalText([]byte(strings.Repeat("3:72057594037927935 ", 200))); err != nil || back.Count() != maxBinCount {
		t.Errorf("repeated pairs summing past maxBinCount: count %d, %v; want %d", back.Count(), err, int64(maxBinCount))
	}
	if err := back.UnmarshalText([]byte("3:72057594037927936")); err == nil {
		t.Error("a count past maxBinCount was accepted")
	}
}

// TestSeriesCloneIsolated: a copy taken before the last point is folded
// into, or before the series coarsens, still reads as it did.
func TestSeriesCloneIsolated(t *testing.T) {
	t.Parallel()
	const t0 = 1_700_000_000_000
	s := &Series{Step: 1000}
	s.append(point(t0, 1, 1, 1000))
	c := s.clone()
	s.append(point(t0+200, 1, 1, 9000)) // same step: folded into the last point
	for i := range int64(MaxSeriesPoints + 1) {
		s.append(point(t0+1000*(i+1), 1, 1, 5000))
	}
	if s.Step != 2000 || s.Points[0].Latency.Count() != 3 {
		t.Fatalf("series after folding and coarsening: step %d, first point %d latencies; want 2000, 3", s.Step, s.Points[0].Latency.Count())
	}
	if len(c.Points) != 1 || c.Step != 1000 || c.Points[0].Responses != 1 || c.Points[0].Latency.Count() != 1 {
		t.Errorf("the copy changed: %+v", c)
	}
	if v, _ := c.Points[0].Latency.Quantile(1); v > 1.125 {
		t.Errorf("the copy's max is %.3f ms, want about 1", v)
	}
}

// TestSeriesBounded: a series past MaxSeriesPoints merges neighbours in
// pairs; nothing is lost and each step ends with its last Active.
func TestSeriesBounded(t *testing.T) {
	t.Parallel()
	s := &Series{Step: 1000}
	const n = 2*MaxSeriesPoints + 5
	for i := range int64(n) {
		s.append(point(1_700_000_000_000+i*1000, 2, i, 1000))
	}
	if len(s.Points) > MaxSeriesPoints || s.Step != 4000 {
		t.Fatalf("%d seconds: %d points of %d ms, want at most %d of 4000", n, len(s.Points), s.Step, MaxSeriesPoints)
	}
	var responses, length, lat int64
	for i, p := range s.Points {
		responses += p.Responses
		length += p.Length
		lat += p.Latency.Count()
		if p.Time%s.Step != 0 {
			t.Errorf("point %d at %d: not on a %d ms boundary", i, p.Time, s.Step)
		}
	}
	if responses != 2*n || length != 1000*n || lat != n {
		t.Errorf("after coarsening: %d responses, %d ms, %d latencies; want %d, %d, %d", responses, length, lat, 2*n, 1000*n, n)
	}
	if last := s.Points[len(s.Points)-1]; last.Active != n-1 {
		t.Errorf("last point's active %d, want the last second's %d", last.Active, n-1)
	}
	if err := s.validate(); err != nil {
		t.Errorf("a coarsened series does not validate: %v", err)
	}
}

// TestMergeSeries: generators' series sum point by point at the coarser
// step; one report without a series leaves the merge without one.
func TestMergeSeries(t *testing.T) {
	t.Parallel()
	const t0 = 1_700_000_000_000
	a := &Series{Step: 1000, Points: []SeriesPoint{point(t0, 3, 5, 1000, 2000, 3000), point(t0+1000, 1, 4, 9000)}}
	b := &Series{Step: 2000, Points: []SeriesPoint{point(t0, 10, 7, 100)}}
	m, err := mergeSeries([]*Series{a, b})
	if err != nil {
		t.Fatal(err)
	}
	if m.Step != 2000 || len(m.Points) != 1 {
		t.Fatalf("merged: step %d, %d points; want 2000, 1", m.Step, len(m.Points))
	}
	p := m.Points[0]
	if p.Responses != 14 || p.Active != 4+7 || p.Length != 2000 || p.Latency.Count() != 5 {
		t.Errorf("merged point %+v: want 14 responses, 11 active, 2000 ms, 5 latencies", p)
	}
	if len(a.Points) != 2 || a.Step != 1000 {
		t.Errorf("merging changed its input: %+v", a)
	}
	if m, err := mergeSeries([]*Series{a, nil}); err != nil || m != nil {
		t.Errorf("merge with a report lacking a series = %+v, %v; want none", m, err)
	}
}

// TestSeriesFile: the series survives Encode and Decode, compactly, and a
// hostile one is refused with what is wrong.
func TestSeriesFile(t *testing.T) {
	t.Parallel()
	const t0 = 1_700_000_000_000
	r := smallReport(t)
	r.Series = &Series{Step: 1000, Points: []SeriesPoint{point(t0, 3, 5, 1000, 2000, 3000), point(t0+1000, 1, 4, 9000)}}
	var buf bytes.Buffer
	if err := Encode(&buf, r); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(buf.String(), `"latency": "`) {
		t.Errorf("latency buckets not written as one string:\n%s", buf.String())
	}
	back, err := Decode(&buf)
	if err != nil {
		t.Fatal(err)
	}
	if back.Series == nil || len(back.Series.Points) != 2 || back.Series.Points[0].Latency.Count() != 3 {
		t.Fatalf("decoded series %+v", back.Series)
	}
	if v, _ := back.Series.Points[1].Latency.Quantile(0.5); v < 9 || v > 9*1.125 {
		t.Errorf("decoded median %.3f ms, want about 9", v)
	}
	for _, tc := range []struct{ name, series, want string }{
		{"step", `{"step": 1500, "points": []}`, "step 1500"},
		{"order", `{"step": 1000, "points": [{"t": 2000}, {"t": 1000}]}`, "points[1]"},
		{"boundary", `{"step": 2000, "points": [{"t": 1000}]}`, "points[0]"},
		{"negative", `{"step": 1000, "points": [{"t": 1000, "responses": -1}]}`, "must not be negative"},
		{"bucket", `{"step": 1000, "points": [{"t": 1000, "latency": "999:1"}]}`, `latency bucket "999:1"`},
		{"garbage", `{"step": 1000, "points": [{"t": 1000, "latency": "x"}]}`, `latency bucket "x"`},
	} {
		var b bytes.Buffer
		if err := Encode(&b, smallReport(t)); err != nil {
			t.Fatal(err)
		}
		doc := strings.Replace(b.String(), "{\n", "{\n  \"primeloadSeries\": "+tc.series+",\n", 1)
		_, err := Decode(strings.NewReader(doc))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: Decode = %v, want an error with %q", tc.name, err, tc.want)
		}
	}
}

// TestCollectorTicks: Tick turns what the shards recorded since the last
// tick into one point a second, with the counts and latencies of that
// second only.
func TestCollectorTicks(t *testing.T) {
	t.Parallel()
	start := time.UnixMilli(1_700_000_000_250)
	c := NewCollector(start, Info{Period: 10 * time.Second})
	if c.Report().Series != nil {
		t.Error("a series before any tick")
	}
	s1, s2 := c.Sink(1), c.Sink(2)
	s1.Count("vusers.created", 3)
	s1.Count("http.requests", 2)
	s1.Response("/a", 2*time.Millisecond, 200, 10)
	s2.Response("/b", 4*time.Millisecond, 500, 10)
	c.Tick(time.UnixMilli(1_700_000_001_000))
	s2.Count("http.requests", 1)
	s2.Count("errors.ETIMEDOUT", 1)
	s2.Count("vusers.failed", 1)
	s1.Count("vusers.completed", 1)
	c.Tick(time.UnixMilli(1_700_000_002_000))
	c.Tick(time.UnixMilli(1_700_000_002_400)) // the run's last, partial second
	ser := c.Report().Series
	if ser == nil || len(ser.Points) != 3 {
		t.Fatalf("series %+v, want 3 points", ser)
	}
	want := []SeriesPoint{
		{Time: 1_700_000_000_000, Length: 750, Requests: 2, Responses: 2, Active: 3},
		{Time: 1_700_000_001_000, Length: 1000, Requests: 1, Errors: 1, Ended: 2, Active: 1},
		{Time: 1_700_000_002_000, Length: 400, Active: 1},
	}
	for i, p := range ser.Points {
		lat := p.Latency
		p.Latency, want[i].Latency = Sketch{}, Sketch{}
		if !reflect.DeepEqual(p, want[i]) {
			t.Errorf("point %d = %+v, want %+v", i, p, want[i])
		}
		if n := lat.Count(); n != want[i].Responses {
			t.Errorf("point %d holds %d latencies, want %d", i, n, want[i].Responses)
		}
	}
	if v, _ := ser.Points[0].Latency.Quantile(1); v < 4 || v > 4.5 {
		t.Errorf("first second's max %.3f ms, want about 4", v)
	}
}

// TestSeriesWallClockBack: Tick measures a step on the monotonic clock
// but stamps it with the wall clock (UnixMilli), which an NTP step can set
// back mid-run. The points must stay in time order, nothing lost, or the
// run's own JSON report fails Decode's check and neither primeload report
// nor merge can read it.
func TestSeriesWallClockBack(t *testing.T) {
	t.Parallel()
	const t0 = 1_700_000_010_000
	tests := []struct {
		name  string
		times []int64 // each Tick's stamp, in the order ticked
		want  []int64 // the points' times
	}{
		{"forward", []int64{t0, t0 + 1000, t0 + 2000}, []int64{t0, t0 + 1000, t0 + 2000}},
		{"back 5 s", []int64{t0, t0 + 1000, t0 - 4000, t0 - 3000}, []int64{t0, t0 + 1000}},
		{"back within a step", []int64{t0, t0 + 1500, t0 + 1200}, []int64{t0, t0 + 1000}},
		{"back, then past", []int64{t0, t0 - 9000, t0 + 3000}, []int64{t0, t0 + 3000}},
	}
	for _, tt := range tests {
		s := &Series{Step: 1000}
		for i, at := range tt.times {
			s.append(point(at, 1, int64(i), 1000))
		}
		var got []int64
		var responses int64
		for _, p := range s.Points {
			got = append(got, p.Time)
			responses += p.Responses
		}
		if !slices.Equal(got, tt.want) {
			t.Errorf("%s: points at %v, want %v", tt.name, got, tt.want)
		}
		if responses != int64(len(tt.times)) {
			t.Errorf("%s: %d responses, want %d", tt.name, responses, len(tt.times))
		}
		if err := s.validate(); err != nil {
			t.Errorf("%s: the series does not validate: %v", tt.name, err)
		}
		if last := s.Points[len(s.Points)-1]; last.Active != int64(len(tt.times)-1) {
			t.Errorf("%s: last point's active %d, want the last tick's %d", tt.name, last.Active, len(tt.times)-1)
		}
	}
}
