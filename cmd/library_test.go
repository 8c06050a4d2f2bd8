package cmd

import (
	"context"
	"encoding/json"
	"os"
	"testing"
	"time"

	"github.com/primeload/primeload/report"
	"github.com/primeload/primeload/report/metric"
	"github.com/primeload/primeload/runner/loadtest"
	"github.com/primeload/primeload/scenario"
)

// TestLibraryReportEqualsCLI: a Go program calling loadtest.Run gets the
// report `primeload run -o` writes for the same script and target, up to
// what differs between any two runs (times, latencies, period alignment).
func TestLibraryReportEqualsCLI(t *testing.T) {
	t.Parallel()
	var h hits
	srv := itemsServer(t, &h)
	path := writeScript(t, tinyScript(srv.URL, 4, `  ensure:
    thresholds:
      - http.response_time.p99: 60000
    conditions:
      - expression: "http.codes.200 == http.requests"
      - expression: "vusers.failed == 0"
        strict: false
`))
	cli := execRun(t, nil, nil, "", path, "--period", "1s")
	if cli.rep == nil {
		t.Fatalf("the CLI wrote no report (exit %d):\n%s", cli.code, cli.errOut)
	}

	src, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	script, err := scenario.Parse(path, src, scenario.LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	lib, err := loadtest.Run(ctx, script, loadtest.Options{Source: src, Period: time.Second}, loadtest.Hooks{})
	if err != nil {
		t.Fatal(err)
	}
	// Through JSON, as the CLI's report was.
	raw, err := json.Marshal(lib)
	if err != nil {
		t.Fatal(err)
	}
	var back report.Report
	if err := json.Unmarshal(raw, &back); err != nil {
		t.Fatal(err)
	}
	got, want := masked(&back), masked(cli.rep)
	gotJSON, _ := json.MarshalIndent(got, "", " ")
	wantJSON, _ := json.MarshalIndent(want, "", " ")
	if string(gotJSON) != string(wantJSON) {
		t.Errorf("library report differs from the CLI's\nlibrary:\n%s\ncli:\n%s", gotJSON, wantJSON)
	}
	if got.Verdict == "" || len(got.SLO) != 3 || len(got.Expected) != 1 || got.Expected[0].Created != 4 {
		t.Errorf("masked report lost what it should compare: %+v", got)
	}
}

// masked keeps what two runs of one deterministic script against one
// target agree on: counters, which summaries exist and their counts, the
// phases, the SLOs' verdicts, the run's identity. The untrusted verdict
// depends on the machine's load, so it is folded into the pass it replaces.
func masked(r *report.Report) *report.Report {
	m := *r
	m.StartedAt, m.EndedAt = time.Time{}, time.Time{}
	m.Expected = nil
	for _, p := range r.Expected {
		if p.Start != 0 { // when, not whether
			p.Start = 1
		}
		m.Expected = append(m.Expected, p)
	}
	m.Intermediate = nil // how periods fall on the clock varies
	if r.Series != nil { // how seconds fall varies too; what they count does not
		var sum report.SeriesPoint
		for _, p := range r.Series.Points {
			sum.Requests += p.Requests
			sum.Responses += p.Responses
			sum.Errors += p.Errors
			sum.Ended += p.Ended
		}
		m.Series = &report.Series{Step: r.Series.Step, Points: []report.SeriesPoint{sum}}
	}
	m.ScheduleLag = nil
	if r.Lag != nil { // the rule, not the timing
		m.Lag = &report.Lag{LimitMs: r.Lag.LimitMs, MaxShare: r.Lag.MaxShare, MinLate: r.Lag.MinLate}
	}
	if m.Aggregate != nil {
		m.Aggregate = maskMetrics(m.Aggregate)
	}
	m.SLO = nil
	for _, s := range r.SLO {
		s.Value, s.Detail = nil, ""
		m.SLO = append(m.SLO, s)
	}
	if m.Verdict == report.Untrusted {
		m.Verdict = report.Pass
	}
	return &m
}

func maskMetrics(in *report.Metrics) *report.Metrics {
	out := &report.Metrics{Counters: in.Counters, Rates: map[string]float64{}, Summaries: map[string]report.Summary{}, Histograms: map[string]report.Summary{}, HDR: map[string]string{}}
	for k := range in.Rates {
		out.Rates[k] = 0
	}
	for k, s := range in.Summaries {
		if k == metric.ScheduleLag {
			s.Count = 0 // the runner and the CLI agree, but lag is timing
		}
		out.Summaries[k] = report.Summary{Count: s.Count}
	}
	for k, s := range in.Histograms {
		if k == metric.ScheduleLag {
			s.Count = 0
		}
		out.Histograms[k] = report.Summary{Count: s.Count}
	}
	for k := range in.HDR {
		out.HDR[k] = ""
	}
	return out
}
