package cmd

import (
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/primeload/primeload/report"
)

// TestQuietRunFitsTheWidth: everything a --quiet run prints, its period
// lines, summary and SLO rows, keeps to report.SummaryWidth, with many
// status codes, errors, long endpoints and a long ensure expression; the
// report keeps the expression whole.
func TestQuietRunFitsTheWidth(t *testing.T) {
	t.Parallel()
	var n int
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		codes := []int{200, 201, 204, 400, 401, 403, 404, 409, 429, 500, 502, 503}
		n++ // one connection at a time below, so no race
		w.WriteHeader(codes[n%len(codes)])
	}))
	t.Cleanup(srv.Close)
	long := "(http.codes.500 + http.codes.502 + http.codes.503 + http.codes.504 + errors.ETIMEDOUT + errors.ECONNREFUSED + errors.ECONNRESET) / http.requests < 0.001"
	script := writeScript(t, `config:
  target: "`+srv.URL+`"
  phases:
    - duration: 2
      arrivalRate: 12
      name: "Sustained load at ten times the seed's rate, the whole of Black Friday afternoon"
  http:
    pool: 1
  plugins:
    ensure: {}
    expect: {}
  ensure:
    conditions:
      - expression: "`+long+`"
      - expression: "metric('plugins.metrics-by-endpoint.response_time./api/v2/warehouses/42/goods-received/tracking-updates/latest-events?include=everything&page=1 (/api/v2/warehouses/{{ id }}/goods-received/tracking-updates/latest-events).p95') < 500"
scenarios:
  - flow:
      - get:
          url: "/api/v2/warehouses/42/goods-received/tracking-updates/latest-events?include=everything&page=1"
          name: "/api/v2/warehouses/{{ id }}/goods-received/tracking-updates/latest-events"
          expect:
            - statusCode: 200
      - get:
          url: "http://127.0.0.1:1/refused"
`)
	res := execRun(t, nil, nil, "", "--period", "500ms", script)
	if res.rep == nil {
		t.Fatalf("no report (exit %d):\n%s\n%s", res.code, res.out, res.errOut)
	}
	periods := 0
	for i, line := range strings.Split(res.out, "\n") {
		if w := utf8.RuneCountInString(line); w > report.SummaryWidth {
			t.Errorf("line %d is %d columns, over %d:\n%s", i+1, w, report.SummaryWidth, line)
		}
		if strings.HasPrefix(line, "[+") {
			periods++
		}
	}
	if periods < 2 {
		t.Errorf("%d period lines, want one per 500 ms of a 2 s run:\n%s", periods, res.out)
	}
	if !strings.Contains(unwrap(res.out), "SLOs:") {
		t.Errorf("no SLO rows:\n%s", res.out)
	}
	if !slices.ContainsFunc(res.rep.SLO, func(s report.SLO) bool { return s.Expression == long }) {
		t.Errorf("the report does not keep the expression whole: %q", long)
	}
}

// unwrap folds wrapped lines back into one, for looking for a phrase.
func unwrap(s string) string { return strings.Join(strings.Fields(s), " ") }

// causes are the lines a judged run starts with, after any period lines,
// each with its wrapped continuation lines joined back on.
func causes(out string) []string {
	var cs []string
	for _, line := range strings.Split(out, "\n") {
		switch {
		case strings.HasPrefix(line, "[+"):
		case strings.HasPrefix(line, "FAILED"):
			cs = append(cs, line)
		case strings.HasPrefix(line, "  ") && len(cs) > 0:
			cs[len(cs)-1] += " " + strings.TrimSpace(line)
		default:
			return cs
		}
	}
	return cs
}
