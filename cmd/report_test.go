package cmd

import (
	"bytes"
	"context"
	"encoding/xml"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/primeload/primeload/report"
	"github.com/primeload/primeload/report/metric"
	"github.com/primeload/primeload/report/reporttest"
	"github.com/primeload/primeload/scenario"
)

func TestReportOptions(t *testing.T) {
	t.Parallel()
	tests := []struct {
		args []string
		want ReportOptions
	}{
		{[]string{"a.json"}, ReportOptions{Files: []string{"a.json"}}},
		{
			[]string{"a.json", "b.json", "-o", "m.json", "--force", "--html", "r.html", "--junit", "j.xml", "--summary-md", "s.md"},
			ReportOptions{Files: []string{"a.json", "b.json"}, Output: "m.json", Force: true, HTML: "r.html", JUnit: "j.xml", SummaryMD: "s.md"},
		},
		{
			[]string{"a.json", "--slo", "http.response_time.p99 < 250", "--slo", "http.codes.500 < 1"},
			ReportOptions{Files: []string{"a.json"}, SLOs: []string{"http.response_time.p99 < 250", "http.codes.500 < 1"}},
		},
	}
	for _, tt := range tests {
		var got *ReportOptions
		c := newReportCmdF(TestState(&bytes.Buffer{}, &bytes.Buffer{}, nil), func(_ context.Context, o *ReportOptions) error {
			got = o
			return nil
		})
		c.SetArgs(tt.args)
		if err := c.Execute(); err != nil {
			t.Errorf("%v: %v", tt.args, err)
			continue
		}
		if !reflect.DeepEqual(*got, tt.want) {
			t.Errorf("%v:\n got %+v\nwant %+v", tt.args, *got, tt.want)
		}
	}
	if code := Execute(context.Background(), TestState(&bytes.Buffer{}, &bytes.Buffer{}, nil), []string{"report"}); code != ExitUsage {
		t.Errorf("report without files: exit %d, want %d", code, ExitUsage)
	}
}

// reportFile writes a built run as a JSON report file in dir.
func reportFile(t *testing.T, dir, name string, o reporttest.Options, edit func(*report.Report)) string {
	t.Helper()
	r := reporttest.Run(t, o)
	if edit != nil {
		edit(r)
	}
	path := filepath.Join(dir, name)
	if err := report.WriteFile(path, r); err != nil {
		t.Fatal(err)
	}
	return path
}

// execReport runs `primeload report args...` and returns the exit code and output.
func execReport(t *testing.T, env map[string]string, args ...string) (code int, out, errOut string) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	code = Execute(ctx, TestState(&stdout, &stderr, env), append([]string{"report"}, args...))
	return code, stdout.String(), stderr.String()
}

func strictP99(limit float64) scenario.Ensure {
	return scenario.Ensure{Thresholds: []scenario.Threshold{{Metric: "http.response_time.p99", Limit: limit}}}
}

