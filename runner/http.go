package runner

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/primeload/primeload/scenario"
)

// maxRedirects is where a redirect chain counts as a loop (as browsers and
// Node's follow-redirects do).
const maxRedirects = 10

var (
	errRedirectLoop = errors.New("too many redirects")
	errBodyTooLarge = errors.New("response body larger than the limit")
)

// httpClient is the transport shared by all virtual users of a run.
type httpClient struct {
	transport *http.Transport
	timeout   time.Duration
	bufs      sync.Pool // *[]byte read buffers
}

func newHTTPClient(cfg scenario.Config, insecure bool, conns int) *httpClient {
	timeout := cfg.HTTP.Timeout
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	d := &net.Dialer{Timeout: timeout, KeepAlive: 30 * time.Second}
	t := &http.Transport{
		// A load generator talks to the target it is given, never a proxy
		// from the environment, which would measure the proxy.
		Proxy:               nil,
		DialContext:         d.DialContext,
		MaxIdleConns:        0, // no total limit; per host below
		MaxIdleConnsPerHost: conns,
		MaxConnsPerHost:     cfg.HTTP.MaxSockets,
		IdleConnTimeout:     90 * time.Second,
		TLSHandshakeTimeout: timeout,
		// Compression is asked per request (gzip: true), as Artillery does.
		DisableCompression: true,
		TLSClientConfig:    &tls.Config{InsecureSkipVerify: insecure}, //nolint:gosec // the user asked for it
	}
	c := &httpClient{transport: t, timeout: timeout}
	c.bufs.New = func() any { b := make([]byte, 0, 16<<10); return &b }
	return c
}

func (c *httpClient) close() { c.transport.CloseIdleConnections() }

// send runs one exchange over the shared transport with the user's cookie
// jar, following redirects when asked (as Go's http.Client would, without its
// per-request copies). Bodies of responses left behind on the way are read
// and their bytes returned, so downloaded bytes count every hop.
func (v *vu) send(req *http.Request, follow bool, body []byte) (*http.Response, int64, error) {
	var hopBytes int64
	for hops := 0; ; hops++ {
		v.jar.addTo(req)
		resp, err := v.e.http.transport.RoundTrip(req)
		if err != nil {
			return nil, hopBytes, err
		}
		v.jar.store(req.URL, resp)
		loc := resp.Header.Get("Location")
		if !follow || loc == "" || !isRedirect(resp.StatusCode) {
			return resp, hopBytes, nil
		}
		n, err := v.drain(resp.Body)
		resp.Body.Close()
		hopBytes += n
		if err != nil {
			return nil, hopBytes, err
		}
		if hops+1 >= maxRedirects {
			return nil, hopBytes, errRedirectLoop
		}
		next, err := req.URL.Parse(loc)
		if err != nil {
			return nil, hopBytes, fmt.Errorf("redirect to %q: %w", loc, err)
		}
		method := req.Method
		if resp.StatusCode != http.StatusTemporaryRedirect && resp.StatusCode != http.StatusPermanentRedirect && method != http.MethodHead {
			// 301, 302 and 303 turn into a GET without a body, as browsers do.
			method, body = http.MethodGet, nil
		}
		var rd io.Reader
		if body != nil {
			rd = bytes.NewReader(body)
		}
		nreq, err := http.NewRequestWithContext(req.Context(), method, next.String(), rd)
		if err != nil {
			return nil, hopBytes, err
		}
		nreq.Header = req.Header.Clone()
		nreq.Header.Del("Cookie") // the jar adds the ones for the new URL
		if next.Host != req.URL.Host {
			nreq.Header.Del("Authorization")
		} else {
			nreq.Host = req.Host
		}
		if body == nil {
			nreq.Header.Del("Content-Type")
		}
		req = nreq
	}
}

func isRedirect(status int) bool {
	switch status {
	case http.StatusMovedPermanently, http.StatusFound, http.StatusSeeOther, http.StatusTemporaryRedirect, http.StatusPermanentRedirect:
		return true
	}
	return false
}

// drain reads a body to its end into a pooled buffer, bounded like any body.
func (v *vu) drain(r io.Reader) (int64, error) {
	bufp := v.e.http.bufs.Get().(*[]byte)
	defer v.e.http.bufs.Put(bufp)
	_, n, err := readBody(r, (*bufp)[:0], false, v.e.opts.MaxBodyBytes)
	return n, err
}

// needsBody reports whether a capture or expectation reads the body.
func needsBody(r *scenario.Request) (body, doc bool) {
	for i := range r.Capture {
		switch r.Capture[i].Kind {
		case scenario.CaptureJSON:
			body, doc = true, true
		case scenario.CaptureRegexp:
			body = true
		}
	}
	for i := range r.Expect {
		if r.Expect[i].Kind == scenario.ExpectHasProperty {
			body, doc = true, true
		}
	}
	return body, doc
}

