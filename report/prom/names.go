// Package prom publishes a run's live metrics to Prometheus: served for
// scraping (pull) and sent by remote write (push). Every Prometheus name is
// derived, once, from the report's own names in report/metric, so a metric
// added there appears here, and a test fails if one has no Prometheus name.
package prom

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/primeload/primeload/report/metric"
)

// Namespace starts every metric name.
const Namespace = "primeload"

// SegmentLabel is on every series: "i/N" for a part of a distributed run,
// "1/1" for a whole run, so a dashboard sums the parts of one run.
const SegmentLabel = "segment"

// Kind is a family's Prometheus type.
type Kind int

// The kinds a family can have.
const (
	Counter Kind = iota
	Gauge
	Histogram
)

func (k Kind) String() string {
	return [...]string{"counter", "gauge", "histogram"}[k]
}

// Family is one Prometheus metric family and the report names it carries.
type Family struct {
	// Name is the Prometheus name: "primeload_http_requests_total".
	Name string
	Kind Kind
	Help string
	// Report is the report's name, with <label> for the variable part of a
	// family ("http.codes.<code>"); for a gauge, what it is computed from.
	Report string
	// Labels are the variable labels, in the order split returns them.
	Labels []string
	// split returns the label values of a report name in the family.
	split func(name string) ([]string, bool)
}

// VUsersActive is the one live-only family: the report has no such name,
// since it keeps totals and this is a level.
const VUsersActive = Namespace + "_vusers_active"

// Families lists every family, in the order of the README's table. Fixed
// names come from metric.Counters and metric.Summaries; families with a
// variable part from report/metric's prefixes.
func Families() []*Family {
	var fs []*Family
	for _, n := range metric.Counters() {
		fs = append(fs, fixed(n, promName(n)+"_total", Counter))
	}
	fs = append(fs,
		prefixed(metric.CodePrefix, "code", Namespace+"_http_codes_total", Counter, "responses by status code"),
		prefixed(metric.ErrorPrefix, "error", Namespace+"_errors_total", Counter, "errors by cause"),
		prefixed(metric.CreatedByNamePrefix, "scenario", Namespace+"_vusers_created_by_scenario_total", Counter, "virtual users started, by scenario"),
		endpointFamily(metric.EndpointCodes, "code", Namespace+"_endpoint_http_codes_total", "responses by endpoint and status code"),
		endpointFamily(metric.EndpointErrors, "error", Namespace+"_endpoint_errors_total", "errors by endpoint and cause"),
	)
	for _, n := range metric.Summaries() {
		fs = append(fs, fixed(n, promName(n)+"_seconds", Histogram))
	}
	// Only a run with config.http.extendedMetrics has samples in these, so
	// only its scrapes and pushes carry them.
	for _, n := range metric.ExtendedSummaries() {
		f := fixed(n, promName(n)+"_seconds", Histogram)
		f.Help += " (config.http.extendedMetrics)"
		fs = append(fs, f)
	}
	fs = append(fs,
		prefixed(metric.EndpointResponseTime, "endpoint", Namespace+"_endpoint_http_response_time_seconds", Histogram, "response time by endpoint"),
		prefixed(metric.EndpointServerTiming, "endpoint", Namespace+"_endpoint_server_timing_seconds", Histogram, "Server-Timing total by endpoint"),
		&Family{
			Name: VUsersActive, Kind: Gauge, Help: "virtual users started and not yet ended",
			Report: metric.VUsersCreated + " − " + metric.VUsersCompleted + " − " + metric.VUsersFailed,
			split:  func(string) ([]string, bool) { return nil, false },
		},
	)
	return fs
}

// promName derives a Prometheus name from a report name: the namespace,
// then the name without the "plugins." or "primeload." it may start with,
// every character that Prometheus does not allow becoming "_".
func promName(report string) string {
	n := strings.TrimPrefix(strings.TrimPrefix(report, "plugins."), Namespace+".")
	n = strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' {
			return r
		}
		return '_'
	}, n)
	return Namespace + "_" + n
}

