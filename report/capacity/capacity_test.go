package capacity

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/primeload/primeload/report/reporttest"
)

var update = flag.Bool("update", false, "rewrite golden files")

// steps is a search over a target that holds 200/s: latency flat, then a hockey stick.
func steps() []Step {
	mk := func(stage Stage, rate, p95 float64, pass bool) Step {
		s := Step{Stage: stage, Rate: rate, Achieved: rate, RequestRate: 2 * rate, Requests: int64(60 * rate),
			P50: p95 / 2, P95: p95, P99: p95 * 1.5, Pass: pass, Seconds: 30, Started: time.Date(2026, 11, 27, 9, 0, 0, 0, time.UTC)}
		if !pass {
			s.Failed = []string{"http.response_time.p95 < 500 (" + rateStr(p95) + " (limit 500))"}
		}
		return s
	}
	return []Step{
		mk(StageRise, 50, 12, true), mk(StageRise, 100, 13, true), mk(StageRise, 200, 40, true), mk(StageRise, 400, 4000, false),
		mk(StageBisect, 300, 2500, false), mk(StageBisect, 250, 900, false), mk(StageBisect, 225, 600, false), mk(StageRecheck, 200, 45, true),
	}
}

func TestFinish(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name           string
		steps          []Step
		limit          Limit
		baseline       float64
		requireX, reqR float64
		wantCap        float64
		wantSummary    string
		wantMet        *bool
	}{
		{name: "found", steps: steps(), limit: LimitTarget, wantCap: 200,
			wantSummary: "meets every SLO at 200 arrivals/s (400 requests/s); the next rate up failed"},
		{name: "as a multiple of normal traffic, required 10x", steps: steps(), limit: LimitTarget, baseline: 25, requireX: 10, wantCap: 200,
			wantSummary: "meets every SLO at 200 arrivals/s (400 requests/s): 8.0× normal; the next rate up failed", wantMet: new(false)},
		{name: "required 5x: met", steps: steps(), limit: LimitTarget, baseline: 25, requireX: 5, wantCap: 200, wantMet: new(true),
			wantSummary: "meets every SLO at 200 arrivals/s (400 requests/s): 8.0× normal; the next rate up failed"},
		{name: "a failed re-check voids its pass", limit: LimitTarget, wantCap: 100,
			steps:       append(steps()[:7:7], Step{Stage: StageRecheck, Rate: 200, Pass: false}),
			wantSummary: "meets every SLO at 100 arrivals/s (200 requests/s); the next rate up failed"},
		{name: "generator, a requirement the lower bound meets", limit: LimitGenerator, reqR: 50, wantCap: 100, wantMet: new(true),
			steps:       append(steps()[:2:2], Step{Stage: StageRise, Rate: 200, Generator: "schedule lag p99 40 ms > 10 ms"}),
			wantSummary: "the load generator could not keep up at 200 arrivals/s (schedule lag p99 40 ms > 10 ms): this is not the target's capacity; it holds at least 100 arrivals/s (200 requests/s); use a bigger load machine or a distributed run"},
		{name: "generator behind on a failing step", limit: LimitGenerator, wantCap: 100,
			steps:       append(steps()[:2:2], Step{Stage: StageRise, Rate: 200, Generator: "schedule lag p99 5 s > 10 ms", Failed: []string{"p95"}}),
			wantSummary: "the load generator could not keep up at 200 arrivals/s (schedule lag p99 5 s > 10 ms); that step also failed its SLOs, which cannot be put on the target while the generator is behind: this is not the target's capacity; it holds at least 100 arrivals/s (200 requests/s); use a bigger load machine or a distributed run"},
		{name: "nothing held", limit: LimitTarget, wantCap: 0,
			steps:       []Step{{Stage: StageRise, Rate: 10}, {Stage: StageBisect, Rate: 5}},
			wantSummary: "the target failed its SLOs at every rate tried, down to 5.0 arrivals/s"},
	}
	for _, tt := range tests {
		r := &Result{Steps: tt.steps, Limit: tt.limit, BaselineRate: tt.baseline, Require: "x"}
		r.Finish(tt.requireX, tt.reqR)
		if r.Capacity != tt.wantCap || r.Summary != tt.wantSummary {
			t.Errorf("%s: capacity %v, summary\n %q\nwant %v,\n %q", tt.name, r.Capacity, r.Summary, tt.wantCap, tt.wantSummary)
		}
		if (r.RequireMet == nil) != (tt.wantMet == nil) || r.RequireMet != nil && *r.RequireMet != *tt.wantMet {
			t.Errorf("%s: requirement met %v, want %v", tt.name, r.RequireMet, tt.wantMet)
		}
	}
}

