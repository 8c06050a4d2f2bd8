package runner

import (
	"bytes"
	"compress/gzip"
	"strings"
	"testing"
	"time"

	"github.com/primeload/primeload/report/metric"
	"github.com/primeload/primeload/scenario"
	"github.com/valyala/fasthttp"
)

// A server's Keep-Alive header is hostile input: whatever it says, the
// idle time allowed is between 0 and the largest timeout honoured, and
// never more than the timeout it named.
func FuzzKeepAliveIdle(f *testing.F) {
	for _, seed := range []string{"timeout=5", "timeout=5, max=1000", "timeout=0", "timeout=86400", "timeout=86401",
		"timeout=9223372036854775807", "timeout=99999999999999999999", "timeout=-1", `timeout="2"`, "TIMEOUT = 1", "max=1", ",,=,timeout"} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, h string) {
		idle, ok := keepAliveIdle([]byte(h))
		if !ok {
			if idle != 0 {
				t.Fatalf("keepAliveIdle(%q) = %v without a timeout", h, idle)
			}
			return
		}
		if idle < 0 || idle > maxKeepAliveTimeout*time.Second {
			t.Fatalf("keepAliveIdle(%q) = %v, want 0 to %ds", h, idle, maxKeepAliveTimeout)
		}
	})
}

// Whatever a body, URL or header holds, no JSON Web Token survives
// redaction, and a JSON member named password keeps no value.
func FuzzRedactText(f *testing.F) {
	for _, seed := range []string{
		`{"password":"hunter2","user":"ann"}`,
		"/login?token=abc&x=1",
		"Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2ln",
		"eyJeyJaaaa.bbbb.cccc",
		`{"api_key" : "a\"b\\"}`,
		`{"password":"cut sho`,
		`"pAsswd":""password":"`,
		`"pw":""password":"x`,
		`"token":""password":""password":"hunter2`,
		`"a_token":""password":"hunter2"`,
		"plain",
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got := redactText(s)
		if m := jwt.FindString(got); m != "" {
			t.Fatalf("redactText(%q) = %q keeps the token %q", s, got, m)
		}
		for rest := got; ; {
			i := strings.Index(rest, `"password":"`)
			if i < 0 {
				break
			}
			rest = rest[i+len(`"password":"`):]
			if rest != "" && rest[0] != '"' && !strings.HasPrefix(rest, `[redacted]"`) { // an empty value keeps nothing
				t.Fatalf("redactText(%q) = %q keeps a password", s, got)
			}
		}
	})
}

// A gzip body is hostile input: whatever it holds, a step that reads it
// inflates at most Options.MaxDecodedBytes, and it fails only under
// errors.EDECODEDTOOLARGE or as a capture miss.
func FuzzGzipBody(f *testing.F) {
	const limit = 64 << 10
	var bomb, small bytes.Buffer
	zw := gzip.NewWriter(&bomb)
	zw.Write(make([]byte, 1<<20)) // inflates 16 times past the limit
	zw.Close()
	zw = gzip.NewWriter(&small)
	zw.Write([]byte(`{"id":42}`))
	zw.Close()
	f.Add(bomb.Bytes())
	f.Add(small.Bytes())
	f.Add(small.Bytes()[:small.Len()/2]) // cut short
	f.Add([]byte("not gzip at all"))
	script := newScript("http://127.0.0.1:9", []scenario.Phase{count(1, time.Millisecond)}, nil)
	e, err := newEngine(script, nopRecorder{}, Options{Seed: 1, MaxDecodedBytes: limit})
	if err != nil {
		f.Fatal(err)
	}
	e.fixed = map[string]any{}
	step := withCapture(get("/"), jsonCapture("$.id", "id"))
	f.Fuzz(func(t *testing.T, body []byte) {
		v := e.newVU(0, 0)
		resp := fasthttp.AcquireResponse()
		defer fasthttp.ReleaseResponse(resp)
		resp.Header.Set("Content-Encoding", "gzip")
		resp.SetBody(body)
		res, x := v.checkResponse(step.Request, resp)
		if len(x.body) > limit && x.decoded {
			t.Fatalf("inflated %d bytes, limit %d", len(x.body), limit)
		}
		switch x.failure {
		case "", metric.ErrDecodedTooLarge, metric.ErrCaptureMiss:
		default:
			t.Fatalf("failed under %q", x.failure)
		}
		if (res == flowOK) != (x.failure == "") {
			t.Fatalf("result %v with failure %q", res, x.failure)
		}
	})
}
