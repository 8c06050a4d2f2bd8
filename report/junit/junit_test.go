package junit

import (
	"bytes"
	"encoding/xml"
	"flag"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/primeload/primeload/report"
	"github.com/primeload/primeload/report/metric"
	"github.com/primeload/primeload/report/reporttest"
	"github.com/primeload/primeload/report/slo"
	"github.com/primeload/primeload/scenario"
)

var update = flag.Bool("update", false, "rewrite golden files")

// parsed mirrors the JUnit schema's required structure, read independently
// of the types Write encodes, so a wrong tag or attribute shows here.
type parsed struct {
	XMLName  xml.Name `xml:"testsuites"`
	Tests    *int     `xml:"tests,attr"`
	Failures *int     `xml:"failures,attr"`
	Errors   *int     `xml:"errors,attr"`
	Time     *string  `xml:"time,attr"`
	Suites   []struct {
		Name     *string      `xml:"name,attr"`
		Tests    *int         `xml:"tests,attr"`
		Failures *int         `xml:"failures,attr"`
		Errors   *int         `xml:"errors,attr"`
		Time     *string      `xml:"time,attr"`
		Cases    []parsedCase `xml:"testcase"`
	} `xml:"testsuite"`
}

type parsedCase struct {
	Name      *string `xml:"name,attr"`
	Classname *string `xml:"classname,attr"`
	Failure   *struct {
		Message string `xml:"message,attr"`
		Text    string `xml:",chardata"`
	} `xml:"failure"`
	Error *struct {
		Message string `xml:"message,attr"`
	} `xml:"error"`
	SystemOut string `xml:"system-out"`
}

func ensure() scenario.Ensure {
	return scenario.Ensure{
		Thresholds: []scenario.Threshold{{Metric: "http.response_time.p99", Limit: 10}},
		Conditions: []scenario.Condition{
			{Expression: "http.codes.500 / http.requests < 0.001", Strict: true},
			{Expression: "http.response_time.p95 < 1"},
			{Expression: "http.requests > 100", Strict: true},
		},
		Legacy: []scenario.Threshold{{Metric: "maxErrorRate", Limit: 0.25}},
	}
}

// firstEndpointErrors states the first endpoint's errors as reporttest
// makes them: request n (from 1) goes to endpoint ((n-1) mod 200) mod 3, gets
// a 500 when n is a multiple of 50 and no response when a multiple of 200.
func firstEndpointErrors() string {
	var responses, errs, network int
	for n := 1; n <= 6*200; n++ {
		if n%200 == 0 {
			network++
		}
		if (n-1)%200%3 != 0 || n%200 == 0 {
			continue
		}
		responses++
		if n%50 == 0 {
			errs++
		}
	}
	return fmt.Sprintf("%d HTTP errors: %d 5xx, 0 4xx, in %d responses (network errors of the whole run: %d)", errs, errs, responses, network)
}

func evaluate(t *testing.T, r *report.Report) []report.SLO {
	t.Helper()
	results, errs := slo.Check(r)
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	return results
}

