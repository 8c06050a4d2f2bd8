package runner

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/primeload/primeload/report/metric"
	"github.com/primeload/primeload/scenario"
)

// traceRecorder is a Tracer that keeps every exchange.
type traceRecorder struct {
	mu sync.Mutex
	xs []*Exchange
}

func (r *traceRecorder) Trace(x *Exchange) {
	r.mu.Lock()
	r.xs = append(r.xs, x)
	r.mu.Unlock()
}

func (r *traceRecorder) all() []*Exchange {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]*Exchange(nil), r.xs...)
}

// withHeader adds a templated header to a request step.
func withHeader(s scenario.Step, name, value string) scenario.Step {
	s.Request.Headers = append(s.Request.Headers, scenario.Header{Name: name, Value: scenario.MustCompile(value)})
	return s
}

// Issue 12: a trace says why a request failed, against real servers: an
// all-401 target with a token that rendered empty, a port where nothing
// listens, https:// to a plain-HTTP port.
func TestTraceSaysWhy(t *testing.T) {
	t.Parallel()
	unauthorized := serve(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusUnauthorized)
		w.Write([]byte(`{"detail":"invalid token"}`))
	})
	plain := serve(t, ok)
	refused := "http://" + closedListenerAddr(t)
	tests := []struct {
		name       string
		target     string
		step       scenario.Step
		wantError  string
		wantReason string
		wantStatus int // 0: no response
		check      func(t *testing.T, x *Exchange)
	}{
		{
			name:   "all 401, token unset",
			target: unauthorized.URL,
			step: withCapture(withHeader(get("/items"), "Authorization", "Bearer {{ $env.API_TOKEN }}"),
				jsonCapture("$.token", "token")),
			wantError:  metric.ErrCaptureMiss,
			wantReason: "a strict capture found nothing in the response",
			wantStatus: http.StatusUnauthorized,
			check: func(t *testing.T, x *Exchange) {
				if got := header(x.Request.Headers, "Authorization"); got != "Bearer [redacted, 0 bytes]" {
					t.Errorf("Authorization traced as %q, want the scheme and a length of 0", got)
				}
				if !strings.Contains(x.Response.Body, "invalid token") {
					t.Errorf("response body %q, want the server's reason", x.Response.Body)
				}
				if len(x.Checks) != 1 || x.Checks[0].OK || x.Checks[0].Expr != "json $.token" {
					t.Errorf("checks %+v, want one missed capture of $.token", x.Checks)
				}
			},
		},
		{
			name:       "nothing listening",
			target:     refused,
			step:       get("/"),
			wantError:  metric.ErrConnRefused,
			wantReason: "nothing listening on " + strings.TrimPrefix(refused, "http://"),
		},
		{
			name:       "TLS to a plain-HTTP port",
			target:     strings.Replace(plain.URL, "http://", "https://", 1),
			step:       get("/"),
			wantError:  metric.ErrProto,
			wantReason: "TLS handshake to a plain-HTTP port: " + strings.TrimPrefix(plain.URL, "http://") + " answered the TLS hello with something else; use http://",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			const users = 5
			tr := &traceRecorder{}
			script := newScript(tt.target, []scenario.Phase{count(users, 100*time.Millisecond)}, []scenario.Step{tt.step})
			run(t, script, Options{Trace: tr, TraceN: 2, Env: func(string) (string, bool) { return "", false }})
			xs := tr.all()
			// The first two are both the endpoint's first and its first
			// failures of this kind: two in all.
			if len(xs) != 2 {
				t.Fatalf("%d exchanges traced, want 2", len(xs))
			}
			for _, x := range xs {
				if x.Error != tt.wantError || x.Reason != tt.wantReason || x.Sample != SampleFirst {
					t.Errorf("traced error %q, reason %q, sample %q; want %q, %q, %q", x.Error, x.Reason, x.Sample, tt.wantError, tt.wantReason, SampleFirst)
				}
				status := 0
				if x.Response != nil {
					status = x.Response.Status
				}
				if status != tt.wantStatus {
					t.Errorf("traced status %d, want %d", status, tt.wantStatus)
				}
				if x.Request.Method != "GET" || !strings.HasPrefix(x.Request.URL, tt.target) {
					t.Errorf("traced request %s %s, want GET %s...", x.Request.Method, x.Request.URL, tt.target)
				}
				if tt.wantStatus == 0 && x.Detail == "" {
					t.Error("a transport failure traced without its detail")
				}
				if tt.check != nil {
					tt.check(t, x)
				}
			}
		})
	}
}

// closedListenerAddr is a loopback address where nothing listens.
func closedListenerAddr(t *testing.T) string {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(ok))
	addr := srv.Listener.Addr().String()
	srv.Close()
	return addr
}

func header(hs []TraceHeader, name string) string {
	for _, h := range hs {
		if strings.EqualFold(h.Name, name) {
			return h.Value
		}
	}
	return ""
}

