package scenario

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"
)

// TestArtilleryDurations: every form of Artillery's duration grammar (the
// ms package) that its examples use, and Go's forms, read as the same
// length (issue 18).
func TestArtilleryDurations(t *testing.T) {
	tests := []struct {
		in   string
		want time.Duration
	}{
		{`"10min"`, 10 * time.Minute},
		{`"5min"`, 5 * time.Minute},
		{`"0.5 min"`, 30 * time.Second},
		{`"9 seconds"`, 9 * time.Second},
		{`"2 hrs"`, 2 * time.Hour},
		{`"1 hour"`, time.Hour},
		{`"3Mins"`, 3 * time.Minute},
		{`"1d"`, 24 * time.Hour},
		{`"2 weeks"`, 14 * 24 * time.Hour},
		{`"250 msecs"`, 250 * time.Millisecond},
		{`".5s"`, 500 * time.Millisecond},
		{`"90s"`, 90 * time.Second},
		{`"1h30m"`, 90 * time.Minute}, // Go's form, which ms does not read
		{`"1500us"`, 1500 * time.Microsecond},
		{`"120"`, 2 * time.Minute}, // a whole number in a string: seconds, as in Artillery
		{`45`, 45 * time.Second},
		{`2.5`, 2500 * time.Millisecond},
	}
	for _, tt := range tests {
		src := script("  phases: [{duration: "+tt.in+", arrivalRate: 1}]\n", "      - think: "+tt.in+"\n")
		s, err := Parse("d.yml", []byte(src), LoadOptions{})
		if err != nil {
			t.Errorf("duration %s: %v", tt.in, err)
			continue
		}
		if got := s.Config.Phases[0].Duration; got != tt.want {
			t.Errorf("phase duration %s = %v, want %v", tt.in, got, tt.want)
		}
		if got := s.Scenarios[0].Flow[0].Think; got != tt.want {
			t.Errorf("think %s = %v, want %v", tt.in, got, tt.want)
		}
	}
	for _, bad := range []string{`"ten minutes"`, `"5 parsecs"`, `"-1 min"`, `"0 min"`, `"1.2.3s"`, `"2 years"`, `"min"`} {
		src := script("  phases: [{duration: "+bad+", arrivalRate: 1}]\n", "      - get: {url: /}\n")
		if got := parseErr(t, "d.yml", src); !strings.Contains(got, "config.phases[0].duration: must be") {
			t.Errorf("duration %s: %q", bad, got)
		}
	}
}

