package cmd

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"
)

func TestStartDebug(t *testing.T) {
	t.Parallel()
	addr, stop, err := startDebug(context.Background(), "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.Get("http://" + addr + "/debug/pprof/goroutine?debug=1")
	if err != nil {
		stop()
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(body), "goroutine profile") {
		t.Errorf("pprof answered %d %.80q, want 200 and a goroutine profile", resp.StatusCode, body)
	}
	stop()
	if _, err := http.Get("http://" + addr + "/debug/pprof/"); err == nil {
		t.Error("the debug server still answers after stop")
	}
	if _, _, err := startDebug(context.Background(), "127.0.0.1:-1"); err == nil {
		t.Error("want an error for a port that cannot be bound")
	}
}
