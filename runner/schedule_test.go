package runner

import (
	"maps"
	"math"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/primeload/primeload/scenario"
)

func constant(rate float64, d time.Duration) scenario.Phase {
	return scenario.Phase{Kind: scenario.PhaseConstant, ArrivalRate: rate, Duration: d}
}

func ramp(from, to float64, d time.Duration) scenario.Phase {
	return scenario.Phase{Kind: scenario.PhaseRamp, ArrivalRate: from, RampTo: to, Duration: d}
}

func count(n int, d time.Duration) scenario.Phase {
	return scenario.Phase{Kind: scenario.PhaseCount, ArrivalCount: n, Duration: d}
}

func pause(d time.Duration) scenario.Phase {
	return scenario.Phase{Kind: scenario.PhasePause, Duration: d}
}

func closed(vus int, d time.Duration) scenario.Phase {
	return scenario.Phase{Kind: scenario.PhaseClosed, VUsers: vus, Duration: d}
}

func TestExpectedArrivals(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		phase scenario.Phase
		want  int
	}{
		// Constant: floor(r·d).
		{"constant whole", constant(10, 60*time.Second), 600},
		{"constant fractional rate", constant(2.5, 3*time.Second), 7},
		{"constant float noise", constant(0.29, 100*time.Second), 29}, // 28.999999999999996 in float64
		{"constant slow rate short phase", constant(0.5, time.Second), 0},
		{"constant zero rate", constant(0, 10*time.Second), 0},
		{"constant sub-second", constant(100, 500*time.Millisecond), 50},
		// Ramp: floor of the integral, (r0+r1)/2·d.
		{"ramp up", ramp(1, 10, 10*time.Second), 55},
		{"ramp down", ramp(10, 1, 10*time.Second), 55},
		{"ramp from zero", ramp(0, 10, 10*time.Second), 50},
		{"ramp to zero", ramp(10, 0, 10*time.Second), 50},
		{"ramp flat equals constant", ramp(5, 5, 4*time.Second), 20},
		{"ramp fractional", ramp(1, 2, 3*time.Second), 4}, // 4.5 floored
		// Count: exactly n.
		{"count", count(7, 10*time.Second), 7},
		{"count zero", count(0, 10*time.Second), 0},
		// No arrivals.
		{"pause", pause(5 * time.Second), 0},
		{"closed model", closed(50, time.Minute), 0},
	}
	for _, tt := range tests {
		if got := ExpectedArrivals(tt.phase); got != tt.want {
			t.Errorf("%s: ExpectedArrivals = %d, want %d", tt.name, got, tt.want)
		}
	}
}

func offsets(s *Schedule) []time.Duration {
	var out []time.Duration
	for a := range s.Arrivals() {
		out = append(out, a.At)
	}
	return out
}

func TestScheduleTimes(t *testing.T) {
	t.Parallel()
	ms := time.Millisecond
	tests := []struct {
		name   string
		phases []scenario.Phase
		want   []time.Duration
	}{
		// Evenly spaced at k/r from the phase start.
		{"constant 4/s for 1s", []scenario.Phase{constant(4, time.Second)}, []time.Duration{0, 250 * ms, 500 * ms, 750 * ms}},
		// arrivalCount spreads n at k·d/n.
		{"count 3 in 3s", []scenario.Phase{count(3, 3*time.Second)}, []time.Duration{0, time.Second, 2 * time.Second}},
		// A pause shifts the next phase without arrivals of its own.
		{"pause then constant", []scenario.Phase{pause(2 * time.Second), constant(2, time.Second)}, []time.Duration{2 * time.Second, 2500 * ms}},
		// Phases follow each other; each starts at its own k=0.
		{"two phases", []scenario.Phase{constant(1, 2*time.Second), count(2, time.Second)}, []time.Duration{0, time.Second, 2 * time.Second, 2500 * ms}},
		// Ramp 0→2 over 2s: integral t²/2 = k gives t = √(2k): 0, √2 s.
		{"ramp 0 to 2", []scenario.Phase{ramp(0, 2, 2*time.Second)}, []time.Duration{0, 1414213562}},
		// A closed phase takes its time but schedules no arrivals.
		{"closed then count", []scenario.Phase{closed(3, time.Second), count(1, time.Second)}, []time.Duration{time.Second}},
		// Nothing at all.
		{"no phases", nil, nil},
		{"zero rate", []scenario.Phase{constant(0, time.Second)}, nil},
	}
	for _, tt := range tests {
		s, err := NewSchedule(tt.phases, Segment{})
		if err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		if got := offsets(s); !slices.Equal(got, tt.want) {
			t.Errorf("%s: offsets = %v, want %v", tt.name, got, tt.want)
		}
	}
}

