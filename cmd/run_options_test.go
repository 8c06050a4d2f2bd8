package cmd

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/primeload/primeload/report"
	"github.com/primeload/primeload/report/metric"
	"github.com/primeload/primeload/runner"
	"github.com/primeload/primeload/scenario"
)

// parseRun runs the run command's argument handling only, returning the
// options runF received or the error.
func parseRun(t *testing.T, args []string, env map[string]string) (*RunOptions, error) {
	t.Helper()
	return parseWith(t, newRunCmdF, args, env)
}

func TestRunOptions(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	cfg := filepath.Join(dir, "primeload.yaml")
	mustWrite(t, cfg, "target: http://127.0.0.1:9/\nperiod: 2s\nquiet: true\nvar:\n  - A=file\n  - B=file\n")
	typoCfg := filepath.Join(dir, "typo.yaml")
	mustWrite(t, typoCfg, "quiet: true\nperod: 2s\n")
	badCfg := filepath.Join(dir, "bad.yaml")
	mustWrite(t, badCfg, "quiet: true\n\nperiod: soon\n")

	defaults := RunOptions{Script: "s.yml", Period: 10 * time.Second, Grace: 5 * time.Second, Vars: map[string]string{}, MaxEndpoints: metric.MaxEndpoints, MaxBodyMiB: runner.DefaultMaxBodyBytes >> 20, Count: 1, MaxLag: report.DefaultMaxLag}
	with := func(f func(*RunOptions)) RunOptions {
		o := defaults
		o.Vars = map[string]string{}
		f(&o)
		return o
	}
	tests := []struct {
		name    string
		args    []string
		env     map[string]string
		want    RunOptions
		wantErr []string // substrings of the error, all of them
	}{
		{name: "defaults", args: []string{"s.yml"}, want: defaults},
		{
			name: "every flag",
			args: []string{"s.yml", "-t", "http://127.0.0.1:8080", "-e", "quick", "-o", "r.json", "--period", "1s", "--quiet",
				"--var", "A=1", "--var", "B=x=y", "--grace", "0s", "--insecure", "--segment", "2/4",
				"--start-at", "2026-11-26T03:00:00Z", "--junit", "j.xml", "--html", "r.html", "--summary-md", "s.md",
				"--hdr-log", "h.log", "--allow-outside-payload", "--debug-addr", "127.0.0.1:6060", "--trace", "3", "--trace-file", "t.jsonl", "--max-endpoints", "20", "--max-body-mib", "64", "--max-lag", "25ms",
				"--scenario-name", "one", "--solo", "--count", "3", "-p", "d.csv", "--overrides", `{"a": 1}`, "-v", `{"b": 2}`},
			want: RunOptions{ScenarioName: "one", Solo: true, Count: 3, Shape: ScriptShape{Payload: "d.csv", Layers: []scenario.Layer{
				{Name: "--overrides", Data: []byte(`{"a": 1}`), Merge: scenario.MergeReplaceLists},
				{Name: "--variables", Data: []byte(`{"b": 2}`), Merge: scenario.MergeVariables}}},
				Script: "s.yml", Target: "http://127.0.0.1:8080", Environment: "quick", Output: "r.json",
				Period: time.Second, Quiet: true, Vars: map[string]string{"A": "1", "B": "x=y"}, Insecure: true,
				Segment: runner.Segment{Index: 2, Count: 4}, StartAt: time.Date(2026, 11, 26, 3, 0, 0, 0, time.UTC), JUnit: "j.xml",
				HTML: "r.html", SummaryMD: "s.md", HdrLog: "h.log", AllowOutsidePayload: true, DebugAddr: "127.0.0.1:6060",
				Trace: 3, TraceFile: "t.jsonl", MaxEndpoints: 20, MaxBodyMiB: 64, MaxLag: 25 * time.Millisecond},
		},
		{
			name: "environment sets flags",
			args: []string{"s.yml"},
			env:  map[string]string{"PRIMELOAD_WITH_TARGET": "true", "PRIMELOAD_PERIOD": "3s", "PRIMELOAD_VAR": "A=1,B=2", "PRIMELOAD_SEGMENT": "1/2"},
			want: with(func(o *RunOptions) {
				o.WithTarget, o.Period, o.Vars, o.Segment = true, 3*time.Second, map[string]string{"A": "1", "B": "2"}, runner.Segment{Index: 1, Count: 2}
			}),
		},
		{
			name: "flag beats environment",
			args: []string{"s.yml", "--period", "4s", "--var", "A=flag"},
			env:  map[string]string{"PRIMELOAD_PERIOD": "3s", "PRIMELOAD_VAR": "A=env,B=env"},
			want: with(func(o *RunOptions) { o.Period, o.Vars = 4*time.Second, map[string]string{"A": "flag", "B": "env"} }),
		},
		{
			name: "config file, environment beats it, flag beats both",
			args: []string{"s.yml", "--settings", cfg, "--var", "B=flag"},
			env:  map[string]string{"PRIMELOAD_TARGET": "http://127.0.0.1:7/", "PRIMELOAD_VAR": "A=env"},
			want: with(func(o *RunOptions) {
				o.Target, o.Period, o.Quiet, o.Vars = "http://127.0.0.1:7/", 2*time.Second, true, map[string]string{"A": "env", "B": "flag"}
				o.SettingsFile = cfg
			}),
		},
		{
			name: "settings file from PRIMELOAD_SETTINGS",
			args: []string{"s.yml"},
			env:  map[string]string{"PRIMELOAD_SETTINGS": cfg},
			want: with(func(o *RunOptions) {
				o.Target, o.Period, o.Quiet, o.Vars = "http://127.0.0.1:9/", 2*time.Second, true, map[string]string{"A": "file", "B": "file"}
				o.SettingsFile = cfg
			}),
		},
		{
			name: "kubernetes indexed job",
			args: []string{"s.yml", "--segments", "4"},
			env:  map[string]string{"JOB_COMPLETION_INDEX": "3"},
			want: with(func(o *RunOptions) { o.Segment = runner.Segment{Index: 4, Count: 4} }),
		},

		// Sad paths: each names the flag, variable or file line to fix.
		{name: "no script", args: nil, wantErr: []string{"accepts 1 arg"}},
		{name: "no endpoints", args: []string{"s.yml", "--max-endpoints", "0"}, wantErr: []string{"max-endpoints", "0: want at least 1"}},
		{name: "body limit zero", args: []string{"s.yml", "--max-body-mib", "0"}, wantErr: []string{"--max-body-mib: 0 is out of range (1 to 1024)"}},
		{name: "body limit past an int32", args: []string{"s.yml"}, env: map[string]string{"PRIMELOAD_MAX_BODY_MIB": "2048"}, wantErr: []string{"PRIMELOAD_MAX_BODY_MIB: 2048 is out of range (1 to 1024)"}},
		{name: "no lag allowed", args: []string{"s.yml", "--max-lag", "0"}, wantErr: []string{"max-lag", "0s: want a positive duration"}},
		{name: "bad duration from env", args: []string{"s.yml"}, env: map[string]string{"PRIMELOAD_GRACE": "soon"}, wantErr: []string{"PRIMELOAD_GRACE", `"soon" is not a duration`}},
		{name: "bad duration in file names its line", args: []string{"s.yml", "--settings", badCfg}, wantErr: []string{badCfg + ":3: period", "not a duration"}},
		{name: "unknown key in file", args: []string{"s.yml", "--settings", typoCfg}, wantErr: []string{typoCfg + ":2: perod: unknown setting", "period"}},
		{name: "missing settings file", args: []string{"s.yml", "--settings", filepath.Join(dir, "nope.yaml")}, wantErr: []string{"nope.yaml"}},
		{name: "period too short", args: []string{"s.yml", "--period", "1ms"}, wantErr: []string{"--period: 1ms is too short"}},
		{name: "bad bool from env", args: []string{"s.yml"}, env: map[string]string{"PRIMELOAD_QUIET": "maybe"}, wantErr: []string{"PRIMELOAD_QUIET", "not a boolean"}},
		{name: "var without =", args: []string{"s.yml", "--var", "A"}, wantErr: []string{`--var: "A" is not NAME=VALUE`}},
		{name: "target and with-target", args: []string{"s.yml", "-t", "http://127.0.0.1:1", "--with-target"}, wantErr: []string{"--target and --with-target"}},
		{name: "target not a URL", args: []string{"s.yml", "-t", "127.0.0.1:8080"}, wantErr: []string{"--target", "not an http:// or https:// URL"}},
		{name: "segment out of range", args: []string{"s.yml", "--segment", "5/4"}, wantErr: []string{"--segment", "i/N"}},
		{name: "segments without index", args: []string{"s.yml", "--segments", "4"}, wantErr: []string{"--segments needs JOB_COMPLETION_INDEX"}},
		{name: "index out of range", args: []string{"s.yml", "--segments", "4"}, env: map[string]string{"JOB_COMPLETION_INDEX": "4"}, wantErr: []string{"JOB_COMPLETION_INDEX", "0 to 3"}},
		{name: "segment and segments disagree", args: []string{"s.yml", "--segment", "1/3", "--segments", "4"}, wantErr: []string{"--segment says 3 segments but --segments says 4"}},
		{name: "bad start", args: []string{"s.yml", "--start-at", "tomorrow"}, wantErr: []string{"--start-at", "RFC 3339"}},
		{name: "trace negative", args: []string{"s.yml", "--trace", "-1"}, wantErr: []string{"--trace", "negative"}},
		{name: "trace file alone traces one of each", args: []string{"s.yml", "--trace-file", "t.jsonl"},
			want: with(func(o *RunOptions) { o.Trace, o.TraceFile = 1, "t.jsonl" })},
		{name: "debug not loopback", args: []string{"s.yml", "--debug-addr", "0.0.0.0:6060"}, wantErr: []string{"--debug-addr", "not a loopback"}},
		{
			name:    "all problems at once",
			args:    []string{"s.yml", "--period", "1ms", "--grace", "-1s", "--var", "x"},
			wantErr: []string{"--period", "--grace", "--var"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := parseRun(t, tt.args, tt.env)
			checkOptions(t, got, err, tt.want, tt.wantErr)
		})
	}
}

