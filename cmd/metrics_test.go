package cmd

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/primeload/primeload/report"
	"github.com/primeload/primeload/report/metric"
	"github.com/primeload/primeload/report/prom"
)

// prometheus is a real Prometheus server started for one test.
type prometheus struct {
	url string // http://127.0.0.1:PORT
	// at is the instant queries are evaluated at; zero is now. A scrape
	// that fails once the run has exited marks its series stale, so a
	// pull test asks as of just before.
	at time.Time
}

// startPrometheus starts the prometheus binary on a free loopback port with
// a temporary data folder, the remote-write receiver on, and a 1 s scrape
// of scrape (HOST:PORT serving /metrics) when scrape is not "". Without the
// binary the test skips, or fails when CI is set (.ci/run installs it).
func startPrometheus(t *testing.T, scrape string) *prometheus {
	t.Helper()
	bin, err := exec.LookPath("prometheus")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("prometheus not found (CI is set; .ci/run installs Debian's prometheus): %v", err)
		}
		t.Skipf("prometheus not found: %v", err)
	}
	dir := t.TempDir()
	cfg := "global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\n"
	if scrape != "" {
		cfg += "scrape_configs:\n  - job_name: primeload\n    scrape_interval: 1s\n    scrape_timeout: 900ms\n    static_configs:\n      - targets: ['" + scrape + "']\n"
	}
	mustWrite(t, filepath.Join(dir, "prometheus.yml"), cfg)
	addr := freeAddr(t)
	ctx, cancel := context.WithCancel(context.Background())
	cmd := exec.CommandContext(ctx, bin,
		"--config.file="+filepath.Join(dir, "prometheus.yml"),
		"--storage.tsdb.path="+filepath.Join(dir, "data"),
		"--web.listen-address="+addr,
		"--web.enable-remote-write-receiver",
		"--log.level=warn",
	)
	cmd.Cancel = func() error { return cmd.Process.Signal(syscall.SIGTERM) }
	cmd.WaitDelay = 10 * time.Second
	var logs strings.Builder
	cmd.Stdout, cmd.Stderr = &logs, &logs
	if err := cmd.Start(); err != nil {
		cancel()
		t.Fatalf("start prometheus: %v", err)
	}
	t.Cleanup(func() {
		cancel()
		_ = cmd.Wait()
		if t.Failed() {
			t.Logf("prometheus log:\n%s", logs.String())
		}
	})
	p := &prometheus{url: "http://" + addr}
	// Ready, and with the scrape target known: Prometheus applies its
	// targets a few seconds after start, and a run before that is missed.
	deadline := time.Now().Add(30 * time.Second)
	for !p.ready(scrape != "") {
		if time.Now().After(deadline) {
			t.Fatalf("prometheus on %s not ready after 30s\n%s", addr, logs.String())
		}
		time.Sleep(100 * time.Millisecond)
	}
	return p
}

// ready reports whether Prometheus answers and, with targets set, has
// its scrape target in place.
func (p *prometheus) ready(targets bool) bool {
	resp, err := http.Get(p.url + "/-/ready")
	if err != nil {
		return false
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return false
	}
	if !targets {
		return true
	}
	resp, err = http.Get(p.url + "/api/v1/targets?state=active")
	if err != nil {
		return false
	}
	defer resp.Body.Close()
	var body struct {
		Data struct {
			ActiveTargets []json.RawMessage `json:"activeTargets"`
		} `json:"data"`
	}
	return json.NewDecoder(resp.Body).Decode(&body) == nil && len(body.Data.ActiveTargets) > 0
}

// freeAddr is a loopback address with a port free a moment ago.
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// sample is one series of an instant query's answer.
type promSample struct {
	Metric map[string]string `json:"metric"`
	Value  [2]any            `json:"value"`
}