// TestScheduleLimits: the totals over many phases at the loader's limits
// stay exact, and a closed phase beyond one process is fine when
// segments share it.
func TestScheduleLimits(t *testing.T) {
	t.Parallel()
	long := constant(1, scenario.MaxDuration/2)
	if _, err := NewSchedule([]scenario.Phase{long, long, {Kind: scenario.PhasePause, Duration: time.Hour, Line: 9}}, Segment{}); err == nil || !strings.Contains(err.Error(), "phase 3 (line 9): the phases up to here last") {
		t.Errorf("phases longer than MaxDuration together: err = %v", err)
	}
	full := count(scenario.MaxPhaseArrivals, time.Hour)
	phases := make([]scenario.Phase, 500)
	for i := range phases {
		phases[i] = full
	}
	s, err := NewSchedule(phases, Segment{})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := s.Expected(), 500*scenario.MaxPhaseArrivals; got != want {
		t.Errorf("Expected() = %d, want %d", got, want)
	}
	if got, want := s.Duration(), 500*time.Hour; got != want {
		t.Errorf("Duration() = %v, want %v", got, want)
	}
	many := closed(scenario.MaxProcessVUsers*3, time.Second)
	if _, err := NewSchedule([]scenario.Phase{many}, Segment{}); err == nil {
		t.Error("300000 users in one process accepted")
	}
	s, err = NewSchedule([]scenario.Phase{many}, Segment{Index: 1, Count: 3})
	if err != nil || s.Phases[0].VUsers != scenario.MaxProcessVUsers {
		t.Errorf("segment 1/3 of %d users: %v, %+v", many.VUsers, err, s)
	}
}

func TestScheduleInvalid(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		phase   scenario.Phase
		seg     Segment
		wantErr string
	}{
		{"negative duration", constant(1, -time.Second), Segment{}, "duration -1s is negative"},
		{"negative rate", constant(-1, time.Second), Segment{}, "arrivalRate -1 is invalid"},
		{"NaN rate", constant(math.NaN(), time.Second), Segment{}, "arrivalRate NaN is invalid"},
		{"infinite rate", constant(math.Inf(1), time.Second), Segment{}, "arrivalRate +Inf is invalid"},
		{"negative rampTo", ramp(1, -2, time.Second), Segment{}, "rampTo -2 is invalid"},
		{"negative count", count(-3, time.Second), Segment{}, "arrivalCount -3 is negative"},
		{"count without duration", count(3, 0), Segment{}, "needs a duration > 0"},
		{"closed without users", closed(0, time.Second), Segment{}, "vusers 0: want >= 1"},
		{"negative maxVusers", scenario.Phase{Kind: scenario.PhaseConstant, ArrivalRate: 1, Duration: time.Second, MaxVusers: -1}, Segment{}, "maxVusers -1"},
		{"unknown kind", scenario.Phase{Kind: 42, Duration: time.Second}, Segment{}, "unknown phase kind 42"},
		// Issue 13 item 7: phases built in Go past the loader's limits are
		// refused here instead of overflowing the counts and times.
		{"too long", constant(1, scenario.MaxDuration+time.Hour), Segment{}, "duration 8761h0m0s is more than 8760h0m0s"},
		{"too many arrivals", constant(scenario.MaxArrivalRate, 2*time.Hour), Segment{}, "7200000000 arrivals is more than 1000000000 per phase"},
		{"too many arrivals in a ramp", ramp(0, 2*scenario.MaxArrivalRate, time.Hour), Segment{}, "3600000000 arrivals"},
		{"too many users in one process", closed(scenario.MaxProcessVUsers+1, time.Second), Segment{}, "--segment i/N, N >= 2"},
		{"segment index 0", constant(1, time.Second), Segment{Index: 0, Count: 3}, "segment 0/3"},
		{"segment index past count", constant(1, time.Second), Segment{Index: 4, Count: 3}, "segment 4/3"},
	}
	for _, tt := range tests {
		tt.phase.Line = 12
		_, err := NewSchedule([]scenario.Phase{tt.phase}, tt.seg)
		if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
			t.Errorf("%s: err = %v, want it to contain %q", tt.name, err, tt.wantErr)
		}
		if err != nil && tt.seg == (Segment{}) && !strings.Contains(err.Error(), "phase 1 (line 12)") {
			t.Errorf("%s: err = %v, want it to name the phase and line", tt.name, err)
		}
	}
}

