package main

import (
	"context"
	"encoding/json"
	"net"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// TestServe drives the stub over real sockets, directly and through its
// CONNECT tunnel, and checks the answers and what it counted.
func TestServe(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- serve(ctx, ln) }()
	defer func() {
		cancel()
		if err := <-served; err != nil {
			t.Errorf("serve: %v", err)
		}
	}()
	base := "http://" + ln.Addr().String()
	proxy, err := url.Parse(base)
	if err != nil {
		t.Fatal(err)
	}
	direct := &http.Client{Transport: &http.Transport{}}
	tests := []struct {
		method, url, body string
		wantCode          int
	}{
		{"GET", base + "/anything?q=1", "", 200},
		{"POST", base + "/pets", `{"name":"x"}`, 200},
		{"GET", base + "/status/404", "", 404},
		{"GET", base + "/status/abc", "", 200},
		{"GET", base + "/redirect/2", "", 200}, // the client follows 2 hops
	}
	for _, tt := range tests {
		req, err := http.NewRequest(tt.method, tt.url, strings.NewReader(tt.body))
		if err != nil {
			t.Fatal(err)
		}
		if tt.body != "" {
			req.Header.Set("Content-Type", "application/json")
		}
		resp, err := direct.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != tt.wantCode {
			t.Errorf("%s %s: status %d, want %d", tt.method, tt.url, resp.StatusCode, tt.wantCode)
		}
	}
	// Through the tunnel: a public name is answered by the stub itself.
	conn, err := net.Dial("tcp", proxy.Host)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := conn.Write([]byte("CONNECT example.invalid:80 HTTP/1.1\r\nHost: example.invalid:80\r\n\r\nGET /tunnelled HTTP/1.1\r\nHost: example.invalid\r\n\r\n")); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 4096)
	var got string
	for !strings.Contains(got, `"ok":true`) {
		n, err := conn.Read(buf)
		if err != nil {
			t.Fatalf("read tunnel: %v after %q", err, got)
		}
		got += string(buf[:n])
	}
	if !strings.HasPrefix(got, "HTTP/1.1 200 Connection established\r\n\r\nHTTP/1.1 200 OK") {
		t.Errorf("tunnel answered %q", got)
	}

	resp, err := direct.Get(base + "/__counts")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var counted []count
	if err := json.NewDecoder(resp.Body).Decode(&counted); err != nil {
		t.Fatal(err)
	}
	want := map[string]int{
		"GET /anything?q=1": 1,
		`POST /pets [content-type: application/json] {"name":"x"}`: 1,
		"GET /status/404": 1,
		"GET /status/abc": 1,
		"GET /redirect/2": 1,
		"GET /redirect/1": 1,
		"GET /redirect/0": 1,
		"GET /tunnelled":  1,
	}
	if len(counted) != len(want) {
		t.Errorf("counts = %v, want %v", counted, want)
	}
	for _, c := range counted {
		if want[c.Key] != c.N {
			t.Errorf("count %q = %d, want %d", c.Key, c.N, want[c.Key])
		}
	}
}