func TestKneeOf(t *testing.T) {
	t.Parallel()
	k := KneeOf(steps())
	if k == nil || k.Rate != 200 {
		t.Fatalf("knee %+v, want at 200 arrivals/s", k)
	}
	if KneeOf(steps()[:2]) != nil {
		t.Error("a knee from two points")
	}
	flat := []Step{{RequestRate: 1, P95: 5, Requests: 1}, {RequestRate: 2, P95: 5, Requests: 1}, {RequestRate: 3, P95: 5, Requests: 1}}
	if KneeOf(flat) != nil {
		t.Error("a knee on a flat curve")
	}
}

func TestParseRequire(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		in       string
		baseline float64
		x, rate  float64
		err      string
	}{
		{in: "10x", baseline: 20, x: 10},
		{in: "2.5X", baseline: 20, x: 2.5},
		{in: "500", rate: 500},
		{in: "", x: 0},
		{in: "10x", err: "give --baseline-rate too"},
		{in: "-3x", baseline: 1, err: "want a positive multiple"},
		{in: "lots", err: "want a multiple of --baseline-rate (10x) or an arrival rate (500)"},
	} {
		x, rate, err := ParseRequire(tt.in, tt.baseline)
		if tt.err != "" {
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("%q: error %v, want %q", tt.in, err, tt.err)
			}
			continue
		}
		if err != nil || x != tt.x || rate != tt.rate {
			t.Errorf("%q: %v %v %v, want %v %v", tt.in, x, rate, err, tt.x, tt.rate)
		}
	}
}

func TestWriters(t *testing.T) {
	t.Parallel()
	r := &Result{Script: "examples/black-friday-capacity.yml", Target: "http://127.0.0.1:8080", Limit: LimitTarget,
		SLOs: []string{"http.response_time.p95 < 500"}, Steps: steps(), BaselineRate: 25, Require: "10x"}
	r.Finish(10, 0)
	var text, js, page bytes.Buffer
	if err := WriteText(&text, r); err != nil {
		t.Fatal(err)
	}
	reporttest.Golden(t, "testdata/capacity.txt", text.Bytes(), *update)
	if err := WriteJSON(&js, r); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(js.String(), "{\n  \"capacity\": 200,") {
		t.Errorf("JSON does not lead with the capacity:\n%.80s", js.String())
	}
	if err := WriteHTML(&page, r); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`data-chart="capacity"`, "Requirement 10x: not met", `const primeloadCapacity = {"x":[100,200,400,400,450,500,600,800]`, "uPlot"} {
		if !strings.Contains(page.String(), want) {
			t.Errorf("HTML lacks %q", want)
		}
	}
}

// TestHTMLInBrowser opens the page in headless Chromium: the chart draws
// its canvas, with no console error and no fetch.
func TestHTMLInBrowser(t *testing.T) {
	reporttest.NeedBrowser(t)
	r := &Result{Script: "s.yml", Target: "http://127.0.0.1:8080", Limit: LimitTarget, SLOs: []string{"http.response_time.p95 < 500"}, Steps: steps()}
	r.Finish(0, 0)
	var b bytes.Buffer
	if err := WriteHTML(&b, r); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "capacity.html")
	if err := os.WriteFile(path, b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	got := reporttest.Browse(t, path, `Array.from(document.querySelectorAll("[data-chart]")).map(e => e.dataset.chart + ":" + e.querySelectorAll("canvas").length)`)
	if s := strings.Join(got, " "); s != "capacity:1" {
		t.Errorf("chart canvases %q, want capacity:1", s)
	}
}
