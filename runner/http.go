package runner

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"math"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/primeload/primeload/report/metric"
	"github.com/primeload/primeload/scenario"
	"github.com/valyala/fasthttp"
)

// readBufferSize bounds response headers; buffers are pooled per exchange,
// not held per idle connection.
const readBufferSize = 16 << 10

// writeBufferSize fits a typical request in one write.
const writeBufferSize = 4 << 10

// userAgent is sent unless the script sets its own User-Agent.
const userAgent = "primeload"

var (
	errRedirectLoop = errors.New("too many redirects")
	errCutOff       = errors.New("connection closed at the end of the grace period")
	errInvalidURL   = errors.New("request URL has no http or https host")
)

// httpClient is what all virtual users of a run share: settings, buffer
// pools and the set of open connections. The connections themselves belong
// to users (see userConns).
//
// Requests and responses are fasthttp's rather than net/http's: on one core,
// 50 connections against a fasthttp server on another core, net/http's
// Transport.RoundTrip made 15,900-19,300 req/s and fasthttp's Client
// 37,300-42,900 req/s, because fasthttp does the exchange in the calling
// goroutine (net/http hands every request to a read and a write goroutine
// per connection) and reuses its request and response objects. The user
// writes and reads them over its own connection the same way.
type httpClient struct {
	timeout    time.Duration
	maxBody    int
	maxDecoded int
	tls        *tls.Config
	conns      connSet
	pool       *sharedPool // config.http.pool; nil when each user owns its connections
	extended   bool        // config.http.extendedMetrics: dials are timed and Timings recorded
	proxies    *proxies    // HTTP_PROXY, HTTPS_PROXY; nil for none
	bufs       sync.Pool   // *[]byte scratch for URLs and bodies
	readers    sync.Pool   // *bufio.Reader
	writers    sync.Pool   // *bufio.Writer
	epoch      time.Time   // the zero of now
}

// now is the time since the client was made, on the monotonic clock, for
// stamps that need no time.Time's 24 bytes.
func (c *httpClient) now() int64 { return int64(time.Since(c.epoch)) }

// lookAfter is how long after its last answer a pooled or kept-alive
// connection is looked at before it carries a request that may be resent
// (see userConn.stale).
const lookAfter = 10 * time.Millisecond

func newHTTPClient(cfg scenario.Config, insecure bool, maxBody, maxDecoded int64) *httpClient {
	c := &httpClient{
		epoch:      time.Now(),
		timeout:    cfg.HTTP.Timeout,
		maxBody:    int(min(maxBody, math.MaxInt32)),
		maxDecoded: int(min(maxDecoded, math.MaxInt32)),
		tls:        clientTLS(cfg.TLS, insecure),
		extended:   cfg.HTTP.ExtendedMetrics,
	}
	if c.timeout <= 0 {
		c.timeout = DefaultTimeout
	}
	if cfg.HTTP.Pool > 0 {
		c.pool = newSharedPool(cfg.HTTP.Pool)
	}
	c.bufs.New = func() any { b := make([]byte, 0, 1024); return &b }
	c.readers.New = func() any { return bufio.NewReaderSize(nil, readBufferSize) }
	c.writers.New = func() any { return bufio.NewWriterSize(nil, writeBufferSize) }
	return c
}

// clientTLS is config.tls as crypto/tls takes it. The loader checked the
// PEM blocks, so what does not parse here was not given.
func clientTLS(t scenario.TLSConfig, insecure bool) *tls.Config {
	// The user asked for it with --insecure or rejectUnauthorized: false.
	cfg := &tls.Config{InsecureSkipVerify: insecure, MinVersion: t.MinVersion, MaxVersion: t.MaxVersion} //nolint:gosec
	if len(t.CA) > 0 {
		cfg.RootCAs = x509.NewCertPool()
		cfg.RootCAs.AppendCertsFromPEM(t.CA)
	}
	if cert, err := tls.X509KeyPair(t.Certificate, t.Key); err == nil {
		cfg.Certificates = []tls.Certificate{cert}
	}
	return cfg
}

