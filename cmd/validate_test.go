package cmd

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func TestValidateOptions(t *testing.T) {
	tests := []struct {
		name string
		args []string
		env  map[string]string
		want ValidateOptions
	}{
		{
			name: "files only",
			args: []string{"a.yml", "b.yml"},
			want: ValidateOptions{Files: []string{"a.yml", "b.yml"}, Vars: map[string]string{}},
		},
		{
			name: "flags",
			args: []string{"-e", "quick", "--var", "token=abc", "--var", "n=1=2", "--allow-outside-payload", "a.yml"},
			want: ValidateOptions{Files: []string{"a.yml"}, Environment: "quick", Vars: map[string]string{"token": "abc", "n": "1=2"}, AllowOutsidePayload: true},
		},
		{
			name: "environment variables",
			args: []string{"a.yml"},
			env:  map[string]string{"PRIMELOAD_ENVIRONMENT": "local", "PRIMELOAD_VAR": "a=1,b=2"},
			want: ValidateOptions{Files: []string{"a.yml"}, Environment: "local", Vars: map[string]string{"a": "1", "b": "2"}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got *ValidateOptions
			s := TestState(&bytes.Buffer{}, &bytes.Buffer{}, tt.env)
			c := newValidateCmdF(s, func(_ context.Context, _ *State, o *ValidateOptions) error {
				got = o
				return nil
			})
			c.SetArgs(tt.args)
			if err := c.ExecuteContext(context.Background()); err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(*got, tt.want) {
				t.Errorf("options = %+v, want %+v", *got, tt.want)
			}
		})
	}
}

func TestValidateCommand(t *testing.T) {
	dir := t.TempDir()
	write := func(name, body string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	bad := write("bad.yml", `config:
  target: http://127.0.0.1:8080
  phases:
    - duration: 10
      arrivalRate: fast
scenarios:
  - flow:
      - get:
          url: "/x/{{ id }}"
`)
	closed := write("closed.yml", `config:
  target: http://127.0.0.1:8080
  phases:
    - {duration: 10, arrivalRate: 2, rampTo: 4}
    - {pause: 5}
    - {duration: 30, vusers: 8}
scenarios:
  - name: one
    flow: [{get: {url: "/{{ token }}"}}]
`)
	slos := write("slos.yml", `config:
  target: http://127.0.0.1:8080
  phases: [{duration: 10, arrivalRate: 1}]
  ensure:
    thresholds:
      - "http.response_time.p95": 250
      - "http.respnse_time.p99": 500
scenarios:
  - flow: [{get: {url: /}}]
`)
	functional := write("functional.yml", `version: 2
config:
  target: http://127.0.0.1:8080
  processor: ./helpers.js
scenarios:
  - flow: [{get: {url: /}}]
`)
	seed := filepath.Join("..", "examples", "seed-load-test.yml")
	tests := []struct {
		name     string
		args     []string
		wantCode int
		wantOut  string
		wantErr  []string
		noToken  bool // API_TOKEN, which the seed script reads, left unset
	}{
		{
			name:    "seed script",
			args:    []string{"validate", seed},
			wantOut: seed + `: 3 phases, 8m0s, 27600 expected arrivals; 3 scenarios: "Logistics Operations" weight 70, "Dashboard Analytics" weight 20, "User Authentication" weight 10` + "\n",
		},
		{
			name:    "seed script quick environment",
			args:    []string{"validate", "-e", "quick", seed},
			wantOut: seed + ` (-e quick): 3 phases, 40s, 850 expected arrivals; 3 scenarios: "Logistics Operations" weight 70, "Dashboard Analytics" weight 20, "User Authentication" weight 10` + "\n",
		},
		{
			name:    "Artillery's harmless keys and default phase: valid, with notes",
			args:    []string{"validate", functional},
			wantOut: functional + `: 1 phase, 1s, 1 expected arrival; 1 scenario: "scenario 1" weight 1` + "\n",
			wantErr: []string{
				"note: " + functional + ":1:1: version: has no effect",
				"note: " + functional + ":4:3: config.processor: not loaded",
			},
		},
		{
			name:     "unset API_TOKEN is named with its line",
			args:     []string{"validate", seed},
			noToken:  true,
			wantCode: ExitUsage,
			wantErr:  []string{seed + `:23:30: config.defaults.headers.Authorization: environment variable API_TOKEN is not set`},
		},
		{
			name:    "closed phase and --var",
			args:    []string{"validate", "--var", "token=t", closed},
			wantOut: closed + `: 3 phases, 45s, 30 expected arrivals + 8 closed-model vusers; 1 scenario: "one" weight 1` + "\n",
		},
		{
			name:     "undefined var without --var",
			args:     []string{"validate", closed},
			wantCode: ExitUsage,
			wantErr:  []string{closed + `:9:26: scenarios[0].flow[0].get.url: {{ token }}: token is not defined`, "primeload: 1 of 1 script is invalid"},
		},
		{
			name:     "all errors of all files",
			args:     []string{"validate", bad, seed, filepath.Join(dir, "missing.yml")},
			wantCode: ExitUsage,
			wantOut:  seed + ": 3 phases",
			wantErr: []string{
				bad + `:5:20: config.phases[0].arrivalRate: must be a positive number, got "fast"`,
				bad + `:9:20: scenarios[0].flow[0].get.url: {{ id }}: id is not defined`,
				"read script " + filepath.Join(dir, "missing.yml") + ": open",
				"primeload: 2 of 3 scripts are invalid",
			},
		},
		{
			name:     "SLO metric names are checked as run checks them",
			args:     []string{"validate", slos},
			wantCode: ExitUsage,
			wantErr:  []string{slos + ":7:9", "http.respnse_time.p99"},
		},
		{
			name:     "unknown environment",
			args:     []string{"validate", "-e", "prod", seed},
			wantCode: ExitUsage,
			wantErr:  []string{`config.environments: no environment "prod"; available: local, quick`},
		},
		{
			name:     "no files",
			args:     []string{"validate"},
			wantCode: ExitUsage,
			wantErr:  []string{"requires at least 1 arg"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out, errOut bytes.Buffer
			env := map[string]string{"API_TOKEN": "t"}
			if tt.noToken {
				env = nil
			}
			code := Execute(context.Background(), TestState(&out, &errOut, env), tt.args)
			if code != tt.wantCode {
				t.Errorf("exit code = %d, want %d; stderr:\n%s", code, tt.wantCode, errOut.String())
			}
			if tt.wantCode == 0 && out.String() != tt.wantOut {
				t.Errorf("stdout =\n%q\nwant\n%q", out.String(), tt.wantOut)
			}
			if tt.wantCode != 0 && !strings.Contains(out.String(), tt.wantOut) {
				t.Errorf("stdout = %q, want it to contain %q", out.String(), tt.wantOut)
			}
			for _, w := range tt.wantErr {
				if !strings.Contains(errOut.String(), w) {
					t.Errorf("stderr =\n%s\nwant a line containing %q", errOut.String(), w)
				}
			}
		})
	}
}