// mixed is a schedule with every kind of phase and awkward numbers, so
// segment splits cross phase boundaries at odd indices.
func mixed() []scenario.Phase {
	return []scenario.Phase{
		constant(7, 3*time.Second),
		ramp(1, 13, 5*time.Second),
		pause(time.Second),
		count(11, 2*time.Second),
		closed(5, time.Second),
		ramp(9, 2, 3*time.Second),
		constant(0.29, 100*time.Second),
	}
}

func TestScheduleRampMonotoneWithinPhase(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		phase scenario.Phase
	}{
		{"up", ramp(1, 100, 10*time.Second)},
		{"down", ramp(100, 1, 10*time.Second)},
		{"down to zero", ramp(50, 0, 7*time.Second)},
		{"from zero", ramp(0, 50, 7*time.Second)},
		{"nearly flat", ramp(10, 10.000001, 60*time.Second)},
		{"fractional", ramp(0.3, 2.7, 13*time.Second)},
		{"high rate", ramp(1000, 20000, 2*time.Second)},
	}
	for _, tt := range tests {
		s, err := NewSchedule([]scenario.Phase{tt.phase}, Segment{})
		if err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		got := offsets(s)
		if len(got) != ExpectedArrivals(tt.phase) {
			t.Errorf("%s: %d arrivals, want %d", tt.name, len(got), ExpectedArrivals(tt.phase))
		}
		for i, at := range got {
			if at < 0 || at >= tt.phase.Duration {
				t.Errorf("%s: arrival %d at %v, outside [0, %v)", tt.name, i, at, tt.phase.Duration)
			}
			if i > 0 && at < got[i-1] {
				t.Errorf("%s: arrival %d at %v before arrival %d at %v", tt.name, i, at, i-1, got[i-1])
			}
		}
		// The arrivals before the phase midpoint follow the integral of the rate.
		mid := tt.phase.Duration / 2
		r0, r1, d := tt.phase.ArrivalRate, tt.phase.RampTo, tt.phase.Duration.Seconds()
		wantBeforeMid := int(math.Ceil(r0*d/2 + (r1-r0)*d/8 - 1e-9))
		gotBeforeMid := 0
		for _, at := range got {
			if at < mid {
				gotBeforeMid++
			}
		}
		if diff := gotBeforeMid - wantBeforeMid; diff < -1 || diff > 1 {
			t.Errorf("%s: %d arrivals before the midpoint, want %d±1", tt.name, gotBeforeMid, wantBeforeMid)
		}
	}
}

