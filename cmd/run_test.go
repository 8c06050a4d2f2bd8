package cmd

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/primeload/primeload/report"
)

// runResult is what one `primeload run` left behind.
type runResult struct {
	code        int
	out, errOut string
	rep         *report.Report // the --output report, nil when none was written
}

// execRun runs `primeload run` through Execute with args, writing the JSON
// report into a temporary folder. sigs, when not nil, is the test's
// Ctrl-C. The context bounds the test even if the run misbehaves.
func execRun(t *testing.T, env map[string]string, sigs chan os.Signal, args ...string) runResult {
	t.Helper()
	out := filepath.Join(t.TempDir(), "report.json")
	var stdout, stderr bytes.Buffer
	s := TestState(&stdout, &stderr, env)
	if sigs != nil {
		s.Signals = sigs
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	code := Execute(ctx, s, append([]string{"run", "--quiet", "-o", out}, args...))
	res := runResult{code: code, out: stdout.String(), errOut: stderr.String()}
	if _, err := os.Stat(out); err == nil {
		rep, err := report.ReadFile(out)
		if err != nil {
			t.Fatalf("the run wrote a report that does not read back: %v", err)
		}
		res.rep = rep
	}
	return res
}

// writeScript writes a script into a temporary folder and returns its path.
func writeScript(t *testing.T, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "script.yml")
	writeFile(t, p, content)
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

	res := execRun(t, nil, nil, script, "--period", "200ms")
	if res.code != ExitOK {
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
	if got := rep.Aggregate.Summaries[report.ResponseTime].Count; got != 10 {
		t.Errorf("response_time count = %d, want 10", got)
	}
	if len(rep.Expected) != 1 || rep.Expected[0] != (report.PhaseArrivals{Name: "tiny", Expected: 5, Created: 5}) {
		t.Errorf("expected = %+v, want one phase tiny with 5 expected and created", rep.Expected)
	}
	if rep.Aborted || rep.Target != srv.URL || rep.Script.Path != script || rep.Version != Version {
		t.Errorf("aborted=%v target=%q script=%q version=%q; want false, %q, %q, %q", rep.Aborted, rep.Target, rep.Script.Path, rep.Version, srv.URL, script, Version)
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
	res := execRun(t, env, nil, script, "--var", "item=7")
	if res.code != ExitOK {
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
			res := execRun(t, nil, nil, writeScript(t, tt.script))
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
	}{
		{
			name: "failed expectation exits 21",
			flow: `      - get:
          url: "/items"
          expect:
            - statusCode: 201
`,
			want: ExitExpect,
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
			want: ExitSLO,
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
			res := execRun(t, nil, nil, script)
			if res.code != tt.want {
				t.Fatalf("exit %d, want %d\nstdout:\n%s\nstderr:\n%s", res.code, tt.want, res.out, res.errOut)
			}
			if res.rep == nil {
				t.Fatal("no report written")
			}
			if got := res.rep.Aggregate.Counters["http.requests"]; got != 3 {
				t.Errorf("http.requests = %d, want 3", got)
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
	first := make(chan struct{})
	var once sync.Once
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		once.Do(func() { close(first) })
		w.Write([]byte(`{}`))
	}))
	t.Cleanup(srv.Close)
	// A minute of load that the test cuts short after the first response.
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
	sigs := make(chan os.Signal, 1)
	go func() {
		<-first
		sigs <- os.Interrupt
	}()
	res := execRun(t, nil, sigs, script, "--grace", "2s")
	if res.code != ExitInterrupted {
		t.Fatalf("exit %d, want %d\nstderr:\n%s", res.code, ExitInterrupted, res.errOut)
	}
	if res.rep == nil {
		t.Fatal("an interrupted run wrote no report")
	}
	if !res.rep.Aborted {
		t.Error("report not marked aborted")
	}
	if got := res.rep.Aggregate.Counters["http.requests"]; got < 1 || got >= 1200 {
		t.Errorf("http.requests = %d, want at least the one seen before the interrupt and fewer than the full 1200", got)
	}
	if !strings.Contains(res.errOut, "no new arrivals") {
		t.Errorf("stderr does not say what the interrupt does:\n%s", res.errOut)
	}
}

func TestExitFor(t *testing.T) {
	t.Parallel()
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
		if got := exitFor(tt.aborted, tt.untrusted, tt.slo, tt.expect); got != tt.want {
			t.Errorf("exitFor(aborted=%v, untrusted=%v, slo=%v, expect=%v) = %d, want %d", tt.aborted, tt.untrusted, tt.slo, tt.expect, got, tt.want)
		}
	}
}
