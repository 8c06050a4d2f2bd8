package mdsummary

import (
	"bytes"
	"flag"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/primeload/primeload/report"
	"github.com/primeload/primeload/report/reporttest"
	"github.com/primeload/primeload/report/slo"
	"github.com/primeload/primeload/scenario"
)

var update = flag.Bool("update", false, "rewrite golden files")

func TestGolden(t *testing.T) {
	t.Parallel()
	tests := []struct {
		golden string
		opts   reporttest.Options
		want   string // the headline's verdict
	}{
		{"failed.md", reporttest.Options{Failures: true, Ensure: scenario.Ensure{
			Thresholds: []scenario.Threshold{{Metric: "http.response_time.p99", Limit: 500}},
			Conditions: []scenario.Condition{
				{Expression: "http.codes.500 / http.requests < 0.001 || http.requests < 10", Strict: true},
				{Expression: `plugins.metrics-by-endpoint.response_time./api/goods-received/.p95 < 20`},
			},
		}}, "❌ SLO failed"},
		{"passed.md", reporttest.Options{Ensure: scenario.Ensure{Legacy: []scenario.Threshold{{Metric: "p99", Limit: 500}}}}, "✅ SLOs passed"},
		{"untrusted.md", reporttest.Options{Lag: 40 * time.Millisecond, Periods: 2}, "⚠️ untrusted"},
		{"down.md", reporttest.Options{Down: true, Periods: 1, Ensure: scenario.Ensure{Legacy: []scenario.Threshold{{Metric: "p95", Limit: 500}}}}, "❌ SLO failed"},
	}
	for _, tt := range tests {
		t.Run(tt.golden, func(t *testing.T) {
			t.Parallel()
			r := reporttest.Run(t, tt.opts)
			results, errs := slo.Check(r)
			if len(errs) > 0 {
				t.Fatal(errs)
			}
			var buf bytes.Buffer
			if err := Write(&buf, withSLOs(r, results)); err != nil {
				t.Fatal(err)
			}
			head, _, _ := strings.Cut(buf.String(), "\n")
			if !strings.HasSuffix(head, tt.want) {
				t.Errorf("headline %q, want it to end in %q", head, tt.want)
			}
			reporttest.Golden(t, filepath.Join("testdata", tt.golden), buf.Bytes(), *update)
		})
	}
}

func TestCode(t *testing.T) {
	t.Parallel()
	tests := []struct{ in, want string }{
		{"a < 1", "`a < 1`"},
		{"a || b", "`a \\|\\| b`"},
		{"`x` == 1", "`` `x` == 1 ``"},
	}
	for _, tt := range tests {
		if got := code(tt.in); got != tt.want {
			t.Errorf("code(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

// withSLOs stores results in r, where the writers read them.
func withSLOs(r *report.Report, results []report.SLO) *report.Report {
	r.SLO = results
	return r
}

// TestHeadlineFollowsVerdict: the headline says what the judge said, so a
// run that exits 21 or 130 does not read as passed.
func TestHeadlineFollowsVerdict(t *testing.T) {
	t.Parallel()
	tests := []struct {
		verdict report.Verdict
		want    string
	}{
		{report.Interrupted, "⏹️ interrupted"},
		{report.ExpectFailed, "❌ expectations failed"},
		{report.Pass, "✅ finished"},
	}
	for _, tt := range tests {
		r := reporttest.Run(t, reporttest.Options{Periods: 1})
		r.Verdict = tt.verdict
		var buf bytes.Buffer
		if err := Write(&buf, r); err != nil {
			t.Fatal(err)
		}
		if first, _, _ := strings.Cut(buf.String(), "\n"); !strings.HasSuffix(first, tt.want) {
			t.Errorf("verdict %s: headline %q, want it to end %q", tt.verdict, first, tt.want)
		}
	}
}