// The first TraceN exchanges of each endpoint are traced, and beyond them
// the first TraceN failing ones of each endpoint and failure; nothing else.
func TestTraceSamples(t *testing.T) {
	t.Parallel()
	var flaky atomic.Int64
	srv := serve(t, func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/flaky" && flaky.Add(1) > 3 {
			w.WriteHeader(http.StatusInternalServerError)
		}
		ok(w, r)
	})
	tr := &traceRecorder{}
	script := newScript(srv.URL, []scenario.Phase{count(6, 300*time.Millisecond)}, []scenario.Step{get("/ok"), get("/flaky")})
	run(t, script, Options{Trace: tr, TraceN: 2})
	type key struct {
		endpoint, sample string
		status           int
	}
	got := map[key]int{}
	for _, x := range tr.all() {
		got[key{x.Endpoint, x.Sample, x.Response.Status}]++
	}
	want := map[key]int{
		{"/ok", SampleFirst, 200}:      2,
		{"/flaky", SampleFirst, 200}:   2,
		{"/flaky", SampleFailure, 500}: 2,
	}
	if len(got) != len(want) {
		t.Errorf("traced %v, want %v", got, want)
	}
	for k, n := range want {
		if got[k] != n {
			t.Errorf("traced %v, want %v", got, want)
			break
		}
	}
}

// Credentials never leave the runner in a trace, and what is left still
// says which header, cookie or field held one.
func TestTraceRedacts(t *testing.T) {
	t.Parallel()
	const jwtValue = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NSJ9.c2lnbmF0dXJl"
	srv := serve(t, func(w http.ResponseWriter, r *http.Request) {
		http.SetCookie(w, &http.Cookie{Name: "sid", Value: "s3ss10n", Path: "/", HttpOnly: true})
		w.Header().Set("WWW-Authenticate", `Bearer realm="example"`)
		w.Header().Set("Content-Type", "application/json")
		w.Write([]byte(`{"access_token":"` + jwtValue + `","user":"ann","refresh_token":"r3fr3sh"}`))
	})
	step := get("/login?api_key=k3y&page=2")
	step.Request.Method = "POST"
	step.Request.Body = scenario.MustCompile(`{"user":"ann","password":"hunter2"}`)
	step = withHeader(step, "X-Api-Key", "abcdef")
	step = withHeader(step, "Authorization", "Bearer "+jwtValue)
	step.Request.Cookie = []scenario.Param{{Name: "pref", Value: scenario.MustCompile("c00k1e")}}
	step = withCapture(step, jsonCapture("$.access_token", "token"), jsonCapture("$.user", "who"))
	tr := &traceRecorder{}
	run(t, newScript(srv.URL, []scenario.Phase{count(1, time.Millisecond)}, []scenario.Step{step}), Options{Trace: tr})
	xs := tr.all()
	if len(xs) != 1 {
		t.Fatalf("%d exchanges traced, want 1", len(xs))
	}
	b, err := json.Marshal(xs[0])
	if err != nil {
		t.Fatal(err)
	}
	out := string(b)
	for _, secret := range []string{jwtValue, "eyJ", "s3ss10n", "r3fr3sh", "hunter2", "k3y", "abcdef", "c00k1e"} {
		if strings.Contains(out, secret) {
			t.Errorf("the trace holds %q:\n%s", secret, out)
		}
	}
	x := xs[0]
	kept := []struct{ field, got, want string }{
		{"request URL", x.Request.URL, "/login?api_key=[redacted]&page=2"},
		{"request body", x.Request.Body, `{"user":"ann","password":"[redacted]"}`},
		{"Authorization", header(x.Request.Headers, "Authorization"), "Bearer [redacted, 54 bytes]"},
		{"Cookie", header(x.Request.Headers, "Cookie"), "pref=[redacted, 6 bytes]"},
		{"X-Api-Key", header(x.Request.Headers, "X-Api-Key"), "[redacted, 6 bytes]"},
		{"Set-Cookie", header(x.Response.Headers, "Set-Cookie"), "sid=[redacted, 7 bytes]; Path=/; HttpOnly"},
		{"WWW-Authenticate", header(x.Response.Headers, "Www-Authenticate"), `Bearer realm="example"`},
		{"response body", x.Response.Body, `{"access_token":"[redacted]","user":"ann","refresh_token":"[redacted]"}`},
		{"capture of a token", x.Checks[0].Value, "[redacted, 54 bytes]"},
		{"capture of a name", x.Checks[1].Value, "ann"},
	}
	for _, k := range kept {
		if !strings.HasSuffix(k.got, k.want) {
			t.Errorf("%s traced as %q, want it to end %q", k.field, k.got, k.want)
		}
	}
}

