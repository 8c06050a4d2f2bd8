package slo

import (
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/primeload/primeload/report"
	"github.com/primeload/primeload/report/metric"
	"github.com/primeload/primeload/scenario"
)

// kind is how a metric behaves when the run never produced it.
type kind int

const (
	// counter and rate metrics that never happened are 0: a run without a
	// single 500 has http.codes.500 == 0, not an unknown value.
	counter kind = iota
	// summary statistics without samples have no value, and a check on them
	// fails, as Artillery fails a check on a metric the run did not report.
	summary
)

// endpointResponseTime is the per-endpoint latency summary family:
// plugins.metrics-by-endpoint.response_time.<endpoint>.<stat>.
const endpointResponseTime = metric.EndpointResponseTime

// endpointSummaries are the per-endpoint summary families: latency and
// the Server-Timing totals.
func endpointSummaries() []string {
	return []string{metric.EndpointResponseTime, metric.EndpointServerTiming}
}

// summaries are the run-wide summary names.
func summaries() []string { return metric.Summaries() }

// counters are the names with a fixed spelling that count or rate; the
// families with a variable last part (http.codes.NNN, per-endpoint codes)
// are matched in classify. Everything comes from package metric, so a
// metric added there is known here.
func counters() []string {
	return slices.Concat(metric.Counters(), metric.Rates(), metric.Errors())
}

// catalog knows every metric name a run of one script could report.
type catalog struct {
	endpoints []string
	scenarios []string
	known     map[string]bool
	// extended is Names.ExtendedMetrics.
	extended bool
	// vars makes every word a name (a variable of ifTrue, see Condition)
	// rather than a metric this catalogue must know.
	vars bool
}

func newCatalog(names Names) *catalog {
	c := &catalog{endpoints: names.Endpoints, scenarios: names.Scenarios, known: make(map[string]bool, len(names.Endpoints)+1), extended: names.ExtendedMetrics}
	for _, e := range names.Endpoints {
		c.known[e] = true
	}
	// A run with more endpoints than it records separately records the rest
	// under this one.
	c.known[metric.OtherEndpoint] = true
	return c
}

// classify tells the kind of a metric name, or explains why no run of the
// script could report it.
func (c *catalog) classify(name string) (kind, error) {
	if c.vars {
		return counter, nil
	}
	if slices.Contains(counters(), name) {
		return counter, nil
	}
	if base, stat, ok := cutLast(name); ok && slices.Contains(summaries(), base) {
		if !slices.Contains(report.SummaryStats(), stat) {
			return 0, c.unknownStat(name, base, stat)
		}
		return summary, nil
	}
	if base, stat, ok := cutLast(name); ok && slices.Contains(metric.ExtendedSummaries(), base) {
		if !c.extended {
			return 0, fmt.Errorf("unknown metric %q: %s is recorded only with config.http.extendedMetrics: true", name, base)
		}
		if !slices.Contains(report.SummaryStats(), stat) {
			return 0, c.unknownStat(name, base, stat)
		}
		return summary, nil
	}
	if code, ok := strings.CutPrefix(name, metric.CodePrefix); ok {
		if !metric.IsStatusCode(code) {
			return 0, fmt.Errorf("unknown metric %q: a status code counter is %s<3-digit code>, e.g. %s", name, metric.CodePrefix, metric.Code(500))
		}
		return counter, nil
	}
	if strings.HasPrefix(name, metric.ErrExpectPrefix) && len(name) > len(metric.ErrExpectPrefix) {
		return counter, nil
	}
	if code, ok := strings.CutPrefix(name, metric.ErrorPrefix); ok {
		return 0, c.unknownError(name, code)
	}
	for _, outcome := range []string{metric.ExpectOK, metric.ExpectFailed} {
		if typ, ok := strings.CutPrefix(name, outcome+"."); ok && metric.IsExpectType(typ) {
			return counter, nil
		}
	}
	if sc, ok := strings.CutPrefix(name, metric.CreatedByNamePrefix); ok {
		if slices.Contains(c.scenarios, sc) {
			return counter, nil
		}
		return 0, c.unknownScenario(name, sc)
	}
	if strings.HasPrefix(name, metric.EndpointPrefix) {
		return c.classifyEndpoint(name)
	}
	return 0, c.unknown(name)
}

