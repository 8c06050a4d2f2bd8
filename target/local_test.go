package target_test

import (
	"context"
	"encoding/json"
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
