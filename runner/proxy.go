package runner

import (
	"bufio"
	"encoding/base64"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// proxies routes connections as Artillery's agents (hpagent) do with
// HTTP_PROXY and HTTPS_PROXY: http targets through HTTP_PROXY, https
// targets through HTTPS_PROXY or else HTTP_PROXY, each over a CONNECT
// tunnel, with the proxy URL's user and password as basic
// Proxy-Authorization. Artillery ignores NO_PROXY; primeload honours it
// (hosts, .domains, *, IPs and CIDRs, with an optional port), as nearly
// every other HTTP client does. Only the upper-case names count, as in
// Artillery.
type proxies struct {
	http, https *url.URL
	noProxy     []string
}

// newProxies reads the proxy variables through env; nil env, or none
// set, gives nil: every connection direct.
func newProxies(env func(string) (string, bool)) (*proxies, error) {
	if env == nil {
		return nil, nil
	}
	get := func(name string) (*url.URL, error) {
		v, ok := env(name)
		if !ok || strings.TrimSpace(v) == "" {
			return nil, nil
		}
		u, err := url.Parse(strings.TrimSpace(v))
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return nil, fmt.Errorf("%s=%q: want a proxy URL such as http://127.0.0.1:3128", name, v)
		}
		return u, nil
	}
	hp, err := get("HTTP_PROXY")
	if err != nil {
		return nil, err
	}
	sp, err := get("HTTPS_PROXY")
	if err != nil {
		return nil, err
	}
	if hp == nil && sp == nil {
		return nil, nil
	}
	p := &proxies{http: hp, https: sp}
	if p.https == nil {
		p.https = hp
	}
	if v, ok := env("NO_PROXY"); ok {
		for _, e := range strings.Split(v, ",") {
			if e = strings.ToLower(strings.TrimSpace(e)); e != "" {
				p.noProxy = append(p.noProxy, e)
			}
		}
	}
	return p, nil
}

// forAddr is the proxy for a connection to addr (host:port), nil for none.
func (p *proxies) forAddr(https bool, addr string) *url.URL {
	if p == nil {
		return nil
	}
	u := p.http
	if https {
		u = p.https
	}
	if u == nil || p.bypass(addr) {
		return nil
	}
	return u
}

// bypass reports whether NO_PROXY exempts addr.
func (p *proxies) bypass(addr string) bool {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		host = addr
	}
	host = strings.ToLower(strings.Trim(host, "[]"))
	ip, ipErr := netip.ParseAddr(host)
	for _, e := range p.noProxy {
		if e == "*" {
			return true
		}
		if pfx, err := netip.ParsePrefix(e); err == nil {
			if ipErr == nil && pfx.Contains(ip) {
				return true
			}
			continue
		}
		name, ePort := e, ""
		if h, pt, err := net.SplitHostPort(e); err == nil {
			name, ePort = h, pt
		}
		name = strings.Trim(name, "[]")
		if ePort != "" && ePort != port {
			continue
		}
		if name == host || strings.HasSuffix(host, "."+strings.TrimPrefix(name, ".")) {
			return true
		}
	}
	return false
}

// proxyAddr is the proxy's host:port, its scheme's port by default.
func proxyAddr(u *url.URL) string {
	if u.Port() != "" {
		return u.Host
	}
	if u.Scheme == "https" {
		return net.JoinHostPort(u.Hostname(), "443")
	}
	return net.JoinHostPort(u.Hostname(), "80")
}

// proxyError is a proxy's refusal of a tunnel.
type proxyError struct {
	proxy  string
	status int
}

func (e *proxyError) Error() string {
	return "proxy " + e.proxy + " refused the tunnel: Bad response: " + strconv.Itoa(e.status)
}

var errProxyEarly = errors.New("the proxy sent data before the tunnel was used")

// connectTunnel asks the proxy on conn for a tunnel to addr.
func connectTunnel(conn net.Conn, proxy *url.URL, addr string, deadline time.Time) error {
	if err := conn.SetDeadline(deadline); err != nil {
		return err
	}
	req := "CONNECT " + addr + " HTTP/1.1\r\nHost: " + addr + "\r\n"
	if u := proxy.User; u != nil {
		pass, _ := u.Password()
		req += "Proxy-Authorization: Basic " + base64.StdEncoding.EncodeToString([]byte(u.Username()+":"+pass)) + "\r\n"
	}
	if _, err := conn.Write([]byte(req + "\r\n")); err != nil {
		return err
	}
	br := bufio.NewReaderSize(conn, 1024)
	resp, err := http.ReadResponse(br, &http.Request{Method: http.MethodConnect})
	if err != nil {
		return fmt.Errorf("read the answer of proxy %s: %w", proxy.Host, err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return &proxyError{proxy: proxy.Host, status: resp.StatusCode}
	}
	if br.Buffered() > 0 {
		return errProxyEarly
	}
	return nil
}
