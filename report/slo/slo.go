// Package slo compiles a script's ensure section (Artillery's thresholds,
// conditions and legacy keys) into checks over a finished run's metrics. All
// names are checked against what a run of the script could report before any
// load is sent, so a typo fails validation instead of passing silently.
package slo

import (
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/primeload/primeload/report"
	"github.com/primeload/primeload/report/metric"
	"github.com/primeload/primeload/scenario"
)

// Metrics gives the value of a named metric of a finished run, as Artillery
// names it: counters (http.codes.500), rates (http.request_rate) and summary
// statistics (http.response_time.p99, in milliseconds).
type Metrics interface {
	Lookup(name string) (float64, bool)
}

// MapMetrics is Metrics over a flat map of name to value.
type MapMetrics map[string]float64

// Lookup returns m[name].
func (m MapMetrics) Lookup(name string) (float64, bool) {
	v, ok := m[name]
	return v, ok
}

var _ Metrics = MapMetrics(nil)

// Spec is one SLO as text: what a script's ensure section, a --slo flag, or a
// report's recorded slo[] entry holds. Expression is the whole check, so a
// recorded report can be re-evaluated without its script.
type Spec struct {
	Name       string // a short label: the metric of a threshold, the legacy key, or the expression
	Expression string // e.g. "http.response_time.p99 < 250"
	Strict     bool   // a failing strict SLO fails the run; others only warn
	Pos        scenario.Pos
	field      string // where in the script it came from, for messages
	// threshold is the metric of a threshold, which is compiled from the
	// name itself rather than from the expression text.
	threshold string
	limit     float64
}

// Specs lists a script's SLOs in the order Artillery prints them: thresholds,
// conditions, then the legacy keys.
func Specs(e scenario.Ensure) []Spec {
	var specs []Spec
	for _, t := range e.Thresholds {
		specs = append(specs, Spec{
			Name:       t.Metric,
			Expression: t.Metric + " < " + exact(t.Limit), // as Artillery writes it
			Strict:     true,
			Pos:        t.Pos,
			field:      "ensure.thresholds",
			threshold:  t.Metric,
			limit:      t.Limit,
		})
	}
	for _, c := range e.Conditions {
		specs = append(specs, Spec{Name: c.Expression, Expression: c.Expression, Strict: c.Strict, Pos: c.Pos, field: "ensure.conditions"})
	}
	for _, l := range e.Legacy {
		specs = append(specs, legacySpec(l))
	}
	return specs
}

// legacySpec translates Artillery's legacy ensure keys. As in Artillery, min,
// max, median, p95 and p99 bound http.response_time; p50 is accepted as
// median's other name; maxErrorRate bounds the percentage of virtual users
// that did not complete, inclusively (Artillery writes "<=").
func legacySpec(l scenario.Threshold) Spec {
	s := Spec{Name: l.Metric, Strict: true, Pos: l.Pos, field: "ensure." + l.Metric}
	switch l.Metric {
	case "maxErrorRate":
		s.Expression = "(vusers.created - vusers.completed) / vusers.created * 100 <= " + exact(l.Limit)
	case "min", "max", "median", "p50", "p95", "p99":
		s.Expression = metric.ResponseTime + "." + l.Metric + " < " + exact(l.Limit)
	default:
		// Compile reports it; keep the key so the message can name it.
		s.Expression = ""
	}
	return s
}

// Set is a compiled list of SLOs, safe for concurrent Evaluate calls.
type Set struct {
	checks []check
}

// check is one compiled SLO.
type check struct {
	Spec
	names []string // metric names; refNode(i) reads names[i]
	ns    string   // the metricsNamespace names are shown under (Names.Namespace)
	kinds []kind
	root  node
	// For "lhs op constant" expressions, lhs alone, to print the measured
	// value against the limit; nil for compound conditions.
	lhs   node
	limit float64
}

// Error is a problem with one SLO, placed in the script.
type Error struct {
	Pos   scenario.Pos
	Field string // e.g. "ensure.thresholds"
	Spec  string // the SLO as written
	Err   error
}

func (e *Error) Error() string {
	var b strings.Builder
	if e.Pos.File != "" {
		fmt.Fprintf(&b, "%s:%d:", e.Pos.File, e.Pos.Line)
		if e.Pos.Column > 0 {
			fmt.Fprintf(&b, "%d:", e.Pos.Column)
		}
		b.WriteString(" ")
	}
	if e.Field != "" {
		b.WriteString(e.Field + ": ")
	}
	fmt.Fprintf(&b, "%s: %v", e.Spec, e.Err)
	return b.String()
}

func (e *Error) Unwrap() error { return e.Err }

