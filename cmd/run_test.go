package cmd

import (
	"bytes"
	"context"
	"encoding/xml"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"
	"github.com/primeload/primeload/report"
	"github.com/primeload/primeload/report/metric"
	"github.com/primeload/primeload/report/reporttest"
	"github.com/primeload/primeload/report/slo"
	"github.com/primeload/primeload/runner/loadtest"
	"go.yaml.in/yaml/v3"
)

// runResult is what one `primeload run` left behind.
type runResult struct {
	code        int
	out, errOut string
	rep         *report.Report // the --output report, nil when none was written
	raw         []byte         // its bytes
}

// execRun runs `primeload run` through Execute with args, writing the JSON
// report to out ("" for a temporary file). sigs, when not nil, is the
// test's Ctrl-C. The context bounds the test even if the run misbehaves.
func execRun(t *testing.T, env map[string]string, sigs chan os.Signal, out string, args ...string) runResult {
	t.Helper()
	if out == "" {
		out = filepath.Join(t.TempDir(), "report.json")
	}
	var stdout, stderr bytes.Buffer
	s := TestState(&stdout, &stderr, env)
	if sigs != nil {
		s.Signals = sigs
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	code := Execute(ctx, s, append([]string{"run", "--quiet", "-o", out}, args...))
	res := runResult{code: code, out: stdout.String(), errOut: stderr.String()}
	if raw, err := os.ReadFile(out); err == nil {
		rep, err := report.Decode(bytes.NewReader(raw))
		if err != nil {
			t.Fatalf("the run wrote a report that does not read back: %v", err)
		}
		res.rep, res.raw = rep, raw
	}
	return res
}

// wantExit is the exit code a finished run must give when want is what its
// results call for: 3 instead when its report shows that the generator fell
// behind. That depends on how busy the machine was, so the test checks
// that the code agrees with the report rather than assume a quiet machine.
func wantExit(res runResult, want int) int {
	if res.rep == nil || want == ExitUsage || want == ExitInterrupted {
		return want
	}
	if untrusted, _ := res.rep.Untrusted(); untrusted {
		return ExitUntrusted
	}
	return want
}

// writeScript writes a script into a temporary folder and returns its path.
func writeScript(t *testing.T, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "script.yml")
	mustWrite(t, p, content)
	return p
}

// hits records what a test server saw.
type hits struct {
	mu    sync.Mutex
	paths map[string]int
	auth  map[string]int
}

func (h *hits) add(r *http.Request) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.paths == nil {
		h.paths, h.auth = map[string]int{}, map[string]int{}
	}
	h.paths[r.Method+" "+r.URL.Path]++
	h.auth[r.Header.Get("Authorization")]++
}

func (h *hits) count(key string) int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.paths[key]
}

// itemsServer answers GET /items with a list whose first id is 7, GET
// /items/7 with the item, and 404 otherwise.
func itemsServer(t *testing.T, h *hits) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h.add(r)
		w.Header().Set("Content-Type", "application/json")
		switch r.URL.Path {
		case "/items":
			w.Write([]byte(`{"results":[{"id":7},{"id":8}]}`))
		case "/items/7":
			w.Write([]byte(`{"id":7,"name":"crate"}`))
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(srv.Close)
	return srv
}

// tinyScript sends count virtual users, each listing items and fetching
// the first by its captured id.
func tinyScript(target string, count int, extra string) string {
	return `config:
  target: "` + target + `"
  phases:
    - duration: 1
      arrivalCount: ` + strconv.Itoa(count) + `
      name: tiny
` + extra + `
scenarios:
  - name: browse
    flow:
      - get:
          url: "/items"
          capture:
            - json: "$.results[0].id"
              as: "id"
      - get:
          url: "/items/{{ id }}"
`
}

