package scenario

import (
	"strings"
	"testing"
)

// TestUnsetEnvironment is issue 12's "no silent green": a template reading
// an environment variable that is not set is an error before any load,
// naming the variable and where it is read, unless it has a default.
func TestUnsetEnvironment(t *testing.T) {
	env := func(k string) (string, bool) {
		switch k {
		case "SET":
			return "v", true
		case "EMPTY":
			return "", true
		}
		return "", false
	}
	const base = `config:
  target: http://127.0.0.1:8080
  phases: [{duration: 1, arrivalRate: 1}]
  defaults:
    headers:
      Authorization: "Bearer {{ $processEnvironment.%s }}"
  environments:
    staging:
      defaults:
        headers:
          Authorization: "Bearer {{ $env.STAGING_TOKEN }}"
scenarios:
  - flow:
      - get:
          url: "/{{ $env.%s }}"
          headers: {X-Key: "{{ $env.%s }}"}
      - post:
          url: /
          json: {a: [1, {b: "{{ $env.%s }}"}]}
      - loop:
          - log: "{{ $env.%s }}"
        count: 2
`
	fill := func(names ...string) string {
		s := base
		for _, n := range names {
			s = strings.Replace(s, "%s", n, 1)
		}
		return s
	}
	tests := []struct {
		name string
		src  string
		opts LoadOptions
		want []string // "" for a script that loads
	}{
		{"every place is named", fill("A", "B", "C", "D", "E"), LoadOptions{Env: env}, []string{
			`e.yml:6:30: config.defaults.headers.Authorization: environment variable A is not set: export it, or give a default: {{ $env.A | default("...") }}`,
			`e.yml:15:18: scenarios[0].flow[0].get.url: environment variable B is not set`,
			`e.yml:16:29: scenarios[0].flow[0].get.headers.X-Key: environment variable C is not set`,
			`e.yml:19:30: scenarios[0].flow[1].post.json.a[1].b: environment variable D is not set`,
			`e.yml:21:19: scenarios[0].flow[2].loop[0].log: environment variable E is not set`,
		}},
		{"set, even to empty", fill("SET", "EMPTY", "SET", "EMPTY", "SET"), LoadOptions{Env: env}, nil},
		{"defaults", fill(`A | default('t')`, `B | default('')`, `C|default(1)`, `D | default('x')`, `E | default('y')`), LoadOptions{Env: env}, nil},
		{"environment not known", fill("A", "B", "C", "D", "E"), LoadOptions{}, nil},
		// An environment's templates count only when it is chosen, where
		// it replaces the base's header.
		{"chosen environment", fill("SET", "SET", "SET", "SET", "SET"), LoadOptions{Env: env, Environment: "staging"}, []string{
			`e.yml:11:34: config.defaults.headers.Authorization: environment variable STAGING_TOKEN is not set`,
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := Parse("e.yml", []byte(tt.src), tt.opts)
			if len(tt.want) == 0 {
				if err != nil {
					t.Fatalf("Parse: %v", err)
				}
				return
			}
			if err == nil {
				t.Fatalf("Parse accepted the script: %+v", s.Config.Defaults.Headers)
			}
			lines := strings.Split(err.Error(), "\n")
			if len(lines) != len(tt.want) {
				t.Errorf("%d errors, want %d:\n%v", len(lines), len(tt.want), err)
			}
			for i, w := range tt.want {
				if i < len(lines) && !strings.HasPrefix(lines[i], w) {
					t.Errorf("error %d = %q\nwant it to start %q", i, lines[i], w)
				}
			}
		})
	}
	// The default is what a virtual user sends.
	s, err := Parse("e.yml", []byte(fill(`A | default('dev')`, "SET", "SET", "SET", "SET")), LoadOptions{Env: env})
	if err != nil {
		t.Fatal(err)
	}
	if got := s.Config.Defaults.Headers[0].Value.Render(&Context{Env: env}); got != "Bearer dev" {
		t.Errorf("header = %q, want the default", got)
	}
}