func (c *httpClient) close() {
	c.conns.closeAll()
}

// needsDoc reports whether a capture or expectation reads the JSON body.
func needsDoc(r *scenario.Request) bool {
	for i := range r.Capture {
		if r.Capture[i].Kind == scenario.CaptureJSON {
			return true
		}
	}
	for i := range r.Match {
		if r.Match[i].Capture.Kind == scenario.CaptureJSON {
			return true
		}
	}
	for i := range r.Expect {
		switch r.Expect[i].Kind {
		case scenario.ExpectHasProperty, scenario.ExpectNotHasProperty, scenario.ExpectContentType:
			return true
		}
	}
	return false
}

// request runs one HTTP step: render, send, record, capture, expect.
//
// Its frame is kept small (failures, checks and traces are in functions of
// their own) because the exchange runs beneath it: a user's goroutine whose
// deepest call fits in 4 KiB of stack never grows to 8 KiB, and 10,000
// users arriving at once hold 4 KiB of stack each instead of 8 until a
// collection shrinks them (see BenchmarkHeldUsers).
func (v *vu) request(ctx context.Context, r *scenario.Request) flowResult {
	if ctx.Err() != nil {
		return flowCut
	}
	req := fasthttp.AcquireRequest()
	resp := fasthttp.AcquireResponse()
	res := v.exchangeStep(ctx, r, req, resp)
	fasthttp.ReleaseRequest(req)
	fasthttp.ReleaseResponse(resp)
	return res
}

// exchangeStep is request over req and resp, which it does not release.
func (v *vu) exchangeStep(ctx context.Context, r *scenario.Request, req *fasthttp.Request, resp *fasthttp.Response) flowResult {
	e := v.e
	if err := v.build(req, r); err != nil {
		return v.buildFailed(r, req, err)
	}
	v.count(metric.Requests, 1)
	var start time.Time
	if h := v.conns.handoff; h != nil {
		start = h.queued // its wait for the pool began when it arrived
	} else {
		start = time.Now()
	}
	deadline := start.Add(e.http.timeout)
	if d, ok := ctx.Deadline(); ok && d.Before(deadline) {
		// Reads and writes do not watch ctx; a bounded ctx (the after flow
		// of an aborted run) bounds the exchange instead.
		deadline = d
	}
	start, err := v.send(ctx, req, resp, r, start, deadline)
	latency := time.Since(start)
	if err != nil {
		if ctx.Err() != nil {
			// The run cut this user off; its request measures nothing.
			return flowCut
		}
		return v.transportFailed(r, req, resp, err, start, latency)
	}
	return v.answered(r, req, resp, start, latency)
}

// buildFailed counts a request that could not be built, so nothing was
// sent: its URL did not render to an http(s) one, or a formData file did
// not open.
//
//go:noinline
func (v *vu) buildFailed(r *scenario.Request, req *fasthttp.Request, err error) flowResult {
	code := errorCounter(err)
	v.count(code, 1)
	v.e.samples.transport(v.failureEndpoint(r), req, code, err)
	return flowFailed
}

// transportFailed counts an exchange that got no answer (redirects before
// it were each recorded as answered, see send).
//
//go:noinline
func (v *vu) transportFailed(r *scenario.Request, req *fasthttp.Request, resp *fasthttp.Response, err error, start time.Time, latency time.Duration) flowResult {
	code := errorCounter(err)
	v.sink.Count(code, 1)
	if v.endpoint != "" {
		v.sink.Count(metric.EndpointError(v.endpoint, code), 1)
	}
	v.e.samples.transport(v.failureEndpoint(r), req, code, err)
	if v.e.trace != nil {
		v.trace(r, req, resp, traced{start: start, latency: latency, err: err, failure: code})
	}
	return flowFailed
}