func TestRunEndToEnd(t *testing.T) {
	t.Parallel()
	var h hits
	srv := itemsServer(t, &h)
	script := writeScript(t, tinyScript(srv.URL, 5, ""))
	dir := t.TempDir()
	junitPath, mdPath, ghPath := filepath.Join(dir, "junit.xml"), filepath.Join(dir, "summary.md"), filepath.Join(dir, "step-summary.md")
	htmlPath, hdrPath := filepath.Join(dir, "report.html"), filepath.Join(dir, "latency.hlog")
	mustWrite(t, ghPath, "earlier step\n")

	res := execRun(t, map[string]string{"GITHUB_STEP_SUMMARY": ghPath}, nil, "", script, "--period", "200ms",
		"--junit", junitPath, "--summary-md", mdPath, "--html", htmlPath, "--hdr-log", hdrPath)
	if res.code != wantExit(res, ExitOK) {
		t.Fatalf("exit %d, want 0\nstdout:\n%s\nstderr:\n%s", res.code, res.out, res.errOut)
	}
	if got, want := h.count("GET /items"), 5; got != want {
		t.Errorf("server saw %d GET /items, want %d", got, want)
	}
	if got, want := h.count("GET /items/7"), 5; got != want {
		t.Errorf("server saw %d GET /items/7 (the captured id), want %d", got, want)
	}
	rep := res.rep
	if rep == nil {
		t.Fatal("no report written")
	}
	counters := map[string]int64{"http.requests": 10, "http.responses": 10, "http.codes.200": 10, "vusers.created": 5, "vusers.completed": 5}
	for name, want := range counters {
		if got := rep.Aggregate.Counters[name]; got != want {
			t.Errorf("aggregate %s = %d, want %d", name, got, want)
		}
	}
	for name, v := range rep.Aggregate.Counters {
		if strings.HasPrefix(name, "errors.") || name == "vusers.failed" {
			t.Errorf("aggregate %s = %d, want none", name, v)
		}
	}
	if got := rep.Aggregate.Summaries[metric.ResponseTime].Count; got != 10 {
		t.Errorf("response_time count = %d, want 10", got)
	}
	if len(rep.Expected) != 1 || rep.Expected[0] != (report.PhaseArrivals{Name: "tiny", Expected: 5, Created: 5, Start: rep.StartedAt.UnixMilli()}) {
		t.Errorf("expected = %+v, want one phase tiny with 5 expected and created", rep.Expected)
	}
	if rep.Aborted || rep.Target != srv.URL || rep.Script.Path != script || rep.Version != Version {
		t.Errorf("aborted=%v target=%q script=%q version=%q; want false, %q, %q, %q", rep.Aborted, rep.Target, rep.Script.Path, rep.Version, srv.URL, script, Version)
	}
	if want := report.ScriptDigest(mustRead(t, script)); rep.Script.Digest != want {
		t.Errorf("script digest %q, want %q so segment reports merge", rep.Script.Digest, want)
	}
	if rep.Passed == nil || !*rep.Passed {
		t.Errorf("passed = %v, want true (no SLOs)", rep.Passed)
	}
	// The intermediate periods add up to the aggregate: nothing measured was lost between flushes.
	var sum int64
	for _, m := range rep.Intermediate {
		sum += m.Counters["http.requests"]
	}
	if sum != 10 {
		t.Errorf("intermediate periods hold %d requests, want 10", sum)
	}
	if !strings.Contains(res.out, "http.requests") {
		t.Errorf("console summary does not mention http.requests:\n%s", res.out)
	}

	// The other outputs: JUnit parses with one suite, the markdown summary
	// is written and appended to the GitHub step summary.
	var suites struct {
		Suites []struct {
			Tests int `xml:"tests,attr"`
		} `xml:"testsuite"`
	}
	if err := xml.Unmarshal(mustRead(t, junitPath), &suites); err != nil || len(suites.Suites) != 1 || suites.Suites[0].Tests == 0 {
		t.Errorf("junit: %v, %+v; want one suite with test cases", err, suites)
	}
	md := string(mustRead(t, mdPath))
	if !strings.HasPrefix(md, "## primeload") {
		t.Errorf("summary-md does not start with its heading:\n%s", md)
	}
	if got := string(mustRead(t, ghPath)); got != "earlier step\n"+md {
		t.Errorf("GITHUB_STEP_SUMMARY = %q, want the earlier content followed by the summary", got)
	}
	if page := string(mustRead(t, htmlPath)); !strings.HasPrefix(strings.ToLower(page), "<!doctype html>") || !strings.Contains(page, "/items") {
		t.Errorf("html report is not a page about this run: %.200q", page)
	}
	// The interval log holds one untagged response-time line per period
	// with responses; their counts add up to every response.
	if n := countHdrLogValues(t, hdrPath); n != 10 {
		t.Errorf("hdr log holds %d response times, want 10", n)
	}
}

