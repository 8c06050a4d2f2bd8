package report

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/primeload/primeload/report/metric"
)

// The lag rule's defaults. A fixed p99 limit over a handful of arrivals
// failed a quiet 6-arrival run for one arrival 10.6 ms late, and shared
// 2-core CI runners pause a process for a few ms now and then: one slow
// wake-up is noise, a share of late arrivals large enough to move the
// percentiles is evidence.
const (
	// DefaultMaxLag is how late an arrival may start before it counts as late.
	DefaultMaxLag = 10 * time.Millisecond
	// DefaultLateShare is the share of late arrivals a run may have.
	DefaultLateShare = 0.01
	// DefaultMinLate is the fewest late arrivals that can make a run
	// untrusted, whatever their share.
	DefaultMinLate = 5
)

// LagRule decides from the schedule lag whether the load generator fell
// behind its schedule: it did when more than MaxShare of the arrivals, and
// at least MinLate of them, started more than Limit late. It is the one
// definition, used by run, report, compare, capacity and every writer.
type LagRule struct {
	Limit    time.Duration
	MaxShare float64 // a fraction: 0.01 is 1 %
	MinLate  int64
}

// DefaultLagRule is the rule with the defaults above.
func DefaultLagRule() LagRule {
	return LagRule{Limit: DefaultMaxLag, MaxShare: DefaultLateShare, MinLate: DefaultMinLate}
}

// WithLimit is the default rule with another limit; 0 keeps the default.
func WithLimit(limit time.Duration) LagRule {
	r := DefaultLagRule()
	if limit > 0 {
		r.Limit = limit
	}
	return r
}

// FellBehind applies the rule to late arrivals out of total.
func (r LagRule) FellBehind(late, total int64) bool {
	return total > 0 && late >= r.MinLate && float64(late) > r.MaxShare*float64(total)
}

// Lag is the schedule lag of a run as the rule judged it: its distribution,
// how many arrivals were late and the rule itself, so a reader can judge
// the verdict and `primeload report` judges again with the same rule.
type Lag struct {
	// LimitMs, MaxShare and MinLate are the rule (LagRule).
	LimitMs  float64 `json:"limitMs"`
	MaxShare float64 `json:"maxShare"`
	MinLate  int64   `json:"minLate"`
	// Arrivals counts the arrivals whose lag was measured; Late those over
	// LimitMs, and Share is Late/Arrivals.
	Arrivals int64   `json:"arrivals"`
	Late     int64   `json:"late"`
	Share    float64 `json:"share"`
	P50      float64 `json:"p50"`
	P99      float64 `json:"p99"`
	Max      float64 `json:"max"`
	// FellBehind is the rule's verdict.
	FellBehind bool `json:"fellBehind"`
}

// Rule is the rule l was judged by.
func (l Lag) Rule() LagRule {
	return LagRule{Limit: time.Duration(l.LimitMs * float64(time.Millisecond)), MaxShare: l.MaxShare, MinLate: l.MinLate}
}

// Assess measures m's schedule lag against the rule. Late arrivals are
// counted from the lossless histogram to its resolution (0.1 %): an arrival
// counts as late when its whole bucket lies past the limit, so rounding
// never makes a run untrusted.
func (r LagRule) Assess(m *Metrics) (Lag, error) {
	l := Lag{LimitMs: msOfDuration(r.Limit), MaxShare: r.MaxShare, MinLate: r.MinLate}
	if m == nil {
		return l, nil
	}
	s, ok := m.Summaries[metric.ScheduleLag]
	if !ok {
		return l, nil
	}
	l.Arrivals, l.P50, l.P99, l.Max = s.Count, s.P50, s.P99, s.Max
	if _, ok := m.HDR[metric.ScheduleLag]; ok {
		h, err := m.Histogram(metric.ScheduleLag)
		if err != nil {
			return l, fmt.Errorf("count late arrivals: %w", err)
		}
		limit := r.Limit.Microseconds()
		for _, b := range h.Distribution() {
			if b.From > limit {
				l.Late += b.Count
			}
		}
	}
	if l.Arrivals > 0 {
		l.Share = float64(l.Late) / float64(l.Arrivals)
	}
	l.FellBehind = r.FellBehind(l.Late, l.Arrivals)
	return l, nil
}

// Describe says, in one line, what the lag was and what the rule allows.
func (l Lag) Describe() string { return strings.Join(l.parts(), "; ") }

// parts are Describe's clauses, which the console summary fits to its width.
func (l Lag) parts() []string {
	return []string{
		fmt.Sprintf("schedule lag p50 %s ms, p99 %s ms, max %s ms", ms(l.P50), ms(l.P99), ms(l.Max)),
		fmt.Sprintf("%d of %d arrivals later than %s ms (%s%%)", l.Late, l.Arrivals, FormatNumber(l.LimitMs), strconv.FormatFloat(100*l.Share, 'f', 2, 64)),
		fmt.Sprintf("untrusted when over %s%% and at least %d", FormatNumber(100*l.MaxShare), l.MinLate),
	}
}

// JudgeLag stores the rule's assessment of the aggregate in r.Lag.
func (r *Report) JudgeLag(rule LagRule) error {
	l, err := rule.Assess(r.Aggregate)
	r.Lag = &l
	return err
}

// LagRule is the rule r was judged by, or the default one.
func (r *Report) LagRule() LagRule {
	if r.Lag != nil && r.Lag.LimitMs > 0 {
		return r.Lag.Rule()
	}
	return DefaultLagRule()
}

// FellBehind reports whether the generator fell behind its own schedule by
// the lag rule: then a slow target was not offered the load the script
// describes and the latencies understate the truth. A report never judged
// is judged by the rule it records, or the default.
func (r *Report) FellBehind() bool {
	return r.lag().FellBehind
}

// lag is r.Lag, or the assessment by the default rule when r has none.
func (r *Report) lag() Lag {
	if r.Lag != nil {
		return *r.Lag
	}
	l, _ := r.LagRule().Assess(r.Aggregate)
	return l
}

// Untrusted reports whether the run's measurements cannot be trusted, and
// why in words. It is the single place that decides, for run and report
// and every writer.
//
// Two things make a run untrusted: the generator fell behind its schedule
// (the lag rule), or it missed arrivals altogether, as a process that
// started after --start-at does: the target then saw less load than the
// script describes, and a pass would say nothing about the load asked.
func (r *Report) Untrusted() (bool, string) {
	var why []string
	if l := r.lag(); l.FellBehind {
		why = append(why, "the load generator fell behind its schedule: "+l.Describe()+"; latencies understate the truth, reduce the rate or use a less busy load machine")
	}
	if r.MissedArrivals > 0 {
		why = append(why, fmt.Sprintf("%d arrivals were missed: the process started after the schedule's start (--start-at), so the target got less load than the script describes", r.MissedArrivals))
	}
	return len(why) > 0, strings.Join(why, "; and ")
}

func msOfDuration(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
