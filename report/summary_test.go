package report

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"testing"
	"time"
)

var update = flag.Bool("update", false, "rewrite golden files under testdata")

// timeRE matches the clock times a report prints or stores: RFC 3339 and
// summary date-times, and epoch milliseconds.
var timeRE = regexp.MustCompile(`\d{4}-\d\d-\d\d[T ]\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)?|\b\d\d:\d\d:\d\d UTC|\b1\d{12}\b`)

// golden compares got, times masked, with testdata/name, or rewrites it with -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	got = timeRE.ReplaceAll(got, []byte("<time>"))
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from the golden file (go test -update rewrites it):\n got:\n%s\nwant:\n%s", path, got, want)
	}
}

func TestWriteSummaryGolden(t *testing.T) {
	behind := laggingReport(t, 300*time.Microsecond) // p99 lag about 14.7 ms
	behind.Aborted = true
	behind.Segment = "2/4"
	behind.MissedArrivals = 3
	behind.Expected = append(behind.Expected, PhaseArrivals{Name: "peak", Expected: 600, Created: 420, Skipped: 180},
		PhaseArrivals{Name: "crowd", Created: 2400, VUsers: 40})

	empty := NewCollector(t0, Info{Version: "0.1.0"})
	if _, err := empty.Flush(t0.Add(time.Second)); err != nil {
		t.Fatal(err)
	}

	for _, tc := range []struct {
		name string
		r    *Report
	}{
		{"summary.txt", smallReport(t)},
		{"summary-behind.txt", behind},
		{"summary-empty.txt", empty.Report()},
		{"summary-failures.txt", failingReport()},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var buf bytes.Buffer
			if err := WriteSummary(&buf, tc.r); err != nil {
				t.Fatal(err)
			}
			golden(t, tc.name, buf.Bytes())
		})
	}
}

// failingReport is a run against a target that refused every token.
func failingReport() *Report {
	return &Report{
		Version: "0.1.0", Target: "http://127.0.0.1:8080", StartedAt: t0, EndedAt: t0.Add(2 * time.Second),
		Aggregate: &Metrics{Counters: map[string]int64{"http.requests": 35, "http.responses": 32, "http.codes.401": 32, "errors.Failed capture or match": 32,
			// An endpoint whose every request timed out has no latency, only its errors.
			"errors.ETIMEDOUT": 3, "plugins.metrics-by-endpoint./slow.errors.ETIMEDOUT": 3}},
		Failures: []Failure{
			{Endpoint: "GET /me", Code: "http.codes.401", Count: 32, Samples: []FailureSample{
				{Reason: `the response was 401 {"detail":"invalid token"}`, Status: 401, Body: `{"detail":"invalid token"}`},
				{Reason: `the response was 401 {"detail":"invalid token"}`, Status: 401, Body: `{"detail":"invalid token"}`},
			}},
			{Endpoint: "GET /me", Code: "errors.Failed capture or match", Count: 32, Samples: []FailureSample{
				{Reason: `capture $.token failed: the response was 401 {"detail":"invalid token"}`, Status: 401},
			}},
		},
	}
}

func TestReportJSONGolden(t *testing.T) {
	var buf bytes.Buffer
	if err := Encode(&buf, smallReport(t)); err != nil {
		t.Fatal(err)
	}
	golden(t, "report.json", buf.Bytes())
}

func TestPeriodParts(t *testing.T) {
	r := smallReport(t)
	var buf bytes.Buffer
	for _, m := range r.Intermediate {
		fmt.Fprintln(&buf, FitParts(PeriodParts(m, r.StartedAt), SummaryWidth))
	}
	golden(t, "periods.txt", buf.Bytes())
}

// TestEndpointLabel checks that people see the method that Artillery's
// endpoint names leave out, and the bare name when a report lacks it.
func TestEndpointLabel(t *testing.T) {
	t.Parallel()
	s := ScriptInfo{EndpointMethods: map[string][]string{"/items": {"GET", "POST"}, "/a (login)": {"POST"}}}
	for ep, want := range map[string]string{"/items": "GET|POST /items", "/a (login)": "POST /a (login)", "/other": "/other"} {
		if got := s.EndpointLabel(ep); got != want {
			t.Errorf("EndpointLabel(%q) = %q, want %q", ep, got, want)
		}
	}
}