// request runs one HTTP step: render, send, read, record, capture, expect.
func (v *vu) request(ctx context.Context, r *scenario.Request) flowResult {
	e := v.e
	rctx, cancel := context.WithTimeout(ctx, e.http.timeout)
	defer cancel()
	req, reqBody, err := v.build(rctx, r)
	if err != nil {
		v.count("errors.EINVALIDREQUEST", 1)
		return flowFailed
	}
	keep, wantDoc := needsBody(r)

	v.count(cRequests, 1)
	start := time.Now()
	resp, n, err := v.send(req, r.FollowRedirect, reqBody)
	var body []byte
	if err == nil {
		bufp := e.http.bufs.Get().(*[]byte)
		var m int64
		body, m, err = readBody(resp.Body, (*bufp)[:0], keep, e.opts.MaxBodyBytes)
		n += m
		resp.Body.Close()
		*bufp = body[:0]
		defer e.http.bufs.Put(bufp)
	}
	latency := time.Since(start)
	if err != nil {
		if ctx.Err() != nil {
			// The run cut this user off; its request measures nothing.
			return flowCut
		}
		v.shard.mu.Lock()
		if n > 0 {
			v.shard.sink.Count(cDownloaded, n)
		}
		v.shard.sink.Count(errorCounter(err), 1)
		v.shard.mu.Unlock()
		return flowFailed
	}
	v.shard.mu.Lock()
	s := v.shard.sink
	s.Response(r.Endpoint, latency, resp.StatusCode, n)
	s.Count(cResponses, 1)
	s.Count(codeName(resp.StatusCode), 1)
	s.Count(cDownloaded, n)
	v.shard.mu.Unlock()

	if !keep && len(r.Capture) == 0 && len(r.Expect) == 0 {
		return flowOK
	}
	if keep && resp.Header.Get("Content-Encoding") == "gzip" {
		body = gunzip(body, e.opts.MaxBodyBytes)
	}
	var doc any
	if wantDoc {
		doc = decodeJSON(body)
	}
	if !v.capture(r, resp, body, doc) {
		return flowFailed
	}
	if !v.expect(r, resp, doc) {
		return flowFailed
	}
	return flowOK
}

// build renders the request and returns it with its body bytes (kept for
// 307/308 redirects). Relative URLs are joined to the target.
func (v *vu) build(ctx context.Context, r *scenario.Request) (*http.Request, []byte, error) {
	tc := &v.tc
	bufp := v.e.http.bufs.Get().(*[]byte)
	defer v.e.http.bufs.Put(bufp)
	u := (*bufp)[:0]
	u = r.URL.AppendTo(u, tc)
	if !bytes.HasPrefix(u, []byte("http://")) && !bytes.HasPrefix(u, []byte("https://")) {
		joined := append(append(make([]byte, 0, len(v.e.target)+len(u)+1), v.e.target...), u...)
		if len(u) > 0 && u[0] != '/' {
			joined = append(append(append(joined[:0], v.e.target...), '/'), u...)
		}
		u = joined
	}
	if len(r.QS) > 0 {
		sep := byte('?')
		if bytes.IndexByte(u, '?') >= 0 {
			sep = '&'
		}
		for _, q := range r.QS {
			u = append(u, sep)
			sep = '&'
			u = append(u, url.QueryEscape(q.Name)...)
			u = append(u, '=')
			u = append(u, url.QueryEscape(q.Value.Render(tc))...)
		}
	}
	*bufp = u[:0]

	// A fresh slice each time: the transport may still read a body after
	// the exchange has returned.
	var body []byte
	contentType := ""
	switch {
	case r.JSON != nil:
		body = r.JSON.AppendJSON(nil, tc)
		contentType = "application/json"
	case r.Body != nil:
		body = r.Body.AppendTo(nil, tc)
	case len(r.Form) > 0:
		f := make(url.Values, len(r.Form))
		for _, p := range r.Form {
			f.Add(p.Name, p.Value.Render(tc))
		}
		body = []byte(f.Encode())
		contentType = "application/x-www-form-urlencoded"
	}
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, r.Method, string(u), rd)
	if err != nil {
		return nil, nil, err
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	if r.Gzip {
		req.Header.Set("Accept-Encoding", "gzip")
	}
	for _, h := range v.e.script.Config.DefaultHeaders {
		setHeader(req, h.Name, h.Value.Render(tc))
	}
	for _, h := range r.Headers {
		setHeader(req, h.Name, h.Value.Render(tc))
	}
	if r.Auth != nil {
		req.SetBasicAuth(r.Auth.User.Render(tc), r.Auth.Pass.Render(tc))
	}
	for _, c := range r.Cookie {
		req.AddCookie(&http.Cookie{Name: c.Name, Value: c.Value.Render(tc)})
	}
	return req, body, nil
}

