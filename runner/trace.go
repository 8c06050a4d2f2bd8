package runner

import (
	"encoding/json"
	"fmt"
	"sync"
	"time"

	"github.com/primeload/primeload/report/metric"
	"github.com/primeload/primeload/scenario"
	"github.com/valyala/fasthttp"
)

// Tracer receives the exchanges a run traces (Options.Trace). Trace is
// called from virtual users' goroutines, concurrently, and should return
// quickly; the Exchange is the tracer's to keep.
type Tracer interface {
	Trace(*Exchange)
}

// TraceBodyBytes is how much of a request or response body an Exchange
// keeps.
const TraceBodyBytes = 1 << 10

// Why an exchange was traced (Exchange.Sample).
const (
	SampleFirst   = "first"   // one of the first Options.TraceN of its endpoint
	SampleFailure = "failure" // one of the first TraceN of its endpoint failing this way
)

// Exchange is one traced request and what came of it, with credentials
// redacted (see redactHeader, redactText) before it leaves the runner.
type Exchange struct {
	Time     time.Time       `json:"time"` // when the request was sent
	Endpoint string          `json:"endpoint"`
	Sample   string          `json:"sample"`
	Latency  time.Duration   `json:"latency_ns"`
	Request  TracedRequest   `json:"request"`
	Response *TracedResponse `json:"response,omitempty"` // nil when no answer came
	Checks   []TracedCheck   `json:"checks,omitempty"`
	Error    string          `json:"error,omitempty"`  // the counter the failure went under
	Reason   string          `json:"reason,omitempty"` // Error in a sentence
	Detail   string          `json:"detail,omitempty"` // the transport error's own text
}

// TracedRequest is what was sent, on the last hop of a redirect chain.
type TracedRequest struct {
	Method   string        `json:"method"`
	URL      string        `json:"url"`
	Headers  []TraceHeader `json:"headers"`
	BodySize int           `json:"body_size"`
	Body     string        `json:"body,omitempty"` // its first TraceBodyBytes
}

// TracedResponse is what came back.
type TracedResponse struct {
	Proto    string        `json:"proto"`
	Status   int           `json:"status"`
	Message  string        `json:"message,omitempty"`
	Headers  []TraceHeader `json:"headers"`
	BodySize int           `json:"body_size"`
	// Decoded is set when Body is the gzip body inflated for a capture.
	Decoded bool   `json:"decoded,omitempty"`
	Body    string `json:"body,omitempty"` // its first TraceBodyBytes
}

// TraceHeader is one header line.
type TraceHeader struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

// TracedCheck is one capture or expectation and its outcome.
type TracedCheck struct {
	Kind  string `json:"kind"` // "capture" or "expect"
	Expr  string `json:"expr"` // the JSONPath, header, regexp or expectation
	As    string `json:"as,omitempty"`
	OK    bool   `json:"ok"`
	Value string `json:"value,omitempty"` // what a capture found
}

// tracing picks which exchanges go to Options.Trace: the first n of each
// endpoint and the first n failing ones of each endpoint and failure. Its
// maps are bounded by the script's endpoints times the failures an
// endpoint can have (error codes, HTTP statuses).
type tracing struct {
	to       Tracer
	n        int
	mu       sync.Mutex
	seen     map[string]int
	failures map[[2]string]int
}

func newTracing(to Tracer, n int) *tracing {
	if to == nil {
		return nil
	}
	return &tracing{to: to, n: max(n, 1), seen: map[string]int{}, failures: map[[2]string]int{}}
}

// pick reports why an exchange of endpoint that failed as failure ("" for
// none) is traced, or "" when it is not.
func (t *tracing) pick(endpoint, failure string) string {
	t.mu.Lock()
	defer t.mu.Unlock()
	why := ""
	if t.seen[endpoint] < t.n {
		t.seen[endpoint]++
		why = SampleFirst
	}
	if failure != "" {
		k := [2]string{endpoint, failure}
		if t.failures[k] < t.n {
			t.failures[k]++
			if why == "" {
				why = SampleFailure
			}
		}
	}
	return why
}

