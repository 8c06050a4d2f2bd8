// Package capacity holds the result of a capacity search (the highest
// arrival rate at which a script still met every SLO, with the table of
// steps that decided it) and writes it for people and CI: console, JSON and
// an HTML chart of latency against throughput. runner/capacity runs the
// search; this package only describes and prints it.
package capacity

import (
	"cmp"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Limit says what ended the search.
type Limit string

// The limits.
const (
	// LimitTarget: a step failed an SLO and the search narrowed the rate
	// down; Capacity is the target's.
	LimitTarget = Limit("target")
	// LimitGenerator: the load generator could not keep up (schedule lag,
	// arrivals it could not start, its own CPU); Capacity is only a lower
	// bound, it is not the target's.
	LimitGenerator = Limit("generator")
	// LimitMaxRate: every step passed up to the maximum rate allowed.
	LimitMaxRate = Limit("max-rate")
	// LimitTime: the time budget ran out before the search converged.
	LimitTime = Limit("time")
	// LimitInterrupted: stopped by Ctrl-C; the steps done so far are reported.
	LimitInterrupted = Limit("interrupted")
)

// Stage says why a step was run.
type Stage string

// The stages of a search.
const (
	StageRise    = Stage("rise")
	StageBisect  = Stage("bisect")
	StageRecheck = Stage("recheck")
)

// Step is one rate held and judged alone.
type Step struct {
	Stage Stage `json:"stage"`
	// Rate is the arrival rate asked, per second.
	Rate float64 `json:"rate"`
	// Achieved is the arrival rate the judged window actually started.
	Achieved float64 `json:"achieved"`
	// RequestRate is requests per second sent in the judged window.
	RequestRate float64 `json:"requestRate"`
	Requests    int64   `json:"requests"`
	P50         float64 `json:"p50"` // ms
	P95         float64 `json:"p95"`
	P99         float64 `json:"p99"`
	// ErrorRate is the percent of requests with a 5xx or a network error.
	ErrorRate float64 `json:"errorRate"`
	// LagP99 is the schedule lag's p99 in ms: how late arrivals started.
	LagP99 float64 `json:"lagP99"`
	// CPU is the generator process's CPU time over the step's wall time
	// and its available cores: 1 is every core busy.
	CPU  float64 `json:"cpu"`
	Pass bool    `json:"pass"`
	// Failed lists the strict SLOs the step failed.
	Failed []string `json:"failed,omitempty"`
	// Generator says why the load generator was the limit; "" when it was not.
	Generator string    `json:"generator,omitempty"`
	Started   time.Time `json:"started"`
	Seconds   float64   `json:"seconds"` // the judged window
}

// Verdict is the step's outcome in a word.
func (s Step) Verdict() string {
	switch {
	case s.Generator != "":
		return "generator"
	case s.Pass:
		return "pass"
	}
	return "fail"
}

// Knee is where latency turns up against throughput.
type Knee struct {
	Rate        float64 `json:"rate"`
	RequestRate float64 `json:"requestRate"`
	P95         float64 `json:"p95"`
}

// Settings are the search's bounds and steps, as run.
type Settings struct {
	Start       float64 `json:"start"`
	Growth      float64 `json:"growth"`
	Precision   float64 `json:"precision"` // relative, e.g. 0.05
	MaxRate     float64 `json:"maxRate"`
	StepSeconds float64 `json:"stepSeconds"`
	WarmSeconds float64 `json:"warmUpSeconds"`
	MaxSeconds  float64 `json:"maxSeconds"`
	MaxLagMs    float64 `json:"maxLagMs"`
	MaxCPU      float64 `json:"maxCpu"`
}

// Result is a whole search.
type Result struct {
	// Capacity is the highest arrival rate per second that met every strict
	// SLO; 0 when no step did.
	Capacity float64 `json:"capacity"`
	// RequestRate is the request rate achieved at Capacity.
	RequestRate float64 `json:"requestRate"`
	Limit       Limit   `json:"limit"`
	// Summary says the result in one sentence.
	Summary  string   `json:"summary"`
	Script   string   `json:"script"`
	Target   string   `json:"target"`
	SLOs     []string `json:"slos"`
	Settings Settings `json:"settings"`
	// BaselineRate is normal traffic (arrivals/s) when given; Multiple is
	// Capacity over it.
	BaselineRate float64  `json:"baselineRate,omitempty"`
	Multiple     *float64 `json:"multiple,omitempty"`
	// Require is the --require asked ("10x" or "500"); RequireMet whether Capacity meets it.
	Require    string    `json:"require,omitempty"`
	RequireMet *bool     `json:"requireMet,omitempty"`
	Knee       *Knee     `json:"knee,omitempty"`
	Steps      []Step    `json:"steps"`
	Started    time.Time `json:"started"`
	Seconds    float64   `json:"seconds"`
}

// Finish derives what follows from the steps: the best passing step, the
// knee, the multiple of normal traffic, the requirement and the summary.
// requireX is the multiple of BaselineRate required (0: none), requireRate
// an absolute arrival rate required (0: none).
func (r *Result) Finish(requireX, requireRate float64) {
	r.Capacity, r.RequestRate = 0, 0
	for _, s := range r.Steps {
		if s.Pass && s.Rate > r.Capacity && !contradicted(r.Steps, s.Rate) {
			r.Capacity, r.RequestRate = s.Rate, s.RequestRate
		}
	}
	r.Knee = KneeOf(r.Steps)
	r.Multiple = nil
	if r.BaselineRate > 0 {
		m := r.Capacity / r.BaselineRate
		r.Multiple = &m
	}
	r.RequireMet = nil
	switch {
	case requireX > 0 && r.Multiple != nil:
		// Capacity counts passing steps only, so even a search the
		// generator cut short proves a requirement it already reaches.
		ok := *r.Multiple >= requireX
		r.RequireMet = &ok
	case requireRate > 0:
		ok := r.Capacity >= requireRate
		r.RequireMet = &ok
	}
	r.Summary = r.summary()
}

// contradicted reports whether a re-check at rate failed, which a single
// lucky pass does not outweigh.
func contradicted(steps []Step, rate float64) bool {
	return slices.ContainsFunc(steps, func(s Step) bool { return s.Stage == StageRecheck && s.Rate == rate && !s.Pass })
}

func (r *Result) summary() string {
	holds := rateStr(r.Capacity) + " arrivals/s (" + rateStr(r.RequestRate) + " requests/s)"
	if r.Multiple != nil {
		holds += ": " + strconv.FormatFloat(*r.Multiple, 'f', 1, 64) + "× normal"
	}
	switch r.Limit {
	case LimitTarget:
		if r.Capacity == 0 {
			return "the target failed its SLOs at every rate tried, down to " + rateStr(lowestRate(r.Steps)) + " arrivals/s"
		}
		return "meets every SLO at " + holds + "; the next rate up failed"
	case LimitGenerator:
		s := "the load generator could not keep up"
		if g := firstGenerator(r.Steps); g != nil {
			s += " at " + rateStr(g.Rate) + " arrivals/s (" + g.Generator + ")"
			if len(g.Failed) > 0 {
				s += "; that step also failed its SLOs, which cannot be put on the target while the generator is behind"
			}
		}
		s += ": this is not the target's capacity"
		if r.Capacity > 0 {
			s += "; it holds at least " + holds
		}
		return s + "; use a bigger load machine or a distributed run"
	case LimitMaxRate:
		return "holds " + holds + ", the maximum rate allowed (--max-rate): its capacity is higher"
	case LimitTime:
		return "the time budget (--max-duration) ended the search; so far it holds " + holds
	case LimitInterrupted:
		return "interrupted; so far it holds " + holds
	}
	return "holds " + holds
}

func firstGenerator(steps []Step) *Step {
	for i := range steps {
		if steps[i].Generator != "" {
			return &steps[i]
		}
	}
	return nil
}

func lowestRate(steps []Step) float64 {
	low := math.Inf(1)
	for _, s := range steps {
		low = min(low, s.Rate)
	}
	if math.IsInf(low, 1) {
		return 0
	}
	return low
}

// KneeOf finds the knee of p95 latency against request rate, Kneedle-style
// (Satopää et al., 2011): with both axes scaled to 0..1, the knee of a
// rising convex curve is the point farthest below the chord from the first
// point to the last. Steps where the generator was the limit are left out:
// their latencies are not the target's. Fewer than three points have none.
func KneeOf(steps []Step) *Knee {
	pts := sortedByRate(steps)
	if len(pts) < 3 {
		return nil
	}
	x0, x1 := pts[0].RequestRate, pts[len(pts)-1].RequestRate
	y0, y1 := pts[0].P95, pts[0].P95
	for _, p := range pts {
		y0, y1 = min(y0, p.P95), max(y1, p.P95)
	}
	if x1 <= x0 || y1 <= y0 {
		return nil
	}
	best, bestD := -1, 0.0
	for i, p := range pts {
		xn, yn := (p.RequestRate-x0)/(x1-x0), (p.P95-y0)/(y1-y0)
		if d := xn - yn; d > bestD {
			best, bestD = i, d
		}
	}
	if best < 0 {
		return nil
	}
	return &Knee{Rate: pts[best].Rate, RequestRate: pts[best].RequestRate, P95: pts[best].P95}
}

// rateStr formats a rate: whole numbers from 100 on, else one decimal.
func rateStr(v float64) string {
	if v >= 100 && v == math.Round(v) || v >= 1000 {
		return strconv.FormatFloat(v, 'f', 0, 64)
	}
	return strconv.FormatFloat(v, 'f', 1, 64)
}

// ParseRequire reads --require: "10x" (a multiple of --baseline-rate) or a
// plain arrival rate such as "500".
func ParseRequire(s string, baseline float64) (multiple, rate float64, err error) {
	if s == "" {
		return 0, 0, nil
	}
	if num, ok := strings.CutSuffix(strings.ToLower(s), "x"); ok {
		v, err := strconv.ParseFloat(num, 64)
		if err != nil || v <= 0 {
			return 0, 0, fmt.Errorf("--require %q: want a positive multiple such as 10x", s)
		}
		if baseline <= 0 {
			return 0, 0, fmt.Errorf("--require %q is a multiple of normal traffic: give --baseline-rate too", s)
		}
		return v, 0, nil
	}
	v, err := strconv.ParseFloat(s, 64)
	if err != nil || v <= 0 {
		return 0, 0, fmt.Errorf("--require %q: want a multiple of --baseline-rate (10x) or an arrival rate (500)", s)
	}
	return 0, v, nil
}

// sortedByRate is the steps the generator kept up with, by request rate.
func sortedByRate(steps []Step) []Step {
	var pts []Step
	for _, s := range steps {
		if s.Generator == "" && s.Requests > 0 {
			pts = append(pts, s)
		}
	}
	slices.SortStableFunc(pts, func(a, b Step) int { return cmp.Compare(a.RequestRate, b.RequestRate) })
	return pts
}
