package cmd

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/primeload/primeload/report/capacity"
	runcap "github.com/primeload/primeload/runner/capacity"
)

func TestCapacityOptions(t *testing.T) {
	t.Parallel()
	var got *CapacityOptions
	c := newCapacityCmdF(TestState(&bytes.Buffer{}, &bytes.Buffer{}, nil), func(_ context.Context, o *CapacityOptions) error {
		got = o
		return nil
	})
	c.SetArgs([]string{"s.yml", "-t", "http://127.0.0.1:1", "--step", "5s", "--warm-up", "2s", "--start", "20", "--max-rate", "300",
		"--baseline-rate", "15", "--require", "10x", "-o", "c.json", "--html", "c.html", "--slo", "http.response_time.p99 < 200", "--var", "a=b=c"})
	if err := c.Execute(); err != nil {
		t.Fatal(err)
	}
	want := runcap.Options{Start: 20, Growth: runcap.DefaultGrowth, Precision: runcap.DefaultPrecision, MaxRate: 300, Step: 5 * time.Second,
		WarmUp: 2 * time.Second, MaxDuration: runcap.DefaultMaxDuration, MaxLag: runcap.DefaultMaxLag, MaxCPU: runcap.DefaultMaxCPU}
	if got.Script != "s.yml" || got.Target != "http://127.0.0.1:1" || got.Search.Start != want.Start || got.Search.Step != want.Step ||
		got.Search.WarmUp != want.WarmUp || got.Search.MaxRate != want.MaxRate || got.Search.MaxDuration != want.MaxDuration ||
		got.Baseline != 15 || got.Require != "10x" || got.Output != "c.json" || got.HTML != "c.html" ||
		len(got.SLOs) != 1 || len(got.Vars) != 1 || got.Vars["a"] != "b=c" {
		t.Errorf("options %+v", *got)
	}
	script := writeScript(t, "config:\n  target: \"http://127.0.0.1:9\"\n  phases: [{duration: 1, arrivalRate: 1}]\nscenarios:\n  - flow: [{get: {url: \"/\"}}]\n")
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"capacity", script, "--require", "10x"}, "give --baseline-rate too"},
		{[]string{"capacity", script, "--step", "1500ms"}, "want whole seconds"},
		{[]string{"capacity", script, "--var", "novalue"}, "NAME=VALUE"},
		{[]string{"capacity", script, "--start", "fast"}, `invalid argument "fast" for "--start"`},
		{[]string{"capacity", script}, "has no strict SLOs"},
		{[]string{"capacity", script, "--slo", "http.nothing < 1"}, "unknown metric"},
	} {
		var errOut bytes.Buffer
		if code := Execute(context.Background(), TestState(&bytes.Buffer{}, &errOut, nil), tt.args); code != ExitUsage || !strings.Contains(errOut.String(), tt.want) {
			t.Errorf("%v: exit %d, %q; want %d saying %q", tt.args[2:], code, errOut.String(), ExitUsage, tt.want)
		}
	}
	var errOut bytes.Buffer
	env := map[string]string{"PRIMELOAD_MAX_RATE": "lots"}
	if code := Execute(context.Background(), TestState(&bytes.Buffer{}, &errOut, env), []string{"capacity", script}); code != ExitUsage ||
		!strings.Contains(errOut.String(), `PRIMELOAD_MAX_RATE: "lots" is not a number`) {
		t.Errorf("PRIMELOAD_MAX_RATE=lots: exit %d, %q", code, errOut.String())
	}
}

// TestCapacityCommand runs a short search through the CLI against a fast
// server, bounded by --max-rate: the JSON leads with the capacity, and a
// --require above what was reached exits 1.
func TestCapacityCommand(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("ok")) }))
	defer srv.Close()
	script := writeScript(t, `config:
  target: "`+srv.URL+`"
  phases: [{duration: 1, arrivalRate: 1}]
  ensure:
    thresholds:
      - http.response_time.p95: 1000
scenarios:
  - flow: [{get: {url: "/"}}]
`)
	dir := t.TempDir()
	js, page := filepath.Join(dir, "capacity.json"), filepath.Join(dir, "capacity.html")
	var out, errOut bytes.Buffer
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	code := Execute(ctx, TestState(&out, &errOut, nil), []string{"capacity", script, "--start", "10", "--max-rate", "20", "--step", "1s", "--warm-up", "1s",
		"--max-lag", "10s", "--baseline-rate", "5", "--require", "10x", "-o", js, "--html", page})
	if code != ExitSLO {
		t.Fatalf("exit %d, want %d (20/s is 4x of 5/s, 10x required)\n%s\n%s", code, ExitSLO, out.String(), errOut.String())
	}
	raw, err := os.ReadFile(js)
	if err != nil {
		t.Fatal(err)
	}
	var res struct {
		Capacity   float64 `json:"capacity"`
		Limit      string  `json:"limit"`
		Multiple   float64 `json:"multiple"`
		RequireMet bool    `json:"requireMet"`
		Steps      []any   `json:"steps"`
	}
	if err := json.Unmarshal(raw, &res); err != nil {
		t.Fatal(err)
	}
	if res.Capacity != 20 || res.Limit != "max-rate" || res.Multiple != 4 || res.RequireMet || len(res.Steps) != 2 {
		t.Errorf("result %+v, want capacity 20 at the max rate, 4x, requirement not met, 2 steps", res)
	}
	if !strings.Contains(out.String(), "requirement 10x: NOT met") || !strings.Contains(errOut.String(), "  2 rise") {
		t.Errorf("console lacks the requirement or the step progress:\n%s\n%s", out.String(), errOut.String())
	}
	if b, err := os.ReadFile(page); err != nil || !bytes.Contains(b, []byte(`data-chart="capacity"`)) {
		t.Errorf("HTML page not written (%v)", err)
	}
}

func TestCapacityExit(t *testing.T) {
	t.Parallel()
	yes, no := true, false
	for _, tt := range []struct {
		limit capacity.Limit
		met   *bool
		want  int
	}{
		{capacity.LimitTarget, nil, ExitOK},
		{capacity.LimitTarget, &yes, ExitOK},
		{capacity.LimitTarget, &no, ExitSLO},
		{capacity.LimitMaxRate, &no, ExitSLO},
		{capacity.LimitGenerator, nil, ExitUntrusted},
		{capacity.LimitGenerator, &no, ExitUntrusted}, // cannot tell: not the target's fault
		{capacity.LimitGenerator, &yes, ExitOK},       // the lower bound already meets it
		{capacity.LimitInterrupted, &yes, ExitInterrupted},
	} {
		if got := capacityExit(&capacity.Result{Limit: tt.limit, RequireMet: tt.met}); got != tt.want {
			t.Errorf("limit %s, met %v: exit %d, want %d", tt.limit, tt.met, got, tt.want)
		}
	}
}