// TestDefaultPhase: without config.phases a script runs one virtual user
// once, Artillery's default for functional tests (issue 18); an
// environment's phases still replace it.
func TestDefaultPhase(t *testing.T) {
	src := "config:\n  target: http://127.0.0.1:8080\n  environments:\n    load: {phases: [{duration: 60, arrivalRate: 5}]}\n" +
		"scenarios:\n  - flow:\n      - get: {url: /}\n"
	s, err := Parse("f.yml", []byte(src), LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := s.Config.Phases, []Phase{{Kind: PhaseCount, Duration: time.Second, ArrivalCount: 1, Line: 2}}; len(got) != 1 || got[0] != want[0] {
		t.Errorf("phases = %+v, want %+v", got, want)
	}
	s, err = Parse("f.yml", []byte(src), LoadOptions{Environment: "load"})
	if err != nil {
		t.Fatal(err)
	}
	if got := s.Config.Phases; len(got) != 1 || got[0].Kind != PhaseConstant || got[0].ArrivalRate != 5 {
		t.Errorf("phases with -e load = %+v", got)
	}
	// An empty list is still a mistake, not a request for the default.
	if got := parseErr(t, "f.yml", script("  phases: []\n", "      - get: {url: /}\n")); !strings.Contains(got, "config.phases: must hold at least one phase") {
		t.Errorf("phases: [] = %q", got)
	}
}

// TestHarmlessKeysAndProcessor: keys Artillery accepts that change nothing
// here, and a processor nothing calls, load with one note each, in file
// order; a processor that a hook calls stays an error (issue 18).
func TestHarmlessKeysAndProcessor(t *testing.T) {
	src := `$schema: https://www.artillery.io/schema.json
version: 2
config:
  target: http://127.0.0.1:8080
  statsInterval: 5
  processor: ./helpers.js
  includeFiles: [data.json]
  bundling: {external: [left-pad]}
  environments:
    ci: {statsInterval: 1}
scenarios:
  - flow:
      - get: {url: /}
`
	s, err := Parse("h.yml", []byte(src), LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, w := range s.Warnings {
		got = append(got, w.Error())
	}
	want := []string{
		"h.yml:1:1: $schema: has no effect: it tells an editor which schema to check the file against",
		"h.yml:2:1: version: has no effect: primeload reads every script the same way",
		"h.yml:5:3: config.statsInterval: has no effect: primeload reports in periods of run --period (default 10s)",
		"h.yml:6:3: config.processor: not loaded: primeload runs no JavaScript, and no hook or function step here calls it",
		"h.yml:7:3: config.includeFiles: has no effect: it lists files to ship to Artillery's cloud runners; primeload reads only the script and its payload files",
		"h.yml:8:3: config.bundling: has no effect: it shapes how Artillery bundles processor JavaScript, which primeload does not run",
		"h.yml:10:10: config.environments.ci.statsInterval: has no effect: primeload reports in periods of run --period (default 10s)",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("warnings:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	// -e ci merges the environment: its note is not repeated.
	if s, err := Parse("h.yml", []byte(src), LoadOptions{Environment: "ci"}); err != nil || len(s.Warnings) != len(want) {
		t.Errorf("with -e ci: %v, %d warnings, want %d", err, len(s.Warnings), len(want))
	}
	// A harmless key in the wrong place is still unknown.
	if got := parseErr(t, "h.yml", script(defaultPhases+"  version: 2\n", "      - get: {url: /}\n")); !strings.Contains(got, "config.version: unknown key") {
		t.Errorf("config.version: %q", got)
	}
	// A processor something calls is an error, with the call.
	used := strings.Replace(src, "      - get: {url: /}", "      - get: {url: /, beforeRequest: sign}", 1)
	got2 := parseErr(t, "h.yml", used)
	for _, w := range []string{"h.yml:6:3: config.processor: JavaScript processors are not supported", "h.yml:13:23: scenarios[0].flow[0].get.beforeRequest:"} {
		if !strings.Contains(got2, w) {
			t.Errorf("error = %q, want it to contain %q", got2, w)
		}
	}
}

// TestYAMLSyntaxPositions: a syntax error is reported at the line that is
// wrong, not where the enclosing block starts (issue 18); when yaml.v3's
// own line is the better one, it is kept.
func TestYAMLSyntaxPositions(t *testing.T) {
	tests := []struct {
		name, src, want string
	}{
		{"indentation slip in a header list", "config:\n  target: http://127.0.0.1:8080\n  defaults:\n    headers:\n      a: b\n     c: d\nscenarios: []\n",
			"y.yml:6:6: invalid YAML: value is not allowed in this context (in the block that starts at line 3)"},
		{"unclosed quote", "config:\n  target: \"http://x\nscenarios: []\n",
			"y.yml:2:11: invalid YAML: could not find end character of double-quoted text"},
		{"unclosed list", "config: {target: http://x}\nscenarios: [1, 2\nafter: {}\n",
			"y.yml:3:1: invalid YAML: ',' or ']' must be specified (in the block that starts at line 1)"},
		{"over-indented key keeps yaml.v3's line", "config: 1\n  scenarios: 2\n",
			"y.yml:2:1: invalid YAML: mapping values are not allowed in this context"},
	}
	for _, tt := range tests {
		if got := parseErr(t, "y.yml", tt.src); got != tt.want {
			t.Errorf("%s:\n got %q\nwant %q", tt.name, got, tt.want)
		}
	}
}

// TestArtilleryCorpus: every script of testdata/artillery, written in the
// style of Artillery 2.0.34's examples and tests, validates unchanged
// (issue 18); the runner's tests run the same forms against a server.
func TestArtilleryCorpus(t *testing.T) {
	files, err := filepath.Glob("testdata/artillery/*.yml")
	if err != nil || len(files) == 0 {
		t.Fatalf("no corpus: %v", err)
	}
	// The environment Artillery's own tests export for such scripts.
	env := func(k string) (string, bool) {
		v, ok := map[string]string{"TARGET": "http://127.0.0.1:3003", "RATE": "2", "WARMUP": "30s", "DURATION": "600", "ARRIVAL_RATE": "20"}[k]
		return v, ok
	}
	for _, f := range files {
		if _, err := Load(f, LoadOptions{Env: env}); err != nil {
			t.Errorf("%s: %v", f, err)
		}
		// And with each environment it names (-e functional turns on
		// expectations in Artillery's examples).
		src, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var doc struct {
			Config struct{ Environments map[string]any }
		}
		if err := yaml.Unmarshal(src, &doc); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		for name := range doc.Config.Environments {
			if _, err := Load(f, LoadOptions{Env: env, Environment: name}); err != nil {
				t.Errorf("%s -e %s: %v", f, name, err)
			}
		}
	}
}

// TestArtilleryPhaseForms: mode (uniform, poisson) and rampTo without
// arrivalRate, a ramp from 0 (Artillery 2.0.34 crashes on it), load as
// Artillery scripts write them; poisson elsewhere is an error (issue 18).
func TestArtilleryPhaseForms(t *testing.T) {
	src := script("  phases:\n    - {duration: 10, arrivalRate: 5, mode: poisson}\n    - {duration: 10, arrivalRate: 5, mode: uniform}\n    - {duration: 60, rampTo: 10}\n",
		"      - get: {url: /}\n")
	s, err := Parse("m.yml", []byte(src), LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	ph := s.Config.Phases
	if !ph[0].Poisson || ph[1].Poisson || ph[2].Kind != PhaseRamp || ph[2].ArrivalRate != 0 || ph[2].RampTo != 10 {
		t.Errorf("phases = %+v", ph)
	}
	for _, tt := range []struct{ phase, want string }{
		{"{duration: 10, arrivalCount: 5, mode: poisson}", "config.phases[0].mode: poisson goes with arrivalRate without rampTo"},
		{"{duration: 10, arrivalRate: 5, mode: random}", `config.phases[0].mode: must be uniform or poisson, got "random"`},
		{"{rampTo: 10}", "config.phases[0].duration: is required with rampTo"},
		{"{duration: 10, rampTo: 0}", "config.phases[0].rampTo: a ramp from 0 to 0 sends nothing"},
	} {
		if got := parseErr(t, "m.yml", script("  phases: ["+tt.phase+"]\n", "      - get: {url: /}\n")); !strings.Contains(got, tt.want) {
			t.Errorf("%s: %q, want %q", tt.phase, got, tt.want)
		}
	}
}

// TestArtilleryConfigMode: config.mode is the mode of every phase that
// sets none, as Artillery's runner gives it; it applies where a mode is
// read, a constant rate, and a phase's own mode wins (issue 18).
func TestArtilleryConfigMode(t *testing.T) {
	src := script("  mode: poisson\n  phases:\n    - {duration: 10, arrivalRate: 5}\n    - {duration: 10, arrivalRate: 5, mode: uniform}\n    - {duration: 10, arrivalRate: 1, rampTo: 5}\n    - {duration: 10, arrivalCount: 5}\n",
		"      - get: {url: /}\n")
	s, err := Parse("m.yml", []byte(src), LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var got []bool
	for _, ph := range s.Config.Phases {
		got = append(got, ph.Poisson)
	}
	if want := []bool{true, false, false, false}; !slices.Equal(got, want) {
		t.Errorf("poisson per phase = %v, want %v", got, want)
	}
	if got := parseErr(t, "m.yml", script("  mode: random\n"+defaultPhases, "      - get: {url: /}\n")); !strings.Contains(got, `m.yml:3:9: config.mode: must be uniform or poisson, got "random"`) {
		t.Errorf("bad config.mode: %q", got)
	}
}

// TestArtilleryDefaultsThinkNumber: config.defaults.think as a number (as
// Artillery's all_features script writes it) loads with a note, since
// Artillery reads only think.jitter there, and sets no jitter (issue 18).
func TestArtilleryDefaultsThinkNumber(t *testing.T) {
	s, err := Parse("d.yml", []byte(script(defaultPhases+"  defaults:\n    think: 2\n", "      - think: 1\n")), LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if s.Config.Defaults.ThinkJitter != (Jitter{}) {
		t.Errorf("jitter = %+v, want none", s.Config.Defaults.ThinkJitter)
	}
	if len(s.Warnings) != 1 || !strings.Contains(s.Warnings[0].Error(), "d.yml:5:12: config.defaults.think: has no effect") {
		t.Errorf("warnings = %v", s.Warnings)
	}
}

// TestArtilleryOtherEnvironmentNames: a name that only an environment -e
// did not choose defines is no typo: it loads, undefined in this run (as
// in Artillery), with a note; a name nothing defines is still an error
// (issue 18).
func TestArtilleryOtherEnvironmentNames(t *testing.T) {
	src := "config:\n  target: http://127.0.0.1:8080\n" + defaultPhases +
		"  environments:\n    one:\n      variables: {a: 1}\n    two:\n      variables: {a: 1, b: 2}\n" +
		"scenarios:\n  - flow:\n      - get: {url: \"/{{ a }}/{{ b }}\"}\n"
	s, err := Parse("e.yml", []byte(src), LoadOptions{Environment: "one"})
	if err != nil {
		t.Fatal(err)
	}
	if len(s.Warnings) != 1 || s.Warnings[0].Error() != "e.yml:7:5: config.environments.two: defines b, undefined under -e one (rendered as Artillery renders an undefined variable)" {
		t.Errorf("warnings = %v", s.Warnings)
	}
	if _, err := Parse("e.yml", []byte(src), LoadOptions{Environment: "two"}); err != nil {
		t.Errorf("-e two: %v", err)
	}
	bad := strings.Replace(src, "{{ b }}", "{{ c }}", 1)
	if got := parseErr(t, "e.yml", bad); !strings.Contains(got, "c is not defined") {
		t.Errorf("an undefined name: %q", got)
	}
}

// TestArtilleryConfigPhaseMerge: --config laid over a script merges phases
// index by index, so Artillery's own CLI tests (hello.json with
// hello_config.json) make a phase with a rate from the script and a count
// from the config file; as in Artillery the count wins, with a note. In one
// file the two are still an error (issue 18).
func TestArtilleryConfigPhaseMerge(t *testing.T) {
	src := script("  phases: [{duration: 2, arrivalRate: 5}]\n", "      - get: {url: /}\n")
	s, err := Parse("s.yml", []byte(src), LoadOptions{Layers: []Layer{{Name: "c.json", Data: []byte(`{"config": {"phases": [{"duration": 1, "arrivalCount": 1}]}}`)}}})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := s.Config.Phases[0], (Phase{Kind: PhaseCount, Duration: time.Second, ArrivalCount: 1, Line: 3}); got != want {
		t.Errorf("phase = %+v, want %+v", got, want)
	}
	if len(s.Warnings) != 1 || s.Warnings[0].Error() != "s.yml:3:26: config.phases[0].arrivalRate: replaced by arrivalCount from c.json, as Artillery's arrivalCount wins over a rate in the same phase" {
		t.Errorf("warnings = %v", s.Warnings)
	}
	one := script("  phases: [{duration: 2, arrivalRate: 5, arrivalCount: 1}]\n", "      - get: {url: /}\n")
	if got := parseErr(t, "s.yml", one); !strings.Contains(got, "arrivalRate: cannot be combined with arrivalCount in one phase") {
		t.Errorf("one file: %q", got)
	}
}
