package cmd

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// writeFiles writes files into a new folder, {{URL}} in their text
// replaced by url, and returns the folder.
func writeFiles(t *testing.T, url string, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, text := range files {
		mustWrite(t, filepath.Join(dir, name), strings.ReplaceAll(text, "{{URL}}", url))
	}
	return dir
}

// Each of Artillery's script-shaping run flags, through the real command
// line, judged by what the server received.
func TestRunArtilleryFlags(t *testing.T) {
	t.Parallel()
	const itemFlow = `scenarios:
  - flow:
      - get:
          url: "/items/{{ item }}"
`
	tests := []struct {
		name     string
		files    map[string]string // script.yml and what the flags read
		args     []string          // {{DIR}} is the files' folder
		env      map[string]string
		want     map[string]int // requests by "METHOD /path"
		wantAuth string         // every request carried this Authorization
		wantErr  string         // in stderr
	}{
		{
			name: "--config: a split script, the config file's keys and list items win",
			files: map[string]string{
				"common.yml": `config:
  target: "{{URL}}"
  phases:
    - arrivalCount: 2
  variables:
    item: "7"
`,
				"script.yml": `config:
  phases:
    - duration: 1
      arrivalCount: 1
  variables:
    item: "8"
` + itemFlow,
			},
			args: []string{"--config", "{{DIR}}/common.yml"},
			want: map[string]int{"GET /items/7": 2},
		},
		{
			name:  "-c is --config",
			files: map[string]string{"common.yml": "config:\n  target: \"{{URL}}\"\n  phases: [{duration: 1, arrivalCount: 1}]\n  variables: {item: \"7\"}\n", "script.yml": itemFlow},
			args:  []string{"-c", "{{DIR}}/common.yml"},
			want:  map[string]int{"GET /items/7": 1},
		},
		{
			name: "--overrides: deep merge, lists replaced whole",
			files: map[string]string{"script.yml": `config:
  target: "{{URL}}"
  phases:
    - {duration: 1, arrivalCount: 1}
    - {duration: 1, arrivalCount: 1}
  variables: {item: "8"}
` + itemFlow},
			args: []string{"--overrides", `{"config": {"phases": [{"duration": 1, "arrivalCount": 3}], "variables": {"item": "7"}}}`},
			want: map[string]int{"GET /items/7": 3},
		},
		{
			name:  "--variables",
			files: map[string]string{"script.yml": "config:\n  target: \"{{URL}}\"\n  phases: [{duration: 1, arrivalCount: 2}]\n  variables: {item: \"8\"}\n" + itemFlow},
			args:  []string{"--variables", `{"item": "7"}`},
			want:  map[string]int{"GET /items/7": 2},
		},
		{
			name:  "-v is --variables, and defines a variable the script lacks",
			files: map[string]string{"script.yml": "config:\n  target: \"{{URL}}\"\n  phases: [{duration: 1, arrivalCount: 1}]\n" + itemFlow},
			args:  []string{"-v", `{"item": "7"}`},
			want:  map[string]int{"GET /items/7": 1},
		},
		{
			name: "--overrides win over -e's environment, which Artillery merges first",
			files: map[string]string{"script.yml": `config:
  target: "{{URL}}"
  environments:
    load:
      phases: [{duration: 1, arrivalCount: 5}]
      variables: {item: "8"}
` + itemFlow},
			args: []string{"-e", "load", "--overrides", `{"config": {"phases": [{"duration": 1, "arrivalCount": 2}], "variables": {"item": "7"}}}`},
			want: map[string]int{"GET /items/7": 2},
		},
		{
			name:  "--variables win over -e's variables",
			files: map[string]string{"script.yml": "config:\n  target: \"{{URL}}\"\n  phases: [{duration: 1, arrivalCount: 1}]\n  environments:\n    dev: {variables: {item: \"8\"}}\n" + itemFlow},
			args:  []string{"-e", "dev", "--variables", `{"item": "7"}`},
			want:  map[string]int{"GET /items/7": 1},
		},
		{
			name:  "-e NAME without environments sets $environment (Artillery warns and runs)",
			files: map[string]string{"script.yml": "config:\n  target: \"{{URL}}\"\n  phases: [{duration: 1, arrivalCount: 1}]\n" + strings.ReplaceAll(itemFlow, "{{ item }}", "{{ $environment }}")},
			args:  []string{"-e", "7"}, // the one item the server has
			want:  map[string]int{"GET /items/7": 1},
		},
		{
			name: "-p fills the chosen environment's payload; another environment may lack its path",
			files: map[string]string{"script.yml": `config:
  target: "{{URL}}"
  phases: [{duration: 1, arrivalCount: 2}]
  environments:
    single-cli:
      payload: {fields: [item]}
    other:
      payload: {fields: [item]}
` + itemFlow},
			args: []string{"-e", "single-cli", "-p", "{{CSV}}"},
			want: map[string]int{"GET /items/7": 2},
		},
		{
			name: "a variable only another environment defines is sent undefined, as Artillery sends it",
			files: map[string]string{"script.yml": `config:
  target: "{{URL}}"
  phases: [{duration: 1, arrivalCount: 1}]
  environments:
    one: {}
    two:
      variables: {item: "7"}
` + itemFlow},
			args: []string{"-e", "one", "--no-default-checks"},
			want: map[string]int{"GET /items/undefined": 1},
		},
		{
			name:  "-t fills an empty config.target (Artillery's test-calc-server.yml)",
			files: map[string]string{"script.yml": "config:\n  target: \"\"\n  phases: [{duration: 1, arrivalCount: 1}]\n  variables: {item: \"7\"}\n" + itemFlow},
			args:  []string{"-t", "{{URL}}"},
			want:  map[string]int{"GET /items/7": 1},
		},
		{
			name: "--dotenv feeds $processEnvironment",
			files: map[string]string{
				"test.env":   "API_TOKEN=fromfile\n",
				"script.yml": "config:\n  target: \"{{URL}}\"\n  phases: [{duration: 1, arrivalCount: 2}]\n  defaults:\n    headers:\n      Authorization: \"Bearer {{ $processEnvironment.API_TOKEN }}\"\n" + strings.ReplaceAll(itemFlow, "{{ item }}", "7"),
			},
			args:     []string{"--dotenv", "{{DIR}}/test.env"},
			want:     map[string]int{"GET /items/7": 2},
			wantAuth: "Bearer fromfile",
		},
		{
			name: "--dotenv never overrides the process environment",
			files: map[string]string{
				"test.env":   "API_TOKEN=fromfile\n",
				"script.yml": "config:\n  target: \"{{URL}}\"\n  phases: [{duration: 1, arrivalCount: 1}]\n  defaults:\n    headers:\n      Authorization: \"Bearer {{ $env.API_TOKEN }}\"\n" + strings.ReplaceAll(itemFlow, "{{ item }}", "7"),
			},
			args:     []string{"--dotenv", "{{DIR}}/test.env"},
			env:      map[string]string{"API_TOKEN": "fromprocess"},
			want:     map[string]int{"GET /items/7": 1},
			wantAuth: "Bearer fromprocess",
		},
		{
			name: "--scenario-name runs only that scenario",
			files: map[string]string{"script.yml": `config:
  target: "{{URL}}"
  phases: [{duration: 1, arrivalCount: 3}]
scenarios:
  - name: list
    weight: 100
    flow: [{get: {url: "/items"}}]
  - name: one
    weight: 1
    flow: [{get: {url: "/items/7"}}]
`},
			args: []string{"--scenario-name", "one"},
			want: map[string]int{"GET /items/7": 3},
		},
		{
			name:  "-p fills config.payload.path, even from outside the script's folder",
			files: map[string]string{"script.yml": "config:\n  target: \"{{URL}}\"\n  phases: [{duration: 1, arrivalCount: 2}]\n  payload:\n    fields: [item]\n" + itemFlow},
			args:  []string{"-p", "{{CSV}}"},
			want:  map[string]int{"GET /items/7": 2},
		},
		{
			name:  "--solo sends one virtual user",
			files: map[string]string{"script.yml": "config:\n  target: \"{{URL}}\"\n  phases: [{duration: 1, arrivalCount: 5}]\n  variables: {item: \"7\"}\n" + itemFlow},
			args:  []string{"--solo"},
			want:  map[string]int{"GET /items/7": 1},
		},
		{
			name:    "--count is accepted and leaves the load as it is",
			files:   map[string]string{"script.yml": "config:\n  target: \"{{URL}}\"\n  phases: [{duration: 1, arrivalCount: 2}]\n  variables: {item: \"7\"}\n" + itemFlow},
			args:    []string{"--count", "4"},
			want:    map[string]int{"GET /items/7": 2},
			wantErr: "note: --count 4",
		},
		{
			name: "-t and -e: the flag's target wins over the environment's",
			files: map[string]string{"script.yml": `config:
  target: "http://127.0.0.1:1"
  phases: [{duration: 1, arrivalCount: 1}]
  environments:
    staging:
      target: "http://127.0.0.1:2"
      variables: {item: "7"}
` + itemFlow},
			args: []string{"-e", "staging", "-t", "{{URL}}"},
			want: map[string]int{"GET /items/7": 1},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var h hits
			srv := itemsServer(t, &h)
			dir := writeFiles(t, srv.URL, tt.files)
			csv := filepath.Join(t.TempDir(), "items.csv") // not beside the script
			mustWrite(t, csv, "7\n7\n")
			args := []string{filepath.Join(dir, "script.yml")}
			for _, a := range tt.args {
				args = append(args, strings.NewReplacer("{{DIR}}", dir, "{{CSV}}", csv, "{{URL}}", srv.URL).Replace(a))
			}
			res := execRun(t, tt.env, nil, "", args...)
			if res.code != wantExit(res, ExitOK) {
				t.Fatalf("exit %d, want 0\nstderr:\n%s", res.code, res.errOut)
			}
			h.mu.Lock()
			defer h.mu.Unlock()
			total := 0
			for _, n := range h.paths {
				total += n
			}
			wantTotal := 0
			for key, n := range tt.want {
				wantTotal += n
				if h.paths[key] != n {
					t.Errorf("server saw %d %s, want %d (all: %v)", h.paths[key], key, n, h.paths)
				}
			}
			if total != wantTotal {
				t.Errorf("server saw %d requests, want %d: %v", total, wantTotal, h.paths)
			}
			if tt.wantAuth != "" && h.auth[tt.wantAuth] != total {
				t.Errorf("Authorization headers %v, want %q on all %d", h.auth, tt.wantAuth, total)
			}
			if !strings.Contains(res.errOut, tt.wantErr) {
				t.Errorf("stderr does not say %q:\n%s", tt.wantErr, res.errOut)
			}
		})
	}
}