// answered records an answer, then runs the step's captures and
// expectations on it.
//
//go:noinline
func (v *vu) answered(r *scenario.Request, req *fasthttp.Request, resp *fasthttp.Response, start time.Time, latency time.Duration) flowResult {
	e := v.e
	// Response alone carries http.responses, http.codes.* and these bytes.
	v.sink.Response(v.endpoint, latency, resp.StatusCode(), int64(len(resp.Body())))
	if e.http.extended {
		v.sink.Timings(v.conns.takeTimings(latency))
	}
	if v.endpoint != "" {
		if d, ok := serverTimingTotal(resp.Header.Peek("Server-Timing")); ok {
			v.sink.ServerTiming(v.endpoint, d)
		}
	}
	e.samples.status(v.failureEndpoint(r), resp, resp.Body())

	if len(r.Capture) == 0 && len(r.Expect) == 0 && len(r.Match) == 0 {
		if e.trace != nil {
			v.trace(r, req, resp, traced{start: start, latency: latency})
		}
		return flowOK
	}
	res, x := v.checkResponse(r, resp)
	if e.trace != nil {
		x.start, x.latency = start, latency
		v.trace(r, req, resp, x)
	}
	return res
}

// checkResponse runs a step's captures and expectations on its response;
// what it read them from is returned for a trace.
func (v *vu) checkResponse(r *scenario.Request, resp *fasthttp.Response) (flowResult, traced) {
	x := traced{body: resp.Body()}
	if bytes.Equal(resp.Header.ContentEncoding(), []byte("gzip")) {
		plain, err := resp.BodyGunzipWithLimit(v.e.http.maxDecoded)
		switch {
		case errors.Is(err, fasthttp.ErrBodyTooLarge):
			v.count(metric.ErrDecodedTooLarge, 1)
			v.e.samples.check(v.failureEndpoint(r), metric.ErrDecodedTooLarge, func() string {
				return ErrorReason(metric.ErrDecodedTooLarge, "the server") + ": "
			}, resp, nil)
			x.failure = metric.ErrDecodedTooLarge
			return flowFailed, x
		case err == nil:
			x.body, x.decoded = plain, true
		}
		// A body that is not gzip after all is read as it came.
	}
	if needsDoc(r) {
		x.doc = decodeJSON(x.body)
	}
	x.captures = v.extractAll(r, resp, x.body, x.doc)
	// The expect plugin checks a response whatever its captures found,
	// as Artillery runs it after them in any case.
	// A failed strict match stores no capture, as in Artillery.
	captured := v.match(r, resp, x.body, x.doc) && v.capture(r, x.captures, resp, x.body)
	expected := v.expect(r, resp, x.body, x.doc)
	switch {
	case !captured:
		x.failure = metric.ErrCaptureMiss
	case !expected:
		x.failure = metric.ExpectFailed
	default:
		return flowOK, x
	}
	return flowFailed, x
}

// send runs one exchange with the user's cookie jar, following redirects
// when asked as Artillery's HTTP client (got 14) does. Each hop is a
// request and a response of its own in the counts (http.requests,
// http.codes.*, http.response_time), as on the wire and in Artillery; only the last one carries the step's endpoint and is captured
// from and checked. got follows at most the step's maxRedirects redirects
// (10 unless set), so a loop fails on the redirect after the last one
// followed, itself counted as a response. The deadline covers the whole
// chain. It returns when the last hop started.
func (v *vu) send(ctx context.Context, req *fasthttp.Request, resp *fasthttp.Response, r *scenario.Request, start, deadline time.Time) (time.Time, error) {
	follow := r.FollowRedirect
	for redirects := 0; ; redirects++ {
		v.jar.addTo(req)
		if err := v.e.http.do(ctx, v.conns, req, resp, deadline); err != nil {
			return start, err
		}
		v.jar.store(req, resp)
		status := resp.StatusCode()
		loc := resp.Header.Peek("Location")
		if !follow || len(loc) == 0 || !isRedirect(status) {
			return start, nil
		}
		v.hop(resp, time.Since(start))
		if redirects >= r.RedirectLimit() {
			return start, errRedirectLoop
		}
		if err := v.redirect(req, loc, status); err != nil {
			return start, err
		}
		v.count(metric.Requests, 1)
		start = time.Now()
	}
}