// query runs an instant PromQL query and returns its vector.
func (p *prometheus) query(t *testing.T, q string) []promSample {
	t.Helper()
	args := url.Values{"query": {q}}
	if !p.at.IsZero() {
		args.Set("time", strconv.FormatFloat(float64(p.at.UnixMilli())/1000, 'f', 3, 64))
	}
	resp, err := http.Get(p.url + "/api/v1/query?" + args.Encode())
	if err != nil {
		t.Fatalf("query %s: %v", q, err)
	}
	defer resp.Body.Close()
	var body struct {
		Status string `json:"status"`
		Error  string `json:"error"`
		Data   struct {
			ResultType string       `json:"resultType"`
			Result     []promSample `json:"result"`
		} `json:"data"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
		t.Fatalf("query %s: decode: %v", q, err)
	}
	if body.Status != "success" || body.Data.ResultType != "vector" {
		t.Fatalf("query %s: status %s (%s), result type %q", q, body.Status, body.Error, body.Data.ResultType)
	}
	return body.Data.Result
}

// value is the single value of a query that must answer one series.
func (p *prometheus) value(t *testing.T, q string) float64 {
	t.Helper()
	res := p.query(t, q)
	if len(res) != 1 {
		t.Fatalf("query %s: %d series, want 1: %v", q, len(res), res)
	}
	return sampleValue(t, res[0])
}

func sampleValue(t *testing.T, s promSample) float64 {
	t.Helper()
	str, _ := s.Value[1].(string)
	v, err := strconv.ParseFloat(str, 64)
	if err != nil {
		t.Fatalf("sample value %v: %v", s.Value, err)
	}
	return v
}

// metricsScript sends 60 users over 3 s at a server with two good paths
// and one missing, so codes 200 and 404 both appear on several endpoints,
// with config.http.extendedMetrics on.
func metricsScript(target string) string {
	return `config:
  target: "` + target + `"
  http:
    extendedMetrics: true
  phases:
    - duration: 3
      arrivalRate: 20
      name: steady
scenarios:
  - name: browse
    flow:
      - get:
          url: "/items"
      - get:
          url: "/items/7"
      - get:
          url: "/missing"
      - get:
          url: "/flaky"
`
}

// flakyServer is itemsServer's paths plus /flaky, which resets every third
// request for it mid-header, so errors and failed users appear too. It
// speaks HTTPS (a run needs --insecure), so http.tls has samples.
func flakyServer(t *testing.T) *httptest.Server {
	t.Helper()
	var n atomic.Int64
	items := itemsServer(t, &hits{})
	proxy := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/flaky" {
			items.Config.Handler.ServeHTTP(w, r)
			return
		}
		if n.Add(1)%3 != 0 {
			w.Write([]byte("ok"))
			return
		}
		conn, _, err := http.NewResponseController(w).Hijack()
		if err == nil {
			// Half a header, then a reset: nothing a client may retry.
			conn.Write([]byte("HTTP/1.1 200 OK\r\nContent-Type: appl"))
			if tc, ok := conn.(*tls.Conn).NetConn().(*net.TCPConn); ok {
				tc.SetLinger(0)
			}
			conn.Close()
		}
	}))
	t.Cleanup(proxy.Close)
	return proxy
}

// checkDashboard runs every query of every panel of the Grafana dashboard
// in examples/grafana and wants each to answer at least one finite value.
func checkDashboard(t *testing.T, p *prometheus) {
	t.Helper()
	raw := mustRead(t, filepath.Join("..", "examples", "grafana", "primeload.json"))
	var dash struct {
		Inputs []struct {
			Name string `json:"name"`
		} `json:"__inputs"`
		Panels []struct {
			Title      string `json:"title"`
			Datasource struct {
				UID string `json:"uid"`
			} `json:"datasource"`
			Targets []struct {
				Expr string `json:"expr"`
			} `json:"targets"`
		} `json:"panels"`
	}
	if err := json.Unmarshal(raw, &dash); err != nil {
		t.Fatalf("dashboard: %v", err)
	}
	if len(dash.Inputs) != 1 || dash.Inputs[0].Name != "DS_PROMETHEUS" {
		t.Errorf("dashboard inputs %+v: want the one DS_PROMETHEUS, which Grafana's import asks for", dash.Inputs)
	}
	queries := 0
	for _, panel := range dash.Panels {
		if panel.Datasource.UID != "${DS_PROMETHEUS}" {
			t.Errorf("panel %q: datasource %q, want ${DS_PROMETHEUS}", panel.Title, panel.Datasource.UID)
		}
		if len(panel.Targets) == 0 {
			t.Errorf("panel %q has no query", panel.Title)
		}
		for _, tg := range panel.Targets {
			queries++
			// Grafana's $__rate_interval is at least four scrape intervals.
			q := strings.ReplaceAll(tg.Expr, "$__rate_interval", "1m")
			res := p.query(t, q)
			if len(res) == 0 {
				t.Errorf("panel %q: %s answered nothing", panel.Title, q)
			}
			for _, s := range res {
				if v := sampleValue(t, s); math.IsNaN(v) || math.IsInf(v, 0) {
					t.Errorf("panel %q: %s answered %v for %v", panel.Title, q, v, s.Metric)
				}
			}
		}
	}
	if queries < 10 {
		t.Errorf("dashboard has %d queries, fewer than the panels it documents", queries)
	}
}

// checkTotals asserts that Prometheus holds the report's totals: requests,
// responses, every status code overall and per endpoint, and the response
// time histogram's count, sum of buckets and per-endpoint counts.
func checkTotals(t *testing.T, p *prometheus, rep *report.Report) {
	t.Helper()
	agg := rep.Aggregate
	eq := func(q string, want float64) {
		t.Helper()
		if got := p.value(t, q); got != want {
			t.Errorf("%s = %v, want %v (the JSON report's)", q, got, want)
		}
	}
	eq(`sum(primeload_http_requests_total)`, float64(agg.Counters[metric.Requests]))
	eq(`sum(primeload_http_responses_total)`, float64(agg.Counters[metric.Responses]))
	eq(`sum(primeload_vusers_created_total)`, float64(agg.Counters[metric.VUsersCreated]))
	eq(`sum(primeload_http_codes_total{code="200"})`, float64(agg.Counters[metric.Code(200)]))
	eq(`sum(primeload_http_codes_total{code="404"})`, float64(agg.Counters[metric.Code(404)]))
	rt := agg.Summaries[metric.ResponseTime]
	eq(`sum(primeload_http_response_time_seconds_count)`, float64(rt.Count))
	eq(`sum(primeload_http_response_time_seconds_bucket{le="+Inf"})`, float64(rt.Count))
	var endpoints []string
	for name := range agg.Summaries {
		if ep, ok := strings.CutPrefix(name, metric.EndpointResponseTime); ok {
			endpoints = append(endpoints, ep)
		}
	}
	if len(endpoints) < 3 {
		t.Errorf("the report has endpoints %q, want the script's three or more", endpoints)
	}
	for _, ep := range endpoints {
		s := agg.Summaries[metric.EndpointLatency(ep)]
		eq(fmt.Sprintf(`sum(primeload_endpoint_http_response_time_seconds_count{endpoint=%q})`, ep), float64(s.Count))
		for _, code := range []int{200, 404} {
			want := float64(agg.Counters[metric.EndpointCode(ep, code)])
			res := p.query(t, fmt.Sprintf(`sum(primeload_endpoint_http_codes_total{endpoint=%q,code="%d"})`, ep, code))
			got := 0.0
			if len(res) == 1 {
				got = sampleValue(t, res[0])
			}
			if got != want {
				t.Errorf("endpoint %s code %d: Prometheus %v, report %v", ep, code, got, want)
			}
		}
	}
	if rt.Count == 0 || agg.Counters[metric.Code(404)] == 0 {
		t.Fatalf("the run recorded too little to compare: %d responses, %d 404s", rt.Count, agg.Counters[metric.Code(404)])
	}
	// The mean from the histogram is the report's mean to HdrHistogram's
	// precision (each sample taken at its bucket's middle).
	mean := p.value(t, `sum(primeload_http_response_time_seconds_sum) / sum(primeload_http_response_time_seconds_count)`) * 1000
	if d := mean - rt.Mean; d > rt.Mean/100+0.001 || d < -rt.Mean/100-0.001 {
		t.Errorf("mean from _sum/_count = %.4f ms, report's mean %.4f ms", mean, rt.Mean)
	}
	// config.http.extendedMetrics's histograms, a family each; http.tls
	// only where the run spoke HTTPS.
	m := prom.NewMapping()
	for _, name := range metric.ExtendedSummaries() {
		f, _, _ := m.Lookup(name)
		s, ok := agg.Summaries[name]
		if !ok {
			if got := p.query(t, `sum(`+f.Name+`_count)`); len(got) != 0 {
				t.Errorf("%s: Prometheus has %v, the report has no %s", f.Name, got, name)
			}
			continue
		}
		eq(`sum(`+f.Name+`_count)`, float64(s.Count))
		eq(`sum(`+f.Name+`_bucket{le="+Inf"})`, float64(s.Count))
	}
	if agg.Summaries[metric.HTTPTotal].Count != rt.Count {
		t.Errorf("http.total counts %d, http.response_time %d: want one each per response", agg.Summaries[metric.HTTPTotal].Count, rt.Count)
	}
	eq(`count(primeload_vusers_active)`, 1)
	for _, s := range p.query(t, `primeload_http_requests_total`) {
		if s.Metric["segment"] != "1/1" {
			t.Errorf("series %v: segment label %q, want 1/1 for a whole run", s.Metric, s.Metric["segment"])
		}
	}
}

func TestRunMetricsPull(t *testing.T) {
	t.Parallel()
	srv := flakyServer(t)
	addr := freeAddr(t)
	p := startPrometheus(t, addr)
	script := writeScript(t, metricsScript(srv.URL))
	// The hold outlasts two scrape intervals, so the final values are scraped.
	res := execRun(t, nil, nil, "", script, "--insecure", "--metrics-addr", addr, "--metrics-hold", "2500ms")
	// The final snapshot was up from the start of the hold; by half a
	// second before its end it has been scraped at least once.
	p.at = time.Now().Add(-500 * time.Millisecond)
	if res.rep == nil {
		t.Fatalf("no report; exit %d\n%s\n%s", res.code, res.out, res.errOut)
	}
	if !strings.Contains(res.errOut, "Prometheus metrics on http://"+addr+"/metrics") {
		t.Errorf("stderr does not say where the metrics are:\n%s", res.errOut)
	}
	if res.rep.Aggregate.Summaries[metric.HTTPTLS].Count == 0 {
		t.Error("no http.tls in the report: the run should have spoken HTTPS")
	}
	checkTotals(t, p, res.rep)
	// Scraped while the run went: several samples, and a lower value first.
	if n := p.value(t, `sum(count_over_time(primeload_http_requests_total[1m]))`); n < 3 {
		t.Errorf("%v scrapes of the request counter, want several during a 3 s run", n)
	}
	if first := p.value(t, `sum(min_over_time(primeload_http_requests_total[1m]))`); first >= float64(res.rep.Aggregate.Counters[metric.Requests]) {
		t.Errorf("the first scraped request count %v is already the total: nothing was live", first)
	}
	if res.rep.RemoteWrite != nil {
		t.Errorf("report has remoteWrite %+v without --remote-write", res.rep.RemoteWrite)
	}
	var errs int64
	for name, v := range res.rep.Aggregate.Counters {
		if strings.HasPrefix(name, metric.ErrorPrefix) {
			errs += v
		}
	}
	if errs == 0 {
		t.Fatal("no errors recorded: /flaky should reset some connections")
	}
	if got := p.value(t, `sum(primeload_errors_total)`); got != float64(errs) {
		t.Errorf("sum(primeload_errors_total) = %v, want the report's %d", got, errs)
	}
	checkDashboard(t, p)
}

func TestRunMetricsPush(t *testing.T) {
	t.Parallel()
	srv := itemsServer(t, &hits{})
	p := startPrometheus(t, "")
	script := writeScript(t, metricsScript(srv.URL))
	res := execRun(t, nil, nil, "", script, "--remote-write", p.url+"/api/v1/write", "--remote-write-every", "1s")
	if res.rep == nil {
		t.Fatalf("no report; exit %d\n%s\n%s", res.code, res.out, res.errOut)
	}
	rw := res.rep.RemoteWrite
	if rw == nil || rw.Sent < 2 || rw.Failed != 0 || rw.Dropped != 0 {
		t.Fatalf("remoteWrite = %+v, want at least 2 pushes sent and none failed or dropped", rw)
	}
	if rw.URL != p.url+"/api/v1/write" {
		t.Errorf("remoteWrite.url = %q", rw.URL)
	}
	checkTotals(t, p, res.rep)
	if got := p.query(t, `primeload_http_requests_total{job="primeload"}`); len(got) != 1 {
		t.Errorf("pushed series carry job=\"primeload\": got %v", got)
	}
}

// A receiver that refuses or never answers costs the run nothing: the
// schedule keeps its lag, and the report counts the pushes that failed.
func TestRunMetricsDeadReceiver(t *testing.T) {
	t.Parallel()
	stalled := make(chan struct{})
	hang := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-stalled:
		case <-r.Context().Done():
		}
	}))
	t.Cleanup(hang.Close)
	t.Cleanup(func() { close(stalled) }) // before hang.Close, which waits for handlers
	tests := []struct {
		name string
		url  string // "" pushes nothing: the lag the machine gives anyway
	}{
		{"none", ""},
		{"refused", "http://" + freeAddr(t) + "/api/v1/write"},
		{"stalled", hang.URL + "/api/v1/write"},
	}
	var mu sync.Mutex
	lagP50 := map[string]float64{}
	t.Run("runs", func(t *testing.T) {
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				t.Parallel()
				srv := itemsServer(t, &hits{})
				script := writeScript(t, metricsScript(srv.URL))
				args := []string{script}
				if tt.url != "" {
					args = append(args, "--remote-write", tt.url, "--remote-write-every", "200ms")
				}
				start := time.Now()
				res := execRun(t, nil, nil, "", args...)
				took := time.Since(start)
				if res.rep == nil {
					t.Fatalf("no report; exit %d\n%s\n%s", res.code, res.out, res.errOut)
				}
				if res.code != wantExit(res, ExitOK) {
					t.Errorf("exit %d, want %d: a dead receiver is no reason to fail the run\n%s", res.code, wantExit(res, ExitOK), res.out)
				}
				if got, want := res.rep.Aggregate.Counters[metric.VUsersCreated], int64(60); got != want {
					t.Errorf("%d users created, want the schedule's %d", got, want)
				}
				if res.rep.ScheduleLag == nil {
					t.Fatal("no schedule lag in the report")
				}
				mu.Lock()
				lagP50[tt.name] = res.rep.ScheduleLag.P50
				mu.Unlock()
				rw := res.rep.RemoteWrite
				if tt.url == "" {
					return
				}
				if rw == nil || rw.Sent != 0 || rw.Failed+rw.Dropped < 3 || rw.LastError == "" {
					t.Fatalf("remoteWrite = %+v, want no push sent, several failed or dropped, and the last error", rw)
				}
				if !strings.Contains(res.out, "WARNING: remote write to") {
					t.Errorf("the summary does not warn about the failed pushes:\n%s", res.out)
				}
				// 3 s of load, the drain, and at most PushTimeout for the last push.
				if took > 3*time.Second+prom.PushTimeout+5*time.Second {
					t.Errorf("the run took %s: it waited for the receiver", took)
				}
			})
		}
	})
	// The machine is shared, so lag is judged against a run beside it that
	// pushes nothing, not against a quiet machine's; and by its median: on
	// two busy cores a single stall of the process moves the p99 of 60
	// arrivals by hundreds of milliseconds, with or without push.
	base, ok := lagP50["none"]
	if !ok {
		return
	}
	for name, p50 := range lagP50 {
		if limit := 2*base + float64(report.DefaultMaxLag.Milliseconds()); p50 > limit {
			t.Errorf("%s: schedule lag p50 %.3f ms, over %.3f ms (twice the %.3f ms of a run without push, plus %s)", name, p50, limit, base, report.DefaultMaxLag)
		}
	}
}

// scrapeUntil reads addr's /metrics every 50 ms until done is closed and
// returns the last body read; with --metrics-hold the last is the final
// snapshot, which equals the report.
func scrapeUntil(addr string, done <-chan struct{}) <-chan string {
	last := make(chan string, 1)
	go func() {
		var body string
		t := time.NewTicker(50 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-done:
				last <- body
				return
			case <-t.C:
			}
			resp, err := http.Get("http://" + addr + "/metrics")
			if err != nil {
				continue
			}
			b, err := io.ReadAll(resp.Body)
			resp.Body.Close()
			if err == nil && resp.StatusCode == http.StatusOK {
				body = string(b)
			}
		}
	}()
	return last
}

// exposed returns the value of the series line name{labels} in a text
// exposition, and whether it is there.
func exposed(body, series string) (float64, bool) {
	for line := range strings.Lines(body) {
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), series+" "); ok {
			f, err := strconv.ParseFloat(v, 64)
			return f, err == nil
		}
	}
	return 0, false
}

// With config.http.extendedMetrics a scrape carries http.dns, http.tcp,
// http.tls and http.total as histograms whose counts are the JSON
// report's; without it, none of their families.
func TestRunMetricsExtended(t *testing.T) {
	t.Parallel()
	handler := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write([]byte(`{}`)) })
	secure := httptest.NewTLSServer(handler)
	t.Cleanup(secure.Close)
	plain := httptest.NewServer(handler)
	t.Cleanup(plain.Close)
	tests := []struct {
		name     string
		extended string
		want     map[string]int64 // counts; nil: no series at all
	}{
		// 4 users, each with 2 HTTPS and 2 plain responses.
		{"on", "  http:\n    extendedMetrics: true\n", map[string]int64{metric.HTTPDNS: 16, metric.HTTPTCP: 16, metric.HTTPTLS: 8, metric.HTTPTotal: 16}},
		{"off", "", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			script := writeScript(t, `config:
  target: "`+secure.URL+`"
  phases:
    - duration: 1
      arrivalCount: 4
`+tt.extended+`scenarios:
  - flow:
      - get: {url: "/a"}
      - get: {url: "/b"}
      - get: {url: "`+plain.URL+`/c"}
      - get: {url: "`+plain.URL+`/d"}
`)
			addr := freeAddr(t)
			done := make(chan struct{})
			last := scrapeUntil(addr, done)
			res := execRun(t, nil, nil, "", script, "--insecure", "--metrics-addr", addr, "--metrics-hold", "500ms")
			close(done)
			body := <-last
			if res.rep == nil {
				t.Fatalf("no report; exit %d\n%s\n%s", res.code, res.out, res.errOut)
			}
			if body == "" {
				t.Fatal("no scrape of /metrics succeeded during the run and its hold")
			}
			rt := res.rep.Aggregate.Summaries[metric.ResponseTime].Count
			if got, _ := exposed(body, `primeload_http_response_time_seconds_count{segment="1/1"}`); got != float64(rt) || rt != 16 {
				t.Errorf("response time count: scraped %v, report %d, want 16: the last scrape is not the final snapshot\n%s", got, rt, body)
			}
			for _, name := range metric.ExtendedSummaries() {
				f, _, ok := prom.NewMapping().Lookup(name)
				if !ok {
					t.Fatalf("%s has no family", name)
				}
				if tt.want == nil {
					if strings.Contains(body, f.Name) {
						t.Errorf("%s is scraped from a run without extendedMetrics", f.Name)
					}
					if _, ok := res.rep.Aggregate.Summaries[name]; ok {
						t.Errorf("the report has %s without extendedMetrics", name)
					}
					continue
				}
				want := res.rep.Aggregate.Summaries[name].Count
				if want != tt.want[name] {
					t.Errorf("report's %s count %d, want %d", name, want, tt.want[name])
				}
				for _, series := range []string{f.Name + `_count{segment="1/1"}`, f.Name + `_bucket{segment="1/1",le="+Inf"}`} {
					if got, ok := exposed(body, series); !ok || got != float64(want) {
						t.Errorf("%s = %v (present %v), want the report's %s count %d", series, got, ok, name, want)
					}
				}
				if !strings.Contains(body, "# TYPE "+f.Name+" histogram") {
					t.Errorf("%s is not exposed as a histogram", f.Name)
				}
			}
		})
	}
}
