package slo

import (
	"context"
	"math"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/primeload/primeload/report"
	"github.com/primeload/primeload/report/metric"
	"github.com/primeload/primeload/runner"
	"github.com/primeload/primeload/scenario"
)

// notRecordedHere lists the catalogue's fixed names a loopback test run
// does not produce, each with the reason; every other one must be recorded.
// The error counters are checked against the runner's classifier in
// runner's TestErrorCounterCoversVocabulary.
func notRecordedHere() map[string]string {
	m := map[string]string{
		metric.Clamped:         "needs a latency beyond the histogram's 1 minute",
		metric.EndpointsFolded: "needs more endpoints than the collector's limit; report's TestCollectorFoldsEndpoints records it",
	}
	for _, name := range metric.Errors() {
		m[name] = "tied to the runner's classifier in runner's TestErrorCounterCoversVocabulary"
	}
	return m
}

// TestCatalogMatchesRecording runs a script that exercises every kind of
// outcome against a real server and checks both directions: every name the
// run recorded is one the SLO catalogue accepts, and every fixed name the
// catalogue accepts was recorded (or is listed in notRecordedHere).
func TestCatalogMatchesRecording(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/fail":
			w.WriteHeader(http.StatusInternalServerError)
		case "/unchanged":
			w.WriteHeader(http.StatusNotModified) // a 3xx that is no redirect
			return
		case "/missing":
			w.WriteHeader(http.StatusNotFound)
		case "/ok":
			w.Header().Set("Server-Timing", "db;dur=53, Total;dur=123.4, total;dur=9")
		case "/slow":
			time.Sleep(200 * time.Millisecond) // holds users so maxVusers skips arrivals
		}
		w.Write([]byte(`{"id": 1}`))
	}))
	defer srv.Close()
	secure := httptest.NewTLSServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	defer secure.Close()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	refused := "http://" + l.Addr().String() + "/"
	l.Close() // nothing listens there now: ECONNREFUSED

	yml := `config:
  target: "` + srv.URL + `"
  phases:
    - duration: 1
      arrivalCount: 80
      maxVusers: 8
  http:
    extendedMetrics: true
  plugins:
    expect: {}
scenarios:
  - flow:
      - get:
          url: "/slow"
  - flow:
      - get:
          url: "/slow"
      - get:
          url: "/ok"
          expect:
            - statusCode: 200
      - get:
          url: "/unchanged"
      - get:
          url: "/missing"
      - get:
          url: "/fail"
          expect:
            - statusCode: 200
  - flow:
      - get:
          url: "/slow"
      - get:
          url: "/ok"
          capture:
            - json: "$.missing"
              as: x
  - flow:
      - get:
          url: "/slow"
      - get:
          url: "` + refused + `"
  - flow:
      - get:
          url: "` + secure.URL + `/tls"
`
	script, err := scenario.Parse("catalog.yml", []byte(yml), scenario.LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	col := report.NewCollector(start, report.Info{})
	if _, err := runner.Run(context.Background(), script, col, runner.Options{Seed: 3, Insecure: true}); err != nil {
		t.Fatal(err)
	}
	if _, err := col.Flush(time.Now()); err != nil {
		t.Fatal(err)
	}
	m := col.Report().Aggregate
	cat := newCatalog(ScriptNames(script))
	recorded := map[string]bool{}
	for _, name := range m.Names() {
		if _, err := cat.classify(name); err != nil {
			t.Errorf("recorded %q, but the SLO catalogue refuses it: %v", name, err)
		}
		base, _, _ := cutLast(name)
		recorded[name], recorded[base] = true, true
	}
	fixed := slices.Concat(counters(), summaries(), metric.ExtendedSummaries())
	skip := notRecordedHere()
	for _, name := range fixed {
		if _, skip := skip[name]; skip {
			continue
		}
		if !recorded[name] {
			t.Errorf("the catalogue knows %q, but the run did not record it", name)
		}
	}
	for _, want := range []string{metric.Code(500), metric.ErrConnRefused, metric.ErrCaptureMiss, metric.EndpointCode("/fail", 500), metric.EndpointLatency("/ok") + ".p99", metric.EndpointServerTimingOf("/ok") + ".max"} {
		if !recorded[want] {
			t.Errorf("the run did not record %q; the test no longer exercises that family", want)
		}
	}
	// The first total, case ignored, as Artillery's plugin reads it.
	if st := m.Summaries[metric.EndpointServerTimingOf("/ok")]; st.Count == 0 || math.Abs(st.Max-123.4) > 0.2 || math.Abs(st.Min-123.4) > 0.2 {
		t.Errorf("server-timing of /ok: %+v, want every value 123.4 ms", st)
	}
	if _, ok := m.Summaries[metric.EndpointServerTimingOf("/slow")]; ok {
		t.Errorf("server-timing recorded for /slow, which sends no Server-Timing header")
	}
	for name := range skip {
		if !slices.Contains(fixed, name) {
			t.Errorf("notRecordedHere lists %q, which the catalogue does not know", name)
		}
	}
}

