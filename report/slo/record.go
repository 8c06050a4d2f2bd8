package slo

import (
	"errors"
	"slices"
	"strings"

	"github.com/primeload/primeload/report"
	"github.com/primeload/primeload/report/metric"
)

var _ Metrics = (*report.Metrics)(nil)

// FromReport compiles the SLOs a report recorded from its script, so a report
// is checked again without the script file. Positions are unknown there.
func FromReport(r *report.Report) (*Set, []error) {
	return Compile(r.Script.Ensure, ReportNames(r))
}

// Check evaluates the SLOs a report recorded against its aggregate metrics.
func Check(r *report.Report) ([]report.SLO, []error) {
	set, errs := FromReport(r)
	if r.Aggregate == nil {
		return nil, append(errs, errors.New("report has no aggregate metrics"))
	}
	return set.Evaluate(r.Aggregate), errs
}

// CompileExpressions compiles strict SLOs given on the command line
// (--slo 'http.response_time.p99 < 250') against the given names.
func CompileExpressions(exprs []string, names Names) (*Set, []error) {
	specs := make([]Spec, len(exprs))
	for i, e := range exprs {
		specs[i] = Spec{Name: e, Expression: e, Strict: true, field: "--slo"}
	}
	return CompileSpecs(specs, names)
}

// ReportNames are the names a report knows: its script's endpoints and
// scenarios, and any that have measurements (an Artillery report records
// no script).
func ReportNames(r *report.Report) Names {
	n := Names{Endpoints: Endpoints(r), Scenarios: slices.Clone(r.Script.Scenarios), Namespace: r.MetricsNamespace}
	if r.Aggregate != nil {
		for name := range r.Aggregate.Counters {
			if sc, ok := strings.CutPrefix(name, metric.CreatedByNamePrefix); ok && !slices.Contains(n.Scenarios, sc) {
				n.Scenarios = append(n.Scenarios, sc)
			}
		}
		// A report does not record the script's config; its measurements
		// (ours or Artillery's) show whether the run had extendedMetrics.
		_, n.ExtendedMetrics = r.Aggregate.Summaries[metric.HTTPTotal]
	}
	return n
}

// Endpoints lists the endpoints a report knows: its script's and any that
// have measurements (an Artillery report records no script endpoints).
func Endpoints(r *report.Report) []string {
	eps := slices.Clone(r.Script.Endpoints)
	if r.Aggregate != nil {
		for _, ep := range r.Aggregate.EndpointsWithOutcomes() {
			if !slices.Contains(eps, ep) {
				eps = append(eps, ep)
			}
		}
	}
	return eps
}

// Record stores results in the report's slo[] and passed fields.
func Record(r *report.Report, results []report.SLO) {
	r.SLO = results
	passed := Passed(results)
	r.Passed = &passed
}