// hop records a redirect that was followed: no endpoint, capture or
// expectation sees it, as in Artillery (whose per-endpoint metrics come
// from its afterResponse hook, run on the last response alone). Its body
// is not in http.downloaded_bytes: got reports no download progress for
// a redirect, so Artillery counts the last body alone (measured with
// Artillery 2.0.34: two redirect chains and a GET, each ending in "ok"
// after 5-byte redirect bodies, counted 6 bytes).
//
//go:noinline
func (v *vu) hop(resp *fasthttp.Response, latency time.Duration) {
	v.sink.Response("", latency, resp.StatusCode(), 0)
	if v.e.http.extended {
		v.sink.Timings(v.conns.takeTimings(latency))
	}
}

// redirect turns req into the request that follows a redirect to loc, as
// got does with the methodRewriting: false Artillery leaves it: only a 303
// turns a method other than GET and HEAD into a GET without a body (got
// drops its Content-Length but keeps its Content-Type); every other status
// repeats the method and the body, a formData upload opened anew. To
// another origin (host name or port; not scheme) the Authorization,
// Cookie and Host headers the step set are not sent, and the cookies sent
// are the jar's for the new URL. (got keeps a step's cookie: field to a
// port other than the first one, the jar being port-blind; primeload sets
// those on the request and drops them with the rest.) It is a function of
// its own to keep send's frame, which the exchange runs beneath, small
// (see request).
//
//go:noinline
func (v *vu) redirect(req *fasthttp.Request, loc []byte, status int) error {
	from := origin(req.URI())
	req.URI().UpdateBytes(loc)
	if origin(req.URI()) != from {
		req.Header.Del("Authorization")
		req.Header.DelAllCookies()
		req.UseHostHeader = false
	}
	if status == http.StatusSeeOther && !req.Header.IsGet() && !req.Header.IsHead() {
		req.Header.SetMethod(http.MethodGet)
		req.ResetBody()
		v.upload = nil
		// The headers framing the dropped body go with it.
		req.Header.Del("Content-Length")
		req.Header.Del("Transfer-Encoding")
		return nil
	}
	if v.upload != nil {
		// Its stream was read by the hop before.
		return v.upload.resend(req)
	}
	return nil
}

// origin is what got compares to tell a redirect to another site: the
// host name and the port, a scheme's default port written or not.
func origin(u *fasthttp.URI) string {
	host := strings.ToLower(string(u.Host()))
	h, port, err := net.SplitHostPort(host)
	if err != nil {
		return host // no port
	}
	if (port == "80" && string(u.Scheme()) == "http") || (port == "443" && string(u.Scheme()) == "https") {
		if strings.Contains(h, ":") {
			return "[" + h + "]"
		}
		return h
	}
	return host
}

// isRedirect reports whether got follows a response with status and a
// Location header.
func isRedirect(status int) bool {
	switch status {
	case http.StatusMultipleChoices, http.StatusMovedPermanently, http.StatusFound, http.StatusSeeOther,
		http.StatusNotModified, http.StatusTemporaryRedirect, http.StatusPermanentRedirect:
		return true
	}
	return false
}

// setURI gives req the URL u, rendered from r. A static URL (no
// expression, no qs) renders the same for every user: it is parsed once and
// its parsed form copied into each request, parsing being most of the
// cost of building a plain GET.
func (v *vu) setURI(req *fasthttp.Request, r *scenario.Request, u []byte) error {
	_, static := r.URL.Static()
	if static = static && len(r.QS) == 0; static {
		if parsed, ok := v.e.staticURIs.Load(r); ok {
			req.SetURI(parsed.(*fasthttp.URI))
			return nil
		}
	}
	req.SetRequestURIBytes(u)
	uri := req.URI()
	// The path goes out as the script wrote it: a load test of /a/../b
	// must send /a/../b.
	uri.DisablePathNormalizing = true
	if len(uri.Host()) == 0 {
		return errInvalidURL
	}
	if static {
		parsed := &fasthttp.URI{}
		uri.CopyTo(parsed)
		v.e.staticURIs.Store(r, parsed)
	}
	return nil
}