// classifyEndpoint handles plugins.metrics-by-endpoint.response_time.<ep>.<stat>
// and the per-endpoint counters <prefix><ep>.codes.NNN and <prefix><ep>.errors.X.
func (c *catalog) classifyEndpoint(name string) (kind, error) {
	for _, family := range endpointSummaries() {
		rest, ok := strings.CutPrefix(name, family)
		if !ok {
			continue
		}
		ep, stat, ok := cutLast(rest)
		if !ok {
			return 0, fmt.Errorf(`unknown metric %q: a per-endpoint summary is %s<endpoint>.<stat>, and names with spaces are quoted: metric("%s<endpoint>.p95")`,
				name, family, family)
		}
		if !c.known[ep] {
			return 0, c.unknownEndpoint(name, ep)
		}
		if !slices.Contains(report.SummaryStats(), stat) {
			return 0, c.unknownStat(name, family+ep, stat)
		}
		return summary, nil
	}
	rest := strings.TrimPrefix(name, metric.EndpointPrefix)
	for _, ep := range c.endpoints {
		tail, ok := strings.CutPrefix(rest, ep+".")
		if !ok {
			continue
		}
		if code, ok := strings.CutPrefix(tail, metric.EndpointCodes); ok && metric.IsStatusCode(code) {
			return counter, nil
		}
		// Artillery's per-endpoint errors, which the runner records for
		// transport errors.
		if code, ok := strings.CutPrefix(tail, metric.EndpointErrors); ok {
			if !slices.Contains(metric.Errors(), metric.ErrorPrefix+code) {
				return 0, c.unknownError(name, code)
			}
			return counter, nil
		}
	}
	ep, _, _ := strings.Cut(rest, "."+metric.EndpointCodes)
	if ep == rest {
		ep, _, _ = strings.Cut(rest, "."+metric.EndpointErrors)
	}
	if ep != rest && !c.known[ep] {
		return 0, c.unknownEndpoint(name, ep)
	}
	return 0, c.unknown(name)
}

// unknownError explains an error counter, run-wide or per endpoint, whose
// code the runner never records.
func (c *catalog) unknownError(name, code string) error {
	msg := fmt.Sprintf("unknown metric %q", name)
	if s := closest(metric.ErrorPrefix+code, metric.Errors()); s != "" {
		msg += fmt.Sprintf("; did you mean %q?", strings.Replace(name, metric.ErrorPrefix+code, s, 1))
	}
	codes := make([]string, len(metric.Errors()))
	for i, e := range metric.Errors() {
		codes[i] = strings.TrimPrefix(e, metric.ErrorPrefix)
	}
	return fmt.Errorf("%s (primeload counts these errors: %s<%s>)", msg, metric.ErrorPrefix, strings.Join(codes, "|"))
}

func (c *catalog) unknownStat(name, base, stat string) error {
	msg := fmt.Sprintf("unknown metric %q: %q is not a statistic of %s", name, stat, base)
	if s := closest(stat, report.SummaryStats()); s != "" {
		msg += fmt.Sprintf("; did you mean %q?", base+"."+s)
	}
	return fmt.Errorf("%s (valid: %s)", msg, strings.Join(report.SummaryStats(), ", "))
}

func (c *catalog) unknownEndpoint(name, ep string) error {
	msg := fmt.Sprintf("unknown metric %q: the script never calls endpoint %q", name, ep)
	if s := closest(ep, c.endpoints); s != "" {
		return fmt.Errorf("%s; did you mean %q?", msg, strings.Replace(name, ep, s, 1))
	}
	if len(c.endpoints) == 0 {
		return fmt.Errorf("%s (the script has no requests)", msg)
	}
	return fmt.Errorf("%s (endpoints: %s)", msg, quoteAll(c.endpoints))
}

