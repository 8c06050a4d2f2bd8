package scenario

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/")

// golden compares got with the file at path, or rewrites it with -update.
func golden(t *testing.T, path string, got []byte) {
	t.Helper()
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read golden file (run go test ./scenario -update to create it): %v", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs (run go test ./scenario -update if the change is right)\ngot:\n%s\nwant:\n%s", path, got, want)
	}
}

// TestLoadValid loads every valid script and compares the compiled model,
// dumped as JSON, with its golden file.
func TestLoadValid(t *testing.T) {
	tests := []struct {
		file   string
		opts   LoadOptions
		golden string
	}{
		{"testdata/valid/full.yml", LoadOptions{}, "testdata/valid/full.golden.json"},
		{"testdata/valid/full.yml", LoadOptions{Environment: "ci", Vars: map[string]string{"status": "landed", "extra": "1"}}, "testdata/valid/full-ci.golden.json"},
		{"testdata/valid/minimal.yml", LoadOptions{}, "testdata/valid/minimal.golden.json"},
		{"../examples/seed-load-test.yml", LoadOptions{}, "testdata/valid/seed.golden.json"},
		{"../examples/seed-load-test.yml", LoadOptions{Environment: "quick"}, "testdata/valid/seed-quick.golden.json"},
	}
	for _, tt := range tests {
		t.Run(filepath.Base(tt.golden), func(t *testing.T) {
			s, err := Load(tt.file, tt.opts)
			if err != nil {
				t.Fatalf("Load(%s): %v", tt.file, err)
			}
			got, err := json.MarshalIndent(s, "", "  ")
			if err != nil {
				t.Fatal(err)
			}
			golden(t, tt.golden, append(got, '\n'))
		})
	}
}

// TestLoadInvalid loads every script under testdata/invalid and compares
// the error lines with its .errors golden file.
func TestLoadInvalid(t *testing.T) {
	files, err := filepath.Glob("testdata/invalid/*.yml")
	if err != nil || len(files) == 0 {
		t.Fatalf("no invalid scripts found: %v", err)
	}
	for _, file := range files {
		t.Run(filepath.Base(file), func(t *testing.T) {
			s, err := Load(file, LoadOptions{})
			if err == nil {
				t.Fatalf("Load(%s) = %+v, want errors", file, s)
			}
			var list ErrorList
			if !errors.As(err, &list) || len(list) == 0 {
				t.Fatalf("Load(%s) error %T %v, want an ErrorList", file, err, err)
			}
			for _, e := range list {
				if e.Pos.File != file || e.Pos.Line < 1 {
					t.Errorf("error without a position in the file: %v", e)
				}
			}
			golden(t, strings.TrimSuffix(file, ".yml")+".errors", []byte(list.Error()+"\n"))
		})
	}
}