func TestReportExitCodes(t *testing.T) {
	t.Parallel()
	expectFailed := func(r *report.Report) { r.Aggregate.Counters["plugins.expect.failed"] = 3 }
	tests := []struct {
		name string
		opts reporttest.Options
		edit func(*report.Report)
		args []string
		code int
		out  []string // substrings of stdout
		err  []string // substrings of stderr
	}{
		{name: "recorded SLO passes", opts: reporttest.Options{Ensure: strictP99(1000)}, code: ExitOK,
			out: []string{"http.requests", "SLOs:", "ok    http.response_time.p99 < 1000"}},
		{name: "recorded SLO fails", opts: reporttest.Options{Ensure: strictP99(5)}, code: ExitSLO,
			out: []string{"fail  http.response_time.p99 < 5"}},
		{name: "non-strict failure only warns", opts: reporttest.Options{Ensure: scenario.Ensure{Conditions: []scenario.Condition{{Expression: "http.response_time.p99 < 5"}}}},
			code: ExitOK, out: []string{"warn  http.response_time.p99 < 5"}},
		{name: "legacy maxErrorRate fails", opts: reporttest.Options{Failures: true, Ensure: scenario.Ensure{Legacy: []scenario.Threshold{{Metric: "maxErrorRate", Limit: 0.1}}}},
			code: ExitSLO, out: []string{"fail  maxErrorRate: (vusers.created - vusers.completed) / vusers.created * 100 <= 0.1  0.5 (limit 0.1)"}},
		{name: "--slo replaces the recorded SLOs", opts: reporttest.Options{Ensure: strictP99(5)},
			args: []string{"--slo", "http.codes.500 == 0", "--slo", "plugins.metrics-by-endpoint.response_time./api/tracking-updates/.p99 < 1000"},
			code: ExitOK, out: []string{"ok    http.codes.500 == 0", "ok    plugins.metrics-by-endpoint.response_time./api/tracking-updates/.p99 < 1000"}},
		{name: "--slo fails", opts: reporttest.Options{Failures: true}, args: []string{"--slo", "http.codes.500 / http.requests < 0.001"},
			code: ExitSLO, out: []string{"fail  http.codes.500 / http.requests < 0.001  0.015 (limit 0.001)"}},
		{name: "--slo typo is a usage error", opts: reporttest.Options{}, args: []string{"--slo", "http.response_time.p99 < 1", "--slo", "http.respons_time.p99 < 250"},
			code: ExitUsage, err: []string{`--slo: http.respons_time.p99 < 250: unknown metric "http.respons_time.p99"; did you mean "http.response_time.p99"?`}},
		{name: "--slo on an endpoint the run never called", opts: reporttest.Options{}, args: []string{"--slo", "plugins.metrics-by-endpoint.response_time./nope.p99 < 1"},
			code: ExitUsage, err: []string{`never calls endpoint "/nope"`}},
		{name: "untrusted run exits 3 even when an SLO fails", opts: reporttest.Options{Lag: 40 * time.Millisecond, Ensure: strictP99(5)},
			code: ExitUntrusted, out: []string{"fail  http.response_time.p99 < 5"}},
		{name: "failed expectations exit 21", opts: reporttest.Options{Ensure: strictP99(1000)}, edit: expectFailed, code: ExitExpect},
		{name: "a failed SLO wins over failed expectations", opts: reporttest.Options{Ensure: strictP99(5)}, edit: expectFailed, code: ExitSLO},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			path := reportFile(t, t.TempDir(), "run.json", tt.opts, tt.edit)
			code, out, errOut := execReport(t, nil, append([]string{path}, tt.args...)...)
			if code != tt.code {
				t.Errorf("exit %d, want %d\nstdout:\n%s\nstderr:\n%s", code, tt.code, out, errOut)
			}
			// Read unwrapped: the summary wraps what is wider than 100 columns.
			flat := strings.Join(strings.Fields(out), " ")
			for _, w := range tt.out {
				if !strings.Contains(flat, strings.Join(strings.Fields(w), " ")) {
					t.Errorf("stdout lacks %q:\n%s", w, out)
				}
			}
			for _, w := range tt.err {
				if !strings.Contains(errOut, w) {
					t.Errorf("stderr lacks %q:\n%s", w, errOut)
				}
			}
		})
	}
}

func TestReportBadFiles(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.json")
	if err := os.WriteFile(bad, []byte(`{"aggregate": `), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		args []string
		err  string
	}{
		{"missing file", []string{filepath.Join(dir, "nope.json")}, "nope.json"},
		{"truncated JSON", []string{bad}, "bad.json"},
		{"output folder missing", []string{reportFile(t, dir, "ok.json", reporttest.Options{}, nil), "--html", filepath.Join(dir, "no", "r.html")}, "does not exist"},
	}
	for _, tt := range tests {
		code, _, errOut := execReport(t, nil, tt.args...)
		if code != ExitUsage || !strings.Contains(errOut, tt.err) {
			t.Errorf("%s: exit %d stderr %q, want %d naming %q", tt.name, code, errOut, ExitUsage, tt.err)
		}
	}
}