// countHdrLogValues decodes an HdrHistogram interval log and sums the
// counts of its untagged (overall response time) histograms.
func countHdrLogValues(t *testing.T, path string) int64 {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	lr := hdrhistogram.NewHistogramLogReader(f)
	var n int64
	for {
		h, err := lr.NextIntervalHistogram()
		if err != nil {
			t.Fatalf("read hdr log: %v", err)
		}
		if h == nil {
			return n
		}
		if h.Tag() == "" {
			n += h.TotalCount()
		}
	}
}

func mustRead(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestRunOutputFolderMissing(t *testing.T) {
	t.Parallel()
	var h hits
	srv := itemsServer(t, &h)
	missing := filepath.Join(t.TempDir(), "no", "such")
	res := execRun(t, nil, nil, filepath.Join(missing, "r.json"), writeScript(t, tinyScript(srv.URL, 1, "")), "--junit", filepath.Join(missing, "j.xml"))
	if res.code != ExitUsage {
		t.Fatalf("exit %d, want %d", res.code, ExitUsage)
	}
	for _, want := range []string{"r.json", "j.xml", "does not exist"} {
		if !strings.Contains(res.errOut, want) {
			t.Errorf("stderr does not mention %q:\n%s", want, res.errOut)
		}
	}
	if n := len(h.paths); n != 0 {
		t.Errorf("the target saw requests although the run could not write its report: %v", h.paths)
	}
}

func TestRunVarsAndEnvironment(t *testing.T) {
	t.Parallel()
	var h hits
	srv := itemsServer(t, &h)
	// The script's own target is a closed port: PRIMELOAD_TARGET must win.
	script := writeScript(t, `config:
  target: "http://127.0.0.1:1"
  phases:
    - duration: 1
      arrivalCount: 2
  variables:
    item: "8"
  defaults:
    headers:
      Authorization: "Bearer {{ $processEnvironment.API_TOKEN }}"
scenarios:
  - flow:
      - get:
          url: "/items/{{ item }}"
`)
	env := map[string]string{"PRIMELOAD_TARGET": srv.URL, "API_TOKEN": "s3cret"}
	res := execRun(t, env, nil, "", script, "--var", "item=7")
	if res.code != wantExit(res, ExitOK) {
		t.Fatalf("exit %d, want 0\nstderr:\n%s", res.code, res.errOut)
	}
	if got := h.count("GET /items/7"); got != 2 {
		t.Errorf("server saw %d GET /items/7, want 2 (--var overrides config.variables): %v", got, h.paths)
	}
	h.mu.Lock()
	gotAuth := h.auth["Bearer s3cret"]
	h.mu.Unlock()
	if gotAuth != 2 {
		t.Errorf("server saw %d requests with the token from the environment, want 2: %v", gotAuth, h.auth)
	}
	if res.rep == nil || res.rep.Target != srv.URL {
		t.Errorf("report target is not %s", srv.URL)
	}
}

func TestRunInvalidScript(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		script string
		want   []string
	}{
		{
			name: "unknown field and bad phase reported together",
			script: `config:
  target: "http://127.0.0.1:1"
  phases:
    - duration: -1
      arrivalRate: 1
scenarios:
  - flow:
      - get:
          urll: "/x"
`,
			want: []string{"script.yml:4", "script.yml:9"},
		},
		{
			name: "SLO on a metric no run can have",
			script: `config:
  target: "http://127.0.0.1:1"
  phases:
    - duration: 1
      arrivalCount: 1
  ensure:
    thresholds:
      - http.respons_time.p99: 100
scenarios:
  - flow:
      - get:
          url: "/x"
`,
			want: []string{"http.respons_time.p99"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			res := execRun(t, nil, nil, "", writeScript(t, tt.script))
			if res.code != ExitUsage {
				t.Fatalf("exit %d, want %d\nstderr:\n%s", res.code, ExitUsage, res.errOut)
			}
			for _, w := range tt.want {
				if !strings.Contains(res.errOut, w) {
					t.Errorf("stderr does not mention %q:\n%s", w, res.errOut)
				}
			}
			if res.rep != nil {
				t.Error("an invalid script still wrote a report: load was sent")
			}
		})
	}
}

