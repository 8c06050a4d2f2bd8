package prom

import (
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/primeload/primeload/report/metric"
)

var validName = regexp.MustCompile(`^primeload_[a-zA-Z0-9_]*[a-zA-Z0-9]$`)

// Every name report/metric defines has exactly one family, and families
// have distinct, valid names with the suffix their type calls for.
func TestFamiliesCoverTheVocabulary(t *testing.T) {
	m := NewMapping()
	seen := map[string]bool{}
	for _, f := range Families() {
		if !validName.MatchString(f.Name) {
			t.Errorf("%s: not a valid Prometheus name in the primeload namespace", f.Name)
		}
		if seen[f.Name] {
			t.Errorf("%s: two families share the name", f.Name)
		}
		seen[f.Name] = true
		switch f.Kind {
		case Counter:
			if !strings.HasSuffix(f.Name, "_total") {
				t.Errorf("%s: a counter's name ends in _total", f.Name)
			}
		case Histogram:
			if !strings.HasSuffix(f.Name, "_seconds") {
				t.Errorf("%s: a latency histogram's name ends in _seconds", f.Name)
			}
		}
	}
	var names []string
	names = append(names, metric.Counters()...)
	names = append(names, metric.Errors()...)
	names = append(names, metric.Summaries()...)
	names = append(names, metric.ExtendedSummaries()...)
	names = append(names, metric.Code(200), metric.Code(503), metric.EndpointCode("GET /a.b", 404),
		metric.EndpointLatency("GET /a.codes.x"), metric.CreatedByNamePrefix+"browse",
		metric.EndpointPrefix+"GET /a."+metric.EndpointErrors+"ETIMEDOUT")
	for _, n := range names {
		if _, _, ok := m.Lookup(n); !ok {
			t.Errorf("report name %q has no Prometheus family", n)
		}
	}
}

func TestLookup(t *testing.T) {
	m := NewMapping()
	tests := []struct {
		report     string
		wantName   string
		wantLabels []string
	}{
		{metric.Requests, "primeload_http_requests_total", nil},
		{metric.Responses, "primeload_http_responses_total", nil},
		{metric.ExpectOK, "primeload_expect_ok_total", nil},
		{metric.Clamped, "primeload_clamped_values_total", nil},
		{metric.Code(404), "primeload_http_codes_total", []string{"404"}},
		{metric.ErrConnRefused, "primeload_errors_total", []string{"ECONNREFUSED"}},
		{metric.ErrCaptureMiss, "primeload_errors_total", []string{"Failed capture or match"}},
		{metric.EndpointCode("GET /a.json", 200), "primeload_endpoint_http_codes_total", []string{"GET /a.json", "200"}},
		// An endpoint whose own name holds ".codes." splits at the last one.
		{metric.EndpointCode("GET /x.codes.y", 500), "primeload_endpoint_http_codes_total", []string{"GET /x.codes.y", "500"}},
		{metric.EndpointPrefix + "GET /a.errors.ETIMEDOUT", "primeload_endpoint_errors_total", []string{"GET /a", "ETIMEDOUT"}},
		{metric.ResponseTime, "primeload_http_response_time_seconds", nil},
		{metric.ResponseTime2xx, "primeload_http_response_time_2xx_seconds", nil},
		{metric.ScheduleLag, "primeload_schedule_lag_seconds", nil},
		{metric.HTTPDNS, "primeload_http_dns_seconds", nil},
		{metric.HTTPTCP, "primeload_http_tcp_seconds", nil},
		{metric.HTTPTLS, "primeload_http_tls_seconds", nil},
		{metric.HTTPTotal, "primeload_http_total_seconds", nil},
		{metric.EndpointLatency("GET /a.codes.200"), "primeload_endpoint_http_response_time_seconds", []string{"GET /a.codes.200"}},
		{metric.CreatedByNamePrefix + "checkout", "primeload_vusers_created_by_scenario_total", []string{"checkout"}},
	}
	for _, tt := range tests {
		f, labels, ok := m.Lookup(tt.report)
		if !ok {
			t.Errorf("Lookup(%q): no family", tt.report)
			continue
		}
		if f.Name != tt.wantName || !slices.Equal(labels, tt.wantLabels) {
			t.Errorf("Lookup(%q) = %s %q, want %s %q", tt.report, f.Name, labels, tt.wantName, tt.wantLabels)
		}
	}
	for _, bad := range []string{"", "http.codes.", "nope", metric.EndpointPrefix + "GET /a", metric.EndpointPrefix + "GET /a.codes."} {
		if f, _, ok := m.Lookup(bad); ok {
			t.Errorf("Lookup(%q) = %s, want no family", bad, f.Name)
		}
	}
}

// README's table is Table's output, so the documentation cannot drift
// from the code.
func TestREADMETable(t *testing.T) {
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(readme), Table()) {
		t.Errorf("README.md's Live metrics table is not Table()'s; paste this in:\n%s", Table())
	}
}

func TestBoundsAscend(t *testing.T) {
	b := Bounds()
	if !slices.IsSorted(b) || len(slices.Compact(slices.Clone(b))) != len(b) {
		t.Errorf("bounds %v are not strictly ascending", b)
	}
}