func TestReportMerge(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	a := reportFile(t, dir, "a.json", reporttest.Options{Seed: 1, Ensure: strictP99(1000), Failures: true}, segment("1/2"))
	b := reportFile(t, dir, "b.json", reporttest.Options{Seed: 2, Ensure: strictP99(1000), Failures: true}, segment("2/2"))
	other := reportFile(t, dir, "other.json", reporttest.Options{Seed: 3, Script: "other.yml"}, func(r *report.Report) { r.Script.Digest = "sha256:other"; r.Segment = "2/2" })
	merged := filepath.Join(dir, "merged.json")

	code, out, errOut := execReport(t, nil, a, b, "-o", merged)
	if code != ExitOK {
		t.Fatalf("merge: exit %d\n%s\n%s", code, out, errOut)
	}
	m, err := report.ReadFile(merged)
	if err != nil {
		t.Fatal(err)
	}
	ra, _ := report.ReadFile(a)
	rb, _ := report.ReadFile(b)
	for _, name := range []string{"http.requests", "http.responses", "http.codes.200", "http.codes.500", "errors.ETIMEDOUT", "vusers.created"} {
		if got, want := m.Aggregate.Counters[name], ra.Aggregate.Counters[name]+rb.Aggregate.Counters[name]; got != want || want == 0 {
			t.Errorf("merged %s = %d, want %d", name, got, want)
		}
	}
	if got, want := m.Aggregate.Summaries[metric.ResponseTime].Count, ra.Aggregate.Summaries[metric.ResponseTime].Count+rb.Aggregate.Summaries[metric.ResponseTime].Count; got != want {
		t.Errorf("merged latency count = %d, want %d", got, want)
	}
	if len(m.SLO) != 1 || !m.SLO[0].OK || m.Passed == nil || !*m.Passed {
		t.Errorf("merged report slo = %+v passed = %v, want the recorded SLO re-evaluated and passing", m.SLO, m.Passed)
	}
	if len(m.Intermediate) != len(ra.Intermediate) {
		t.Errorf("merged %d periods, want %d aligned", len(m.Intermediate), len(ra.Intermediate))
	}

	if code, _, errOut := execReport(t, nil, a, other); code != ExitUsage || !strings.Contains(errOut, "force") {
		t.Errorf("different scripts: exit %d %q, want %d suggesting --force", code, errOut, ExitUsage)
	}
	if code, out, errOut := execReport(t, nil, a, other, "--force"); code != ExitOK {
		t.Errorf("different scripts with --force: exit %d\n%s\n%s", code, out, errOut)
	}
}

