package compare

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
)

// DefaultGates is the --max-regression used when none is given.
const DefaultGates = "p50=10%,p95=10%,p99=10%,errors=0.1pp"

// Metric names a compared figure, as written in a gate.
const (
	MetricThroughput = "throughput"
	MetricErrors     = "errors"
	MetricMax        = "max"
)

// quantile is a latency figure by its name in a gate and its percentile.
type quantile struct {
	name string
	p    float64
}

// latencyMetrics are the latency figures compared, with their percentile
// (max is the 100th, judged apart: see Compare).
var latencyMetrics = []quantile{{"p50", 50}, {"p90", 90}, {"p95", 95}, {"p99", 99}, {"p999", 99.9}, {MetricMax, 100}}

// Gate is one allowed regression: metric may get worse by at most Limit.
type Gate struct {
	Metric string
	Limit  float64
	// Unit is "%" (relative to the base), "ms" (latency) or "pp"
	// (percentage points, errors only).
	Unit string
}

func (g Gate) String() string {
	return g.Metric + "=" + strconv.FormatFloat(g.Limit, 'f', -1, 64) + g.Unit
}

// ParseGates reads a --max-regression list such as "p95=10%,errors=0.1pp".
// Every problem is reported at once, naming the entry and what would be valid.
func ParseGates(s string) ([]Gate, error) {
	var gates []Gate
	var errs []string
	for entry := range strings.SplitSeq(s, ",") {
		entry = strings.TrimSpace(entry)
		if entry == "" {
			continue
		}
		g, err := parseGate(entry)
		if err != nil {
			errs = append(errs, fmt.Sprintf("%q: %v", entry, err))
			continue
		}
		if slices.ContainsFunc(gates, func(o Gate) bool { return o.Metric == g.Metric }) {
			errs = append(errs, fmt.Sprintf("%q: %s is limited twice", entry, g.Metric))
			continue
		}
		gates = append(gates, g)
	}
	if len(errs) > 0 {
		return nil, fmt.Errorf("max regression %q: %s", s, strings.Join(errs, "; "))
	}
	return gates, nil
}

func parseGate(entry string) (Gate, error) {
	metric, limit, ok := strings.Cut(entry, "=")
	if !ok {
		return Gate{}, fmt.Errorf("want METRIC=LIMIT, e.g. p95=10%%")
	}
	metric, limit = strings.TrimSpace(metric), strings.TrimSpace(limit)
	g := Gate{Metric: metric}
	var err error
	switch {
	case isLatency(metric):
		g.Limit, g.Unit, err = latencyLimit(limit)
	case metric == MetricErrors:
		g.Limit, g.Unit, err = unitLimit(limit, "pp", "%")
	case metric == MetricThroughput:
		g.Limit, g.Unit, err = unitLimit(limit, "%")
	default:
		return Gate{}, fmt.Errorf("unknown metric %q: want one of %s", metric, strings.Join(GateMetrics(), ", "))
	}
	return g, err
}

// GateMetrics lists the metrics a gate can limit.
func GateMetrics() []string {
	var names []string
	for _, l := range latencyMetrics {
		names = append(names, l.name)
	}
	return append(names, MetricErrors, MetricThroughput)
}

func isLatency(metric string) bool {
	return slices.ContainsFunc(latencyMetrics, func(q quantile) bool { return q.name == metric })
}

// latencyLimit reads "10%" or a duration such as "5ms" (kept in ms).
func latencyLimit(s string) (float64, string, error) {
	if strings.HasSuffix(s, "%") {
		return unitLimit(s, "%")
	}
	d, err := time.ParseDuration(s)
	if err != nil || d < 0 {
		return 0, "", fmt.Errorf("limit %q: want a percentage (10%%) or a duration (5ms)", s)
	}
	return float64(d) / float64(time.Millisecond), "ms", nil
}

// unitLimit reads a non-negative number followed by one of units.
func unitLimit(s string, units ...string) (float64, string, error) {
	for _, u := range units {
		num, ok := strings.CutSuffix(s, u)
		if !ok {
			continue
		}
		v, err := strconv.ParseFloat(strings.TrimSpace(num), 64)
		if err != nil || v < 0 {
			break
		}
		return v, u, nil
	}
	want := make([]string, len(units))
	for i, u := range units {
		want[i] = "1" + u
	}
	return 0, "", fmt.Errorf("limit %q: want a non-negative number with a unit: %s", s, strings.Join(want, " or "))
}
