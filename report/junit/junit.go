// Package junit writes a run's SLO results as JUnit XML, the format CI
// systems (GitHub Actions reporters, GitLab, Jenkins) show as test results.
package junit

import (
	"encoding/xml"
	"fmt"
	"io"
	"strconv"
	"time"

	"github.com/primeload/primeload/report"
	"github.com/primeload/primeload/report/metric"
	"github.com/primeload/primeload/report/view"
)

// Class names group the test cases in CI views.
const (
	ClassSLO      = "primeload.slo"
	ClassEndpoint = "primeload.endpoint"
	ClassRun      = "primeload.run"
	ClassFailure  = "primeload.failure"
)

// Suites is the document root, <testsuites>.
type Suites struct {
	XMLName  xml.Name `xml:"testsuites"`
	Name     string   `xml:"name,attr"`
	Tests    int      `xml:"tests,attr"`
	Failures int      `xml:"failures,attr"`
	Errors   int      `xml:"errors,attr"`
	Time     string   `xml:"time,attr"`
	Suites   []Suite  `xml:"testsuite"`
}

// Suite is one <testsuite>: the run.
type Suite struct {
	Name       string     `xml:"name,attr"`
	Tests      int        `xml:"tests,attr"`
	Failures   int        `xml:"failures,attr"`
	Errors     int        `xml:"errors,attr"`
	Skipped    int        `xml:"skipped,attr"`
	Time       string     `xml:"time,attr"`
	Timestamp  string     `xml:"timestamp,attr,omitempty"`
	Properties []Property `xml:"properties>property,omitempty"`
	Cases      []Case     `xml:"testcase"`
}

// Property is a name/value pair describing the run.
type Property struct {
	Name  string `xml:"name,attr"`
	Value string `xml:"value,attr"`
}

// Case is one <testcase>: an SLO, or an endpoint when there are no SLOs.
type Case struct {
	Name      string   `xml:"name,attr"`
	Classname string   `xml:"classname,attr"`
	Time      string   `xml:"time,attr"`
	Failure   *Problem `xml:"failure,omitempty"`
	Error     *Problem `xml:"error,omitempty"`
	SystemOut string   `xml:"system-out,omitempty"`
}

// Problem is a <failure> (the check ran and did not hold) or an <error>
// (the check could not be measured).
type Problem struct {
	Message string `xml:"message,attr"`
	Type    string `xml:"type,attr"`
	Text    string `xml:",chardata"`
}

// Write writes the run r with its evaluated SLOs as JUnit XML: one test suite
// for the run and one test case per SLO, whose failure carries the measured
// value and the limit. A run without SLOs gets one test case per endpoint
// stating its error count, so CI always shows something. A run whose load
// generator fell behind its schedule gets a failing case saying so.
func Write(w io.Writer, r *report.Report) error {
	doc := Build(r)
	if _, err := io.WriteString(w, xml.Header); err != nil {
		return fmt.Errorf("write junit: %w", err)
	}
	enc := xml.NewEncoder(w)
	enc.Indent("", "  ")
	if err := enc.Encode(doc); err != nil {
		return fmt.Errorf("write junit: %w", err)
	}
	if _, err := io.WriteString(w, "\n"); err != nil {
		return fmt.Errorf("write junit: %w", err)
	}
	return nil
}

// Build assembles the document Write encodes.
func Build(r *report.Report) Suites {
	agg := r.Aggregate
	if agg == nil {
		agg = &report.Metrics{}
	}
	s := Suite{
		Name:       suiteName(r),
		Time:       seconds(r.EndedAt.Sub(r.StartedAt)),
		Properties: properties(r),
	}
	if !r.StartedAt.IsZero() {
		s.Timestamp = r.StartedAt.UTC().Format("2006-01-02T15:04:05")
	}
	for _, res := range r.SLO {
		s.Cases = append(s.Cases, sloCase(res))
	}
	if len(r.SLO) == 0 {
		eps := view.Endpoints(r)
		withNetwork := view.EndpointErrors(eps)
		runErrors := view.Summarize(r).Tally.Network
		for _, ep := range eps {
			s.Cases = append(s.Cases, endpointCase(ep, withNetwork, runErrors))
		}
	}
	// What else the judge (loadtest.Judge) failed the run for, so the
	// cases say why CI got 130 or 21.
	switch r.Verdict {
	case report.Interrupted:
		s.Cases = append(s.Cases, Case{
			Name: "run finished its schedule", Classname: ClassRun, Time: "0",
			Failure: &Problem{Message: "the run was interrupted or killed (or a merged part was) before its schedule ended", Type: "interrupted"},
		})
	case report.ExpectFailed:
		s.Cases = append(s.Cases, Case{
			Name: "expectations held", Classname: ClassRun, Time: "0",
			Failure: &Problem{Message: fmt.Sprintf("%d expectations failed", agg.Counters[metric.ExpectFailed]), Type: "expect"},
		})
	}
	for _, f := range r.Failures {
		s.Cases = append(s.Cases, failureCase(f))
	}
	if untrusted, why := r.Untrusted(); untrusted {
		s.Cases = append(s.Cases, Case{
			Name: "load generator kept its schedule", Classname: ClassRun, Time: "0",
			Failure: &Problem{Message: why, Type: "untrusted"},
		})
	}
	for _, c := range s.Cases {
		s.Tests++
		if c.Failure != nil {
			s.Failures++
		}
		if c.Error != nil {
			s.Errors++
		}
	}
	return Suites{Name: "primeload", Tests: s.Tests, Failures: s.Failures, Errors: s.Errors, Time: s.Time, Suites: []Suite{s}}
}