func setHeader(req *http.Request, name, value string) {
	if strings.EqualFold(name, "host") {
		req.Host = value
		return
	}
	req.Header.Set(name, value)
}

// readBody reads the body to its last byte (latency ends there and the
// connection can be reused), keeping it in buf only when keep is set. Past
// limit bytes it stops with errBodyTooLarge.
func readBody(r io.Reader, buf []byte, keep bool, limit int64) ([]byte, int64, error) {
	var n int64
	if cap(buf) == 0 {
		buf = make([]byte, 0, 512)
	}
	for {
		if len(buf) == cap(buf) {
			if keep {
				buf = append(buf, 0)[:len(buf)]
			} else {
				buf = buf[:0]
			}
		}
		m, err := r.Read(buf[len(buf):cap(buf)])
		n += int64(m)
		buf = buf[:len(buf)+m]
		if n > limit {
			return buf, n, errBodyTooLarge
		}
		if err == io.EOF {
			return buf, n, nil
		}
		if err != nil {
			return buf, n, err
		}
	}
}

// gunzip decompresses a gzip body for captures; a broken one stays as is so
// the capture misses rather than the run failing.
func gunzip(body []byte, limit int64) []byte {
	zr, err := gzip.NewReader(bytes.NewReader(body))
	if err != nil {
		return body
	}
	out, err := io.ReadAll(io.LimitReader(zr, limit))
	if err != nil {
		return body
	}
	return out
}

// decodeJSON decodes a body for JSON captures; numbers stay json.Number so
// big ids keep every digit. Not JSON gives nil, so captures miss.
func decodeJSON(body []byte) any {
	d := json.NewDecoder(bytes.NewReader(body))
	d.UseNumber()
	var doc any
	if d.Decode(&doc) != nil {
		return nil
	}
	return doc
}

// Error counters: stable codes named as Node names them, so Artillery users
// recognise them.
const (
	eTimedOut     = "errors.ETIMEDOUT"
	eConnRefused  = "errors.ECONNREFUSED"
	eConnReset    = "errors.ECONNRESET"
	ePipe         = "errors.EPIPE"
	eNotFound     = "errors.ENOTFOUND"
	eHostUnreach  = "errors.EHOSTUNREACH"
	eNetUnreach   = "errors.ENETUNREACH"
	eProto        = "errors.EPROTO"
	eCert         = "errors.ECERT"
	eRedirectLoop = "errors.ETOOMANYREDIRECTS"
	eBodyTooLarge = "errors.EBODYTOOLARGE"
	eUnknown      = "errors.EUNKNOWN"
)

// errorCounter classifies a transport or body error into a stable code.
func errorCounter(err error) string {
	var dnsErr *net.DNSError
	var netErr net.Error
	var certErr *tls.CertificateVerificationError
	var unknownAuth x509.UnknownAuthorityError
	var hostErr x509.HostnameError
	var invalidCert x509.CertificateInvalidError
	var recordErr tls.RecordHeaderError
	var alertErr tls.AlertError
	switch {
	case errors.Is(err, errBodyTooLarge):
		return eBodyTooLarge
	case errors.Is(err, errRedirectLoop):
		return eRedirectLoop
	case errors.Is(err, syscall.ECONNREFUSED):
		return eConnRefused
	case errors.Is(err, syscall.ECONNRESET), errors.Is(err, syscall.ECONNABORTED):
		return eConnReset
	case errors.Is(err, syscall.EPIPE):
		return ePipe
	case errors.Is(err, syscall.EHOSTUNREACH):
		return eHostUnreach
	case errors.Is(err, syscall.ENETUNREACH):
		return eNetUnreach
	case errors.As(err, &dnsErr):
		return eNotFound
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, syscall.ETIMEDOUT),
		errors.As(err, &netErr) && netErr.Timeout():
		return eTimedOut
	case errors.As(err, &certErr), errors.As(err, &unknownAuth), errors.As(err, &hostErr), errors.As(err, &invalidCert):
		return eCert
	case errors.As(err, &recordErr), errors.As(err, &alertErr):
		return eProto
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		// The server closed the connection mid-exchange; Node reports
		// this "socket hang up" as ECONNRESET.
		return eConnReset
	case strings.Contains(err.Error(), "malformed HTTP"), strings.Contains(err.Error(), "tls:"):
		return eProto
	}
	return eUnknown
}
