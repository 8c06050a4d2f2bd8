package cmd

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/primeload/primeload/report/metric"
)

// TestRunExtendedMetrics: with config.http.extendedMetrics a run's JSON
// report carries Artillery's http.dns, http.tcp, http.tls and http.total,
// summarised and as histograms, one value per response (http.tls per HTTPS
// response), its summary prints them and ensure reads them; without it they
// are absent and a check on one is refused before any load is sent, unless
// ARTILLERY_EXTENDED_HTTP_METRICS is set, as in Artillery.
func TestRunExtendedMetrics(t *testing.T) {
	t.Parallel()
	var h hits
	handler := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h.add(r)
		w.Write([]byte(`{}`))
	})
	secure := httptest.NewTLSServer(handler)
	t.Cleanup(secure.Close)
	plain := httptest.NewServer(handler)
	t.Cleanup(plain.Close)
	script := func(extended string) string {
		return `config:
  target: "` + secure.URL + `"
  phases:
    - duration: 1
      arrivalCount: 3
` + extended + `  ensure:
    conditions:
      - expression: "http.tls.min > 0 and http.total.count == 12"
scenarios:
  - flow:
      - get: {url: "/a"}
      - get: {url: "/b"}
      - get: {url: "` + plain.URL + `/c"}
      - get: {url: "` + plain.URL + `/d"}
`
	}
	res := execRun(t, nil, nil, "", writeScript(t, script("  http:\n    extendedMetrics: true\n")), "--insecure")
	if res.code != wantExit(res, ExitOK) {
		t.Fatalf("exit %d, want %d\nstdout:\n%s\nstderr:\n%s", res.code, ExitOK, res.out, res.errOut)
	}
	var raw struct {
		Aggregate struct {
			Summaries, Histograms map[string]struct{ Count int64 }
			HDR                   map[string]string `json:"hdr"`
		}
	}
	if err := json.Unmarshal(res.raw, &raw); err != nil {
		t.Fatal(err)
	}
	// Each of the 3 users opens a connection to each server and sends two
	// requests over it.
	want := map[string]int64{metric.HTTPDNS: 12, metric.HTTPTCP: 12, metric.HTTPTLS: 6, metric.HTTPTotal: 12}
	for name, n := range want {
		if raw.Aggregate.Summaries[name].Count != n || raw.Aggregate.Histograms[name].Count != n || raw.Aggregate.HDR[name] == "" {
			t.Errorf("%s: summaries count %d, histograms count %d, hdr %t; want %d values", name,
				raw.Aggregate.Summaries[name].Count, raw.Aggregate.Histograms[name].Count, raw.Aggregate.HDR[name] != "", n)
		}
	}
	// A response over a kept-alive connection repeats the phases of its
	// opening, as in Artillery; 127.0.0.1 needs no lookup.
	for name, want := range map[string]bool{metric.HTTPDNS: false, metric.HTTPTCP: true, metric.HTTPTLS: true} {
		if s := res.rep.Aggregate.Summaries[name]; (s.Min > 0) != want || (s.Max > 0) != want {
			t.Errorf("%s %+v: want its min and max > 0: %v", name, s, want)
		}
	}
	if len(res.rep.SLO) != 1 || !res.rep.SLO[0].OK {
		t.Errorf("ensure on http.tls and http.total: %+v", res.rep.SLO)
	}
	for _, name := range metric.ExtendedSummaries() {
		if !strings.Contains(res.out, "  "+name+" ") {
			t.Errorf("the summary has no %s row:\n%s", name, res.out)
		}
	}

	res = execRun(t, nil, nil, "", writeScript(t, script("")), "--insecure")
	if res.code != ExitUsage || !strings.Contains(res.errOut, "http.tls is recorded only with config.http.extendedMetrics: true") {
		t.Errorf("ensure on http.tls without extendedMetrics: exit %d, want %d\nstderr:\n%s", res.code, ExitUsage, res.errOut)
	}
	if h.count("GET /a") != 3 {
		t.Errorf("the refused run sent load: %v", h.paths)
	}
	// Artillery's variable turns it on for a script that does not.
	res = execRun(t, map[string]string{"ARTILLERY_EXTENDED_HTTP_METRICS": ""}, nil, "", writeScript(t, script("")), "--insecure")
	if res.code != wantExit(res, ExitOK) {
		t.Fatalf("ARTILLERY_EXTENDED_HTTP_METRICS set: exit %d\nstderr:\n%s", res.code, res.errOut)
	}
	if tls := res.rep.Aggregate.Summaries[metric.HTTPTLS]; tls.Count != 6 {
		t.Errorf("ARTILLERY_EXTENDED_HTTP_METRICS set: http.tls %+v, want 6 values", tls)
	}
	res = execRun(t, nil, nil, "", writeScript(t, strings.Replace(script(""), "http.tls.min > 0 and http.total.count == 12", "http.response_time.count == 12", 1)), "--insecure")
	if res.code != wantExit(res, ExitOK) {
		t.Fatalf("off: exit %d\nstderr:\n%s", res.code, res.errOut)
	}
	for _, name := range metric.ExtendedSummaries() {
		if _, ok := res.rep.Aggregate.Summaries[name]; ok || strings.Contains(string(res.raw), `"`+name+`"`) {
			t.Errorf("without extendedMetrics the report has %s", name)
		}
	}
}