func suiteName(r *report.Report) string {
	name := r.Script.Path
	if name == "" {
		name = "primeload run"
	}
	if r.Environment != "" {
		name += " (" + r.Environment + ")"
	}
	return name
}

func properties(r *report.Report) []Property {
	var ps []Property
	add := func(name, value string) {
		if value != "" {
			ps = append(ps, Property{Name: name, Value: value})
		}
	}
	add("target", r.Target)
	add("script", r.Script.Path)
	add("environment", r.Environment)
	add("segment", r.Segment)
	add("version", r.Version)
	if r.Aborted {
		add("aborted", "true")
	}
	return ps
}

func sloCase(res report.SLO) Case {
	c := Case{Name: res.Title(), Classname: ClassSLO, Time: "0", SystemOut: res.Detail}
	measured := res.Measured()
	switch {
	case res.OK:
	case !res.Strict:
		// A warning: the case passes and says what nearly failed.
		c.SystemOut = "warning: " + measured
	case res.Unmeasured:
		c.Error = &Problem{Message: res.Detail, Type: "unmeasured", Text: res.Expression}
	case res.Value != nil && res.Limit != nil:
		c.Failure = &Problem{Message: "measured " + measured, Type: "slo", Text: res.Expression + "\n" + res.Detail}
	default:
		c.Failure = &Problem{Message: "condition false: " + measured, Type: "slo", Text: res.Expression}
	}
	return c
}

// endpointCase states one endpoint's errors: responses with a 4xx or 5xx
// status, and network errors when the report counts them per endpoint
// (withNetwork); primeload counts those run-wide, stated in runErrors.
func endpointCase(ep view.Endpoint, withNetwork bool, runErrors int64) Case {
	t := ep.Tally
	var text string
	if withNetwork {
		text = fmt.Sprintf("%d errors (%s): %d HTTP 5xx, %d network errors; %d HTTP 4xx; in %d responses",
			t.Failed(), report.ErrorRateMeaning, t.HTTP5xx, t.Network, t.HTTP4xx, ep.Responses)
	} else {
		text = fmt.Sprintf("%d HTTP errors: %d 5xx, %d 4xx, in %d responses (network errors of the whole run: %d)",
			t.HTTP5xx+t.HTTP4xx, t.HTTP5xx, t.HTTP4xx, ep.Responses, runErrors)
	}
	if ep.HasLatency {
		text += fmt.Sprintf("; p95 %s ms, p99 %s ms", view.Ms(ep.Latency.P95), view.Ms(ep.Latency.P99))
	}
	return Case{Name: ep.Name, Classname: ClassEndpoint, Time: "0", SystemOut: text}
}

// failureCase states one kind of failure at an endpoint with its samples'
// reasons. It passes: whether failures fail the run is for the SLOs (or
// the default checks) to say, and their cases carry the verdict.
func failureCase(f report.Failure) Case {
	text := fmt.Sprintf("%d× %s at %s", f.Count, f.Label(), f.Endpoint)
	for _, reason := range f.Reasons() {
		text += "\n" + reason
	}
	return Case{Name: f.Endpoint + ": " + f.Label(), Classname: ClassFailure, Time: "0", SystemOut: text}
}

func seconds(d time.Duration) string {
	if d < 0 {
		d = 0
	}
	return strconv.FormatFloat(d.Seconds(), 'f', 3, 64)
}