// Mistakes in the files and flags that shape a script are usage errors
// that name their own file and line, and nothing is sent.
func TestRunArtilleryFlagErrors(t *testing.T) {
	t.Parallel()
	var h hits
	srv := itemsServer(t, &h)
	dir := writeFiles(t, srv.URL, map[string]string{
		"common.yml": "config:\n  target: \"{{URL}}\"\n  phases:\n    - duration: 1\n      arrivalRate: lots\n",
		"broken.yml": "config:\n  target: [\n",
		"script.yml": "scenarios:\n  - flow:\n      - get:\n          url: \"/items/7\"\n          bogus: 1\n",
		"ok.yml":     "config:\n  target: \"{{URL}}\"\n  phases: [{duration: 1, arrivalCount: 1}]\nscenarios:\n  - name: one\n    flow: [{get: {url: \"/items/7\"}}]\n",
	})
	tests := []struct {
		name string
		args []string
		want []string
	}{
		{"each file keeps its own file:line", []string{"-c", dir + "/common.yml", dir + "/script.yml"},
			[]string{dir + "/common.yml:5:", "arrivalRate", dir + "/script.yml:5:", "bogus"}},
		{"a config file that is not YAML", []string{"-c", dir + "/broken.yml", dir + "/script.yml"}, []string{dir + "/broken.yml:"}},
		{"a missing config file", []string{"-c", dir + "/nope.yml", dir + "/ok.yml"}, []string{"--config", "nope.yml"}},
		{"--overrides that is not JSON", []string{"--overrides", `{"config": `, dir + "/ok.yml"}, []string{"--overrides"}},
		{"--variables that is not an object", []string{"-v", `[1, 2]`, dir + "/ok.yml"}, []string{"--variables", "want a mapping"}},
		{"an unknown --scenario-name", []string{"--scenario-name", "two", dir + "/ok.yml"}, []string{`"two"`, `"one"`}},
		{"--count 0", []string{"--count", "0", dir + "/ok.yml"}, []string{"count", "1 or more"}},
		{"a missing --dotenv file", []string{"--dotenv", dir + "/none.env", dir + "/ok.yml"}, []string{"dotenv", "none.env"}},
	}
	for _, tt := range tests {
		res := execRun(t, nil, nil, "", tt.args...)
		if res.code != ExitUsage {
			t.Errorf("%s: exit %d, want %d\nstderr:\n%s", tt.name, res.code, ExitUsage, res.errOut)
			continue
		}
		for _, w := range tt.want {
			if !strings.Contains(res.errOut, w) {
				t.Errorf("%s: stderr does not say %q:\n%s", tt.name, w, res.errOut)
			}
		}
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if len(h.paths) != 0 {
		t.Errorf("invalid runs sent %v", h.paths)
	}
}

// -q and -k are Artillery's short names for --quiet and --insecure; -k's
// effect is checked against a self-signed server.
func TestRunArtilleryShortFlags(t *testing.T) {
	t.Parallel()
	var h hits
	tlsSrv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h.add(r)
		w.Write([]byte(`{}`))
	}))
	t.Cleanup(tlsSrv.Close)
	script := writeScript(t, "config:\n  target: \""+tlsSrv.URL+"\"\n  phases: [{duration: 1, arrivalCount: 2}]\nscenarios:\n  - flow: [{get: {url: \"/ok\"}}]\n")
	out := filepath.Join(t.TempDir(), "r.json")
	var stdout, stderr bytes.Buffer
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	code := Execute(ctx, TestState(&stdout, &stderr, nil), []string{"run", "-q", "-k", "-o", out, script})
	if code != ExitOK && code != ExitUntrusted {
		t.Fatalf("exit %d\nstderr:\n%s", code, stderr.String())
	}
	if got := h.count("GET /ok"); got != 2 {
		t.Errorf("the self-signed server answered %d requests, want 2 with -k", got)
	}
	if !strings.Contains(string(mustRead(t, out)), `"http.codes.200"`) {
		t.Errorf("-o %s holds no report of the 200s", out)
	}

	var got *RunOptions
	c := newRunCmdF(TestState(&stdout, &stderr, nil), func(_ context.Context, o *RunOptions) error { got = o; return nil })
	c.SetArgs([]string{"-q", "-k", "-s", "s.yml"})
	if err := c.Execute(); err != nil {
		t.Fatal(err)
	}
	if !got.Quiet || !got.Insecure || !got.Solo {
		t.Errorf("-q -k -s gave quiet %v, insecure %v, solo %v; want all true", got.Quiet, got.Insecure, got.Solo)
	}
}