func TestRunExitCodes(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		extra string // appended to config
		flow  string
		want  int
		// counters the report must hold whatever the exit code
		counters map[string]int64
	}{
		{
			name: "failed expectation exits 21",
			flow: `      - get:
          url: "/items"
          expect:
            - statusCode: 201
`,
			want: ExitExpect,
			// Artillery reports the failure and the user goes on.
			counters: map[string]int64{"plugins.expect.failed": 3, "plugins.expect.failed.statusCode": 3, "vusers.completed": 3, "vusers.failed": 0},
		},
		{
			name: "breached SLO exits 1",
			extra: `  ensure:
    thresholds:
      - http.codes.200: 1
`,
			flow: `      - get:
          url: "/items"
`,
			want: ExitSLO,
		},
		{
			name: "breached SLO wins over a failed expectation",
			extra: `  ensure:
    maxErrorRate: 0
    conditions:
      - expression: "http.codes.200 < 1"
`,
			flow: `      - get:
          url: "/items"
          expect:
            - statusCode: 404
`,
			want:     ExitSLO,
			counters: map[string]int64{"plugins.expect.failed": 3, "http.codes.200": 3},
		},
		{
			name: "SLOs that hold exit 0",
			extra: `  ensure:
    thresholds:
      - http.codes.200: 100
    conditions:
      - expression: "vusers.failed == 0"
`,
			flow: `      - get:
          url: "/items"
`,
			want: ExitOK,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var h hits
			srv := itemsServer(t, &h)
			script := writeScript(t, `config:
  target: "`+srv.URL+`"
  plugins:
    expect: {}
  phases:
    - duration: 1
      arrivalCount: 3
`+tt.extra+`scenarios:
  - flow:
`+tt.flow)
			res := execRun(t, nil, nil, "", script)
			if res.code != wantExit(res, tt.want) {
				t.Fatalf("exit %d, want %d\nstdout:\n%s\nstderr:\n%s", res.code, tt.want, res.out, res.errOut)
			}
			if res.rep == nil {
				t.Fatal("no report written")
			}
			if got := res.rep.Aggregate.Counters["http.requests"]; got != 3 {
				t.Errorf("http.requests = %d, want 3", got)
			}
			for name, want := range tt.counters {
				if got := res.rep.Aggregate.Counters[name]; got != want {
					t.Errorf("%s = %d, want %d", name, got, want)
				}
			}
			if tt.want == ExitExpect && !strings.Contains(unwrap(res.out+res.errOut), "FAILED: 3 expectations failed; most often expect statusCode failed at /items (3 times): expect statusCode 201 failed: the response was 200") {
				t.Errorf("the cause does not name the expectation and endpoint:\n%s\n%s", res.out, res.errOut)
			}
			if len(res.rep.Script.Ensure.Thresholds)+len(res.rep.Script.Ensure.Conditions) > 0 {
				if len(res.rep.SLO) == 0 || res.rep.Passed == nil || *res.rep.Passed != (tt.want != ExitSLO) {
					t.Errorf("slo = %+v passed = %v; want the SLOs recorded, passed %v", res.rep.SLO, res.rep.Passed, tt.want != ExitSLO)
				}
				if !strings.Contains(res.out, "SLOs:") {
					t.Errorf("stdout does not list the SLOs:\n%s", res.out)
				}
			}
		})
	}
}

