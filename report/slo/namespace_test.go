package slo

import (
	"strings"
	"testing"

	"github.com/primeload/primeload/scenario"
)

// TestEnsureUnderNamespace: with a metricsNamespace, ensure names the
// per-endpoint metrics as the file does (namespace + "." + the rest), and
// each check reads the metric the run recorded under the default name;
// results and errors show the names as written. A default name is an error:
// Artillery's report has none under that namespace.
func TestEnsureUnderNamespace(t *testing.T) {
	t.Parallel()
	const ns = "shop.api"
	tests := []struct {
		name    string
		ensure  scenario.Ensure
		ok      bool
		detail  string
		wantErr string
	}{
		{
			name:   "threshold on an endpoint passes",
			ensure: scenario.Ensure{Thresholds: []scenario.Threshold{{Metric: "shop.api.response_time.login.p99", Limit: 100}}},
			ok:     true,
			detail: "shop.api.response_time.login.p99=90",
		},
		{
			name:   "threshold on an endpoint fails",
			ensure: scenario.Ensure{Thresholds: []scenario.Threshold{{Metric: "shop.api.response_time.login.p99", Limit: 50}}},
			detail: "shop.api.response_time.login.p99=90",
		},
		{
			name:   "bare names with spaces in a condition",
			ensure: scenario.Ensure{Conditions: []scenario.Condition{{Expression: "shop.api.response_time.GET /api/goods-received/.p95 < 200 and shop.api.login.codes.200 == 100", Strict: true}}},
			ok:     true,
		},
		{
			name:   "run-wide names are not namespaced",
			ensure: scenario.Ensure{Conditions: []scenario.Condition{{Expression: "http.codes.500 < 10 and shop.api.login.codes.200 > 0", Strict: true}}},
			ok:     true,
		},
		{
			name:    "a default name is refused",
			ensure:  scenario.Ensure{Conditions: []scenario.Condition{{Expression: "plugins.metrics-by-endpoint.login.codes.200 == 100", Strict: true}}},
			wantErr: `metricsNamespace is "shop.api", so per-endpoint metrics are named shop.api.<...>`,
		},
		{
			name:    "an unknown endpoint is named as written",
			ensure:  scenario.Ensure{Thresholds: []scenario.Threshold{{Metric: "shop.api.response_time.logn.p99", Limit: 50}}},
			wantErr: `"shop.api.response_time.logn.p99"`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			set, errs := Compile(tt.ensure, Names{Endpoints: endpoints, Namespace: ns})
			if tt.wantErr != "" {
				if len(errs) != 1 || !strings.Contains(errs[0].Error(), tt.wantErr) || strings.Contains(errs[0].Error(), "plugins.metrics-by-endpoint.response_time") {
					t.Fatalf("errors %v, want one containing %q", errs, tt.wantErr)
				}
				return
			}
			if len(errs) > 0 {
				t.Fatalf("Compile: %v", errs)
			}
			got := set.Evaluate(run)
			if len(got) != 1 {
				t.Fatalf("%d results, want 1", len(got))
			}
			if got[0].OK != tt.ok {
				t.Errorf("OK = %v, want %v (%s)", got[0].OK, tt.ok, show(got[0]))
			}
			if tt.detail != "" && got[0].Detail != tt.detail {
				t.Errorf("detail %q, want %q", got[0].Detail, tt.detail)
			}
			if strings.Contains(got[0].Name+got[0].Expression+got[0].Detail, "plugins.metrics-by-endpoint") {
				t.Errorf("result shows a default name: %s", show(got[0]))
			}
		})
	}
}