func TestReportOutputs(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	run := reportFile(t, dir, "run.json", reporttest.Options{Ensure: scenario.Ensure{
		Thresholds: []scenario.Threshold{{Metric: "http.response_time.p99", Limit: 1000}},
		Conditions: []scenario.Condition{{Expression: "http.codes.500 / http.requests < 0.001", Strict: true}},
	}, Failures: true}, nil)
	html, junitPath, md := filepath.Join(dir, "r.html"), filepath.Join(dir, "j.xml"), filepath.Join(dir, "s.md")
	step := filepath.Join(dir, "step-summary.md")
	if err := os.WriteFile(step, []byte("earlier step\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	code, out, errOut := execReport(t, map[string]string{"GITHUB_STEP_SUMMARY": step}, run, "--html", html, "--junit", junitPath, "--summary-md", md)
	if code != ExitSLO {
		t.Fatalf("exit %d, want %d\n%s\n%s", code, ExitSLO, out, errOut)
	}
	page, err := os.ReadFile(html)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(page, []byte(`data-chart="spectrum"`)) || !bytes.Contains(page, []byte("SLO failed")) {
		t.Errorf("HTML report lacks the charts or the verdict")
	}
	raw, err := os.ReadFile(junitPath)
	if err != nil {
		t.Fatal(err)
	}
	var suites struct {
		Tests    int `xml:"tests,attr"`
		Failures int `xml:"failures,attr"`
	}
	// Two SLO cases, and a passing case per failure the report sampled.
	sampled := bytes.Count(raw, []byte(`classname="primeload.failure"`))
	if err := xml.Unmarshal(raw, &suites); err != nil || sampled == 0 || suites.Tests != 2+sampled || suites.Failures != 1 {
		t.Errorf("JUnit tests=%d failures=%d (%v) with %d failure cases, want 2 + those and 1", suites.Tests, suites.Failures, err, sampled)
	}
	summary, err := os.ReadFile(md)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(summary, []byte("## primeload: black-friday.yml ❌ SLO failed")) {
		t.Errorf("markdown summary starts %.60q", summary)
	}
	appended, err := os.ReadFile(step)
	if err != nil {
		t.Fatal(err)
	}
	if want := append([]byte("earlier step\n"), summary...); !bytes.Equal(appended, want) {
		t.Errorf("$GITHUB_STEP_SUMMARY = %q, want the earlier content then the summary", appended)
	}
}

// TestReportMergeWithKilledPart: a distributed run whose part was killed
// (its last checkpoint says aborted) is incomplete and must not pass the
// gate, whatever its SLOs say; a finished merge passes.
// segment marks a report as part i/N of a distributed run.
func segment(seg string) func(*report.Report) { return func(r *report.Report) { r.Segment = seg } }

// TestReportRefusesWrongParts: reports that are not the parts of one
// distributed run are refused naming the files (exit 2), and --force
// merges them with a warning naming what is wrong.
func TestReportRefusesWrongParts(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	part := func(name, seg string, edit ...func(*report.Report)) string {
		return reportFile(t, dir, name, reporttest.Options{Seed: uint64(len(name))}, func(r *report.Report) {
			r.Segment = seg
			for _, e := range edit {
				e(r)
			}
		})
	}
	p1, p2 := part("p1.json", "1/2"), part("p2.json", "2/2")
	again := part("again.json", "1/2")
	q1 := part("q1.json", "1/4")
	whole := part("whole.json", "")
	whole2 := part("whole2.json", "")
	otherScript := part("other.json", "2/2", func(r *report.Report) { r.Script.Digest = "sha256:edited" })
	tests := []struct {
		name  string
		files []string
		want  []string // in the error, all of them
	}{
		{"same segment twice", []string{p1, again, p2}, []string{"p1.json and " + again + " are both segment 1/2"}},
		{"one file is re-checked, not merged", []string{p1}, nil},
		{"overlapping splits", []string{p1, q1}, []string{"different splits (/2, /4) overlap"}},
		{"missing segment", []string{q1, part("q3.json", "3/4")}, []string{"segment 2/4, 4/4 missing"}},
		{"whole run with a segment", []string{whole, p1, p2}, []string{"whole.json: a whole run (no --segment) mixed with segments"}},
		{"two whole runs", []string{whole, whole2}, []string{"whole.json, " + whole2 + ": each is a whole run"}},
		{"different scripts", []string{p1, otherScript}, []string{"other.json is of script", "sha256:edited", "p1.json of"}},
	}
	for _, tt := range tests {
		code, out, errOut := execReport(t, nil, tt.files...)
		if tt.want == nil {
			if code == ExitUsage {
				t.Errorf("%s: exit 2\n%s", tt.name, errOut)
			}
			continue
		}
		if code != ExitUsage || !strings.Contains(errOut, "--force") {
			t.Errorf("%s: exit %d, want 2 suggesting --force\n%s\n%s", tt.name, code, out, errOut)
		}
		for _, w := range tt.want {
			if !strings.Contains(errOut, w) {
				t.Errorf("%s: error lacks %q:\n%s", tt.name, w, errOut)
			}
		}
		code, out, _ = execReport(t, nil, append(tt.files, "--force")...)
		if code == ExitUsage || !strings.Contains(out, "WARNING: --force: merging anyway") || !strings.Contains(out, tt.want[0]) {
			t.Errorf("%s --force: exit %d, want a merge with the warning naming %q\n%s", tt.name, code, tt.want[0], out)
		}
	}
	if code, out, errOut := execReport(t, nil, p1, p2); code != ExitOK {
		t.Errorf("the two parts: exit %d\n%s\n%s", code, out, errOut)
	}
}

func TestReportMergeWithKilledPart(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	done := reportFile(t, dir, "part-1.json", reporttest.Options{Seed: 1, Ensure: strictP99(1000)}, segment("1/2"))
	killed := reportFile(t, dir, "part-2.json", reporttest.Options{Seed: 2, Ensure: strictP99(1000)}, func(r *report.Report) { r.Aborted = true; r.Segment = "2/2" })
	other := reportFile(t, dir, "part-3.json", reporttest.Options{Seed: 3, Ensure: strictP99(1000)}, segment("2/2"))
	merged := filepath.Join(dir, "merged.json")
	tests := []struct {
		files   []string
		code    int
		verdict report.Verdict
	}{
		{[]string{done, other}, ExitOK, report.Pass},
		{[]string{done, killed}, ExitInterrupted, report.Interrupted},
		{[]string{killed}, ExitInterrupted, report.Interrupted},
	}
	for _, tt := range tests {
		code, out, errOut := execReport(t, nil, append(tt.files, "-o", merged)...)
		if code != tt.code {
			t.Errorf("report %v: exit %d, want %d\n%s\n%s", tt.files, code, tt.code, out, errOut)
		}
		m, err := report.ReadFile(merged)
		if err != nil {
			t.Fatal(err)
		}
		// The SLO itself held; passed is true only for a complete run.
		wantPassed := tt.verdict == report.Pass
		if m.Verdict != tt.verdict || m.Passed == nil || *m.Passed != wantPassed || !m.SLO[0].OK {
			t.Errorf("report %v: verdict %q passed %v slo %+v, want %q, passed %v, the SLO ok", tt.files, m.Verdict, m.Passed, m.SLO, tt.verdict, wantPassed)
		}
	}
}

// TestReportReadsArtilleryReport: `primeload report` over `artillery run
// --output`'s JSON (testdata/artillery-report.json, Artillery 2.0.34's
// shape: string intermediate periods, no histograms, no script) prints our
// summary, with Artillery's metric names, and re-checks SLOs over it,
// including the per-scenario, per-status-class, session and per-endpoint
// error names.
func TestReportReadsArtilleryReport(t *testing.T) {
	t.Parallel()
	in := filepath.Join("testdata", "artillery-report.json")
	tests := []struct {
		name string
		slos []string
		want int
		out  []string
	}{
		{"passing checks", []string{
			"http.response_time.2xx.p95 < 100", "vusers.created_by_name.Browse == 8", "vusers.created_by_name.0 == 2",
			"plugins.metrics-by-endpoint./slow.errors.ETIMEDOUT == 1", "plugins.metrics-by-endpoint./items/1 (one).codes.500 == 1",
		}, ExitOK, []string{
			"2025-12-02 12:53:20 to 12:53:24 UTC (4.9s)",
			"    2xx responses      18    2.00   15.00",
			"  (session length)      8   20.10   90.00",
			"  /slow           ETIMEDOUT×1",
			"  ok    vusers.created_by_name.Browse == 8",
		}},
		{"a failing check", []string{"vusers.session_length.p95 < 200"}, ExitSLO, []string{"fail  vusers.session_length.p95 < 200  300.2 (limit 200)"}},
		{"a scenario the report does not have", []string{"vusers.created_by_name.Brows == 8"}, ExitUsage, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			args := []string{in}
			for _, s := range tt.slos {
				args = append(args, "--slo", s)
			}
			code, out, errOut := execReport(t, nil, args...)
			if code != tt.want {
				t.Fatalf("exit %d, want %d\n%s\n%s", code, tt.want, out, errOut)
			}
			for _, want := range tt.out {
				if !strings.Contains(out, want) {
					t.Errorf("output lacks %q\n%s", want, out)
				}
			}
			if tt.want == ExitUsage && !strings.Contains(errOut, `did you mean "vusers.created_by_name.Browse"?`) {
				t.Errorf("no suggestion for the misspelt scenario:\n%s", errOut)
			}
		})
	}
}
