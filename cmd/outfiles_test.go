package cmd

import (
	"bytes"
	"context"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/primeload/primeload/report/reporttest"
)

// collideScript reads a payload CSV beside it and has a strict SLO, so
// run and capacity both accept it.
const collideScript = `config:
  target: "{{URL}}"
  phases:
    - duration: 1
      arrivalCount: 2
  payload:
    path: "data.csv"
    fields: ["id"]
  ensure:
    thresholds:
      - http.response_time.p99: 5000
scenarios:
  - flow:
      - get:
          url: "/items/{{ id }}"
`

// TestOutputCollisionsRefusedBeforeLoad: an output that would overwrite
// an input or another output, or that lands in a folder that cannot be
// written, is refused with exit 2 by run, capacity, report and compare
// before anything is sent or any file changes; the message names both
// sides. {{DIR}} is the case's folder, {{RO}} a read-only folder.
func TestOutputCollisionsRefusedBeforeLoad(t *testing.T) {
	t.Parallel()
	capFlags := []string{"--step", "1s", "--warm-up", "1s", "--max-duration", "2s"}
	tests := []struct {
		name string
		args []string
		env  map[string]string
		link bool     // {{DIR}}/link points at {{DIR}}/out
		want []string // each in stderr; "" rows are allowed to run
	}{
		{name: "run -o the script", args: []string{"run", "{{DIR}}/script.yml", "-o", "{{DIR}}/script.yml"},
			want: []string{"--output {{DIR}}/script.yml would overwrite the script {{DIR}}/script.yml"}},
		{name: "run --html the payload", args: []string{"run", "{{DIR}}/script.yml", "--html", "{{DIR}}/./data.csv"},
			want: []string{"--html {{DIR}}/./data.csv would overwrite payload", "data.csv"}},
		{name: "run --junit the --config file", args: []string{"run", "{{DIR}}/script.yml", "-c", "{{DIR}}/common.yml", "--junit", "{{DIR}}/common.yml"},
			want: []string{"--junit {{DIR}}/common.yml would overwrite --config file {{DIR}}/common.yml"}},
		{name: "run --summary-md the settings file", args: []string{"run", "{{DIR}}/script.yml", "--settings", "{{DIR}}/primeload.yaml", "--summary-md", "{{DIR}}/primeload.yaml"},
			want: []string{"--summary-md {{DIR}}/primeload.yaml would overwrite settings file {{DIR}}/primeload.yaml"}},
		{name: "run --hdr-log the --dotenv file", args: []string{"run", "{{DIR}}/script.yml", "--dotenv", "{{DIR}}/.env", "--hdr-log", "{{DIR}}/.env"},
			want: []string{"--hdr-log {{DIR}}/.env would overwrite --dotenv file {{DIR}}/.env"}},
		{name: "run --trace-file the script", args: []string{"run", "{{DIR}}/script.yml", "--trace-file", "{{DIR}}/script.yml"},
			want: []string{"--trace-file {{DIR}}/script.yml would overwrite the script"}},
		{name: "run -o and --html one new file", args: []string{"run", "{{DIR}}/script.yml", "-o", "{{DIR}}/r", "--html", "{{DIR}}/r"},
			want: []string{"--output {{DIR}}/r and --html {{DIR}}/r are the same file"}},
		{name: "run two outputs through a linked folder", link: true, args: []string{"run", "{{DIR}}/script.yml", "--junit", "{{DIR}}/out/r.xml", "--hdr-log", "{{DIR}}/link/r.xml"},
			want: []string{"--junit {{DIR}}/out/r.xml and --hdr-log {{DIR}}/link/r.xml are the same file"}},
		{name: "run --trace-file and -o", args: []string{"run", "{{DIR}}/script.yml", "-o", "{{DIR}}/t", "--trace-file", "{{DIR}}/t"},
			want: []string{"--output {{DIR}}/t and --trace-file {{DIR}}/t are the same file"}},
		{name: "run --summary-md and the step summary", env: map[string]string{"GITHUB_STEP_SUMMARY": "{{DIR}}/step.md"},
			args: []string{"run", "{{DIR}}/script.yml", "--summary-md", "{{DIR}}/step.md"},
			want: []string{"--summary-md {{DIR}}/step.md and $GITHUB_STEP_SUMMARY {{DIR}}/step.md are the same file"}},
		{name: "run output in a read-only folder", args: []string{"run", "{{DIR}}/script.yml", "--junit", "{{RO}}/j.xml"},
			want: []string{"--junit {{RO}}/j.xml: folder {{RO}} is not writable"}},
		{name: "run -o a folder", args: []string{"run", "{{DIR}}/script.yml", "-o", "{{DIR}}/out"},
			want: []string{"--output {{DIR}}/out: is a folder"}},
		{name: "run every problem at once", args: []string{"run", "{{DIR}}/script.yml", "-o", "{{DIR}}/script.yml", "--html", "{{RO}}/r.html", "--junit", "{{DIR}}/data.csv"},
			want: []string{"--output {{DIR}}/script.yml would overwrite", "--html {{RO}}/r.html: folder", "--junit {{DIR}}/data.csv would overwrite"}},
		{name: "run outputs to one device", args: []string{"run", "{{DIR}}/script.yml", "-o", os.DevNull, "--html", os.DevNull, "--junit", os.DevNull}},

		{name: "capacity -o the script", args: append([]string{"capacity", "{{DIR}}/script.yml", "-o", "{{DIR}}/script.yml"}, capFlags...),
			want: []string{"--output {{DIR}}/script.yml would overwrite the script"}},
		{name: "capacity -o and --html one file", args: append([]string{"capacity", "{{DIR}}/script.yml", "-o", "{{DIR}}/c", "--html", "{{DIR}}/c"}, capFlags...),
			want: []string{"--output {{DIR}}/c and --html {{DIR}}/c are the same file"}},
		{name: "capacity --html the payload", args: append([]string{"capacity", "{{DIR}}/script.yml", "--html", "{{DIR}}/data.csv"}, capFlags...),
			want: []string{"--html {{DIR}}/data.csv would overwrite payload"}},
		{name: "capacity output in a read-only folder", args: append([]string{"capacity", "{{DIR}}/script.yml", "-o", "{{RO}}/c.json"}, capFlags...),
			want: []string{"--output {{RO}}/c.json: folder {{RO}} is not writable"}},

		{name: "report -o one of its parts", args: []string{"report", "{{DIR}}/base.json", "{{DIR}}/new.json", "--force", "-o", "{{DIR}}/new.json"},
			want: []string{"--output {{DIR}}/new.json would overwrite the report {{DIR}}/new.json"}},
		{name: "report --html and --junit one file", args: []string{"report", "{{DIR}}/base.json", "--html", "{{DIR}}/x", "--junit", "{{DIR}}/x"},
			want: []string{"--junit {{DIR}}/x and --html {{DIR}}/x are the same file"}},
		{name: "report output in a read-only folder", args: []string{"report", "{{DIR}}/base.json", "--summary-md", "{{RO}}/s.md"},
			want: []string{"--summary-md {{RO}}/s.md: folder {{RO}} is not writable"}},
		{name: "report to a new file", args: []string{"report", "{{DIR}}/base.json", "-o", "{{DIR}}/again.json"}},

		{name: "compare -o the baseline", args: []string{"compare", "{{DIR}}/base.json", "{{DIR}}/new.json", "-o", "{{DIR}}/base.json"},
			want: []string{"--output {{DIR}}/base.json would overwrite the base report {{DIR}}/base.json"}},
		{name: "compare --markdown and --html one file", args: []string{"compare", "{{DIR}}/base.json", "{{DIR}}/new.json", "--markdown", "{{DIR}}/m", "--html", "{{DIR}}/m"},
			want: []string{"--markdown {{DIR}}/m and --html {{DIR}}/m are the same file"}},
		{name: "compare output in a read-only folder", args: []string{"compare", "{{DIR}}/base.json", "{{DIR}}/new.json", "--junit", "{{RO}}/j.xml"},
			want: []string{"--junit {{RO}}/j.xml: folder {{RO}} is not writable"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var requests atomic.Int64
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				requests.Add(1)
				w.Write([]byte(`{"id":1}`))
			}))
			t.Cleanup(srv.Close)
			dir := writeFiles(t, srv.URL, map[string]string{
				"script.yml":     collideScript,
				"data.csv":       "1\n2\n",
				"common.yml":     "config:\n  http:\n    timeout: 5\n",
				".env":           "TOKEN=x\n",
				"primeload.yaml": "quiet: true\n",
				"step.md":        "earlier step\n",
			})
			reportFile(t, dir, "base.json", reporttest.Options{}, nil)
			reportFile(t, dir, "new.json", reporttest.Options{}, nil)
			if err := os.Mkdir(filepath.Join(dir, "out"), 0o755); err != nil {
				t.Fatal(err)
			}
			if tt.link {
				if err := os.Symlink(filepath.Join(dir, "out"), filepath.Join(dir, "link")); err != nil {
					t.Skipf("no symbolic links here: %v", err)
				}
			}
			ro := ""
			expand := func(s string) string {
				if strings.Contains(s, "{{RO}}") && ro == "" {
					ro = readOnlyDir(t)
				}
				return strings.NewReplacer("{{DIR}}", dir, "{{RO}}", ro).Replace(s)
			}
			args := make([]string, len(tt.args))
			for i, a := range tt.args {
				args[i] = expand(a)
			}
			env := map[string]string{}
			for k, v := range tt.env {
				env[k] = expand(v)
			}
			before := snapshot(t, dir)

			var stdout, stderr bytes.Buffer
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			code := Execute(ctx, TestState(&stdout, &stderr, env), args)

			if len(tt.want) == 0 {
				if code == ExitUsage {
					t.Fatalf("exit %d, want the command to run:\n%s", code, stderr.String())
				}
				if args[0] == "run" && requests.Load() == 0 {
					t.Errorf("the run sent nothing")
				}
				// Written through, never replaced by a regular file.
				if fi, err := os.Stat(os.DevNull); err != nil || fi.Mode()&fs.ModeCharDevice == 0 {
					t.Errorf("%s is no longer a device: %v %v", os.DevNull, fi.Mode(), err)
				}
				return
			}
			if code != ExitUsage {
				t.Errorf("exit %d, want %d\nstderr:\n%s", code, ExitUsage, stderr.String())
			}
			for _, w := range tt.want {
				if w = expand(w); !strings.Contains(stderr.String(), w) {
					t.Errorf("stderr does not say %q:\n%s", w, stderr.String())
				}
			}
			if n := requests.Load(); n != 0 {
				t.Errorf("the target saw %d requests, want none before the outputs are known to be safe", n)
			}
			if after := snapshot(t, dir); !mapsEqual(before, after) {
				t.Errorf("files changed although the command was refused:\nbefore %v\nafter  %v", keys(before), keys(after))
			}
		})
	}
}

// readOnlyDir returns a folder in which no file can be created. Root
// writes through permission bits, so then it falls back to sysfs, which
// refuses new files to everyone.
func readOnlyDir(t *testing.T) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "ro")
	if err := os.Mkdir(dir, 0o555); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.Chmod(dir, 0o755) })
	if !canCreate(dir) {
		return dir
	}
	if runtime.GOOS == "linux" && !canCreate("/sys") {
		return "/sys"
	}
	t.Skip("no read-only folder: permission bits do not bind this user and there is no sysfs")
	return ""
}

func canCreate(dir string) bool {
	f, err := os.CreateTemp(dir, "probe-*")
	if err != nil {
		return false
	}
	f.Close()
	os.Remove(f.Name())
	return true
}

// snapshot maps every regular file under dir to its content.
func snapshot(t *testing.T, dir string) map[string]string {
	t.Helper()
	files := map[string]string{}
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || !d.Type().IsRegular() {
			return err
		}
		b, err := os.ReadFile(path)
		files[path] = string(b)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return files
}

func mapsEqual(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || w != v {
			return false
		}
	}
	return true
}

func keys(m map[string]string) []string {
	var ks []string
	for k := range m {
		ks = append(ks, filepath.Base(k))
	}
	return ks
}