// validate takes every flag that shapes the script, so a script split or
// completed on the command line is checked as run would run it.
func TestValidateArtilleryFlags(t *testing.T) {
	t.Parallel()
	dir := writeFiles(t, "", map[string]string{
		"needs.yml": `config:
  phases: [{duration: 1, arrivalCount: 2}]
  payload:
    fields: [id]
scenarios:
  - flow: [{get: {url: "/x/{{ id }}/{{ v }}", headers: {A: "{{ $env.TOK }}"}}}]
`,
		"ids.csv":    "1\n",
		"tok.env":    "TOK=1\n",
		"common.yml": "config:\n  target: http://127.0.0.1:8080\n  phases:\n    - duration: 10\n      arrivalRate: 3\n",
		"badcfg.yml": "config:\n  target: http://127.0.0.1:8080\n  phases:\n    - duration: 10\n      arrivalRate: fast\n",
		"flow.yml":   "scenarios:\n  - name: one\n    flow: [{get: {url: \"/\"}}]\n",
	})
	p := func(name string) string { return filepath.Join(dir, name) }
	tests := []struct {
		name     string
		args     []string
		wantCode int
		wantOut  string
		wantErr  []string
	}{
		{name: "without the flags, each gap is an error", args: []string{p("needs.yml")}, wantCode: ExitUsage, wantErr: []string{
			p("needs.yml") + ":2:3: config.target: is required",
			p("needs.yml") + ":4:5: config.payload.path: is required",
			"v is not defined", "environment variable TOK is not set",
		}},
		{name: "-t, -p, -v and --dotenv fill them", args: []string{"-t", "http://127.0.0.1:9", "-p", p("ids.csv"), "-v", `{"v": "2"}`, "--dotenv", p("tok.env"), p("needs.yml")},
			wantOut: p("needs.yml") + `: 1 phase, 1s, 2 expected arrivals; 1 scenario: "scenario 1" weight 1` + "\n"},
		{name: "--config completes a split script", args: []string{"--config", p("common.yml"), p("flow.yml")},
			wantOut: p("flow.yml") + `: 1 phase, 10s, 30 expected arrivals; 1 scenario: "one" weight 1` + "\n"},
		{name: "--overrides after --config", args: []string{"-c", p("common.yml"), "--overrides", `{"config": {"phases": [{"duration": 2, "arrivalRate": 1}]}}`, p("flow.yml")},
			wantOut: p("flow.yml") + `: 1 phase, 2s, 2 expected arrivals; 1 scenario: "one" weight 1` + "\n"},
		{name: "an error in the config file names the config file", args: []string{"-c", p("badcfg.yml"), p("flow.yml")}, wantCode: ExitUsage,
			wantErr: []string{p("badcfg.yml") + ":5:20: config.phases[0].arrivalRate"}},
	}
	for _, tt := range tests {
		var stdout, stderr bytes.Buffer
		code := Execute(context.Background(), TestState(&stdout, &stderr, nil), append([]string{"validate"}, tt.args...))
		if code != tt.wantCode {
			t.Errorf("%s: exit %d, want %d\nstderr:\n%s", tt.name, code, tt.wantCode, stderr.String())
			continue
		}
		if tt.wantCode == ExitOK && stdout.String() != tt.wantOut {
			t.Errorf("%s: stdout\n%q\nwant\n%q", tt.name, stdout.String(), tt.wantOut)
		}
		for _, w := range tt.wantErr {
			if !strings.Contains(stderr.String(), w) {
				t.Errorf("%s: stderr does not say %q:\n%s", tt.name, w, stderr.String())
			}
		}
	}
}
