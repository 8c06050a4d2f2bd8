package scenario

import (
	"strings"
	"testing"
)

// TestEnsureTemplates checks that ensure values are rendered when the script
// loads, from --var, $environment and the environment, as Artillery renders
// its config, and that a template naming a flow variable is left alone.
func TestEnsureTemplates(t *testing.T) {
	t.Parallel()
	script := func(ensure string) string {
		return "config:\n  target: http://127.0.0.1:1\n  phases:\n    - duration: 1\n      arrivalRate: 1\n  ensure:\n" +
			ensure + "  environments:\n    ci: {}\nscenarios:\n  - flow:\n      - get:\n          url: /items\n"
	}
	env := func(name string) (string, bool) {
		v, ok := map[string]string{"P99": "300", "BAD": "fast"}[name]
		return v, ok
	}
	opts := LoadOptions{Vars: map[string]string{"p95max": "250"}, Environment: "ci", Env: env}
	tests := []struct {
		name, ensure string
		limit        float64 // of the one threshold or legacy key
		expression   string  // of the one condition
		err          string
	}{
		{name: "threshold from --var", ensure: "    thresholds:\n      - http.response_time.p95: \"{{ p95max }}\"\n", limit: 250},
		{name: "legacy key from $env", ensure: "    p99: \"{{ $env.P99 }}\"\n", limit: 300},
		{name: "threshold from $processEnvironment", ensure: "    thresholds:\n      - http.response_time.p99: \"{{$processEnvironment.P99}}\"\n", limit: 300},
		{
			name:       "condition: known names rendered, a flow variable kept",
			ensure:     "    conditions:\n      - expression: 'metric(\"plugins.metrics-by-endpoint.response_time./items/{{ id }}.p95\") < {{ p95max }} or \"{{ $environment }}\" == 1'\n",
			expression: `metric("plugins.metrics-by-endpoint.response_time./items/{{ id }}.p95") < 250 or "ci" == 1`,
		},
		{name: "unset variable", ensure: "    p95: \"{{ $env.NOPE }}\"\n", err: "ensure.p95: {{ $env.NOPE }} is not set"},
		{name: "not a number", ensure: "    thresholds:\n      - http.response_time.p95: \"{{ $env.BAD }}\"\n", err: `must be a number >= 0, got "fast"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s, err := Parse("ensure.yml", []byte(script(tt.ensure)), opts)
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("error %v, want one containing %q", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			e := s.Config.Ensure
			switch {
			case tt.expression != "":
				if len(e.Conditions) != 1 || e.Conditions[0].Expression != tt.expression {
					t.Fatalf("conditions %+v, want %q", e.Conditions, tt.expression)
				}
			default:
				limits := append(append([]Threshold{}, e.Thresholds...), e.Legacy...)
				if len(limits) != 1 || limits[0].Limit != tt.limit {
					t.Fatalf("limits %+v, want %v", limits, tt.limit)
				}
			}
		})
	}
}
