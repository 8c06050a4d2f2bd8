package cmd

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"github.com/primeload/primeload/report/metric"
)

// TestRunMetricsNamespace: a real run under Artillery's metricsNamespace
// writes its per-endpoint metrics under the namespace, as Artillery does,
// gates on ensure checks written with those names, and `primeload report`
// reads the file back to the same verdict.
func TestRunMetricsNamespace(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name  string
		count string // the expected /items 200s in the condition
		want  int
	}{
		{"the check holds", "3", ExitOK},
		{"the check fails", "4", ExitSLO},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var h hits
			srv := itemsServer(t, &h)
			script := writeScript(t, tinyScript(srv.URL, 3, `  plugins:
    ensure: {}
    metrics-by-endpoint:
      metricsNamespace: shop.api
  ensure:
    thresholds:
      - "shop.api.response_time./items/{{ id }}.p95": 10000
    conditions:
      - expression: "shop.api./items.codes.200 == `+tc.count+` and http.codes.200 == 6"
        strict: true`))
			out := filepath.Join(t.TempDir(), "report.json")
			res := execRun(t, nil, nil, out, script)
			if res.code != wantExit(res, tc.want) {
				t.Fatalf("exit %d, want %d\nstdout:\n%s\nstderr:\n%s", res.code, tc.want, res.out, res.errOut)
			}
			var raw struct {
				Aggregate struct {
					Counters  map[string]int64           `json:"counters"`
					Summaries map[string]json.RawMessage `json:"summaries"`
				} `json:"aggregate"`
				MetricsNamespace string `json:"metricsNamespace"`
			}
			if err := json.Unmarshal(res.raw, &raw); err != nil {
				t.Fatal(err)
			}
			if raw.MetricsNamespace != "shop.api" {
				t.Errorf("metricsNamespace in the file %q, want shop.api", raw.MetricsNamespace)
			}
			if got := raw.Aggregate.Counters["shop.api./items.codes.200"]; got != 3 {
				t.Errorf("shop.api./items.codes.200 = %d in the file, want 3", got)
			}
			if _, ok := raw.Aggregate.Summaries["shop.api.response_time./items/{{ id }}"]; !ok {
				t.Errorf("no shop.api.response_time./items/{{ id }} summary in the file")
			}
			for name := range raw.Aggregate.Counters {
				if strings.HasPrefix(name, metric.EndpointPrefix) {
					t.Errorf("%s in the file under metricsNamespace shop.api", name)
				}
			}
			if got := res.rep.Aggregate.Counters[metric.EndpointCode("/items", 200)]; got != 3 {
				t.Errorf("the decoded report has %s = %d, want 3 under the default name", metric.EndpointCode("/items", 200), got)
			}
			if !strings.Contains(res.out, "shop.api./items.codes.200 == "+tc.count) {
				t.Errorf("the summary does not show the check as written:\n%s", res.out)
			}
			code, stdout, stderr := execReport(t, nil, out)
			if code != wantExit(res, tc.want) {
				t.Errorf("report: exit %d, want %d\n%s\n%s", code, tc.want, stdout, stderr)
			}
			if !strings.Contains(stdout, "shop.api./items.codes.200 == "+tc.count) || !strings.Contains(stdout, "/items/{{ id }}") {
				t.Errorf("report's summary lacks the namespaced check or the endpoint:\n%s", stdout)
			}
		})
	}
}
