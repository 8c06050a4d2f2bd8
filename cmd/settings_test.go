package cmd

import (
	"bytes"
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestSettingsCoercedAlike: a value means the same, and a bad value gets
// the same message, from the settings file, the environment and a flag.
func TestSettingsCoercedAlike(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	file := func(name, body string) string {
		p := filepath.Join(dir, name)
		mustWrite(t, p, body)
		return p
	}
	tenFile := file("ten.yaml", "period: 10\n")
	halfFile := file("half.yaml", "grace: 0.5\nquiet: yes\n")
	badFile := file("bad.yaml", "quiet: true\nperiod: soon\n")
	tests := []struct {
		name   string
		args   []string
		env    map[string]string
		period time.Duration
		grace  time.Duration
		quiet  bool
		err    []string
	}{
		{name: "file number", args: []string{"s.yml", "--settings", tenFile}, period: 10 * time.Second},
		{name: "env number", args: []string{"s.yml"}, env: map[string]string{"PRIMELOAD_PERIOD": "10"}, period: 10 * time.Second},
		{name: "flag number", args: []string{"s.yml", "--period", "10"}, period: 10 * time.Second},
		{name: "file fraction and yes", args: []string{"s.yml", "--settings", halfFile}, grace: 500 * time.Millisecond, quiet: true},
		{name: "env fraction and yes", args: []string{"s.yml"}, env: map[string]string{"PRIMELOAD_GRACE": "0.5", "PRIMELOAD_QUIET": "yes"}, grace: 500 * time.Millisecond, quiet: true},
		{name: "flag fraction and yes", args: []string{"s.yml", "--grace", "0.5", "--quiet=yes"}, grace: 500 * time.Millisecond, quiet: true},
		// An Artillery config file, laid over the script: its keys are
		// not primeload settings, so grace and quiet keep their defaults.
		{name: "--config is Artillery's, not ours", args: []string{"s.yml", "--config", halfFile}},
		{name: "settings file from the environment", args: []string{"s.yml"}, env: map[string]string{"PRIMELOAD_SETTINGS": tenFile}, period: 10 * time.Second},

		{name: "bad in file", args: []string{"s.yml", "--settings", badFile}, err: []string{badFile + ":2: period: \"soon\" is not a duration"}},
		{name: "bad in env", args: []string{"s.yml"}, env: map[string]string{"PRIMELOAD_PERIOD": "soon"}, err: []string{"PRIMELOAD_PERIOD: \"soon\" is not a duration"}},
		{name: "bad flag", args: []string{"s.yml", "--period", "soon"}, err: []string{"--period: \"soon\" is not a duration"}},
		{name: "bad bool flag", args: []string{"s.yml", "--quiet=maybe"}, err: []string{"--quiet: \"maybe\" is not a boolean"}},
		{name: "missing settings file from env", args: []string{"s.yml"}, env: map[string]string{"PRIMELOAD_SETTINGS": filepath.Join(dir, "nope.yaml")}, err: []string{"PRIMELOAD_SETTINGS: read settings", "nope.yaml"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := parseRun(t, tt.args, tt.env)
			if len(tt.err) > 0 {
				if err == nil {
					t.Fatalf("got %+v, want an error", got)
				}
				for _, w := range tt.err {
					if !strings.Contains(err.Error(), w) {
						t.Errorf("error %q does not contain %q", err, w)
					}
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			want := RunOptions{Period: tt.period, Grace: tt.grace, Quiet: tt.quiet}
			if want.Period == 0 {
				want.Period = 10 * time.Second
			}
			if want.Grace == 0 {
				want.Grace = 5 * time.Second
			}
			if got.Period != want.Period || got.Grace != want.Grace || got.Quiet != want.Quiet {
				t.Errorf("period %s grace %s quiet %v, want %s %s %v", got.Period, got.Grace, got.Quiet, want.Period, want.Grace, want.Quiet)
			}
		})
	}
}

// TestSettingsTypoEveryCommand: every command reads the settings file the
// same way and refuses a misspelt key with its line; a key another
// command reads is fine.
func TestSettingsTypoEveryCommand(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	typo := filepath.Join(dir, "typo.yaml")
	mustWrite(t, typo, "store: memory\nperod: 2s\nslo:\n  - http.requests > 0\n")
	list := filepath.Join(dir, "list.yaml")
	mustWrite(t, list, "target:\n  - http://127.0.0.1:1\n")
	for _, args := range [][]string{
		{"run", "s.yml"},
		{"validate", "s.yml"},
		{"report", "r.json"},
		{"serve", "--addr", "127.0.0.1:0"},
	} {
		for _, c := range []struct {
			file string
			want string
		}{
			{typo, typo + ":2: perod: unknown setting"},
			{list, list + ":1: target: want a single value"},
		} {
			var out, errOut bytes.Buffer
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			code := Execute(ctx, TestState(&out, &errOut, map[string]string{"PRIMELOAD_SETTINGS": c.file}), args)
			cancel()
			if code != ExitUsage || !strings.Contains(errOut.String(), c.want) {
				t.Errorf("%v with %s: exit %d, stderr %q; want %d naming %q", args, filepath.Base(c.file), code, errOut.String(), ExitUsage, c.want)
			}
		}
	}
}

// TestReportReadsSettings: report takes its flags from the environment and
// the settings file like every other command; --slo replaces the file's.
func TestReportReadsSettings(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	cfg := filepath.Join(dir, "s.yaml")
	mustWrite(t, cfg, "force: true\nhtml: r.html\nslo:\n  - http.requests > 0\n  - http.codes.500 < 1\n")
	got, err := parseWith(t, newReportCmdF, []string{"a.json", "--settings", cfg}, map[string]string{"PRIMELOAD_JUNIT": "j.xml"})
	if err != nil {
		t.Fatal(err)
	}
	if !got.Force || got.HTML != "r.html" || got.JUnit != "j.xml" || strings.Join(got.SLOs, ";") != "http.requests > 0;http.codes.500 < 1" {
		t.Errorf("options %+v", got)
	}
	got, err = parseWith(t, newReportCmdF, []string{"a.json", "--settings", cfg, "--slo", "vusers.failed == 0"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(got.SLOs, ";") != "vusers.failed == 0" {
		t.Errorf("--slo gave %q, want it to replace the file's", got.SLOs)
	}
}
