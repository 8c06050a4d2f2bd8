package cmd

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/primeload/primeload/report"
	"github.com/primeload/primeload/report/compare"
	"github.com/primeload/primeload/target"
)

func TestCompareOptions(t *testing.T) {
	t.Parallel()
	def := CompareOptions{Base: "a.json", New: "b.json", MaxRegression: compare.DefaultGates, Confidence: 0.95,
		Replicates: compare.DefaultReplicates, Seed: 1, NoiseFloor: time.Millisecond}
	full := def
	full.MaxRegression, full.Confidence, full.Seed, full.NoiseFloor = "p99=5ms", 0.9, 7, -1
	full.Output, full.Markdown, full.JUnit, full.HTML = "c.json", "c.md", "c.xml", "c.html"
	tests := []struct {
		args []string
		want CompareOptions
	}{
		{[]string{"a.json", "b.json"}, def},
		{[]string{"a.json", "b.json", "--max-regression", "p99=5ms", "--confidence", "0.9", "--seed", "7", "--noise-floor", "-1ns",
			"-o", "c.json", "--markdown", "c.md", "--junit", "c.xml", "--html", "c.html"}, full},
	}
	for _, tt := range tests {
		var got *CompareOptions
		c := newCompareCmdF(TestState(&bytes.Buffer{}, &bytes.Buffer{}, nil), func(_ context.Context, o *CompareOptions) error {
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
	for _, args := range [][]string{
		{"compare", "a.json"},
		{"compare", "a.json", "b.json", "--max-regression", "p95=10"},
		{"compare", "missing-1.json", "missing-2.json"},
	} {
		var errOut bytes.Buffer
		if code := Execute(context.Background(), TestState(&bytes.Buffer{}, &errOut, nil), args); code != ExitUsage {
			t.Errorf("%v: exit %d, want %d", args, code, ExitUsage)
		}
		if errOut.Len() == 0 {
			t.Errorf("%v: nothing said about what is wrong", args)
		}
	}
}

// compareScript calls four endpoints of the reference target once per
// arrival, so each endpoint gets every arrival's sample.
const compareScript = `config:
  target: "http://127.0.0.1:9"
  phases:
    - duration: 3
      arrivalRate: 60
  defaults:
    headers:
      Authorization: "Bearer {{ $processEnvironment.API_TOKEN }}"
scenarios:
  - flow:
      - get:
          url: "/api/goods-received/"
          capture:
            - json: "$.results[0].id"
              as: "goodsId"
      - get:
          url: "/api/goods-received/{{ goodsId }}/"
      - post:
          url: "/api/tracking-updates/"
          json: { goods_id: "{{ goodsId }}", status: "in_transit", location: "Port of Shanghai" }
      - get:
          url: "/api/dashboard/stats/"
`

// TestCompareRealRuns is the acceptance test: two short runs of one
// script against one reference target are no regression, and a run against
// the target with 200 ms more latency is a regression on every endpoint.
//
// The busy test machine (GC, other test binaries, a stalled scheduler) adds
// tens of milliseconds to some requests, which no bootstrap of one run's
// samples sees as noise when it strikes one run only. So the three runs are
// held at the same time, in this one process, and such stalls slow every
// side alike; and the target answers in 100 ms, as a real API might, so a
// stall is a small share of a latency and stays within the 10% gates, as it
// would against a real API. The slow target cannot answer in less than
// 300 ms however idle or busy the machine, so every endpoint's median alone
// is a regression beyond any doubt.
func TestCompareRealRuns(t *testing.T) {
	if raceEnabled {
		t.Skip("two real runs compared for latency: the race detector's slowdown makes the generator fall behind and the runs differ")
	}
	const token = "compare-test-token"
	const latency, added = 100 * time.Millisecond, 200 * time.Millisecond
	start := func(latency time.Duration) string {
		url, stop, err := target.StartLocal(context.Background(), target.LocalOptions{Token: token, Latency: latency})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { stop(context.Background()) })
		return url
	}
	normal, slow := start(latency), start(latency+added)
	script := writeScript(t, compareScript)
	dir := t.TempDir()
	env := map[string]string{"API_TOKEN": token}
	runs := []struct{ name, url string }{{"base", normal}, {"same", normal}, {"slow", slow}}
	results := make([]runResult, len(runs))
	var wg sync.WaitGroup
	for i, r := range runs {
		wg.Go(func() { results[i] = concurrentRun(env, filepath.Join(dir, r.name+".json"), script, "--target", r.url) })
	}
	wg.Wait()
	files := make([]string, len(runs))
	for i, r := range runs {
		res := results[i]
		files[i] = filepath.Join(dir, r.name+".json")
		rep, err := readReport(files[i])
		if err != nil {
			t.Fatalf("run %s: %v", r.name, err)
		}
		res.rep = rep
		if res.code != wantExit(res, ExitOK) {
			t.Fatalf("run %s: exit %d\n%s\n%s", r.name, res.code, res.out, res.errOut)
		}
	}
	base, same, slower := files[0], files[1], files[2]

	judge := func(newFile string, wantCode int) *compare.Result {
		t.Helper()
		var out, errOut bytes.Buffer
		js := filepath.Join(dir, "cmp-"+filepath.Base(newFile))
		md := filepath.Join(dir, "step-summary.md")
		code := Execute(context.Background(), TestState(&out, &errOut, map[string]string{"GITHUB_STEP_SUMMARY": md}),
			[]string{"compare", base, newFile, "-o", js, "--html", filepath.Join(dir, "cmp.html"), "--junit", filepath.Join(dir, "cmp.xml")})
		if code != wantCode {
			t.Fatalf("compare %s: exit %d, want %d\n%s\n%s", newFile, code, wantCode, out.String(), errOut.String())
		}
		raw, err := os.ReadFile(js)
		if err != nil {
			t.Fatal(err)
		}
		var res compare.Result
		if err := json.Unmarshal(raw, &res); err != nil {
			t.Fatal(err)
		}
		if summary, err := os.ReadFile(md); err != nil || !strings.Contains(string(summary), "## primeload compare") {
			t.Errorf("$GITHUB_STEP_SUMMARY not written (%v)", err)
		}
		t.Logf("compare %s:\n%s", filepath.Base(newFile), out.String())
		return &res
	}

	if res := judge(same, ExitOK); res.Regressed {
		t.Errorf("two runs against one target judged a regression: %s", res.Verdict())
	}
	res := judge(slower, ExitSLO)
	if len(res.Endpoints) != 4 {
		t.Fatalf("%d endpoints compared, want 4", len(res.Endpoints))
	}
	for _, row := range res.Rows() {
		if !row.Regressed {
			t.Errorf("%s: not judged a regression with %v added", row.Name, added)
		}
	}
}

// concurrentRun is execRun for a run beside others: it touches no
// testing.T, so it may run on any goroutine; the caller reads the report.
func concurrentRun(env map[string]string, out string, args ...string) runResult {
	var stdout, stderr bytes.Buffer
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	code := Execute(ctx, TestState(&stdout, &stderr, env), append([]string{"run", "--quiet", "-o", out}, args...))
	return runResult{code: code, out: stdout.String(), errOut: stderr.String()}
}

// readReport decodes a run's JSON report.
func readReport(path string) (*report.Report, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read report: %w", err)
	}
	rep, err := report.Decode(bytes.NewReader(raw))
	if err != nil {
		return nil, fmt.Errorf("the run wrote a report that does not read back: %w", err)
	}
	return rep, nil
}
