package scenario

import (
	"regexp"
	"strings"
	"testing"
	"time"
)

// TestTemplatedConfigValues: config values written as templates are
// rendered from the environment, -e and --var before the script is read,
// as Artillery's resolveConfigTemplates does, and validated as what they
// became at their own position (issue 18).
func TestTemplatedConfigValues(t *testing.T) {
	env := func(k string) (string, bool) {
		v, ok := map[string]string{"RATE": "5", "DUR": "2min", "HOST": "http://127.0.0.1:9000", "BAD": "fast", "T": "3", "REJECT": "false"}[k]
		return v, ok
	}
	src := `config:
  target: "{{ $env.HOST }}"
  phases:
    - duration: "{{ $env.DUR }}"
      arrivalRate: "{{ $env.RATE }}"
      rampTo: "{{ peak }}"
      maxVusers: "{{ $env.RATE }}"
  http:
    timeout: "{{ $env.T }}"
    defaults:
      headers: {X-Env: "{{ $environment }}"}
  tls:
    rejectUnauthorized: "{{ $env.REJECT }}"
  environments:
    ci:
      phases: [{duration: 1, arrivalRate: "{{ $env.RATE }}"}]
scenarios:
  - flow:
      - get: {url: /}
`
	s, err := Parse("c.yml", []byte(src), LoadOptions{Env: env, Vars: map[string]string{"peak": "20"}})
	if err != nil {
		t.Fatal(err)
	}
	p := s.Config.Phases[0]
	if s.Config.Target != "http://127.0.0.1:9000" || p.Duration != 2*time.Minute || p.ArrivalRate != 5 || p.RampTo != 20 || p.MaxVusers != 5 ||
		s.Config.HTTP.Timeout != 3*time.Second || s.Config.TLS.RejectUnauthorized {
		t.Errorf("rendered config = target %q, %+v, timeout %v, reject %v", s.Config.Target, p, s.Config.HTTP.Timeout, s.Config.TLS.RejectUnauthorized)
	}
	if got := s.Config.Defaults.Headers[0].Value.Raw(); got != "{{ $environment }}" {
		t.Errorf("a default header is rendered per request, kept as %q", got)
	}
	s, err = Parse("c.yml", []byte(src), LoadOptions{Env: env, Vars: map[string]string{"peak": "20"}, Environment: "ci"})
	if err != nil || s.Config.Phases[0].ArrivalRate != 5 {
		t.Errorf("-e ci: %v %+v", err, s)
	}
	bad := strings.NewReplacer(`"{{ $env.RATE }}"`, `"{{ $env.BAD }}"`, `"{{ peak }}"`, `"{{ nope }}"`).Replace(src)
	_, err = Parse("c.yml", []byte(bad), LoadOptions{Env: env})
	if err == nil {
		t.Fatal("bad values accepted")
	}
	got := err.Error()
	for _, want := range []string{
		`c.yml:5:20: config.phases[0].arrivalRate: must be a number >= 0, got "fast" (rendered from "{{ $env.BAD }}")`,
		`c.yml:6:15: config.phases[0].rampTo: {{ nope }} is not set: config values can use --var names, $environment, $env.NAME and $processEnvironment.NAME`,
	} {
		if !strings.Contains(got, want) {
			t.Errorf("errors:\n%s\nwant a line:\n%s", got, want)
		}
	}
	if strings.Count(got, "rampTo") != 1 {
		t.Errorf("an unresolved value is reported once:\n%s", got)
	}
}

// TestTemplatedPayloadPath: payload.path may come from the environment.
func TestTemplatedPayloadPath(t *testing.T) {
	env := func(k string) (string, bool) { return "testdata/valid/users.csv", k == "DATA" }
	src := script(defaultPhases+"  payload: {path: \"{{ $env.DATA }}\", fields: [u, p], skipHeader: true}\n", "      - get: {url: \"/{{ u }}\"}\n")
	s, err := Parse("x.yml", []byte(src), LoadOptions{Env: env})
	if err != nil {
		t.Fatal(err)
	}
	if got := s.Config.Payloads[0].Path; got != "testdata/valid/users.csv" || len(s.Config.Payloads[0].Rows) == 0 {
		t.Errorf("payload %q with %d rows", got, len(s.Config.Payloads[0].Rows))
	}
}