func TestRunInterrupted(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte(`{}`))
	}))
	t.Cleanup(srv.Close)
	// A minute of load that the test cuts short once a period is on disk.
	script := writeScript(t, `config:
  target: "`+srv.URL+`"
  phases:
    - duration: 60
      arrivalRate: 20
scenarios:
  - flow:
      - get:
          url: "/"
`)
	out := filepath.Join(t.TempDir(), "report.json")
	sigs := make(chan os.Signal, 1)
	midRun := make(chan *report.Report, 1)
	go func() {
		// The report on disk after a period is what a SIGKILL would leave.
		midRun <- waitForReport(t, out, func(r *report.Report) bool { return r.Aggregate.Counters["http.requests"] > 0 })
		sigs <- os.Interrupt
	}()
	res := execRun(t, nil, sigs, out, script, "--grace", "2s", "--period", "200ms")
	if res.code != ExitInterrupted {
		t.Fatalf("exit %d, want %d\nstderr:\n%s", res.code, ExitInterrupted, res.errOut)
	}
	mid := <-midRun
	if mid == nil {
		t.Fatal("no complete report appeared on disk while the run was going")
	}
	if !mid.Aborted || len(mid.Intermediate) == 0 || len(mid.Expected) != 1 || mid.Expected[0].Expected != 1200 {
		t.Errorf("mid-run report: aborted=%v, %d periods, expected %+v; want aborted (until the final write), a period, 1200 expected", mid.Aborted, len(mid.Intermediate), mid.Expected)
	}
	if res.rep == nil {
		t.Fatal("an interrupted run wrote no final report")
	}
	if !res.rep.Aborted {
		t.Error("final report not marked aborted")
	}
	got := res.rep.Aggregate.Counters["http.requests"]
	if got < mid.Aggregate.Counters["http.requests"] || got >= 1200 {
		t.Errorf("http.requests = %d, want at least the %d on disk before the interrupt and fewer than the full 1200", got, mid.Aggregate.Counters["http.requests"])
	}
	if c := res.rep.Expected[0].Created; c != res.rep.Aggregate.Counters["vusers.created"] || c >= 1200 {
		t.Errorf("expected[0].created = %d, want vusers.created (%d) and fewer than 1200", c, res.rep.Aggregate.Counters["vusers.created"])
	}
	if !strings.Contains(res.errOut, "no new arrivals") {
		t.Errorf("stderr does not say what the interrupt does:\n%s", res.errOut)
	}
}