func TestParseStartAt(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 11, 26, 2, 0, 0, 0, time.UTC)
	tests := []struct {
		in      string
		want    time.Time
		wantErr bool
	}{
		{in: "+30s", want: now.Add(30 * time.Second)},
		{in: "+0s", want: now},
		{in: "2026-11-26T03:00:00Z", want: now.Add(time.Hour)},
		{in: "2026-11-26T04:00:00+01:00", want: now.Add(time.Hour)},
		{in: "-30s", wantErr: true},
		{in: "+-30s", wantErr: true},
		{in: "+soon", wantErr: true},
		{in: "2026-11-26 03:00", wantErr: true},
	}
	for _, tt := range tests {
		got, err := parseStartAt(tt.in, now)
		if (err != nil) != tt.wantErr {
			t.Errorf("parseStartAt(%q) error = %v, want error %v", tt.in, err, tt.wantErr)
			continue
		}
		if !got.Equal(tt.want) {
			t.Errorf("parseStartAt(%q) = %s, want %s", tt.in, got, tt.want)
		}
	}
}

func mustWrite(t testing.TB, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestRunOptionsConfigInWorkingDir reads ./primeload.yaml without --config.
// Not parallel: it changes the working directory.
func TestRunOptionsConfigInWorkingDir(t *testing.T) {
	dir := t.TempDir()
	mustWrite(t, filepath.Join(dir, "primeload.yaml"), "grace: 1s\nwith-target: true\n")
	t.Chdir(dir)
	got, err := parseRun(t, []string{"s.yml"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if got.Grace != time.Second || !got.WithTarget {
		t.Errorf("grace %s, with-target %v; want 1s and true from ./primeload.yaml", got.Grace, got.WithTarget)
	}
}
