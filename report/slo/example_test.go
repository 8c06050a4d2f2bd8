package slo

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/primeload/primeload/scenario"
)

// TestExamplesCompile keeps the shipped examples' SLOs valid: every metric
// name exists and every per-endpoint metric names an endpoint the script calls.
func TestExamplesCompile(t *testing.T) {
	t.Parallel()
	tests := []struct {
		file, env string
		slos      int
	}{
		{"black-friday.yml", "", 5},
		{"black-friday.yml", "quick", 5},
		{"seed-load-test.yml", "quick", 0},
	}
	for _, tt := range tests {
		path := filepath.Join("..", "..", "examples", tt.file)
		script, err := scenario.Load(path, scenario.LoadOptions{Environment: tt.env})
		if err != nil {
			t.Errorf("%s: %v", path, err)
			continue
		}
		set, errs := Compile(script.Config.Ensure, ScriptNames(script))
		if len(errs) > 0 {
			t.Errorf("%s -e %q: %v", path, tt.env, errs)
		}
		if set.Len() != tt.slos {
			t.Errorf("%s -e %q: %d SLOs, want %d", path, tt.env, set.Len(), tt.slos)
		}
	}
}

// TestScriptTypoHasPosition goes through the real loader: the error names the
// file and the line of the misspelt metric.
func TestScriptTypoHasPosition(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "typo.yml")
	script := `config:
  target: "http://127.0.0.1:8080"
  phases:
    - duration: 1
      arrivalRate: 1
  ensure:
    thresholds:
      - http.response_time.p95: 500
      - http.respnse_time.p99: 900
    conditions:
      - expression: "http.codes.500 / http.request < 0.001"
scenarios:
  - flow:
      - get:
          url: "/"
`
	if err := os.WriteFile(path, []byte(script), 0o644); err != nil {
		t.Fatal(err)
	}
	s, err := scenario.Load(path, scenario.LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	_, errs := Compile(s.Config.Ensure, ScriptNames(s))
	want := []string{
		path + `:9:9: ensure.thresholds: http.respnse_time.p99: unknown metric "http.respnse_time.p99"; did you mean "http.response_time.p99"?`,
		path + `:11:9: ensure.conditions: http.codes.500 / http.request < 0.001: unknown metric "http.request"; did you mean "http.requests"?`,
	}
	if len(errs) != len(want) {
		t.Fatalf("got %d errors %v, want %d", len(errs), errs, len(want))
	}
	for i, err := range errs {
		if err.Error() != want[i] {
			t.Errorf("error %d:\n got %s\nwant %s", i, err, want[i])
		}
	}
}