// Names are the variable parts of metric names a run can report: a
// per-endpoint metric of another endpoint, or a per-scenario counter of
// another scenario, is an error with a suggestion, never a silent 0.
type Names struct {
	// Endpoints are the endpoint labels (scenario.Script.Endpoints).
	Endpoints []string
	// Scenarios are the scenarios as vusers.created_by_name.<scenario>
	// names them: each one's name, or its index when it has none.
	Scenarios []string
	// Namespace is the script's metricsNamespace ("" for the default):
	// expressions name per-endpoint metrics under it, as in Artillery.
	Namespace string
	// ExtendedMetrics is config.http.extendedMetrics: only with it are
	// http.dns, http.tcp, http.tls and http.total recorded.
	ExtendedMetrics bool
}

// ScriptNames are the names a run of script can report.
func ScriptNames(script *scenario.Script) Names {
	return Names{Endpoints: script.Endpoints, Scenarios: script.ScenarioLabels(), Namespace: script.Config.Plugins.Endpoints.Namespace,
		ExtendedMetrics: script.Config.HTTP.ExtendedMetrics}
}

// Compile checks and compiles a script's ensure section against the names
// its run can report. All problems are returned at once, each an *Error
// with the position in the script.
func Compile(e scenario.Ensure, names Names) (*Set, []error) {
	return CompileSpecs(Specs(e), names)
}

// CompileSpecs compiles SLOs given as text, e.g. from --slo flags or a
// recorded report.
func CompileSpecs(specs []Spec, names Names) (*Set, []error) {
	cat := newCatalog(names)
	set := &Set{}
	var errs []error
	for _, sp := range specs {
		c, err := compileNamespaced(sp, cat, names.Namespace)
		if err != nil {
			errs = append(errs, &Error{Pos: sp.Pos, Field: sp.field, Spec: label(sp), Err: err})
			continue
		}
		set.checks = append(set.checks, c)
	}
	return set, errs
}

func label(sp Spec) string {
	if sp.Expression == "" || sp.field == "ensure.thresholds" {
		return sp.Name
	}
	return sp.Expression
}

// MaxExpression is the longest SLO expression accepted, in bytes (README's
// limits table shows it).
const MaxExpression = 4096

// compileNamespaced compiles sp with its per-endpoint names under ns read
// as the default names the report holds; the check keeps sp as written, so
// results print the user's own text.
func compileNamespaced(sp Spec, cat *catalog, ns string) (check, error) {
	if ns == "" {
		return compileOne(sp, cat)
	}
	written := sp
	var err error
	if sp.threshold, err = fromNamespace(sp.threshold, ns); err != nil {
		return check{}, err
	}
	if sp.Expression, err = fromNamespace(sp.Expression, ns); err != nil {
		return check{}, err
	}
	c, err := compileOne(sp, cat)
	if err != nil {
		return check{}, namespacedError{err, ns}
	}
	c.Spec, c.ns = written, ns
	return c, nil
}

// namespacedError shows a compile error's per-endpoint names as the script
// writes them, under its metricsNamespace.
type namespacedError struct {
	err error
	ns  string
}

func (e namespacedError) Error() string {
	return strings.ReplaceAll(e.err.Error(), metric.EndpointPrefix, e.ns+".")
}

func (e namespacedError) Unwrap() error { return e.err }

// fromNamespace rewrites each name starting with ns + "." at the start of a
// word to the default per-endpoint prefix. A name under the default prefix
// is an error: with a metricsNamespace, Artillery's report has no such metric.
func fromNamespace(expr, ns string) (string, error) {
	var b strings.Builder
	custom := ns + "."
	for i := 0; i < len(expr); {
		wordStart := i == 0 || !continuesName(expr[i-1])
		switch {
		case wordStart && strings.HasPrefix(expr[i:], custom):
			b.WriteString(metric.EndpointPrefix)
			i += len(custom)
		case wordStart && strings.HasPrefix(expr[i:], metric.EndpointPrefix):
			return "", fmt.Errorf("the script's metricsNamespace is %q, so per-endpoint metrics are named %s<...>, not %s<...>", ns, custom, metric.EndpointPrefix)
		default:
			b.WriteByte(expr[i])
			i++
		}
	}
	return b.String(), nil
}

// continuesName reports whether c can continue a metric name, so that a
// namespace inside a longer name or a URL path is not taken for one.
func continuesName(c byte) bool { return isNameByte(c) || c == '.' || c == '-' || c == '/' }