func TestSegmentsUnionIsWholeSchedule(t *testing.T) {
	t.Parallel()
	whole, err := NewSchedule(mixed(), Segment{})
	if err != nil {
		t.Fatal(err)
	}
	var want []Arrival
	for a := range whole.Arrivals() {
		want = append(want, a)
	}
	for k, a := range want {
		if a.Index != int64(k) {
			t.Fatalf("whole schedule: arrival %d has index %d", k, a.Index)
		}
	}
	for _, n := range []int{1, 2, 3, 4, 7, 10, 1000} {
		got := make([]Arrival, len(want))
		seen := make([]bool, len(want))
		perPhase := make([]int, len(whole.Phases))
		for i := 1; i <= n; i++ {
			seg := Segment{Index: i, Count: n}
			s, err := NewSchedule(mixed(), seg)
			if err != nil {
				t.Fatal(err)
			}
			count := 0
			var last time.Duration
			for a := range s.Arrivals() {
				if int(a.Index%int64(n))+1 != i {
					t.Errorf("%v: arrival %d belongs to segment %d", seg, a.Index, a.Index%int64(n)+1)
				}
				if seen[a.Index] {
					t.Errorf("%v: arrival %d already scheduled by another segment", seg, a.Index)
				}
				if a.At < last {
					t.Errorf("%v: arrival %d at %v out of order", seg, a.Index, a.At)
				}
				last = a.At
				seen[a.Index] = true
				got[a.Index] = a
				count++
			}
			if count != s.Expected() {
				t.Errorf("%v: yielded %d arrivals, Expected() = %d", seg, count, s.Expected())
			}
			// Each segment is an even 1/N: its count differs from total/N by less than one per phase.
			for pi, p := range s.Phases {
				perPhase[pi] += p.Expected
				if lo, hi := p.Total/n, (p.Total+n-1)/n; p.Expected < lo || p.Expected > hi {
					t.Errorf("%v phase %d: expected %d, want between %d and %d", seg, pi, p.Expected, lo, hi)
				}
			}
		}
		if !slices.Equal(got, want) {
			t.Errorf("%d segments: union differs from the whole schedule", n)
		}
		for pi, p := range whole.Phases {
			if perPhase[pi] != p.Total {
				t.Errorf("%d segments, phase %d: segments expect %d in sum, whole run %d", n, pi, perPhase[pi], p.Total)
			}
		}
	}
}

func TestSegmentShare(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		n    int
		segs int
		want []int
	}{
		{"even split", 12, 4, []int{3, 3, 3, 3}},
		{"remainder to the first segments", 10, 4, []int{3, 3, 2, 2}},
		{"one segment keeps all", 7, 1, []int{7}},
		// 0 means "no cap"; a segment must never get it from a positive cap.
		{"fewer than segments keeps 1 each", 2, 4, []int{1, 1, 1, 1}},
		{"no cap stays no cap", 0, 3, []int{0, 0, 0}},
	}
	for _, tt := range tests {
		var got []int
		for i := 1; i <= tt.segs; i++ {
			got = append(got, Segment{Index: i, Count: tt.segs}.Share(tt.n))
		}
		if !slices.Equal(got, tt.want) {
			t.Errorf("%s: shares of %d over %d = %v, want %v", tt.name, tt.n, tt.segs, got, tt.want)
		}
	}
}

func TestParseSegment(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in      string
		want    Segment
		wantErr string
	}{
		{"1/1", Segment{1, 1}, ""},
		{"2/4", Segment{2, 4}, ""},
		{" 3 / 4 ", Segment{3, 4}, ""},
		{"0/4", Segment{}, "1 <= i <= N"},
		{"5/4", Segment{}, "1 <= i <= N"},
		{"1/0", Segment{}, "1 <= i <= N"},
		{"-1/4", Segment{}, "1 <= i <= N"},
		{"2", Segment{}, "want i/N"},
		{"a/b", Segment{}, "whole numbers"},
		{"", Segment{}, "want i/N"},
	}
	for _, tt := range tests {
		got, err := ParseSegment(tt.in)
		if tt.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("ParseSegment(%q) err = %v, want %q", tt.in, err, tt.wantErr)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("ParseSegment(%q) = %v, %v; want %v", tt.in, got, err, tt.want)
		}
	}
	if got := (Segment{}).String(); got != "1/1" {
		t.Errorf("zero Segment prints %q, want 1/1", got)
	}
}