// build renders the request into req. Relative URLs are joined to the
// target. A URL without a host gives errInvalidURL.
func (v *vu) build(req *fasthttp.Request, r *scenario.Request) error {
	tc := &v.tc
	v.upload = nil
	bufp := v.e.http.bufs.Get().(*[]byte)
	defer v.e.http.bufs.Put(bufp)
	// Most URLs are paths: render them behind the target in one buffer and
	// move the rare absolute URL to the front afterwards.
	t := len(v.e.target)
	u := append((*bufp)[:0], v.e.target...)
	u = r.URL.AppendTo(u, tc)
	switch path := u[t:]; {
	case bytes.HasPrefix(path, []byte("http://")) || bytes.HasPrefix(path, []byte("https://")):
		u = u[:copy(u, path)]
	case len(path) > 0 && path[0] != '/':
		u = append(u, 0)
		copy(u[t+1:], u[t:])
		u[t] = '/'
	}
	v.endpoint = r.Endpoint
	if v.e.names != nil {
		// Artillery names the URL before qs joins it.
		v.endpoint = v.e.names.name(u, r.Name)
	}
	if len(r.QS) > 0 {
		sep := byte('?')
		if bytes.IndexByte(u, '?') >= 0 {
			sep = '&'
		}
		for _, q := range r.QS {
			if !q.Value.Defined(tc) {
				continue // qs.stringify leaves out an undefined field
			}
			u = append(u, sep)
			sep = '&'
			u = append(u, url.QueryEscape(q.Name)...)
			u = append(u, '=')
			u = append(u, url.QueryEscape(q.Value.Render(tc))...)
		}
	}
	req.Header.SetMethod(r.Method)
	// A body: without a Content-Type goes without one, as got sends it,
	// not as fasthttp's application/octet-stream.
	req.Header.SetNoDefaultContentType(true)
	if err := v.setURI(req, r, u); err != nil {
		return err
	}
	req.Header.SetUserAgent(userAgent)

	switch {
	case r.JSON != nil && !r.JSON.Defined(tc):
		// json: "{{ x }}" with x undefined sends no body, as in Artillery.
	case r.JSON != nil:
		req.SetBody(r.JSON.AppendJSON(u[:0], tc))
		req.Header.SetContentType("application/json")
	case r.Body != nil:
		req.SetBody(r.Body.AppendTo(u[:0], tc))
	case len(r.FormData) > 0:
		if err := v.setMultipart(req, r); err != nil {
			*bufp = u[:0]
			return err
		}
	case len(r.Form) > 0:
		// In the order written, as got's form (URLSearchParams) sends it;
		// url.Values.Encode would sort the names.
		var f []byte
		for i, p := range r.Form {
			if i > 0 {
				f = append(f, '&')
			}
			f = append(f, url.QueryEscape(p.Name)...)
			f = append(f, '=')
			f = append(f, url.QueryEscape(p.Value.Render(tc))...)
		}
		req.SetBody(f)
		req.Header.SetContentType("application/x-www-form-urlencoded")
	}
	*bufp = u[:0]
	if r.Gzip {
		req.Header.Set("Accept-Encoding", "gzip")
	}
	for _, h := range v.e.script.Config.Defaults.Headers {
		setHeader(req, h.Name, h.Value, tc)
	}
	for _, h := range r.Headers {
		setHeader(req, h.Name, h.Value, tc)
	}
	if r.Auth != nil {
		cred := r.Auth.User.Render(tc) + ":" + r.Auth.Pass.Render(tc)
		req.Header.Set("Authorization", "Basic "+base64.StdEncoding.EncodeToString([]byte(cred)))
	}
	// Default cookies first: the request's own of the same name win.
	for _, c := range v.e.script.Config.Defaults.Cookies {
		req.Header.SetCookie(c.Name, c.Value.Render(tc))
	}
	for _, c := range r.Cookie {
		req.Header.SetCookie(c.Name, c.Value.Render(tc))
	}
	return nil
}