// TestTemplatedConfigDefaults: every config value rendered before the run
// takes primeload's | default("text"): the environment's value when set,
// the default otherwise, and without a default an error at the value's own
// position naming its field (issue 18).
func TestTemplatedConfigDefaults(t *testing.T) {
	const src = `config:
  target: '{{ $env.TARGET | default("http://127.0.0.1:9001") }}'
  phases:
    - duration: '{{ $env.DUR | default("3s") }}'
      arrivalRate: "{{ $env.RATE | default(\"5\") }}"
      rampTo: "{{ $env.PEAK | default('7') }}"
      maxVusers: "{{ $env.MAXV | default(4) }}"
  http:
    timeout: '{{ $env.TIMEOUT | default("2") }}'
  payload:
    path: '{{ $env.DATA | default("testdata/valid/users.csv") }}'
    fields: [u, p]
    skipHeader: true
  ensure:
    p95: '{{ $env.P95 | default("250") }}'
    thresholds:
      - http.response_time.p99: '{{ $processEnvironment.P99 | default("400") }}'
scenarios:
  - flow:
      - get: {url: "/{{ u }}"}
`
	set := map[string]string{
		"TARGET": "http://127.0.0.1:9002", "DUR": "1min", "RATE": "10", "PEAK": "20", "MAXV": "8",
		"TIMEOUT": "9", "DATA": "testdata/valid/users.csv", "P95": "100", "P99": "300",
	}
	fields := []struct {
		name             string
		get              func(s *Script) any
		fromEnv, fromDef any
	}{
		{"target", func(s *Script) any { return s.Config.Target }, "http://127.0.0.1:9002", "http://127.0.0.1:9001"},
		{"duration", func(s *Script) any { return s.Config.Phases[0].Duration }, time.Minute, 3 * time.Second},
		{"arrivalRate", func(s *Script) any { return s.Config.Phases[0].ArrivalRate }, 10.0, 5.0},
		{"rampTo", func(s *Script) any { return s.Config.Phases[0].RampTo }, 20.0, 7.0},
		{"maxVusers", func(s *Script) any { return s.Config.Phases[0].MaxVusers }, 8, 4},
		{"http.timeout", func(s *Script) any { return s.Config.HTTP.Timeout }, 9 * time.Second, 2 * time.Second},
		{"payload.path", func(s *Script) any { return len(s.Config.Payloads[0].Rows) }, 2, 2},
		{"ensure p95", func(s *Script) any { return s.Config.Ensure.Legacy[0].Limit }, 100.0, 250.0},
		{"ensure threshold", func(s *Script) any { return s.Config.Ensure.Thresholds[0].Limit }, 300.0, 400.0},
	}
	for _, run := range []struct {
		name string
		env  map[string]string
		want func(i int) any
	}{
		{"env set", set, func(i int) any { return fields[i].fromEnv }},
		{"env unset", nil, func(i int) any { return fields[i].fromDef }},
	} {
		s, err := Parse("d.yml", []byte(src), LoadOptions{Env: func(k string) (string, bool) { v, ok := run.env[k]; return v, ok }})
		if err != nil {
			t.Fatalf("%s: %v", run.name, err)
		}
		for i, f := range fields {
			if got, want := f.get(s), run.want(i); got != want {
				t.Errorf("%s: %s = %v, want %v", run.name, f.name, got, want)
			}
		}
	}

	// Without the defaults and the environment: one error per value, at
	// its line and column, naming its field.
	noDefault := regexp.MustCompile(`\s*\|\s*default\([^)]*\)`).ReplaceAllString(src, "")
	_, err := Parse("d.yml", []byte(noDefault), LoadOptions{Env: func(string) (string, bool) { return "", false }})
	if err == nil {
		t.Fatal("unset values without defaults accepted")
	}
	for _, want := range []string{
		"d.yml:2:11: config.target: {{ $env.TARGET }} is not set",
		"d.yml:4:17: config.phases[0].duration: {{ $env.DUR }} is not set",
		"d.yml:5:20: config.phases[0].arrivalRate: {{ $env.RATE }} is not set",
		"d.yml:6:15: config.phases[0].rampTo: {{ $env.PEAK }} is not set",
		"d.yml:7:18: config.phases[0].maxVusers: {{ $env.MAXV }} is not set",
		"d.yml:9:14: config.http.timeout: {{ $env.TIMEOUT }} is not set",
		"d.yml:11:11: config.payload.path: {{ $env.DATA }} is not set",
		"d.yml:15:10: config.ensure.p95: {{ $env.P95 }} is not set",
		"d.yml:17:33: config.ensure.thresholds[0].http.response_time.p99: {{ $processEnvironment.P99 }} is not set",
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("errors:\n%v\nwant a line starting:\n%s", err, want)
		}
	}

	// A default that is no valid value is reported as what it became.
	bad := strings.Replace(src, `default(\"5\")`, `default(\"fast\")`, 1)
	_, err = Parse("d.yml", []byte(bad), LoadOptions{})
	if want := `d.yml:5:20: config.phases[0].arrivalRate: must be a number >= 0, got "fast"`; err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("bad default: %v, want %q", err, want)
	}
}

// TestTemplatedUnchosenEnvironment: an environment -e does not choose may
// read environment variables only its own runs set (Artillery's
// script-overrides example: ARRIVAL_RATE=20 artillery run -e dynamic); it
// is not rendered then, while the chosen one must resolve (issue 18).
func TestTemplatedUnchosenEnvironment(t *testing.T) {
	src := `config:
  target: http://127.0.0.1:9000
  phases: [{duration: 1, arrivalRate: 1}]
  environments:
    smoke:
      phases: [{duration: 10, arrivalRate: 1}]
    dynamic:
      phases: [{duration: "{{ $processEnvironment.DURATION }}", arrivalRate: "{{ $processEnvironment.ARRIVAL_RATE }}"}]
scenarios:
  - flow:
      - get: {url: /}
`
	none := func(string) (string, bool) { return "", false }
	for _, env := range []string{"", "smoke"} {
		if _, err := Parse("e.yml", []byte(src), LoadOptions{Env: none, Environment: env}); err != nil {
			t.Errorf("-e %q: %v", env, err)
		}
	}
	_, err := Parse("e.yml", []byte(src), LoadOptions{Env: none, Environment: "dynamic"})
	if want := "e.yml:8:27: config.environments.dynamic.phases[0].duration: {{ $processEnvironment.DURATION }} is not set"; err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("-e dynamic without its variables: %v, want %q", err, want)
	}
	set := func(k string) (string, bool) {
		v, ok := map[string]string{"DURATION": "600", "ARRIVAL_RATE": "20"}[k]
		return v, ok
	}
	s, err := Parse("e.yml", []byte(src), LoadOptions{Env: set, Environment: "dynamic"})
	if err != nil || s.Config.Phases[0].ArrivalRate != 20 || s.Config.Phases[0].Duration != 600*time.Second {
		t.Errorf("-e dynamic: %v %+v", err, s)
	}
}