func TestScheduleSegmentShares(t *testing.T) {
	t.Parallel()
	phases := []scenario.Phase{
		{Kind: scenario.PhaseConstant, ArrivalRate: 10, Duration: time.Second, MaxVusers: 5},
		closed(7, time.Second),
	}
	var maxSum, vuSum int
	for i := 1; i <= 3; i++ {
		s, err := NewSchedule(phases, Segment{Index: i, Count: 3})
		if err != nil {
			t.Fatal(err)
		}
		maxSum += s.Phases[0].MaxVusers
		vuSum += s.Phases[1].VUsers
	}
	if maxSum != 5 || vuSum != 7 {
		t.Errorf("segments share maxVusers %d (want 5) and vusers %d (want 7)", maxSum, vuSum)
	}
}

func TestScheduleDuration(t *testing.T) {
	t.Parallel()
	s, err := NewSchedule(mixed(), Segment{})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := s.Duration(), 115*time.Second; got != want {
		t.Errorf("Duration = %v, want %v", got, want)
	}
}

// BenchmarkSchedule measures planning a segment's arrivals: one op walks a
// 1,000-arrival ramp of segment 2/3.
func BenchmarkSchedule(b *testing.B) {
	s, err := NewSchedule([]scenario.Phase{ramp(10, 5990, time.Second/2)}, Segment{Index: 2, Count: 3})
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	n := 0
	for b.Loop() {
		for range s.Arrivals() {
			n++
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(n), "ns/arrival")
}

// TestPoissonSchedule: mode: poisson keeps the expected count and the
// phase bounds, spaces arrivals with exponential gaps (coefficient of
// variation near 1, where even spacing gives 0), is the same for a seed
// and splits across segments exactly as the whole run (issue 18).
func TestPoissonSchedule(t *testing.T) {
	ph := scenario.Phase{Kind: scenario.PhaseConstant, ArrivalRate: 200, Duration: 50 * time.Second, Poisson: true}
	times := func(seed uint64, seg Segment) map[int64]time.Duration {
		s, err := NewSchedule([]scenario.Phase{pause(time.Second), ph}, seg)
		if err != nil {
			t.Fatal(err)
		}
		s.Seed = seed
		out := map[int64]time.Duration{}
		var last time.Duration
		for a := range s.Arrivals() {
			if a.At < last || a.At < time.Second || a.At >= 51*time.Second {
				t.Fatalf("arrival %d at %v: out of order or outside the phase", a.Index, a.At)
			}
			last = a.At
			out[a.Index] = a.At
		}
		return out
	}
	whole := times(7, Segment{})
	if len(whole) != 10000 {
		t.Fatalf("%d arrivals, want the expected 10000", len(whole))
	}
	var gaps []float64
	for k := int64(1); k < 10000; k++ {
		gaps = append(gaps, (whole[k] - whole[k-1]).Seconds())
	}
	var mean, sq float64
	for _, g := range gaps {
		mean += g
	}
	mean /= float64(len(gaps))
	for _, g := range gaps {
		sq += (g - mean) * (g - mean)
	}
	if cv := math.Sqrt(sq/float64(len(gaps))) / mean; cv < 0.9 || cv > 1.1 {
		t.Errorf("gap coefficient of variation %.3f, want about 1 (exponential gaps)", cv)
	}
	if again := times(7, Segment{}); !maps.Equal(again, whole) {
		t.Error("the same seed gave other arrivals")
	}
	if other := times(8, Segment{}); maps.Equal(other, whole) {
		t.Error("another seed gave the same arrivals")
	}
	union := map[int64]time.Duration{}
	for i := 1; i <= 3; i++ {
		maps.Copy(union, times(7, Segment{Index: i, Count: 3}))
	}
	if !maps.Equal(union, whole) {
		t.Error("three segments together differ from the whole run")
	}
}
