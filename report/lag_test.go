package report

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/primeload/primeload/report/metric"
)

func TestLagRuleFellBehind(t *testing.T) {
	t.Parallel()
	r := DefaultLagRule()
	tests := []struct {
		name        string
		late, total int64
		want        bool
	}{
		{"no arrivals", 0, 0, false},
		// A quiet 6-arrival run whose slowest arrival started 10.6 ms late
		// once exited 3 under the p99 rule.
		{"6 arrivals, one late", 1, 6, false},
		{"6 arrivals, four late", 4, 6, false},
		{"6 arrivals, five late: starved", 5, 6, true},
		{"6 arrivals, all late", 6, 6, true},
		{"100 arrivals, 1% late", 1, 100, false},
		{"400 arrivals, 4 late: 1% exactly", 4, 400, false},
		{"400 arrivals, 5 late: over 1% and the minimum", 5, 400, true},
		{"1000 arrivals, 10 late: 1% exactly", 10, 1000, false},
		{"1000 arrivals, 11 late", 11, 1000, true},
		{"10^6 arrivals, 10000 late: 1% exactly", 10_000, 1_000_000, false},
		{"10^6 arrivals, 10001 late", 10_001, 1_000_000, true},
	}
	for _, tt := range tests {
		if got := r.FellBehind(tt.late, tt.total); got != tt.want {
			t.Errorf("%s: FellBehind(%d, %d) = %v, want %v", tt.name, tt.late, tt.total, got, tt.want)
		}
	}
}

// lagMetrics is a period whose schedule lag histogram holds n arrivals at
// onTime µs and late arrivals at lateUs µs.
func lagMetrics(t testing.TB, n, late, onTimeUs, lateUs int64) *Metrics {
	t.Helper()
	h := newHist()
	if err := h.RecordValues(onTimeUs, n-late); err != nil {
		t.Fatal(err)
	}
	if late > 0 {
		if err := h.RecordValues(lateUs, late); err != nil {
			t.Fatal(err)
		}
	}
	m := &Metrics{Counters: map[string]int64{}, Summaries: map[string]Summary{}, HDR: map[string]string{}}
	if err := m.setHists(map[string]hist{metric.ScheduleLag: h}, nil); err != nil {
		t.Fatal(err)
	}
	return m
}

// TestLagRuleMillionArrivals judges 10^6 synthetic arrivals, recorded and
// encoded as a run records them, at the rule's edges: the share, the
// limit itself and the histogram's resolution there.
func TestLagRuleMillionArrivals(t *testing.T) {
	t.Parallel()
	const n = 1_000_000
	tests := []struct {
		name     string
		late     int64
		lateUs   int64
		wantLate int64
		want     bool
	}{
		{"1% late by far", 10_000, 50_000, 10_000, false},
		{"one more", 10_001, 50_000, 10_001, true},
		{"2% late", 20_000, 11_000, 20_000, true},
		{"2% at the limit exactly: not late", 20_000, 10_000, 0, false},
		// 10.004 ms shares the 8 µs bucket of 10.000 ms: within resolution.
		{"2% within the limit's bucket: not late", 20_000, 10_004, 0, false},
		{"2% one bucket past the limit", 20_000, 10_008, 20_000, true},
		{"none late", 0, 0, 0, false},
	}
	for _, tt := range tests {
		m := lagMetrics(t, n, tt.late, 800, tt.lateUs)
		l, err := DefaultLagRule().Assess(m)
		if err != nil {
			t.Fatal(err)
		}
		if l.Arrivals != n || l.Late != tt.wantLate || l.FellBehind != tt.want {
			t.Errorf("%s: %d arrivals, %d late, fell behind %v; want %d, %d, %v", tt.name, l.Arrivals, l.Late, l.FellBehind, n, tt.wantLate, tt.want)
		}
	}
}

func TestLagRuleLimit(t *testing.T) {
	t.Parallel()
	m := lagMetrics(t, 1000, 100, 800, 30_000) // 10% at 30 ms
	for _, tt := range []struct {
		limit time.Duration
		want  bool
	}{{0, true}, {10 * time.Millisecond, true}, {29 * time.Millisecond, true}, {30 * time.Millisecond, false}, {time.Second, false}} {
		l, err := WithLimit(tt.limit).Assess(m)
		if err != nil {
			t.Fatal(err)
		}
		if l.FellBehind != tt.want {
			t.Errorf("limit %v: fell behind %v, want %v (%s)", tt.limit, l.FellBehind, tt.want, l.Describe())
		}
		if tt.limit > 0 && l.Rule().Limit != tt.limit {
			t.Errorf("limit %v: recorded rule %+v", tt.limit, l.Rule())
		}
	}
}

func TestSummaryWarnsOnlyWhenBehind(t *testing.T) {
	for _, tc := range []struct {
		step     time.Duration
		wantLate int64
		want     bool
	}{
		{0, 0, false},
		{200 * time.Microsecond, 0, false}, // at most 9.8 ms
		{250 * time.Microsecond, 18, true}, // 10.25 to 12.25 ms: 9 of 50 per period
	} {
		r := laggingReport(t, tc.step)
		if err := r.JudgeLag(DefaultLagRule()); err != nil {
			t.Fatal(err)
		}
		var buf bytes.Buffer
		if err := WriteSummary(&buf, r); err != nil {
			t.Fatal(err)
		}
		got := strings.Contains(buf.String(), "the load generator fell behind its schedule")
		if got != tc.want || r.FellBehind() != tc.want || r.Lag.Late != tc.wantLate {
			t.Errorf("lag step %v: warning %v, FellBehind %v, %d late; want %v, %d\n%s", tc.step, got, r.FellBehind(), r.Lag.Late, tc.want, tc.wantLate, buf.String())
		}
		if !strings.Contains(buf.String(), "schedule lag p50 ") {
			t.Errorf("lag step %v: no lag distribution line\n%s", tc.step, buf.String())
		}
		if untrusted, why := r.Untrusted(); untrusted != tc.want || (why != "") != tc.want {
			t.Errorf("lag step %v: Untrusted = %v %q", tc.step, untrusted, why)
		}
	}
}

func TestUntrustedMissedArrivals(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		missed int64
		step   time.Duration
		want   []string
	}{
		{0, 0, nil},
		{1, 0, []string{"1 arrivals were missed"}},
		{11, 250 * time.Microsecond, []string{"fell behind its schedule", "; and 11 arrivals were missed"}},
	} {
		r := laggingReport(t, tc.step)
		r.MissedArrivals = tc.missed
		if err := r.JudgeLag(DefaultLagRule()); err != nil {
			t.Fatal(err)
		}
		got, why := r.Untrusted()
		if got != (tc.want != nil) {
			t.Errorf("missed %d, lag step %v: Untrusted = %v %q", tc.missed, tc.step, got, why)
		}
		for _, w := range tc.want {
			if !strings.Contains(why, w) {
				t.Errorf("missed %d: reason %q lacks %q", tc.missed, why, w)
			}
		}
	}
}
