package slo

import (
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/primeload/primeload/report"
	"github.com/primeload/primeload/report/metric"
	"github.com/primeload/primeload/scenario"
)

// artilleryForm is one ensure form of testdata/artillery/forms.json, with
// the verdict Artillery 2.0.34 gives it over testdata/artillery/fixture.json
// (written by testdata/artillery/verdicts.js, which runs filtrex 2.2.3).
type artilleryForm struct {
	Threshold string `json:"threshold"`
	Condition string `json:"condition"`
	Legacy    string `json:"legacy"`
	Limit     any    `json:"limit"`
	Strict    *bool  `json:"strict"`
	Artillery string `json:"artillery"` // pass or fail
	// Primeload and Why are set where primeload's verdict differs on
	// purpose: "pass", "fail" or "rejected" (a compile error), and why.
	Primeload string `json:"primeload"`
	Why       string `json:"why"`
	// Value is the measured value a check comparing one side with a
	// constant reports, worked out by hand from fixture.json; nil for a
	// compound check. Reads are the metric names the expression must
	// resolve, bare names included; Unmeasured, that they have no samples.
	Value      *float64 `json:"value"`
	Reads      []string `json:"reads"`
	Unmeasured bool     `json:"unmeasured"`
}

// checkEvaluated asserts what the check read and computed, beyond its
// verdict: a bare name read as the wrong metric could still pass.
func (f artilleryForm) checkEvaluated(t *testing.T, r report.SLO) {
	t.Helper()
	switch {
	case f.Value == nil && r.Value != nil:
		t.Errorf("value %v, want none (a compound check)", *r.Value)
	case f.Value != nil && r.Value == nil:
		t.Errorf("no value, want %v", *f.Value)
	case f.Value != nil && math.Abs(*r.Value-*f.Value) > 1e-6*math.Max(1, math.Abs(*f.Value)):
		t.Errorf("value %v, want %v", *r.Value, *f.Value)
	}
	if len(f.Reads) == 0 {
		t.Fatal("the form lists no metric names it reads")
	}
	for _, name := range f.Reads {
		want := name + "="
		if f.Unmeasured {
			want = "no samples: " + name
		}
		if !strings.Contains(r.Detail, want) {
			t.Errorf("detail %q does not show %q read", r.Detail, name)
		}
	}
}

// artilleryFixture is the fixed report, in the shape of Artillery's JSON
// report aggregate, and the --variables the forms' templates read.
type artilleryFixture struct {
	Variables map[string]any                `json:"variables"`
	Counters  map[string]float64            `json:"counters"`
	Rates     map[string]float64            `json:"rates"`
	Summaries map[string]map[string]float64 `json:"summaries"`
}

func (f artilleryFixture) metrics() MapMetrics {
	m := MapMetrics{}
	for k, v := range f.Counters {
		m[k] = v
	}
	for k, v := range f.Rates {
		m[k] = v
	}
	for name, stats := range f.Summaries {
		for stat, v := range stats {
			m[name+"."+stat] = v
		}
	}
	return m
}

// yaml writes the form as a script's config.ensure holds it.
func (f artilleryForm) yaml() string {
	limit := func() string { return strconv.Quote(fmt.Sprint(f.Limit)) }
	switch {
	case f.Threshold != "":
		return fmt.Sprintf("    thresholds:\n      - %s: %s\n", strconv.Quote(f.Threshold), limit())
	case f.Condition != "":
		strict := ""
		if f.Strict != nil {
			strict = fmt.Sprintf("\n        strict: %v", *f.Strict)
		}
		return fmt.Sprintf("    conditions:\n      - expression: %s%s\n", strconv.Quote(f.Condition), strict)
	}
	return fmt.Sprintf("    %s: %s\n", f.Legacy, limit())
}

func (f artilleryForm) String() string {
	return strings.TrimSpace(strings.ReplaceAll(f.yaml(), "\n", " "))
}

// TestArtilleryForms runs 41 ensure forms through the script loader and the
// SLO compiler and checks each verdict against Artillery's, and the value
// and metric names primeload evaluated. Where Artillery
// is wrong, the form says why and primeload's verdict is asserted instead:
//   - a check on http.response_time.p999: Artillery's text substitution
//     puts p99's value inside it first, so the check never compiles;
//   - a counter the run never incremented (http.codes.503 < 1): undefined
//     in Artillery, so the check fails; 0 in primeload;
//   - not (summary without samples > 100): Artillery compares undefined and
//     passes; primeload fails a check that reads a metric with no samples;
//   - a legacy limit with decimals (median: 20.5): Artillery truncates it
//     with parseInt; primeload keeps it.
func TestArtilleryForms(t *testing.T) {
	t.Parallel()
	var forms []artilleryForm
	var fixture artilleryFixture
	for path, v := range map[string]any{"forms.json": &forms, "fixture.json": &fixture} {
		data, err := os.ReadFile(filepath.Join("testdata", "artillery", path))
		if err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(data, v); err != nil {
			t.Fatalf("%s: %v", path, err)
		}
	}
	if len(forms) != 41 {
		t.Fatalf("%d forms, want 41", len(forms))
	}
	vars := map[string]string{}
	for k, v := range fixture.Variables {
		vars[k] = fmt.Sprint(v)
	}
	var eps, scenarios []string
	for name := range fixture.Summaries {
		if ep, ok := strings.CutPrefix(name, endpointResponseTime); ok {
			eps = append(eps, ep)
		}
	}
	for name := range fixture.Counters {
		if sc, ok := strings.CutPrefix(name, metric.CreatedByNamePrefix); ok {
			scenarios = append(scenarios, sc)
		}
	}
	m := fixture.metrics()
	differ := 0
	for _, f := range forms {
		t.Run(f.String(), func(t *testing.T) {
			want := f.Artillery
			if f.Primeload != "" {
				if f.Why == "" {
					t.Fatal("a form that differs from Artillery must say why")
				}
				want = f.Primeload
				differ++
			}
			src := "config:\n  target: http://127.0.0.1:1\n  phases:\n    - duration: 1\n      arrivalRate: 1\n  ensure:\n" +
				f.yaml() + "scenarios:\n  - flow:\n      - get:\n          url: /items\n"
			script, err := scenario.Parse("forms.yml", []byte(src), scenario.LoadOptions{Vars: vars})
			if err != nil {
				t.Fatalf("load:\n%s\n%v", src, err)
			}
			set, errs := Compile(script.Config.Ensure, Names{Endpoints: eps, Scenarios: scenarios})
			got := ""
			switch {
			case len(errs) > 0:
				got = "rejected"
				if want != "rejected" {
					t.Fatalf("rejected: %v", errs)
				}
			case set.Len() != 1:
				t.Fatalf("%d checks, want 1", set.Len())
			default:
				r := set.Evaluate(m)[0]
				f.checkEvaluated(t, r)
				got = map[bool]string{true: "pass", false: "fail"}[r.OK]
				if got != want {
					t.Errorf("%s: %s, want %s (Artillery: %s) [%s]", r.Expression, got, want, f.Artillery, r.Detail)
				}
			}
			if f.Primeload != "" && got == f.Artillery {
				t.Errorf("documented as differing from Artillery (%s), but both say %s", f.Why, got)
			}
		})
	}
	if differ != 4 {
		t.Errorf("%d forms differ from Artillery on purpose; the comment above lists 4", differ)
	}
}