func compileOne(sp Spec, cat *catalog) (check, error) {
	if sp.Expression == "" {
		return check{}, fmt.Errorf("unknown ensure key %q (valid: thresholds, conditions, min, max, median, p50, p95, p99, maxErrorRate)", sp.Name)
	}
	if sp.threshold != "" {
		if _, err := cat.classify(sp.threshold); err != nil {
			return check{}, err
		}
		c := check{Spec: sp, names: []string{sp.threshold}, lhs: refNode(0), limit: sp.limit}
		c.root = binNode{"<", refNode(0), numNode(sp.limit)}
		c.kinds = []kind{mustKind(cat, sp.threshold)}
		return c, nil
	}
	if len(sp.Expression) > MaxExpression {
		// Real SLOs are a line or two; a bound keeps compiling and the
		// "did you mean" search cheap whatever a script or --slo holds.
		return check{}, fmt.Errorf("expression is %d bytes long; at most %d", len(sp.Expression), MaxExpression)
	}
	l, err := lex(sp.Expression, cat)
	if err != nil {
		return check{}, invalid(err)
	}
	switch len(l.names) {
	case 0:
	case 1:
		return check{}, l.names[0]
	default:
		return check{}, fmt.Errorf("%w (and %d more unknown names)", l.names[0], len(l.names)-1)
	}
	root, names, err := parse(l.toks)
	if err != nil {
		return check{}, invalid(err)
	}
	c := check{Spec: sp, names: names, root: root, kinds: make([]kind, len(names))}
	for i, n := range names {
		c.kinds[i] = mustKind(cat, n)
	}
	if b, ok := root.(binNode); ok && isComparison(b.op) {
		if v, ok := constant(b.r); ok {
			c.lhs, c.limit = b.l, v
		}
	}
	return c, nil
}

// mustKind is the kind of a name the lexer has already checked.
func mustKind(cat *catalog, name string) kind {
	k, _ := cat.classify(name)
	return k
}

func invalid(err error) error {
	return fmt.Errorf("invalid expression: %w (ensure expressions are filtrex: metric names, numbers, and, or, not, in (a, b), not in, == != < <= > >=, + - * / %% ^, c ? a : b, and %s())",
		err, strings.Join(functionNames(), "(), "))
}

func isComparison(op string) bool {
	switch op {
	case "<", "<=", ">", ">=", "==", "!=":
		return true
	}
	return false
}

// constant is the value of a number or a negated number.
func constant(n node) (float64, bool) {
	switch n := n.(type) {
	case numNode:
		return float64(n), true
	case unNode:
		if v, ok := constant(n.x); ok && n.op == "-" {
			return -v, true
		}
	}
	return 0, false
}

// Len is the number of SLOs in the set.
func (s *Set) Len() int {
	if s == nil {
		return 0
	}
	return len(s.checks)
}

// Specs returns the set's SLOs as text, for recording in a report.
func (s *Set) Specs() []Spec {
	if s == nil {
		return nil
	}
	specs := make([]Spec, len(s.checks))
	for i, c := range s.checks {
		specs[i] = c.Spec
	}
	return specs
}

// Evaluate runs every SLO against the metrics of a finished run. A counter
// the run never incremented counts as 0; a summary without samples makes
// its check fail.
func (s *Set) Evaluate(m Metrics) []report.SLO {
	if s == nil {
		return nil
	}
	results := make([]report.SLO, 0, len(s.checks))
	for _, c := range s.checks {
		results = append(results, c.evaluate(m))
	}
	return results
}

func (c check) evaluate(m Metrics) report.SLO {
	r := report.SLO{Name: c.Name, Expression: c.Expression, Strict: c.Strict}
	e := evaluation{vals: make([]value, len(c.names)), have: make([]bool, len(c.names))}
	var detail []string
	for i, n := range c.names {
		v, ok := m.Lookup(n)
		if !ok && c.kinds[i] == counter {
			v, ok = 0, true
		}
		e.vals[i], e.have[i] = numValue(v), ok
		if ok {
			detail = append(detail, metric.InNamespace(n, c.ns)+"="+report.FormatNumber(v))
		}
	}
	if c.lhs != nil {
		limit := c.limit
		r.Limit = &limit
	}
	out := e.eval(c.root).number()
	if len(e.missing) > 0 {
		missing := make([]string, len(e.missing))
		for i, m := range e.missing {
			missing[i] = metric.InNamespace(c.names[m], c.ns)
		}
		r.Detail = noSamples + strings.Join(missing, ", ")
		r.Unmeasured = true
		return r
	}
	r.Detail = strings.Join(detail, ", ")
	if c.lhs != nil {
		if f := (&evaluation{vals: e.vals, have: e.have}).eval(c.lhs).number(); !math.IsNaN(f) && !math.IsInf(f, 0) {
			r.Value = &f
		}
	}
	r.OK = out == 1
	return r
}

// Passed reports whether every strict SLO passed.
func Passed(results []report.SLO) bool {
	return (&report.Report{SLO: results}).SLOsPassed()
}

// noSamples prefixes the detail of a check a summary without samples left unmeasured.
const noSamples = "no samples: "

// exact prints a limit from the script without losing digits.
func exact(v float64) string { return strconv.FormatFloat(v, 'f', -1, 64) }