func TestWriteParsesBack(t *testing.T) {
	t.Parallel()
	type wantCase struct{ name, class, failure string }
	tests := []struct {
		name                    string
		opts                    reporttest.Options
		noSLO                   bool
		tests, failures, errors int
		cases                   []wantCase
		systemOutContains       map[int]string
	}{
		{
			name:  "one case per SLO, failures carry value and limit",
			opts:  reporttest.Options{Ensure: ensure(), Failures: true},
			tests: 5, failures: 3,
			cases: []wantCase{
				{"http.response_time.p99 < 10", ClassSLO, "measured "},
				{"http.codes.500 / http.requests < 0.001", ClassSLO, "measured 0.0"},
				{"http.response_time.p95 < 1", ClassSLO, ""},
				{"http.requests > 100", ClassSLO, ""},
				{"maxErrorRate: (vusers.created - vusers.completed) / vusers.created * 100 <= 0.25", ClassSLO, "measured 0.5 (limit 0.25)"},
			},
			systemOutContains: map[int]string{2: "warning: ", 3: "http.requests=1200"},
		},
		{
			name:  "no SLOs: one case per endpoint with its errors",
			opts:  reporttest.Options{Failures: true},
			noSLO: true,
			tests: 3,
			cases: []wantCase{
				{reporttest.Endpoints()[0], ClassEndpoint, ""},
				{reporttest.Endpoints()[1], ClassEndpoint, ""},
				{reporttest.Endpoints()[2], ClassEndpoint, ""},
			},
			systemOutContains: map[int]string{0: firstEndpointErrors()},
		},
		{
			name:  "an untrusted run fails a run case",
			opts:  reporttest.Options{Ensure: scenario.Ensure{Conditions: []scenario.Condition{{Expression: "http.requests > 100", Strict: true}}}, Lag: 50 * time.Millisecond},
			tests: 2, failures: 1,
			cases: []wantCase{
				{"http.requests > 100", ClassSLO, ""},
				{"load generator kept its schedule", ClassRun, "the load generator fell behind its schedule"},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r := reporttest.Run(t, tt.opts)
			var results []report.SLO
			if !tt.noSLO {
				results = evaluate(t, r)
			}
			var buf bytes.Buffer
			if err := Write(&buf, withSLOs(r, results)); err != nil {
				t.Fatal(err)
			}
			if !strings.HasPrefix(buf.String(), `<?xml version="1.0" encoding="UTF-8"?>`) {
				t.Errorf("no XML declaration: %.60s", buf.String())
			}
			var got parsed
			if err := xml.Unmarshal(buf.Bytes(), &got); err != nil {
				t.Fatalf("parse back: %v\n%s", err, buf.String())
			}
			if got.Tests == nil || got.Failures == nil || got.Errors == nil || got.Time == nil {
				t.Fatalf("testsuites lacks tests, failures, errors or time:\n%s", buf.String())
			}
			if len(got.Suites) != 1 {
				t.Fatalf("got %d testsuites, want 1", len(got.Suites))
			}
			s := got.Suites[0]
			// The failures' own cases (TestFailureCases) follow the others.
			var failureCases int
			for _, c := range s.Cases {
				if c.Classname != nil && *c.Classname == ClassFailure {
					failureCases++
				}
			}
			if failureCases != len(r.Failures) {
				t.Errorf("%d failure cases, want one per failure: %d", failureCases, len(r.Failures))
			}
			tt.tests += failureCases
			if s.Name == nil || *s.Name != "black-friday.yml" || s.Tests == nil || s.Failures == nil || s.Errors == nil || s.Time == nil {
				t.Fatalf("testsuite lacks name, tests, failures, errors or time:\n%s", buf.String())
			}
			if *s.Time != "60.000" {
				t.Errorf("testsuite time = %s, want 60.000", *s.Time)
			}
			if *s.Tests != tt.tests || *s.Failures != tt.failures || *s.Errors != tt.errors ||
				*got.Tests != tt.tests || *got.Failures != tt.failures || *got.Errors != tt.errors {
				t.Errorf("counts suites %d/%d/%d suite %d/%d/%d, want %d/%d/%d",
					*got.Tests, *got.Failures, *got.Errors, *s.Tests, *s.Failures, *s.Errors, tt.tests, tt.failures, tt.errors)
			}
			s.Cases = slices.DeleteFunc(s.Cases, func(c parsedCase) bool { return c.Classname != nil && *c.Classname == ClassFailure })
			if len(s.Cases) != len(tt.cases) {
				t.Fatalf("got %d testcases, want %d:\n%s", len(s.Cases), len(tt.cases), buf.String())
			}
			failures := 0
			for i, c := range s.Cases {
				w := tt.cases[i]
				if c.Name == nil || c.Classname == nil {
					t.Fatalf("testcase %d lacks name or classname", i)
				}
				if *c.Name != w.name || *c.Classname != w.class {
					t.Errorf("case %d = %q %q, want %q %q", i, *c.Name, *c.Classname, w.name, w.class)
				}
				if c.Failure != nil {
					failures++
				}
				if (c.Failure != nil) != (w.failure != "") {
					t.Errorf("case %d %q failure = %+v, want one containing %q", i, w.name, c.Failure, w.failure)
				} else if c.Failure != nil && !strings.Contains(c.Failure.Message, w.failure) {
					t.Errorf("case %d failure message %q lacks %q", i, c.Failure.Message, w.failure)
				}
			}
			if failures != tt.failures {
				t.Errorf("%d failure elements, attribute says %d", failures, tt.failures)
			}
			for i, want := range tt.systemOutContains {
				if !strings.Contains(s.Cases[i].SystemOut, want) {
					t.Errorf("case %d system-out %q lacks %q", i, s.Cases[i].SystemOut, want)
				}
			}
		})
	}
}