// waitForReport polls path until a report there satisfies ok, for at most a
// minute; nil if none did. Reading while the run rewrites it also checks
// that every write is atomic: a torn file would fail to decode.
func waitForReport(t *testing.T, path string, ok func(*report.Report) bool) *report.Report {
	deadline := time.Now().Add(time.Minute)
	for time.Now().Before(deadline) {
		if _, err := os.Stat(path); err == nil {
			r, err := report.ReadFile(path)
			if err != nil {
				t.Errorf("report on disk mid-run does not read: %v", err)
				return nil
			}
			if ok(r) {
				return r
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	return nil
}

// TestExitFor: the judge's verdict order and the exit code each maps to.
func TestExitFor(t *testing.T) {
	t.Parallel()
	failing, errs := slo.CompileExpressions([]string{"http.requests < 0"}, slo.Names{})
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	tests := []struct {
		aborted, untrusted, slo, expect bool
		want                            int
	}{
		{want: ExitOK},
		{expect: true, want: ExitExpect},
		{slo: true, want: ExitSLO},
		{slo: true, expect: true, want: ExitSLO},
		{untrusted: true, want: ExitUntrusted},
		{untrusted: true, slo: true, expect: true, want: ExitUntrusted},
		{aborted: true, untrusted: true, slo: true, expect: true, want: ExitInterrupted},
		{aborted: true, want: ExitInterrupted},
	}
	for _, tt := range tests {
		agg := &report.Metrics{Counters: map[string]int64{"http.requests": 1}, Summaries: map[string]report.Summary{}}
		if tt.untrusted {
			agg = reporttest.Run(t, reporttest.Options{Periods: 1, Lag: 30 * time.Millisecond}).Aggregate
		}
		if tt.expect {
			agg.Counters["plugins.expect.failed"] = 1
		}
		var set *slo.Set
		if tt.slo {
			set = failing
		}
		rep := &report.Report{Aggregate: agg, Aborted: tt.aborted}
		if got := verdictCode(loadtest.Judge(rep, set)); got != tt.want {
			t.Errorf("aborted=%v, untrusted=%v, slo=%v, expect=%v: exit %d (verdict %s), want %d", tt.aborted, tt.untrusted, tt.slo, tt.expect, got, rep.Verdict, tt.want)
		}
	}
}

func TestRunWithTarget(t *testing.T) {
	t.Parallel()
	// The seed's own script, its quick environment cut to two seconds so
	// the test stays short: what a newcomer's first command runs.
	raw, err := os.ReadFile(filepath.Join("..", "examples", "seed-load-test.yml"))
	if err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	if err := yaml.Unmarshal(raw, &doc); err != nil {
		t.Fatal(err)
	}
	quick := doc["config"].(map[string]any)["environments"].(map[string]any)["quick"].(map[string]any)
	quick["phases"] = []any{map[string]any{"duration": 2, "arrivalRate": 5, "name": "short"}}
	short, err := yaml.Marshal(doc)
	if err != nil {
		t.Fatal(err)
	}
	res := execRun(t, nil, nil, "", writeScript(t, string(short)), "--with-target", "-e", "quick")
	if res.code != wantExit(res, ExitOK) {
		t.Fatalf("exit %d, want %d\nstdout:\n%s\nstderr:\n%s", res.code, wantExit(res, ExitOK), res.out, res.errOut)
	}
	rep := res.rep
	if rep == nil {
		t.Fatal("no report written")
	}
	c := rep.Aggregate.Counters
	if c["vusers.created"] != 10 || c["vusers.failed"] != 0 || c["http.requests"] == 0 || c["http.responses"] != c["http.requests"] {
		t.Errorf("vusers.created=%d failed=%d, requests=%d responses=%d; want 10 created, none failed, every request answered",
			c["vusers.created"], c["vusers.failed"], c["http.requests"], c["http.responses"])
	}
	for name, v := range c {
		if strings.HasPrefix(name, "errors.") {
			t.Errorf("%s = %d: the in-process target must answer every request", name, v)
		}
	}
	// API_TOKEN reached the script: only the seed's random-user login is refused.
	if c["http.codes.401"] != c["plugins.metrics-by-endpoint./api/auth/login/.codes.401"] {
		t.Errorf("%d responses were 401 but only %d came from the login with a random user: the token did not reach the script",
			c["http.codes.401"], c["plugins.metrics-by-endpoint./api/auth/login/.codes.401"])
	}
	if !strings.HasPrefix(rep.Target, "http://127.0.0.1:") {
		t.Errorf("report target %q is not the in-process loopback target", rep.Target)
	}
	if regexp.MustCompile(`primeload-[0-9a-f]{8}-`).Match(res.raw) {
		t.Error("the report contains the API token")
	}
}

func TestRunSegmentsAndStartAt(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name                  string
		args                  []string
		env                   map[string]string
		wantCode              int // before a lagging generator's 3 (wantExit)
		wantCreated, wantMiss int64
		wantSegment           string
		wantOut               string
		startAgo              time.Duration // --start-at this long before the run
	}{
		{name: "segment 2 of 4 sends a quarter", args: []string{"--segment", "2/4"}, wantCreated: 2, wantSegment: "2/4"},
		{name: "indexed job picks segment 4", args: []string{"--segments", "4"}, env: map[string]string{"JOB_COMPLETION_INDEX": "3"}, wantCreated: 2, wantSegment: "4/4"},
		// An hour late: the whole schedule is over, so nothing would be
		// sent; refused before any load.
		{name: "start long past is refused", args: []string{"--start-at", time.Now().Add(-time.Hour).UTC().Format(time.RFC3339)},
			wantCode: ExitUsage, wantMiss: -1, wantOut: "no arrival would be sent"},
		// 300 ms late into a 1 s schedule of 8, 125 ms apart: at least the
		// first three are missed (more if the process is slow to start),
		// none is sent in a burst, and the run is untrusted.
		{name: "start late misses and is untrusted", startAgo: 300 * time.Millisecond,
			wantCode: ExitUntrusted, wantCreated: 5, wantMiss: 3, wantOut: "arrivals were missed"},
		{name: "start in the future waits and sends all", args: []string{"--start-at", "+500ms"}, wantCreated: 8},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var h hits
			srv := itemsServer(t, &h)
			args := append([]string{writeScript(t, tinyScript(srv.URL, 8, ""))}, tt.args...)
			if tt.startAgo > 0 {
				args = append(args, "--start-at", time.Now().Add(-tt.startAgo).UTC().Format(time.RFC3339Nano))
			}
			res := execRun(t, tt.env, nil, "", args...)
			want := wantExit(res, tt.wantCode)
			if tt.wantSegment != "" {
				want = ExitOK // a part leaves its verdict to the merge
			}
			if res.code != want {
				t.Fatalf("exit %d, want %d\nstdout:\n%s\nstderr:\n%s", res.code, want, res.out, res.errOut)
			}
			if !strings.Contains(res.out+res.errOut, tt.wantOut) {
				t.Errorf("output lacks %q:\n%s\n%s", tt.wantOut, res.out, res.errOut)
			}
			rep := res.rep
			if tt.startAgo > 0 && rep != nil && rep.MissedArrivals > tt.wantMiss {
				// A slow start missed more: what was not missed was sent.
				tt.wantMiss = rep.MissedArrivals
				tt.wantCreated = 8 - tt.wantMiss
			}
			if got := int64(h.count("GET /items")); got != tt.wantCreated {
				t.Errorf("server saw %d first requests, want %d", got, tt.wantCreated)
			}
			if tt.wantMiss < 0 {
				if rep != nil {
					t.Errorf("a refused run wrote a report")
				}
				return
			}
			if got := rep.Aggregate.Counters["vusers.created"]; got != tt.wantCreated {
				t.Errorf("vusers.created = %d, want %d", got, tt.wantCreated)
			}
			if rep.MissedArrivals != tt.wantMiss || rep.Segment != tt.wantSegment {
				t.Errorf("missed %d, segment %q; want %d, %q", rep.MissedArrivals, rep.Segment, tt.wantMiss, tt.wantSegment)
			}
			if tt.wantMiss > 0 && (rep.Verdict != report.Untrusted || rep.Passed == nil || *rep.Passed) {
				t.Errorf("verdict %q, passed %v; want untrusted and passed false", rep.Verdict, rep.Passed)
			}
		})
	}
}