func fixed(report, name string, kind Kind) *Family {
	return &Family{
		Name: name, Kind: kind, Report: report, Help: "report name " + report,
		split: func(n string) ([]string, bool) { return nil, n == report },
	}
}

func prefixed(prefix, label, name string, kind Kind, help string) *Family {
	return &Family{
		Name: name, Kind: kind, Report: prefix + "<" + label + ">", Labels: []string{label},
		Help: help + ", report name " + prefix + "<" + label + ">",
		split: func(n string) ([]string, bool) {
			v, ok := strings.CutPrefix(n, prefix)
			return []string{v}, ok && v != ""
		},
	}
}

// endpointFamily is a per-endpoint counter family,
// metric.EndpointPrefix + endpoint + "." + part + value. An endpoint may hold
// dots, so the part is looked for from the end.
func endpointFamily(part, label, name, help string) *Family {
	report := metric.EndpointPrefix + "<endpoint>." + part + "<" + label + ">"
	return &Family{
		Name: name, Kind: Counter, Report: report, Labels: []string{"endpoint", label},
		Help: help + ", report name " + report,
		split: func(n string) ([]string, bool) {
			rest, ok := strings.CutPrefix(n, metric.EndpointPrefix)
			if !ok || strings.HasPrefix(n, metric.EndpointResponseTime) || strings.HasPrefix(n, metric.EndpointServerTiming) {
				return nil, false
			}
			i := strings.LastIndex(rest, "."+part)
			if i <= 0 || i+1+len(part) == len(rest) {
				return nil, false
			}
			return []string{rest[:i], rest[i+1+len(part):]}, true
		},
	}
}

// Mapping finds the family of report names; it is built once per exporter.
type Mapping struct {
	families []*Family
	exact    map[string]*Family
}

// NewMapping indexes Families.
func NewMapping() *Mapping {
	m := &Mapping{families: Families(), exact: map[string]*Family{}}
	for _, f := range m.families {
		if len(f.Labels) == 0 && f.Kind != Gauge {
			m.exact[f.Report] = f
		}
	}
	return m
}

// Lookup returns the family of a report name and its label values. Fixed
// names win over families, so "plugins.expect.ok" is never read as an
// expect family member.
func (m *Mapping) Lookup(report string) (*Family, []string, bool) {
	if f, ok := m.exact[report]; ok {
		return f, nil, true
	}
	for _, f := range m.families {
		if len(f.Labels) == 0 {
			continue
		}
		if vs, ok := f.split(report); ok {
			return f, vs, true
		}
	}
	return nil, nil, false
}

// Bounds are the upper bounds of every histogram's buckets, from 100 µs to
// 60 s (the HdrHistograms' own range); the +Inf bucket is every sample.
func Bounds() []time.Duration {
	return []time.Duration{
		100 * time.Microsecond, 250 * time.Microsecond, 500 * time.Microsecond,
		time.Millisecond, 2500 * time.Microsecond, 5 * time.Millisecond,
		10 * time.Millisecond, 25 * time.Millisecond, 50 * time.Millisecond,
		100 * time.Millisecond, 250 * time.Millisecond, 500 * time.Millisecond,
		time.Second, 2500 * time.Millisecond, 5 * time.Second,
		10 * time.Second, 30 * time.Second, 60 * time.Second,
	}
}

// formatLE writes a bound as Prometheus's own client writes an le label,
// so pulled and pushed series are the same series.
func formatLE(seconds float64) string { return strconv.FormatFloat(seconds, 'g', -1, 64) }

// Table is the documented mapping, as the markdown table in README's
// "Live metrics" section.
func Table() string {
	var b strings.Builder
	b.WriteString("| report name | Prometheus name | type | labels |\n| --- | --- | --- | --- |\n")
	for _, f := range Families() {
		labels := slices.Concat(f.Labels, []string{SegmentLabel})
		fmt.Fprintf(&b, "| `%s` | `%s` | %s | %s |\n", f.Report, f.Name, f.Kind, "`"+strings.Join(labels, "`, `")+"`")
	}
	return b.String()
}