// TestCatalogRefusesUnrecorded: a name no run records is an error with a
// way out, not a counter that silently reads 0 and decides a verdict.
func TestCatalogRefusesUnrecorded(t *testing.T) {
	t.Parallel()
	cat := newCatalog(Names{Endpoints: []string{"GET /a"}, Scenarios: []string{"checkout", "1"}})
	tests := []struct{ name, want string }{
		{"errors.ETIMEOUT", `did you mean "errors.ETIMEDOUT"?`},
		{"errors.ESOCKETTIMEDOUT", "primeload counts these errors: errors.<ETIMEDOUT|"},
		{"plugins.metrics-by-endpoint.GET /a.errors.ETIMEOUT", `did you mean "plugins.metrics-by-endpoint.GET /a.errors.ETIMEDOUT"?`},
		{"vusers.created_by_name.chekout", `the script has no scenario "chekout"; did you mean "vusers.created_by_name.checkout"?`},
		{"vusers.created_by_name.0", `the script has no scenario "0"`},
		{"plugins.expect.ok.count", `unknown metric "plugins.expect.ok.count"`},
	}
	for _, tt := range tests {
		_, err := cat.classify(tt.name)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("classify(%q) = %v, want an error containing %q", tt.name, err, tt.want)
		}
	}
	for _, name := range []string{"errors.ETIMEDOUT", "errors.Failed capture or match", "plugins.metrics-by-endpoint.GET /a.codes.404", "plugins.metrics-by-endpoint.GET /a.errors.ETIMEDOUT", "http.codes.503", "vusers.created_by_name.checkout", "vusers.created_by_name.1"} {
		if k, err := cat.classify(name); err != nil || k != counter {
			t.Errorf("classify(%q) = %v, %v; want a counter", name, k, err)
		}
	}
}

// TestCatalogExtendedMetrics: http.dns and its siblings are summaries a
// check may read when the run records them (config.http.extendedMetrics,
// or a report holding them); otherwise a check on one is an error saying
// what turns it on, not a check that fails for want of values.
func TestCatalogExtendedMetrics(t *testing.T) {
	t.Parallel()
	off, on := newCatalog(Names{}), newCatalog(Names{ExtendedMetrics: true})
	for _, name := range metric.ExtendedSummaries() {
		if _, err := off.classify(name + ".p99"); err == nil || !strings.Contains(err.Error(), name+" is recorded only with config.http.extendedMetrics: true") {
			t.Errorf("without extendedMetrics, classify(%s.p99) = %v", name, err)
		}
		if k, err := on.classify(name + ".p99"); err != nil || k != summary {
			t.Errorf("with extendedMetrics, classify(%s.p99) = %v, %v; want a summary", name, k, err)
		}
	}
	if _, err := on.classify("http.tls.p42"); err == nil || !strings.Contains(err.Error(), `"p42" is not a statistic of http.tls`) {
		t.Errorf("classify(http.tls.p42) = %v, want the valid statistics", err)
	}
	if s := on.suggest("http.dsn.p99"); s != "http.dns.p99" {
		t.Errorf("suggest(http.dsn.p99) = %q", s)
	}
	withTotal := &report.Report{Aggregate: &report.Metrics{Summaries: map[string]report.Summary{metric.HTTPTotal: {Count: 1}}}}
	if !ReportNames(withTotal).ExtendedMetrics || ReportNames(&report.Report{Aggregate: &report.Metrics{}}).ExtendedMetrics {
		t.Errorf("ReportNames: ExtendedMetrics must follow whether the report holds %s", metric.HTTPTotal)
	}
}
