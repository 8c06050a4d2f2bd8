package cmd

import (
	"bytes"
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/primeload/primeload/report"
	"github.com/primeload/primeload/report/metric"
	"github.com/primeload/primeload/runner"
)

// segmentedScript has a ramp, a count and a constant phase, so the split is
// checked where arrival times are not evenly spaced too.
func segmentedScript(target string) string {
	return `config:
  target: "` + target + `"
  phases:
    - name: ramp
      duration: 2
      arrivalRate: 2
      rampTo: 9
    - name: burst
      duration: 1
      arrivalCount: 13
    - name: steady
      duration: 1
      arrivalRate: 7
scenarios:
  - name: browse
    flow:
      - get:
          url: "/items"
      - get:
          url: "/items/7"
`
}

// TestFourSegmentsMergeToOneRun is issue 7's contract: four `run --segment
// i/4` processes (four engines here) against one target, merged with
// `primeload report`, give exactly the one-process run's arrivals per phase,
// and the merged latency histogram is the merge of the parts' histograms.
func TestFourSegmentsMergeToOneRun(t *testing.T) {
	t.Parallel()
	var h hits
	srv := itemsServer(t, &h)
	script := writeScript(t, segmentedScript(srv.URL))

	single := execRun(t, nil, nil, "", script)
	if single.code != wantExit(single, ExitOK) {
		t.Fatalf("single run: exit %d\n%s", single.code, single.errOut)
	}

	const n = 4
	dir := t.TempDir()
	parts := make([]string, n)
	results := make([]runResult, n)
	startAt := time.Now().Add(time.Second).UTC().Format(time.RFC3339Nano)
	var wg sync.WaitGroup
	for i := range n {
		parts[i] = filepath.Join(dir, fmt.Sprintf("part-%d.json", i+1))
		wg.Go(func() {
			results[i] = execRun(t, nil, nil, parts[i], script, "--segment", fmt.Sprintf("%d/%d", i+1, n), "--start-at", startAt)
		})
	}
	wg.Wait()
	for i, r := range results {
		if r.code != ExitOK { // a part leaves its verdict to the merge
			t.Fatalf("segment %d: exit %d\n%s", i+1, r.code, r.errOut)
		}
		if want := fmt.Sprintf("%d/%d", i+1, n); r.rep.Segment != want {
			t.Errorf("part %d records segment %q, want %q", i+1, r.rep.Segment, want)
		}
	}

	mergedPath := filepath.Join(dir, "merged.json")
	var out, errOut bytes.Buffer
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	code := Execute(ctx, TestState(&out, &errOut, nil), append([]string{"report", "-o", mergedPath}, parts...))
	if code != ExitOK && code != ExitUntrusted {
		t.Fatalf("report: exit %d\n%s", code, errOut.String())
	}
	merged, err := report.ReadFile(mergedPath)
	if err != nil {
		t.Fatal(err)
	}

	for _, c := range []string{"vusers.created", "http.requests", "http.codes.200"} {
		if got, want := merged.Aggregate.Counters[c], single.rep.Aggregate.Counters[c]; got != want {
			t.Errorf("merged %s = %d, one-process run has %d", c, got, want)
		}
	}
	if len(merged.Expected) != len(single.rep.Expected) {
		t.Fatalf("merged has %d phases, one-process run %d", len(merged.Expected), len(single.rep.Expected))
	}
	for i, want := range single.rep.Expected {
		got := merged.Expected[i]
		if got.Name != want.Name || got.Expected != want.Expected || got.Created != want.Created {
			t.Errorf("phase %d: merged %+v, one-process run %+v", i, got, want)
		}
	}
	// 2+9 over 2 s is 11 arrivals, then 13, then 7.
	if got := merged.Aggregate.Counters["vusers.created"]; got != 31 {
		t.Errorf("vusers.created = %d, want 31", got)
	}

	want, err := results[0].rep.Aggregate.Histogram(metric.ResponseTime)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range results[1:] {
		part, err := r.rep.Aggregate.Histogram(metric.ResponseTime)
		if err != nil {
			t.Fatal(err)
		}
		if dropped := want.Merge(part); dropped != 0 {
			t.Fatalf("merging parts dropped %d values", dropped)
		}
	}
	got, err := merged.Aggregate.Histogram(metric.ResponseTime)
	if err != nil {
		t.Fatal(err)
	}
	if !got.Equals(want) {
		t.Errorf("merged histogram (count %d, p99 %d µs) differs from the merge of the parts (count %d, p99 %d µs)",
			got.TotalCount(), got.ValueAtQuantile(99), want.TotalCount(), want.ValueAtQuantile(99))
	}
	if got.TotalCount() != single.rep.Aggregate.Counters["http.responses"] {
		t.Errorf("merged histogram holds %d samples, the one-process run had %d responses",
			got.TotalCount(), single.rep.Aggregate.Counters["http.responses"])
	}
}

func TestSegmentDefers(t *testing.T) {
	t.Parallel()
	two := runner.Segment{Index: 1, Count: 2}
	tests := []struct {
		code int
		seg  runner.Segment
		want bool
	}{
		{ExitSLO, two, true},
		{ExitUntrusted, two, true},
		{ExitExpect, two, true},
		{ExitOK, two, false},
		{ExitInterrupted, two, false}, // an interrupt is the operator's, not a verdict
		{ExitUsage, two, false},
		{ExitSLO, runner.Segment{}, false},                   // a whole run keeps its verdict
		{ExitSLO, runner.Segment{Index: 1, Count: 1}, false}, // so does 1/1
	}
	for _, tt := range tests {
		if got := segmentDefers(tt.code, tt.seg); got != tt.want {
			t.Errorf("segmentDefers(%d, %v) = %v, want %v", tt.code, tt.seg, got, tt.want)
		}
	}
}

// TestSegmentLeavesVerdictToMerge: parts of a run whose SLO fails exit 0,
// and the merge of the parts is what fails.
func TestSegmentLeavesVerdictToMerge(t *testing.T) {
	t.Parallel()
	var h hits
	srv := itemsServer(t, &h)
	// No response is faster than a nanosecond: the SLO fails on any run.
	script := writeScript(t, tinyScript(srv.URL, 6, `  ensure:
    thresholds:
      - http.response_time.p95: 0.000001`))
	dir := t.TempDir()
	var parts []string
	for i := 1; i <= 2; i++ {
		part := filepath.Join(dir, fmt.Sprintf("part-%d.json", i))
		res := execRun(t, nil, nil, part, script, "--segment", fmt.Sprintf("%d/2", i))
		if res.code != ExitOK {
			t.Fatalf("segment %d/2 exit %d, want 0 (the merge judges)\n%s", i, res.code, res.errOut)
		}
		if !strings.Contains(res.out, "belongs to the merged run") {
			t.Errorf("segment %d/2 does not say why it exits 0:\n%s", i, res.out)
		}
		if res.rep.Passed == nil || *res.rep.Passed {
			t.Errorf("segment %d/2 report passed = %v, want the failed SLO recorded", i, res.rep.Passed)
		}
		parts = append(parts, part)
	}
	var out, errOut bytes.Buffer
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	code := Execute(ctx, TestState(&out, &errOut, nil), append([]string{"report"}, parts...))
	merged, err := loadReports(context.Background(), TestState(&bytes.Buffer{}, &bytes.Buffer{}, nil), parts, false)
	if err != nil {
		t.Fatal(err)
	}
	if want := wantExit(runResult{rep: merged}, ExitSLO); code != want {
		t.Errorf("report over the parts: exit %d, want %d\n%s%s", code, want, out.String(), errOut.String())
	}
}