func TestUnmeasuredIsAnError(t *testing.T) {
	t.Parallel()
	r := reporttest.Run(t, reporttest.Options{Periods: 1})
	set, errs := slo.CompileExpressions([]string{"primeload.schedule_lag.p99 < 5", "plugins.metrics-by-endpoint.response_time.login.p99 < 5"}, slo.Names{Endpoints: []string{"login"}})
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	doc := Build(withSLOs(r, set.Evaluate(r.Aggregate)))
	s := doc.Suites[0]
	if s.Tests != 2 || s.Errors != 1 || s.Failures != 0 || s.Cases[1].Error == nil || !strings.Contains(s.Cases[1].Error.Message, "no samples") {
		t.Errorf("suite = %+v, want the unmeasured SLO as an error", s)
	}
}

// TestEndpointNetworkErrors covers reports that count network errors per
// endpoint, as Artillery's metrics-by-endpoint plugin does.
func TestEndpointNetworkErrors(t *testing.T) {
	t.Parallel()
	r := &report.Report{Aggregate: &report.Metrics{Counters: map[string]int64{
		"http.requests": 10, "errors.ETIMEDOUT": 3,
		metric.EndpointPrefix + "GET /a.codes.200":        6,
		metric.EndpointPrefix + "GET /a.codes.404":        1,
		metric.EndpointPrefix + "GET /a.errors.ETIMEDOUT": 3,
	}}, Script: report.ScriptInfo{Endpoints: []string{"GET /a"}}}
	doc := Build(r)
	if got, want := doc.Suites[0].Cases[0].SystemOut, "3 errors (network errors + HTTP 5xx per request sent, 4xx apart): 0 HTTP 5xx, 3 network errors; 1 HTTP 4xx; in 7 responses"; got != want {
		t.Errorf("system-out %q, want %q", got, want)
	}
}

// TestFailureCases: each failure of the report has a passing case whose
// output gives its count and its samples' reasons.
func TestFailureCases(t *testing.T) {
	t.Parallel()
	r := reporttest.Run(t, reporttest.Options{Down: true, Periods: 1})
	doc := Build(r)
	var got []Case
	for _, c := range doc.Suites[0].Cases {
		if c.Classname == ClassFailure {
			got = append(got, c)
		}
	}
	if len(got) != len(reporttest.Endpoints()) {
		t.Fatalf("%d failure cases, want one per endpoint: %+v", len(got), got)
	}
	for _, c := range got {
		if c.Failure != nil || !strings.HasSuffix(c.Name, ": ECONNREFUSED") ||
			!strings.Contains(c.SystemOut, "× ECONNREFUSED") || !strings.Contains(c.SystemOut, "nothing listening on 127.0.0.1:8080") {
			t.Errorf("failure case %+v, want a passing ECONNREFUSED case with its reason", c)
		}
	}
}

func TestGolden(t *testing.T) {
	t.Parallel()
	r := reporttest.Run(t, reporttest.Options{Ensure: ensure(), Failures: true})
	var buf bytes.Buffer
	if err := Write(&buf, withSLOs(r, evaluate(t, r))); err != nil {
		t.Fatal(err)
	}
	reporttest.Golden(t, filepath.Join("testdata", "report.xml"), buf.Bytes(), *update)
}

// withSLOs stores results in r, where the writers read them.
func withSLOs(r *report.Report, results []report.SLO) *report.Report {
	r.SLO = results
	return r
}

// TestJudgedFailures: an interrupted run and failed expectations each get
// a failing case, so CI's JUnit view says why the job exited 130 or 21.
func TestJudgedFailures(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		verdict report.Verdict
		name    string
	}{
		{report.Interrupted, "run finished its schedule"},
		{report.ExpectFailed, "expectations held"},
	} {
		r := reporttest.Run(t, reporttest.Options{Periods: 1})
		r.Aggregate.Counters["plugins.expect.failed"] = 2
		r.Verdict = tt.verdict
		doc := Build(r)
		var found bool
		for _, c := range doc.Suites[0].Cases {
			if c.Name == tt.name {
				found = c.Failure != nil
			}
		}
		if !found || doc.Failures != 1 {
			t.Errorf("verdict %s: want one failing case %q, got %d failures in %+v", tt.verdict, tt.name, doc.Failures, doc.Suites[0].Cases)
		}
	}
	r := reporttest.Run(t, reporttest.Options{Periods: 1})
	r.Verdict = report.Pass
	if doc := Build(r); doc.Failures != 0 {
		t.Errorf("a passed run has %d failing cases", doc.Failures)
	}
}