// unknownScenario explains a per-scenario counter of a scenario the script
// does not have: read as 0 it would give a wrong verdict.
func (c *catalog) unknownScenario(name, sc string) error {
	msg := fmt.Sprintf("unknown metric %q: the script has no scenario %q", name, sc)
	if s := closest(sc, c.scenarios); s != "" {
		return fmt.Errorf("%s; did you mean %q?", msg, metric.CreatedByNamePrefix+s)
	}
	if len(c.scenarios) == 0 {
		return fmt.Errorf("%s (the script has no scenarios)", msg)
	}
	return fmt.Errorf("%s (scenarios, by name or by index when unnamed: %s)", msg, quoteAll(c.scenarios))
}

func (c *catalog) unknown(name string) error {
	msg := fmt.Sprintf("unknown metric %q", name)
	if before, after, ok := strings.Cut(name, "-"); ok && c.isKnown(before) && c.isKnown(strings.TrimSpace(after)) {
		return fmt.Errorf("%s; to subtract write spaces around the minus: %s - %s", msg, before, after)
	}
	if strings.HasPrefix(name, metric.EndpointPrefix) {
		return fmt.Errorf(`%s; per-endpoint names with spaces are quoted: metric("%s<endpoint>.p95")`, msg, endpointResponseTime)
	}
	if s := c.suggest(name); s != "" {
		return fmt.Errorf("%s; did you mean %q?", msg, s)
	}
	return fmt.Errorf("%s (known: %s, %s<code>, %s<code>, %s.<stat>, %s<endpoint>.<stat>)",
		msg, strings.Join(slices.Concat(metric.Counters(), metric.Rates()), ", "), metric.CodePrefix, metric.ErrorPrefix,
		strings.Join(summaries(), ".<stat>, "), endpointResponseTime)
}

func (c *catalog) isKnown(name string) bool {
	_, err := c.classify(name)
	return err == nil
}

// suggest finds the known name closest to a misspelt one: a bare statistic
// such as p95 means the run-wide latency, otherwise the nearest by edit distance.
func (c *catalog) suggest(name string) string {
	if slices.Contains(report.SummaryStats(), name) {
		return metric.ResponseTime + "." + name
	}
	cands := counters()
	cands = append(cands, metric.Code(200), metric.Code(500))
	sums := summaries()
	if c.extended {
		sums = slices.Concat(sums, metric.ExtendedSummaries())
	}
	for _, s := range sums {
		for _, st := range report.SummaryStats() {
			cands = append(cands, s+"."+st)
		}
	}
	for _, ep := range c.endpoints {
		for _, st := range report.SummaryStats() {
			cands = append(cands, endpointResponseTime+ep+"."+st)
		}
	}
	return closest(name, cands)
}

// closest returns the candidate nearest to s when it is near enough to be a
// plausible typo, else "".
func closest(s string, cands []string) string {
	best, bestD := "", -1
	for _, c := range cands {
		d := scenario.EditDistance(s, c)
		if bestD < 0 || d < bestD {
			best, bestD = c, d
		}
	}
	if bestD < 0 || bestD > max(2, len(s)/3) {
		return ""
	}
	return best
}

func cutLast(name string) (before, after string, ok bool) {
	i := strings.LastIndexByte(name, '.')
	if i < 0 {
		return "", "", false
	}
	return name[:i], name[i+1:], true
}

func quoteAll(list []string) string {
	q := make([]string, len(list))
	for i, s := range list {
		q[i] = fmt.Sprintf("%q", s)
	}
	sort.Strings(q)
	return strings.Join(q, ", ")
}

func isDigit(b byte) bool { return '0' <= b && b <= '9' }
