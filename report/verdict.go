package report

import (
	"math"
	"strconv"
	"strings"
)

// SLO is one evaluated service level objective: the only form an SLO result
// takes. The run's judge stores them in Report.SLO and every writer reads
// them from there.
type SLO struct {
	// Name is the threshold's metric, the legacy key or the expression.
	Name       string `json:"name"`
	Expression string `json:"expression"`
	// Value is the measured left-hand side of "expression op limit"; absent
	// for compound conditions and when the metric had no samples.
	Value *float64 `json:"value,omitempty"`
	// Limit is the constant of "expression op limit"; absent for compound conditions.
	Limit  *float64 `json:"limit,omitempty"`
	OK     bool     `json:"ok"`
	Strict bool     `json:"strict"`
	// Detail lists the metrics the check read, or says why it had no value.
	Detail string `json:"detail,omitempty"`
	// Unmeasured is set when the check could not be measured at all (a
	// summary without samples), as opposed to measured and false.
	Unmeasured bool `json:"unmeasured,omitempty"`
}

// Status is "ok", "fail", or "warn" for a failed SLO that is not strict.
func (s SLO) Status() string {
	switch {
	case s.OK:
		return "ok"
	case s.Strict:
		return "fail"
	}
	return "warn"
}

// Title is the SLO as a person reads it: the expression, led by the legacy
// key it came from when that is not already part of it.
func (s SLO) Title() string {
	if s.Name == "" || strings.Contains(s.Expression, s.Name) {
		return s.Expression
	}
	return s.Name + ": " + s.Expression
}

// Measured describes the measurement: "212.3 (limit 250)" for a comparison
// with a constant, else the metrics that were read.
func (s SLO) Measured() string {
	var m string
	switch {
	case s.Value != nil && s.Limit != nil:
		m = FormatNumber(*s.Value) + " (limit " + FormatNumber(*s.Limit) + ")"
	default:
		m = s.Detail
	}
	if !s.Strict && !s.OK {
		m += " [strict: false, warning only]"
	}
	return m
}

// SLOsPassed reports whether every strict SLO of the report held; true when
// there are none.
func (r *Report) SLOsPassed() bool {
	for _, s := range r.SLO {
		if s.Strict && !s.OK {
			return false
		}
	}
	return true
}

// FormatNumber prints a measurement compactly: integers as integers, others
// with at most four significant digits below 1000.
func FormatNumber(v float64) string {
	switch {
	case math.IsNaN(v) || math.IsInf(v, 0):
		return strconv.FormatFloat(v, 'f', -1, 64)
	case v == math.Trunc(v) && math.Abs(v) < 1e15:
		return strconv.FormatFloat(v, 'f', 0, 64)
	case math.Abs(v) >= 1000:
		return strconv.FormatFloat(v, 'f', 1, 64)
	}
	return strconv.FormatFloat(v, 'g', 4, 64)
}

// Verdict is what a judged run's result says, from which the CLI picks its
// exit code. When several apply, the first in this list wins.
type Verdict string

// The verdicts, in the order they win.
const (
	// Interrupted: the run did not send its whole schedule (Ctrl-C, a
	// killed process, or a merge with such a part), so it cannot pass.
	Interrupted Verdict = "interrupted"
	// Untrusted: the load generator fell behind its schedule or missed
	// arrivals (Report.Untrusted); latencies are wrong in either direction.
	Untrusted Verdict = "untrusted"
	// SLOFailed: a strict SLO failed.
	SLOFailed Verdict = "slo-failed"
	// ExpectFailed: expectations failed.
	ExpectFailed Verdict = "expect-failed"
	// Pass: finished, every strict SLO held.
	Pass Verdict = "passed"
)