func TestRunInsecureAndOutsidePayload(t *testing.T) {
	t.Parallel()
	var h hits
	tlsSrv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h.add(r)
		w.Write([]byte(`{}`))
	}))
	t.Cleanup(tlsSrv.Close)
	// The payload sits beside the script's folder, not in it.
	root := t.TempDir()
	scriptDir := filepath.Join(root, "scripts")
	if err := os.Mkdir(scriptDir, 0o755); err != nil {
		t.Fatal(err)
	}
	mustWrite(t, filepath.Join(root, "users.csv"), "alice\nbob\n")
	script := filepath.Join(scriptDir, "s.yml")
	mustWrite(t, script, `config:
  target: "`+tlsSrv.URL+`"
  phases:
    - duration: 1
      arrivalCount: 2
  payload:
    path: "../users.csv"
    fields: ["user"]
scenarios:
  - flow:
      - get:
          url: "/{{ user }}"
`)
	tests := []struct {
		name     string
		args     []string
		wantCode int
		want200  int64
		wantErrs bool // transport errors for the self-signed certificate
	}{
		{name: "payload outside the script folder is refused", args: nil, wantCode: ExitUsage},
		// Every request failing fails the default checks (the script has no SLOs).
		{name: "self-signed certificate is an error", args: []string{"--allow-outside-payload"}, wantCode: ExitSLO, wantErrs: true},
		{name: "--insecure accepts it", args: []string{"--allow-outside-payload", "--insecure"}, wantCode: ExitOK, want200: 2},
	}
	for _, tt := range tests {
		res := execRun(t, nil, nil, "", append([]string{script}, tt.args...)...)
		if res.code != wantExit(res, tt.wantCode) {
			t.Errorf("%s: exit %d, want %d\nstderr:\n%s", tt.name, res.code, tt.wantCode, res.errOut)
			continue
		}
		if tt.wantCode == ExitUsage {
			if !strings.Contains(res.errOut, "users.csv") || !strings.Contains(res.errOut, "--allow-outside-payload") {
				t.Errorf("%s: stderr does not name the file and the flag:\n%s", tt.name, res.errOut)
			}
			continue
		}
		c := res.rep.Aggregate.Counters
		var errs int64
		for name, v := range c {
			if strings.HasPrefix(name, "errors.") {
				errs += v
			}
		}
		if c["http.codes.200"] != tt.want200 || (errs > 0) != tt.wantErrs {
			t.Errorf("%s: %d ok responses and %d errors (%v); want %d ok, errors %v", tt.name, c["http.codes.200"], errs, c, tt.want200, tt.wantErrs)
		}
	}
	if h.count("GET /alice")+h.count("GET /bob") != 2 {
		t.Errorf("the TLS server saw %v, want the payload's users once the certificate was accepted", h.paths)
	}
}

