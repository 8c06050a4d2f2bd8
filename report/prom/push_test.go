package prom

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/klauspost/compress/snappy"
	"github.com/primeload/primeload/report"
	"github.com/primeload/primeload/report/metric"
	"github.com/prometheus/prometheus/prompb"
)

func testSnapshot() report.Snapshot {
	n := len(Bounds())
	cum := make([]int64, n)
	for i := range cum {
		cum[i] = int64(min(i, 5))
	}
	return report.Snapshot{
		At:       time.UnixMilli(1_700_000_000_000),
		Counters: map[string]int64{metric.Requests: 9, metric.Code(200): 7, metric.EndpointCode("/a", 404): 2},
		Buckets: map[string]report.Buckets{
			metric.ResponseTime: {Cumulative: cum, Count: 6, Sum: 3 * time.Second},
			// config.http.extendedMetrics's, pushed as any other histogram.
			metric.HTTPTLS: {Cumulative: cum, Count: 6, Sum: time.Second},
		},
	}
}

// offer never waits: past QueueLen snapshots it drops and counts.
func TestPusherQueueIsBounded(t *testing.T) {
	p, err := newPusher("http://127.0.0.1:1/api/v1/write", nil)
	if err != nil {
		t.Fatal(err)
	}
	ps := NewMapping().Points(testSnapshot())
	for range QueueLen + 3 {
		p.offer(ps, time.Now()) // no pusher goroutine: nothing drains
	}
	if got := p.result().Dropped; got != 3 {
		t.Errorf("dropped %d, want 3 past a queue of %d", got, QueueLen)
	}
}

// A push is remote write 1.0 as Prometheus reads it: snappy, one sample per
// series at the snapshot's time, labels sorted, histograms as _bucket
// (cumulative, +Inf = count), _sum and _count.
func TestPushRequest(t *testing.T) {
	var mu sync.Mutex
	var got prompb.WriteRequest
	var headers http.Header
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		raw, err := snappy.Decode(nil, body)
		mu.Lock()
		defer mu.Unlock()
		headers = r.Header.Clone()
		if err != nil || got.Unmarshal(raw) != nil {
			http.Error(w, "bad body", http.StatusBadRequest)
		}
	}))
	defer srv.Close()
	ex, err := New(Options{Segment: "2/3", RemoteWrite: srv.URL + "/api/v1/write", Instance: "gen-1"})
	if err != nil {
		t.Fatal(err)
	}
	ex.pusher.offer(ex.mapping.Points(testSnapshot()), testSnapshot().At)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	close(ex.pusher.queue)
	ex.pusher.run(ctx)
	if rw := ex.pusher.result(); rw.Sent != 1 || rw.Failed != 0 {
		t.Fatalf("result %+v, want one push sent", rw)
	}
	mu.Lock()
	defer mu.Unlock()
	if v := headers.Get("X-Prometheus-Remote-Write-Version"); v != "0.1.0" {
		t.Errorf("version header %q, want remote write 1.0's 0.1.0", v)
	}
	series := map[string]float64{}
	for _, ts := range got.Timeseries {
		if !slices.IsSortedFunc(ts.Labels, func(a, b prompb.Label) int { return strings.Compare(a.Name, b.Name) }) {
			t.Errorf("labels %v not sorted by name", ts.Labels)
		}
		if len(ts.Samples) != 1 || ts.Samples[0].Timestamp != 1_700_000_000_000 {
			t.Errorf("series %v: samples %v, want one at the snapshot's time", ts.Labels, ts.Samples)
		}
		var key []string
		for _, l := range ts.Labels {
			key = append(key, l.Name+"="+l.Value)
		}
		series[strings.Join(key, ",")] = ts.Samples[0].Value
	}
	const ext = "instance=gen-1,job=primeload,segment=2/3"
	want := map[string]float64{
		"__name__=primeload_http_requests_total," + ext:                                                           9,
		"__name__=primeload_http_codes_total,code=200," + ext:                                                     7,
		"__name__=primeload_endpoint_http_codes_total,code=404,endpoint=/a," + ext:                                2,
		"__name__=primeload_http_response_time_seconds_bucket,instance=gen-1,job=primeload,le=+Inf,segment=2/3":   6,
		"__name__=primeload_http_response_time_seconds_bucket,instance=gen-1,job=primeload,le=0.0001,segment=2/3": 0,
		"__name__=primeload_http_response_time_seconds_bucket,instance=gen-1,job=primeload,le=0.001,segment=2/3":  3,
		"__name__=primeload_http_response_time_seconds_bucket,instance=gen-1,job=primeload,le=60,segment=2/3":     5,
		"__name__=primeload_http_response_time_seconds_sum," + ext:                                                3,
		"__name__=primeload_http_response_time_seconds_count," + ext:                                              6,
		"__name__=primeload_vusers_active," + ext:                                                                 0,
		"__name__=primeload_http_tls_seconds_count," + ext:                                                        6,
		"__name__=primeload_http_tls_seconds_sum," + ext:                                                          1,
	}
	for k, v := range want {
		if g, ok := series[k]; !ok || g != v {
			t.Errorf("series %s = %v (present %v), want %v", k, g, ok, v)
		}
	}
	if n := len(got.Timeseries); n != 3+2*(len(Bounds())+3)+1 {
		t.Errorf("%d series, want 3 counters, twice %d buckets + +Inf + _sum + _count, 1 gauge", n, len(Bounds()))
	}
}

func TestBadRemoteWriteURL(t *testing.T) {
	for _, u := range []string{"127.0.0.1:9090", "ftp://127.0.0.1/x", "http://"} {
		if _, err := New(Options{RemoteWrite: u}); err == nil || !strings.Contains(err.Error(), "remote write URL") {
			t.Errorf("New(RemoteWrite %q) error %v, want one naming the URL", u, err)
		}
	}
}

// An exporter whose run never started (an invalid script) stops cleanly.
func TestStopBeforeStart(t *testing.T) {
	ex, err := New(Options{RemoteWrite: "http://127.0.0.1:1/api/v1/write"})
	if err != nil {
		t.Fatal(err)
	}
	if rw := ex.Stop(context.Background()); rw != nil {
		t.Errorf("Stop before Start = %+v, want nil", rw)
	}
}
