package slo

import (
	"strings"
	"testing"

	"github.com/primeload/primeload/report"
	"github.com/primeload/primeload/report/metric"
	"github.com/primeload/primeload/scenario"
)

func TestFromReportEvaluateRecord(t *testing.T) {
	t.Parallel()
	r := &report.Report{
		Aggregate: &report.Metrics{
			Counters: map[string]int64{"http.requests": 200, "http.codes.200": 198, "http.codes.500": 2},
			Summaries: map[string]report.Summary{
				metric.ResponseTime:                   {P95: 120, P99: 300, Count: 200},
				metric.EndpointResponseTime + "GET /": {P95: 80, Count: 200},
			},
		},
		Script: report.ScriptInfo{Ensure: scenario.Ensure{
			Thresholds: []scenario.Threshold{{Metric: "http.response_time.p99", Limit: 250}},
			Conditions: []scenario.Condition{{Expression: `metric("plugins.metrics-by-endpoint.response_time.GET /.p95") < 100`, Strict: true}},
			Legacy:     []scenario.Threshold{{Metric: "p95", Limit: 200}},
		}},
	}
	set, errs := FromReport(r)
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	Record(r, set.Evaluate(r.Aggregate))
	var got []string
	for _, s := range r.SLO {
		got = append(got, s.Expression+"="+boolStr(s.OK)+"@"+report.FormatNumber(*s.Value))
	}
	want := []string{
		"http.response_time.p99 < 250=false@300",
		`metric("plugins.metrics-by-endpoint.response_time.GET /.p95") < 100=true@80`,
		"http.response_time.p95 < 200=true@120",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("slo[] =\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if r.Passed == nil || *r.Passed {
		t.Errorf("passed = %v, want false", r.Passed)
	}

	extra, errs := CompileExpressions([]string{"http.codes.500 < 5", "http.codez.500 < 5"}, ReportNames(r))
	if len(errs) != 1 || !strings.Contains(errs[0].Error(), `--slo: http.codez.500 < 5: unknown metric "http.codez.500"; did you mean "http.codes.500"?`) {
		t.Fatalf("CompileExpressions errors = %v", errs)
	}
	if res := extra.Evaluate(r.Aggregate); len(res) != 1 || !res[0].OK {
		t.Errorf("--slo result = %+v, want one passing", res)
	}
}