func TestRunSecondInterruptStopsAtOnce(t *testing.T) {
	t.Parallel()
	// Every request hangs until the client gives up: only the second
	// Ctrl-C can end this run, since the grace period is an hour.
	started := make(chan struct{}, 100)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case started <- struct{}{}:
		default:
		}
		<-r.Context().Done()
	}))
	t.Cleanup(srv.Close)
	script := writeScript(t, `config:
  target: "`+srv.URL+`"
  http:
    timeout: 600
  phases:
    - duration: 60
      arrivalRate: 5
scenarios:
  - flow:
      - get:
          url: "/"
`)
	sigs := make(chan os.Signal, 2)
	go func() {
		<-started
		sigs <- os.Interrupt
		sigs <- os.Interrupt
	}()
	res := execRun(t, nil, sigs, "", script, "--grace", "1h")
	if res.code != ExitInterrupted {
		t.Fatalf("exit %d, want %d\nstderr:\n%s", res.code, ExitInterrupted, res.errOut)
	}
	if res.rep == nil || !res.rep.Aborted {
		t.Fatal("no report marked aborted after the second interrupt")
	}
	c := res.rep.Aggregate.Counters
	if c["http.requests"] < 1 || c["http.responses"] != 0 {
		t.Errorf("requests %d, responses %d; want the hanging requests counted and none answered", c["http.requests"], c["http.responses"])
	}
	if !strings.Contains(res.errOut, "stopping now") {
		t.Errorf("stderr does not say the second interrupt stops at once:\n%s", res.errOut)
	}
}

func TestRunMissingScript(t *testing.T) {
	t.Parallel()
	missing := filepath.Join(t.TempDir(), "nope.yml")
	res := execRun(t, nil, nil, "", missing)
	if res.code != ExitUsage || !strings.Contains(res.errOut, missing) {
		t.Errorf("exit %d, stderr %q; want %d naming %s", res.code, res.errOut, ExitUsage, missing)
	}
}
