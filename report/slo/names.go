package slo

import (
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/primeload/primeload/report"
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
const endpointResponseTime = report.EndpointResponseTime

// summaries are the run-wide summary metrics the collector records.
// Artillery's vusers.session_length and http.response_time.<class>xx are
// known before primeload records them, so its scripts compile.
func summaries() []string {
	return []string{
		report.ResponseTime, report.ScheduleLag, "vusers.session_length",
		"http.response_time.2xx", "http.response_time.3xx", "http.response_time.4xx", "http.response_time.5xx",
	}
}

// counters are the fixed counter and rate names; families with a variable
// last part (http.codes.NNN, errors.X, ...) are matched in classify.
func counters() []string {
	return []string{
		"http.requests", "http.responses", "http.downloaded_bytes", report.RequestRate,
		"vusers.created", "vusers.completed", "vusers.failed", "vusers.skipped",
		"plugins.expect.ok", "plugins.expect.failed", report.Clamped,
	}
}

// catalog knows every metric name a run of one script could report.
type catalog struct {
	endpoints []string
	known     map[string]bool
}

func newCatalog(endpoints []string) *catalog {
	c := &catalog{endpoints: endpoints, known: make(map[string]bool, len(endpoints))}
	for _, e := range endpoints {
		c.known[e] = true
	}
	return c
}

// classify tells the kind of a metric name, or explains why no run of the
// script could report it.
func (c *catalog) classify(name string) (kind, error) {
	if slices.Contains(counters(), name) {
		return counter, nil
	}
	if base, stat, ok := cutLast(name); ok && slices.Contains(summaries(), base) {
		if !slices.Contains(report.SummaryStats(), stat) {
			return 0, c.unknownStat(name, base, stat)
		}
		return summary, nil
	}
	if code, ok := strings.CutPrefix(name, "http.codes."); ok {
		if !isStatusCode(code) {
			return 0, fmt.Errorf("unknown metric %q: a status code counter is http.codes.<3-digit code>, e.g. http.codes.500", name)
		}
		return counter, nil
	}
	if rest, ok := strings.CutPrefix(name, "errors."); ok && rest != "" {
		return counter, nil
	}
	if strings.HasPrefix(name, "vusers.created_by_name.") {
		// Reading it as 0 would give a wrong verdict.
		return 0, fmt.Errorf("unknown metric %q: primeload does not record vusers.created_by_name.<scenario> yet", name)
	}
	if rest, ok := strings.CutPrefix(name, "plugins.expect."); ok && rest != "" {
		return counter, nil
	}
	if strings.HasPrefix(name, report.EndpointPrefix) {
		return c.classifyEndpoint(name)
	}
	return 0, c.unknown(name)
}

// classifyEndpoint handles plugins.metrics-by-endpoint.response_time.<ep>.<stat>
// and the per-endpoint counters <prefix><ep>.codes.NNN and <prefix><ep>.errors.X.
func (c *catalog) classifyEndpoint(name string) (kind, error) {
	if rest, ok := strings.CutPrefix(name, endpointResponseTime); ok {
		ep, stat, ok := cutLast(rest)
		if !ok {
			return 0, fmt.Errorf(`unknown metric %q: a per-endpoint latency is %s<endpoint>.<stat>, and names with spaces are quoted: metric("%s<endpoint>.p95")`,
				name, endpointResponseTime, endpointResponseTime)
		}
		if !c.known[ep] {
			return 0, c.unknownEndpoint(name, ep)
		}
		if !slices.Contains(report.SummaryStats(), stat) {
			return 0, c.unknownStat(name, endpointResponseTime+ep, stat)
		}
		return summary, nil
	}
	rest := strings.TrimPrefix(name, report.EndpointPrefix)
	for _, ep := range c.endpoints {
		tail, ok := strings.CutPrefix(rest, ep+".")
		if !ok {
			continue
		}
		if code, ok := strings.CutPrefix(tail, "codes."); ok && isStatusCode(code) {
			return counter, nil
		}
		if e, ok := strings.CutPrefix(tail, "errors."); ok && e != "" {
			return counter, nil
		}
	}
	ep, _, _ := strings.Cut(rest, ".codes.")
	if ep == rest {
		ep, _, _ = strings.Cut(rest, ".errors.")
	}
	if ep != rest && !c.known[ep] {
		return 0, c.unknownEndpoint(name, ep)
	}
	return 0, c.unknown(name)
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

func (c *catalog) unknown(name string) error {
	msg := fmt.Sprintf("unknown metric %q", name)
	if before, after, ok := strings.Cut(name, "-"); ok && c.isKnown(before) && c.isKnown(strings.TrimSpace(after)) {
		return fmt.Errorf("%s; to subtract write spaces around the minus: %s - %s", msg, before, after)
	}
	if strings.HasPrefix(name, report.EndpointPrefix) {
		return fmt.Errorf(`%s; per-endpoint names with spaces are quoted: metric("%s<endpoint>.p95")`, msg, endpointResponseTime)
	}
	if s := c.suggest(name); s != "" {
		return fmt.Errorf("%s; did you mean %q?", msg, s)
	}
	return fmt.Errorf("%s (known: %s, http.codes.<code>, errors.<code>, %s.<stat>, %s<endpoint>.<stat>)",
		msg, strings.Join(counters(), ", "), strings.Join(summaries(), ".<stat>, "), endpointResponseTime)
}

func (c *catalog) isKnown(name string) bool {
	_, err := c.classify(name)
	return err == nil
}

// suggest finds the known name closest to a misspelt one: a bare statistic
// such as p95 means the run-wide latency, otherwise the nearest by edit distance.
func (c *catalog) suggest(name string) string {
	if slices.Contains(report.SummaryStats(), name) {
		return "http.response_time." + name
	}
	cands := counters()
	cands = append(cands, "http.codes.200", "http.codes.500", "errors.ETIMEDOUT", "errors.ECONNREFUSED")
	for _, s := range summaries() {
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

func isStatusCode(s string) bool {
	return len(s) == 3 && s[0] >= '1' && s[0] <= '5' && isDigit(s[1]) && isDigit(s[2])
}

func isDigit(b byte) bool { return '0' <= b && b <= '9' }

func quoteAll(list []string) string {
	q := make([]string, len(list))
	for i, s := range list {
		q[i] = fmt.Sprintf("%q", s)
	}
	sort.Strings(q)
	return strings.Join(q, ", ")
}
