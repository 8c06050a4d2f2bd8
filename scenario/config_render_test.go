package scenario

import (
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