// traced is what request knows of an exchange when it ends, for trace.
type traced struct {
	start   time.Time
	latency time.Duration
	err     error  // the transport error; nil when an answer came
	failure string // the counter the step failed under, "" when it did not
	body    []byte // the response body as captures read it
	decoded bool
	doc     any
	// captures are the step's capture outcomes, as the flow used them.
	captures []captureOutcome
}

// trace hands the exchange to the run's tracer when it is one to keep.
// It runs only when tracing is on.
func (v *vu) trace(r *scenario.Request, req *fasthttp.Request, resp *fasthttp.Response, x traced) {
	t := v.e.trace
	failure := x.failure
	if failure == "" && x.err == nil && resp.StatusCode() >= 400 {
		failure = metric.Code(resp.StatusCode())
	}
	why := t.pick(r.Endpoint, failure)
	if why == "" {
		return
	}
	// The endpoint is the script's URL template, which may hold a literal key.
	ex := &Exchange{Time: x.start, Endpoint: redactText(r.Endpoint), Sample: why, Latency: x.latency, Error: x.failure}
	ex.Request = TracedRequest{
		Method:   string(req.Header.Method()),
		URL:      redactText(string(req.URI().FullURI())),
		BodySize: len(req.Body()),
		Body:     redactText(prefix(req.Body())),
	}
	for k, val := range req.Header.All() {
		ex.Request.Headers = append(ex.Request.Headers, redactHeader(string(k), string(val)))
	}
	if x.err != nil {
		ex.Detail = x.err.Error()
		ex.Reason = errorReason(x.err, x.failure, string(req.URI().Host()))
		t.to.Trace(ex)
		return
	}
	body := x.body
	if body == nil {
		body = resp.Body()
	}
	ex.Response = &TracedResponse{
		Proto:    string(resp.Header.Protocol()),
		Status:   resp.StatusCode(),
		Message:  string(resp.Header.StatusMessage()),
		BodySize: len(body),
		Decoded:  x.decoded,
		Body:     redactText(prefix(body)),
	}
	for k, val := range resp.Header.All() {
		ex.Response.Headers = append(ex.Response.Headers, redactHeader(string(k), string(val)))
	}
	if x.failure != "" {
		ex.Reason = ErrorReason(x.failure, string(req.URI().Host()))
	}
	// Every capture was read, including those after a strict miss;
	// expectations read only the response, so running them again gives
	// each one's outcome.
	for i := range x.captures {
		o := &x.captures[i]
		c := o.c
		tc := TracedCheck{Kind: "capture", Expr: captureExpr(c), As: c.As, OK: o.err == nil && o.defined && o.val != ""}
		if o.defined {
			tc.Value = fmtValue(o.val)
			if secretName.MatchString(c.As) || secretName.MatchString(c.Expr) {
				tc.Value = redacted(len(tc.Value))
			} else {
				tc.Value = redactText(tc.Value)
			}
		}
		ex.Checks = append(ex.Checks, tc)
	}
	for i := range r.Expect {
		ex.Checks = append(ex.Checks, TracedCheck{Kind: "expect", Expr: v.expectExpr(&r.Expect[i]), OK: v.check(&r.Expect[i], resp, body, expectDoc(resp, x.doc))})
	}
	t.to.Trace(ex)
}

func prefix(b []byte) string {
	return string(b[:min(len(b), TraceBodyBytes)])
}

func captureExpr(c *scenario.Capture) string {
	return c.Kind.String() + " " + c.Expr
}

// fmtValue is a captured value as text: a string as it is, anything
// else (a number, an object) as JSON.
func fmtValue(val any) string {
	if s, ok := val.(string); ok {
		return s
	}
	b, err := json.Marshal(val)
	if err != nil {
		return fmt.Sprint(val)
	}
	return string(b)
}
