package scenario

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

// TestCSVValue: csv-parse 4's cast as Artillery 2.0.34 applies it (on by
// default): what reads as a number becomes parseFloat of it.
func TestCSVValue(t *testing.T) {
	tests := []struct {
		in   string
		want any
	}{
		{"1", 1.0},
		{"-2.5", -2.5},
		{" 3 ", 3.0},
		{"007", 7.0}, // a zip code loses its zeros, as in Artillery
		{"1e3", 1000.0},
		{".5", 0.5},
		{"-0", 0.0},
		{"0x10", 0.0}, // Number("0x10") is 16, parseFloat 0: csv-parse gives 0
		{"", ""},
		{"  ", "  "},
		{"12abc", "12abc"},
		{"true", "true"}, // booleans stay text
		{"Infinity", "Infinity"},
		{"1e999", "1e999"},
		{"A-1", "A-1"},
		{"1_000", "1_000"},
		{"inf", "inf"},
		{"NaN", "NaN"},
	}
	for _, tt := range tests {
		if got := CSVValue(tt.in, true); got != tt.want {
			t.Errorf("CSVValue(%q) = %#v, want %#v", tt.in, got, tt.want)
		}
		if got := CSVValue(tt.in, false); got != tt.in {
			t.Errorf("CSVValue(%q, false) = %#v, want the text", tt.in, got)
		}
	}
}

// TestPayloadOptions: cast, skipEmptyLines, skipHeader, delimiter, loadAll
// with and without fields, and csv-parse's own options, read as Artillery
// reads them; mistakes are errors at their line.
func TestPayloadOptions(t *testing.T) {
	dir := t.TempDir()
	write := func(name, body string) {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write("ids.csv", "id,name\n1,ann\n\n2,bob\n")
	write("semi.csv", "# a comment\nid;name\n 3 ;\"c;d\"\n")
	tests := []struct {
		name, payload string
		rows          [][]string
		all           []any
	}{
		{"defaults: empty lines skipped, header kept", "{path: ids.csv, fields: [id, name]}",
			[][]string{{"id", "name"}, {"1", "ann"}, {"2", "bob"}}, nil},
		{"skipHeader", "{path: ids.csv, fields: [id, name], skipHeader: true}",
			[][]string{{"1", "ann"}, {"2", "bob"}}, nil},
		{"skipEmptyLines false", "{path: ids.csv, fields: [id, name], skipHeader: true, skipEmptyLines: false}",
			[][]string{{"1", "ann"}, {""}, {"2", "bob"}}, nil},
		{"loadAll with fields", "{path: ids.csv, fields: [id, name], skipHeader: true, loadAll: true, name: people}",
			nil, []any{map[string]any{"id": 1.0, "name": "ann"}, map[string]any{"id": 2.0, "name": "bob"}}},
		{"loadAll without fields, cast off", "{path: ids.csv, skipHeader: true, loadAll: true, name: people, cast: false}",
			nil, []any{[]any{"1", "ann"}, []any{"2", "bob"}}},
		{"csv-parse options", "{path: semi.csv, fields: [id, name], options: {delimiter: ';', comment: '#', from_line: 3, trim: true}}",
			[][]string{{"3", "c;d"}}, nil},
	}
	for _, tt := range tests {
		src := script(defaultPhases+"  payload: "+tt.payload+"\n", "      - get: {url: /}\n")
		s, err := Parse(filepath.Join(dir, "p.yml"), []byte(src), LoadOptions{})
		if err != nil {
			t.Errorf("%s: %v", tt.name, err)
			continue
		}
		p := s.Config.Payloads[0]
		if !reflect.DeepEqual(p.Rows, tt.rows) || !reflect.DeepEqual(p.All, tt.all) {
			t.Errorf("%s: rows %q all %#v, want %q %#v", tt.name, p.Rows, p.All, tt.rows, tt.all)
		}
	}
	bad := []struct{ payload, want string }{
		{"{path: ids.csv, loadAll: true}", "config.payload.name: is required with loadAll"},
		{"{path: ids.csv, loadAll: true, name: all, order: sequence}", "config.payload.order: does not go with loadAll"},
		{"{path: ids.csv, fields: [id], options: {columns: true}}", "config.payload.options.columns: unknown key; valid keys here: delimiter, cast"},
		{"{path: ids.csv, fields: [id], cast: maybe}", "config.payload.cast: must be"},
		{"{path: nope.csv, fields: [id]}", "config.payload.path: open payload: open "},
	}
	for _, tt := range bad {
		src := script(defaultPhases+"  payload: "+tt.payload+"\n", "      - get: {url: /}\n")
		if got := parseErr(t, filepath.Join(dir, "p.yml"), src); !strings.Contains(got, tt.want) {
			t.Errorf("payload %s: %q, want it to contain %q", tt.payload, got, tt.want)
		}
	}
	// name without loadAll binds nothing of its own, as in Artillery: a note.
	src := script(defaultPhases+"  payload: {path: ids.csv, fields: [id], name: row}\n", "      - get: {url: \"/{{ id }}\"}\n")
	s, err := Parse(filepath.Join(dir, "p.yml"), []byte(src), LoadOptions{})
	if err != nil || len(s.Warnings) != 1 || !strings.Contains(s.Warnings[0].Error(), "config.payload.name: has no effect without loadAll") {
		t.Errorf("name without loadAll: %v, %v", err, s.Warnings)
	}
}

// TestConfigTimeoutAndJitter: config.timeout is read before
// config.http.timeout, as in Artillery; think jitter parses Artillery's
// forms and varies a think within its bounds.
func TestConfigTimeoutAndJitter(t *testing.T) {
	tests := []struct {
		config string
		want   time.Duration
	}{
		{"  timeout: 3\n", 3 * time.Second},
		{"  timeout: 3\n  http: {timeout: 5}\n", 3 * time.Second},
		{"  http: {timeout: 5}\n", 5 * time.Second},
		{"", DefaultTimeout},
	}
	for _, tt := range tests {
		s, err := Parse("t.yml", []byte(script(defaultPhases+tt.config, "      - get: {url: /}\n")), LoadOptions{})
		if err != nil {
			t.Fatalf("%q: %v", tt.config, err)
		}
		if got := s.Config.HTTP.Timeout; got != tt.want {
			t.Errorf("%q: timeout %v, want %v", tt.config, got, tt.want)
		}
	}
	s, err := Parse("t.yml", []byte(script(defaultPhases+"  http: {defaults: {think: {jitter: \"50%\"}}}\n", "      - think: 1\n")), LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	j := s.Config.Defaults.ThinkJitter
	for _, r := range []float64{0, 0.5, 0.999} {
		got := j.Apply(time.Second, func() float64 { return r })
		want := time.Duration(500+r*1000) * time.Millisecond
		if got < want-time.Millisecond || got > want+time.Millisecond {
			t.Errorf("jitter 50%% at %v: %v, want %v", r, got, want)
		}
	}
	if got := (Jitter{Amount: 2000}).Apply(time.Second, func() float64 { return 0 }); got != 0 {
		t.Errorf("jitter below zero: %v, want 0", got)
	}
	if got := parseErr(t, "t.yml", script(defaultPhases+"  defaults: {think: {jitter: lots}}\n", "      - think: 1\n")); !strings.Contains(got, "config.defaults.think.jitter: must be whole milliseconds (500) or a percentage (20%)") {
		t.Errorf("bad jitter: %q", got)
	}
}
