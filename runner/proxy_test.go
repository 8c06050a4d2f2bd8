package runner_test

import (
	"bufio"
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/primeload/primeload/report"
	"github.com/primeload/primeload/runner"
)

// connectProxy is a loopback CONNECT proxy that records each tunnel asked
// for ("host:port auth") and refuses all when refuse is set.
func connectProxy(t *testing.T, refuse bool) (addr string, tunnels *seen) {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	tunnels = &seen{}
	var wg sync.WaitGroup
	t.Cleanup(func() { l.Close(); wg.Wait() })
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer c.Close()
				c.SetDeadline(time.Now().Add(10 * time.Second))
				req, err := http.ReadRequest(bufio.NewReader(c))
				if err != nil || req.Method != http.MethodConnect {
					return
				}
				tunnels.add(req.RequestURI + " " + req.Header.Get("Proxy-Authorization"))
				if refuse {
					io.WriteString(c, "HTTP/1.1 407 Proxy Authentication Required\r\nContent-Length: 0\r\n\r\n")
					return
				}
				up, err := net.Dial("tcp", req.RequestURI)
				if err != nil {
					io.WriteString(c, "HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\n\r\n")
					return
				}
				defer up.Close()
				io.WriteString(c, "HTTP/1.1 200 Connection established\r\n\r\n")
				// Either side ending ends the tunnel.
				go func() { io.Copy(up, c); up.Close(); c.Close() }()
				io.Copy(c, up)
				c.Close()
			}()
		}
	}()
	return l.Addr().String(), tunnels
}

// TestProxyFromEnvironment: HTTP_PROXY, HTTPS_PROXY and NO_PROXY as
// Artillery's agents read them (issue 18), against loopback proxies and
// targets: what the proxy was asked for, and what the report counts.
func TestProxyFromEnvironment(t *testing.T) {
	t.Parallel()
	plain := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	t.Cleanup(plain.Close)
	secure := httptest.NewTLSServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	t.Cleanup(secure.Close)
	host := func(u string) string { return strings.TrimPrefix(strings.TrimPrefix(u, "http://"), "https://") }
	tests := []struct {
		name, target string
		env          func(proxy string) map[string]string
		refuse       bool
		tunnels      []string // distinct tunnels the proxy saw
		counter      string   // where the 3 requests land
	}{
		{"HTTP_PROXY tunnels http", plain.URL, func(p string) map[string]string { return map[string]string{"HTTP_PROXY": "http://" + p} },
			false, []string{host(plain.URL) + " "}, "http.codes.200"},
		{"HTTP_PROXY also tunnels https", secure.URL, func(p string) map[string]string { return map[string]string{"HTTP_PROXY": "http://" + p} },
			false, []string{host(secure.URL) + " "}, "http.codes.200"},
		{"HTTPS_PROXY alone leaves http direct", plain.URL, func(p string) map[string]string { return map[string]string{"HTTPS_PROXY": "http://" + p} },
			false, nil, "http.codes.200"},
		{"HTTPS_PROXY tunnels https", secure.URL, func(p string) map[string]string {
			return map[string]string{"HTTP_PROXY": "http://127.0.0.1:9", "HTTPS_PROXY": "http://" + p}
		}, false, []string{host(secure.URL) + " "}, "http.codes.200"},
		{"proxy credentials", plain.URL, func(p string) map[string]string { return map[string]string{"HTTP_PROXY": "http://ann:s3cret@" + p} },
			false, []string{host(plain.URL) + " Basic YW5uOnMzY3JldA=="}, "http.codes.200"},
		{"NO_PROXY host", plain.URL, func(p string) map[string]string {
			return map[string]string{"HTTP_PROXY": "http://" + p, "NO_PROXY": "example.com, 127.0.0.1"}
		},
			false, nil, "http.codes.200"},
		{"NO_PROXY CIDR with another port still proxies", plain.URL, func(p string) map[string]string {
			return map[string]string{"HTTP_PROXY": "http://" + p, "NO_PROXY": "127.0.0.1:1"}
		}, false, []string{host(plain.URL) + " "}, "http.codes.200"},
		{"NO_PROXY CIDR", plain.URL, func(p string) map[string]string {
			return map[string]string{"HTTP_PROXY": "http://" + p, "NO_PROXY": "127.0.0.0/8"}
		},
			false, nil, "http.codes.200"},
		{"lower-case names are not read, as in Artillery", plain.URL, func(p string) map[string]string { return map[string]string{"http_proxy": "http://" + p} },
			false, nil, "http.codes.200"},
		{"a refused tunnel", plain.URL, func(p string) map[string]string { return map[string]string{"HTTP_PROXY": "http://" + p} },
			true, []string{host(plain.URL) + " "}, "errors.EPROXY"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			addr, tunnels := connectProxy(t, tt.refuse)
			env := tt.env(addr)
			script := parseScript(t, "config:\n  target: http://127.0.0.1:9\n  phases: [{duration: 0.1, arrivalCount: 3}]\nscenarios:\n  - flow:\n      - get: {url: /}\n")
			lookup := func(k string) (string, bool) { v, ok := env[k]; return v, ok }
			_, rep := faultRun(t, script, tt.target, runner.Options{Env: lookup, Insecure: true})
			if got := tunnels.distinct(); strings.Join(got, "\n") != strings.Join(tt.tunnels, "\n") {
				t.Errorf("tunnels %q, want %q", got, tt.tunnels)
			}
			if got := rep.Aggregate.Counters[tt.counter]; got != 3 {
				t.Errorf("%s = %d, want 3; counters %v", tt.counter, got, rep.Aggregate.Counters)
			}
		})
	}
	// A proxy variable that is not a URL stops the run before any load.
	script := parseScript(t, "config:\n  target: http://127.0.0.1:9\nscenarios:\n  - flow:\n      - get: {url: /}\n")
	col := report.NewCollector(time.Now(), report.Info{})
	_, err := runner.Run(context.Background(), script, col, runner.Options{Target: plain.URL, Env: func(k string) (string, bool) { return "proxy:3128", k == "HTTP_PROXY" }})
	if err == nil || !strings.Contains(err.Error(), `HTTP_PROXY="proxy:3128": want a proxy URL such as http://127.0.0.1:3128`) {
		t.Errorf("bad HTTP_PROXY: %v", err)
	}
}