// setHeader sets a header from its template; a value that is undefined
// (see Template.Defined) removes it, as Artillery's HTTP client (got) does.
func setHeader(req *fasthttp.Request, name string, t *scenario.Template, tc *scenario.Context) {
	if !t.Defined(tc) {
		req.Header.Del(name)
		return
	}
	value := t.Render(tc)
	if strings.EqualFold(name, "host") {
		req.UseHostHeader = true
		req.Header.SetHost(value)
		return
	}
	req.Header.Set(name, value)
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

// errorCounter classifies a transport error into a stable code.
func errorCounter(err error) string {
	var dnsErr *net.DNSError
	var netErr net.Error
	var certErr *tls.CertificateVerificationError
	var unknownAuth x509.UnknownAuthorityError
	var hostErr x509.HostnameError
	var invalidCert x509.CertificateInvalidError
	var recordErr tls.RecordHeaderError
	var alertErr tls.AlertError
	var brokenChunk fasthttp.ErrBrokenChunk
	var proxyErr *proxyError
	var uploadErr *uploadError
	switch {
	case errors.As(err, &uploadErr):
		return metric.ErrNoEnt
	case errors.As(err, &proxyErr):
		return metric.ErrProxy
	case errors.Is(err, errProxyEarly):
		return metric.ErrProto
	case errors.Is(err, errInvalidURL):
		return metric.ErrInvalidURL
	case errors.Is(err, fasthttp.ErrBodyTooLarge):
		return metric.ErrBodyTooLarge
	case errors.Is(err, errRedirectLoop), errors.Is(err, fasthttp.ErrTooManyRedirects):
		return metric.ErrRedirectLoop
	case errors.Is(err, syscall.ECONNREFUSED):
		return metric.ErrConnRefused
	case errors.Is(err, syscall.ECONNRESET), errors.Is(err, syscall.ECONNABORTED):
		return metric.ErrConnReset
	case errors.Is(err, syscall.EPIPE):
		return metric.ErrPipe
	case errors.Is(err, syscall.EHOSTUNREACH):
		return metric.ErrHostUnreach
	case errors.Is(err, syscall.ENETUNREACH):
		return metric.ErrNetUnreach
	case errors.As(err, &dnsErr):
		return metric.ErrNotFound
	case errors.Is(err, fasthttp.ErrTimeout), errors.Is(err, errPoolWait), errors.Is(err, fasthttp.ErrNoFreeConns), errors.Is(err, fasthttp.ErrDialTimeout),
		errors.Is(err, context.DeadlineExceeded), errors.Is(err, syscall.ETIMEDOUT),
		errors.As(err, &netErr) && netErr.Timeout():
		return metric.ErrTimedOut
	case errors.As(err, &certErr), errors.As(err, &unknownAuth), errors.As(err, &hostErr), errors.As(err, &invalidCert):
		return metric.ErrCert
	case errors.As(err, &recordErr), errors.As(err, &alertErr):
		return metric.ErrProto
	case errors.Is(err, fasthttp.ErrConnectionClosed), errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		// The server closed the connection mid-exchange; Node reports
		// this "socket hang up" as ECONNRESET.
		return metric.ErrConnReset
	case strings.Contains(err.Error(), "reading response headers"), strings.Contains(err.Error(), "tls:"),
		// A chunked body that breaks its framing; fasthttp returns a bad
		// chunk size ("empty hex number") unwrapped.
		errors.As(err, &brokenChunk), strings.Contains(err.Error(), "hex number"):
		return metric.ErrProto
	}
	return metric.ErrUnknown
}