func TestLoadModel(t *testing.T) {
	s, err := Load("testdata/valid/full.yml", LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	c := &Context{
		Vars: map[string]any{"first": map[string]any{"id": json.Number("42")}, "status": "in_transit", "port": "Accra",
			"word": "w", "products": []any{map[string]any{"sku": "A-1", "qty": 3.0}}},
		Rand: nil,
	}
	post := s.Scenarios[0].Flow[2].Request
	body := string(post.JSON.AppendJSON(nil, c))
	// Key order as written, the captured number still a number.
	if !strings.HasPrefix(body, `{"goods_id":42,"status":"in_transit","location":"Port of Accra","count":2,"fraction":0.5,"urgent":false,"missing":null,"tags":["w",`) {
		t.Errorf("JSON body = %s", body)
	}
	tests := []struct {
		name string
		got  any
		want any
	}{
		{"target without trailing slash", s.Config.Target, "http://127.0.0.1:8080"},
		{"timeout", s.Config.HTTP.Timeout, 2500 * time.Millisecond},
		{"phase kinds", []PhaseKind{s.Config.Phases[0].Kind, s.Config.Phases[1].Kind, s.Config.Phases[2].Kind, s.Config.Phases[3].Kind, s.Config.Phases[4].Kind},
			[]PhaseKind{PhaseConstant, PhaseRamp, PhaseCount, PhasePause, PhaseClosed}},
		{"pause length", s.Config.Phases[3].Duration, 1500 * time.Millisecond},
		{"payload rows skip the header", s.Config.Payloads[0].Rows, [][]string{{"alice", "pw1"}, {"bob", "pw,2"}}},
		{"payload delimiter, loadAll and cast", s.Config.Payloads[1].All, []any{map[string]any{"sku": "A-1", "qty": 3.0}, map[string]any{"sku": "B-2", "qty": 5.0}}},
		{"weights", []int{s.Scenarios[0].Weight, s.Scenarios[1].Weight, s.Scenarios[2].Weight}, []int{7, 0, 1}},
		{"default name", s.Scenarios[2].Name, "scenario 3"},
		{"named endpoint", s.Scenarios[0].Flow[0].Request.Endpoint, "/api/goods-received/?port={{ port }} (list goods)"},
		{"endpoint as written", s.Scenarios[0].Flow[1].Request.Endpoint, "/api/goods-received/{{ first.id }}/"},
		{"merge key keeps both", len(s.Scenarios[0].Flow[1].Request.Headers), 4},
		{"strict default", []bool{s.Scenarios[0].Flow[0].Request.Capture[0].Strict, s.Scenarios[0].Flow[0].Request.Capture[1].Strict}, []bool{true, false}},
		{"status codes", s.Scenarios[0].Flow[0].Request.Expect[0].StatusCode, []int{200, 201}},
		{"loop count", s.Scenarios[0].Flow[6].Loop.Count, 3},
		{"loop over literal", s.Scenarios[0].Flow[5].Loop.OverValues, []any{map[string]any{"id": 1, "status": "new"}, map[string]any{"id": 2, "status": "old"}}},
		{"loop over variable", s.Scenarios[0].Flow[4].Loop.Over.Raw(), "{{ limits }}"},
		{"followRedirect", s.Scenarios[0].Flow[6].Loop.Steps[0].Request.FollowRedirect, false},
		{"think step", s.Scenarios[0].Flow[3].Think, time.Second},
		{"request think", s.Scenarios[0].Flow[1].Request.Think, 500 * time.Millisecond},
		{"ensure", len(s.Config.Ensure.Thresholds) + len(s.Config.Ensure.Conditions) + len(s.Config.Ensure.Legacy), 2 + 2 + 3},
		{"plugins", s.Config.Plugins, Plugins{Expect: true, ExpectOptions: ExpectOptions{ReportFailuresAsErrors: true}, MetricsByEndpoint: true, Ensure: true}},
		{"tls", s.Config.TLS.RejectUnauthorized, false},
		{"before capture", s.Before[0].Request.Capture[0].As, "sessionToken"},
		{"after log", s.After[0].Log.Raw(), "finished with session {{ sessionToken }}"},
	}
	for _, tt := range tests {
		if !reflect.DeepEqual(tt.got, tt.want) {
			t.Errorf("%s: got %#v, want %#v", tt.name, tt.got, tt.want)
		}
	}
	if got := s.Config.Ensure.Thresholds[0].Pos; got != (Pos{File: "testdata/valid/full.yml", Line: 48, Column: 9}) {
		t.Errorf("threshold position = %v", got)
	}
}

func TestLoadOptions(t *testing.T) {
	const script = `config:
  target: http://127.0.0.1:8080
  phases: [{duration: 1, arrivalRate: 1}]
  variables: {a: one}
  payload: {path: %s, fields: [f]}
  environments:
    quick: {variables: {b: two}, http: {timeout: 3}}
    slow: {}
scenarios:
  - flow: [{get: {url: "/{{ a }}/{{ b }}/{{ c }}/{{ f }}"}}]
`
	dir := t.TempDir()
	inside := filepath.Join(dir, "in.csv")
	outside := filepath.Join(t.TempDir(), "out.csv")
	for _, p := range []string{inside, outside} {
		if err := os.WriteFile(p, []byte("x\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Symlink(outside, filepath.Join(dir, "link.csv")); err != nil {
		t.Fatal(err)
	}
	name := filepath.Join(dir, "s.yml")
	tests := []struct {
		name    string
		payload string
		opts    LoadOptions
		wantErr string // "" for success
	}{
		{"env and var define b and c", "in.csv", LoadOptions{Environment: "quick", Vars: map[string]string{"c": "3"}}, ""},
		{"without env b, which only quick defines, loads undefined (a note)", "in.csv", LoadOptions{Vars: map[string]string{"c": "3"}}, ""},
		{"without --var c is undefined", "in.csv", LoadOptions{Environment: "quick"}, "{{ c }}: c is not defined"},
		{"unknown env lists the others", "in.csv", LoadOptions{Environment: "quik"}, `no environment "quik"; available: quick, slow; did you mean quick?`},
		{"payload outside refused", outside, LoadOptions{Environment: "quick", Vars: map[string]string{"c": "3"}}, "is outside the script's folder"},
		{"payload through a symlink refused", "link.csv", LoadOptions{Environment: "quick", Vars: map[string]string{"c": "3"}}, "is outside the script's folder"},
		{"payload with .. refused", "../x/../" + filepath.Base(dir) + "/../out.csv", LoadOptions{Environment: "quick", Vars: map[string]string{"c": "3"}}, "is outside the script's folder"},
		{"bad --var name", "in.csv", LoadOptions{Environment: "quick", Vars: map[string]string{"c": "3", "a b": "x"}}, "s.yml: --var a b: variable names are letters, digits, _ and -"},
		{"payload outside allowed", outside, LoadOptions{Environment: "quick", Vars: map[string]string{"c": "3"}, AllowOutsidePayload: true}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src := strings.Replace(script, "%s", tt.payload, 1)
			s, err := Parse(name, []byte(src), tt.opts)
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("Parse: %v", err)
				}
				if s.Config.Payloads[0].Rows[0][0] != "x" {
					t.Errorf("payload rows = %v", s.Config.Payloads[0].Rows)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("Parse error = %v, want it to contain %q", err, tt.wantErr)
			}
		})
	}
	s, err := Parse(name, []byte(strings.Replace(script, "%s", "in.csv", 1)), LoadOptions{Environment: "quick", Vars: map[string]string{"a": "override", "c": "3"}})
	if err != nil {
		t.Fatal(err)
	}
	want := []Variable{{"a", []any{"override"}}, {"b", []any{"two"}}, {"c", []any{"3"}}}
	if !reflect.DeepEqual(s.Config.Variables, want) {
		t.Errorf("variables = %#v, want %#v", s.Config.Variables, want)
	}
	if s.Config.HTTP.Timeout != 3*time.Second || s.Environment != "quick" {
		t.Errorf("environment not merged: timeout %v, environment %q", s.Config.HTTP.Timeout, s.Environment)
	}
}

func TestLoadMissingFile(t *testing.T) {
	_, err := Load("testdata/nope.yml", LoadOptions{})
	var list ErrorList
	if err == nil || errors.As(err, &list) || !errors.Is(err, os.ErrNotExist) {
		t.Errorf("Load of a missing file = %v, want a wrapped not-exist error", err)
	}
}

func TestSuggest(t *testing.T) {
	keys := []string{"arrivalRate", "arrivalCount", "rampTo", "duration", "name"}
	tests := []struct{ word, want string }{
		{"arivalRate", "arrivalRate"},
		{"arrivalrate", "arrivalRate"},
		{"durration", "duration"},
		{"nme", "name"},
		{"foo", ""},
		{"x", ""},
		{"rampUp", "rampTo"},
		{"warmup", ""},
	}
	for _, tt := range tests {
		if got := suggest(tt.word, keys); got != tt.want {
			t.Errorf("suggest(%q) = %q, want %q", tt.word, got, tt.want)
		}
	}
}

// FuzzLoad feeds arbitrary scripts to the loader: it must return a script
// or an ErrorList with positions, never panic.
func FuzzLoad(f *testing.F) {
	for _, dir := range []string{"testdata/valid/*.yml", "testdata/invalid/*.yml", "../examples/*.yml"} {
		files, _ := filepath.Glob(dir)
		for _, file := range files {
			data, err := os.ReadFile(file)
			if err != nil {
				f.Fatal(err)
			}
			f.Add(data)
		}
	}
	// Integer limits and template expansion (issue 13 items 3, 7, 8).
	for _, s := range []string{
		"config: {target: http://127.0.0.1:8080, phases: [{duration: \"1ns\", arrivalCount: 1000000000}]}\nscenarios: [{flow: [{get: {url: /}}]}]\n",
		"config: {target: http://127.0.0.1:8080, phases: [{duration: \"2562047h\", arrivalRate: 1}]}\nscenarios: [{flow: [{get: {url: /}}]}]\n",
		"config: {target: http://127.0.0.1:8080, phases: [{duration: 1e308, arrivalRate: 1e6}, {duration: 31536000, rampTo: 1e6, arrivalRate: 0}]}\nscenarios: [{flow: [{get: {url: /}}]}]\n",
		"config: {target: http://127.0.0.1:8080, phases: [{duration: 60, vusers: 1000000}, {pause: 9223372036}]}\nscenarios: [{flow: [{get: {url: /}}]}]\n",
		"config: {target: http://127.0.0.1:8080, phases: [{duration: 1, arrivalRate: 1}], variables: {a: 1, t: &t \"{{ a }}{{ a }}{{ a }}\"}}\nscenarios: [{flow: [{get: {url: *t, headers: {x: *t, y: *t}, qs: {q: *t}}}, {post: {url: /, json: [*t, *t, {k: *t}]}}]}]\n",
		"config: {target: http://127.0.0.1:8080, phases: [{duration: 1, arrivalRate: 1}]}\nscenarios: [{flow: [{get: {url: \"/{{ $randomNumber(0, 9223372036854775807) }}\"}}]}]\n---\nconfig: {}\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		// Payload paths resolve inside testdata/valid, so a fuzzed script
		// can only read the fixtures there. The environments are those of
		// the seeds, so merging is fuzzed too.
		name := "testdata/valid/fuzz.yml"
		for _, env := range []string{"", "ci", "quick"} {
			s, err := Parse(name, data, LoadOptions{Environment: env, Vars: map[string]string{"v": "1"}})
			if err != nil {
				var list ErrorList
				if !errors.As(err, &list) || len(list) == 0 {
					t.Fatalf("error %T %v is not an ErrorList", err, err)
				}
				for _, e := range list {
					if e.Pos.File != name || e.Message == "" {
						t.Fatalf("error without file or message: %#v", e)
					}
				}
				continue
			}
			if len(s.Scenarios) == 0 || len(s.Config.Phases) == 0 || s.Config.Target == "" {
				t.Fatalf("a script without scenarios, phases or target passed validation")
			}
			if _, err := json.Marshal(s); err != nil {
				t.Fatalf("marshal loaded script: %v", err)
			}
		}
	})
}