func TestRedactText(t *testing.T) {
	t.Parallel()
	tests := []struct{ in, want string }{
		{`{"password":"p4ss","name":"x"}`, `{"password":"[redacted]","name":"x"}`},
		{`{"authToken" : "a\"b"}`, `{"authToken" : "[redacted]"}`},
		{`{"author":"bob"}`, `{"author":"bob"}`},
		{`{"password":"cut at the first KiB`, `{"password":"[redacted]"`},
		{`{"token":"ends in \`, `{"token":"[redacted]"`},
		{"/x?token=abc&q=1", "/x?token=[redacted]&q=1"},
		{"user=a&password=b", "user=a&password=[redacted]"},
		{"Authorization: Bearer abc.def", "Authorization: Bearer [redacted]"},
		{"id eyJabcd.eyJefgh.sig end", "id [redacted jwt] end"},
		{`{"id":"eyJabcd.eyJefgh`, `{"id":"[redacted jwt]`}, // cut at the first KiB
		{"plain text", "plain text"},
		// After a scheme, a credential goes and an auth-param stays.
		{`Bearer realm="example"`, `Bearer realm="example"`},
		{"Bearer error=invalid_token", "Bearer error=invalid_token"},
		{"Basic dXNlcjpwYXNzd29yZA==", "Basic [redacted]"},
		{"token abc==, next", "token [redacted], next"},
		{`Bearer a.b.c then Bearer realm="r"`, `Bearer [redacted] then Bearer realm="r"`},
		// A credential-named parameter with a quoted value: the quotes stay, the value goes.
		{`Token token="abc123", realm="x"`, `Token token="[redacted]", realm="x"`},
		{`session_id="s3cr3t`, `session_id="[redacted]`}, // cut short
	}
	for _, tt := range tests {
		if got := redactText(tt.in); got != tt.want {
			t.Errorf("redactText(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestRedactHeader(t *testing.T) {
	t.Parallel()
	tests := []struct{ name, value, want string }{
		{"Authorization", "Bearer abc", "Bearer [redacted, 3 bytes]"},
		{"Authorization", "Basic dXNlcjpwYXNz", "Basic [redacted, 12 bytes]"},
		{"Authorization", "opaque", "[redacted, 6 bytes]"},
		{"X-Auth-Token", "t0k", "[redacted, 3 bytes]"},
		{"Cookie", "a=1; bb=22", "a=[redacted, 1 bytes]; bb=[redacted, 2 bytes]"},
		{"Set-Cookie", "sid=xyz; Path=/; Max-Age=60", "sid=[redacted, 3 bytes]; Path=/; Max-Age=60"},
		{"Content-Type", "application/json", "application/json"},
		{"X-Request-Id", "9b2c1e4a-1d2f-4c3b-8a7e-0f1e2d3c4b5a", "9b2c1e4a-1d2f-4c3b-8a7e-0f1e2d3c4b5a"},
		{"X-Forwarded", "eyJabcd.eyJefgh.sig", "[redacted jwt]"},
		// A challenge holds the server's parameters, not a credential.
		{"WWW-Authenticate", `Bearer realm="example"`, `Bearer realm="example"`},
		{"WWW-Authenticate", `Bearer realm="example", error="invalid_token", error_description="The access token expired"`,
			`Bearer realm="example", error="invalid_token", error_description="The access token expired"`},
		{"www-authenticate", `Digest realm="api", qop="auth", nonce="dcd98b7102dd2f0e8b11d0f600bfb0c093"`,
			`Digest realm="api", qop="auth", nonce="dcd98b7102dd2f0e8b11d0f600bfb0c093"`},
		{"Proxy-Authenticate", `Basic realm="proxy", charset="UTF-8"`, `Basic realm="proxy", charset="UTF-8"`},
		{"WWW-Authenticate", `Bearer realm="x", hint="eyJabcd.eyJefgh.sig"`, `Bearer realm="x", hint="[redacted jwt]"`},
		// A Digest answer is the user's credential.
		{"Authorization", `Digest username="u", realm="api", response="6629fae49393a053"`, "Digest [redacted, 54 bytes]"},
	}
	for _, tt := range tests {
		if got := redactHeader(tt.name, tt.value); got.Value != tt.want {
			t.Errorf("redactHeader(%q, %q) = %q, want %q", tt.name, tt.value, got.Value, tt.want)
		}
	}
}

func TestErrorReasonKnowsEveryCode(t *testing.T) {
	t.Parallel()
	codes := append(metric.Errors(), metric.ExpectFailed)
	for _, c := range codes {
		if ErrorReason(c, "127.0.0.1:1") == "" {
			t.Errorf("ErrorReason(%q) is empty", c)
		}
	}
	if got, want := ErrorReason("ECONNREFUSED", "127.0.0.1:8080"), "nothing listening on 127.0.0.1:8080"; got != want {
		t.Errorf("ErrorReason without the errors. prefix = %q, want %q", got, want)
	}
	if got := ErrorReason("errors.ENOSUCH", "h"); got != "" {
		t.Errorf("an unknown code has reason %q, want none", got)
	}
}
