package target_test

import (
	"context"
	"encoding/json"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/primeload/primeload/target"
)

func TestStartLocal(t *testing.T) {
	ctx := context.Background()
	url, stop, err := target.StartLocal(ctx, target.LocalOptions{Token: "tok-123", SeedRows: 50})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(url, "http://127.0.0.1:") {
		t.Errorf("url = %q, want http://127.0.0.1:PORT", url)
	}
	req, _ := http.NewRequestWithContext(ctx, "GET", url+"/api/goods-received/", nil)
	req.Header.Set("Authorization", "Bearer tok-123")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var page struct {
		Count   int `json:"count"`
		Results []struct {
			ID int64 `json:"id"`
		} `json:"results"`
	}
	err = json.NewDecoder(resp.Body).Decode(&page)
	resp.Body.Close()
	if err != nil || resp.StatusCode != 200 || page.Count != 50 || len(page.Results) != target.DefaultPageSize {
		t.Errorf("list: status %d, count %d, %d results, err %v; want 200, 50, %d", resp.StatusCode, page.Count, len(page.Results), err, target.DefaultPageSize)
	}
	stopCtx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := stop(stopCtx); err != nil {
		t.Fatalf("stop: %v", err)
	}
	if _, err := http.Get(url + "/healthz"); err == nil {
		t.Error("server still answers after stop")
	}
	if _, _, err := target.StartLocal(ctx, target.LocalOptions{}); err == nil {
		t.Error("StartLocal without a token: want an error")
	}
}

// TestServeDrainsInFlight stops a server while a request is in flight: the
// request still gets its answer and Serve returns only after it.
func TestServeDrainsInFlight(t *testing.T) {
	e := newEnv(t, memoryStore(), nil, func(c *target.Config) { c.Latency = 300 * time.Millisecond })
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- e.srv.Serve(ctx, ln) }()

	got := make(chan int, 1)
	go func() {
		req, _ := http.NewRequest("GET", "http://"+ln.Addr().String()+"/api/dashboard/stats/", nil)
		req.Header.Set("Authorization", "Bearer "+testToken)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			got <- 0
			return
		}
		resp.Body.Close()
		got <- resp.StatusCode
	}()
	eventually(t, "request in flight", func() bool { return e.metric(t, "primepre_http_requests_in_flight") >= 2 }) // it and /metrics
	cancel()
	if err := <-served; err != nil {
		t.Errorf("Serve: %v", err)
	}
	select {
	case code := <-got:
		if code != 200 {
			t.Errorf("in-flight request got %d, want 200", code)
		}
	case <-time.After(30 * time.Second):
		t.Error("the in-flight request was never answered")
	}
	if _, err := net.Dial("tcp", ln.Addr().String()); err == nil {
		t.Error("still accepting after Serve returned")
	}
}
