package runner

import (
	"strconv"
	"strings"

	"github.com/primeload/primeload/report/metric"
	"github.com/primeload/primeload/scenario"
	"github.com/valyala/fasthttp"
)

// FailureRecorder is a Recorder that also keeps a few samples of each kind
// of failure. The runner asks WantSample at every failure and builds a
// FailureSample only when the answer is yes, so a success costs nothing and
// a failure past its quota costs one lookup.
type FailureRecorder interface {
	Recorder
	// WantSample counts one failure of endpoint under code and reports
	// whether a sample of it should be passed to Sample. code is an error
	// counter (errors.ECONNREFUSED), plugins.expect.failed, or the status
	// code counter (http.codes.401) of a response with status 400 or more.
	// It is safe for concurrent use and should not block once code's
	// quota is full.
	WantSample(endpoint, code string) bool
	// Sample keeps one sample WantSample asked for.
	Sample(s FailureSample)
}

// FailureSampleBytes is how much of a response body a FailureSample keeps.
const FailureSampleBytes = 160

// FailureSample is one failed exchange in words, credentials redacted.
type FailureSample struct {
	Endpoint string
	// Code is the counter the failure went under (WantSample's code).
	Code string
	// Reason says what happened in a sentence: "nothing listening on
	// 127.0.0.1:8080", "capture $.token failed: the response was 401 {...}".
	Reason string
	// Status is the response's status; 0 when no response came.
	Status int
	// Body is the first FailureSampleBytes of the response body, on one line.
	Body string
}

// sampler is the run's FailureRecorder, nil when its Recorder is not one.
// statusNames holds http.codes.400 to 599, so naming a failing status does
// not allocate.
type sampler struct {
	to          FailureRecorder
	statusNames [200]string
}

func newSampler(rec Recorder) *sampler {
	fr, ok := rec.(FailureRecorder)
	if !ok {
		return nil
	}
	s := &sampler{to: fr}
	for i := range s.statusNames {
		s.statusNames[i] = metric.Code(400 + i)
	}
	return s
}

// transport samples an exchange that got no answer.
func (s *sampler) transport(endpoint string, req *fasthttp.Request, code string, err error) {
	if s == nil || !s.to.WantSample(endpoint, code) {
		return
	}
	reason := errorReason(err, code, string(req.URI().Host()))
	if err != nil {
		reason += " (" + err.Error() + ")"
	}
	s.to.Sample(FailureSample{Endpoint: endpoint, Code: code, Reason: reason})
}

// status samples a response whose status is 400 or more. It is called for
// every response, so it returns at once for the others.
func (s *sampler) status(endpoint string, resp *fasthttp.Response, body []byte) {
	st := resp.StatusCode()
	if s == nil || st < 400 || st >= 600 {
		return
	}
	code := s.statusNames[st-400]
	if !s.to.WantSample(endpoint, code) {
		return
	}
	s.response(endpoint, code, "", resp, body)
}

// check samples a response that failed a step's checks under code; lead
// is the reason before the response ("capture $.token failed: "), made only
// when a sample is wanted.
func (s *sampler) check(endpoint string, code string, lead func() string, resp *fasthttp.Response, body []byte) {
	if s == nil || !s.to.WantSample(endpoint, code) {
		return
	}
	s.response(endpoint, code, lead(), resp, body)
}

// failureEndpoint names r in failure samples as in its other metrics.
func (v *vu) failureEndpoint(r *scenario.Request) string {
	if v.endpoint != "" {
		return v.endpoint
	}
	return r.Endpoint
}

// captureLabel names a capture in a sentence: its JSONPath alone, as
// people write it, or its kind and expression.
func captureLabel(c *scenario.Capture) string {
	if c.Kind == scenario.CaptureJSON {
		return c.Expr
	}
	return captureExpr(c)
}

func (s *sampler) response(endpoint string, code, lead string, resp *fasthttp.Response, body []byte) {
	b := oneLine(redactText(string(body[:min(len(body), FailureSampleBytes)])))
	reason := lead + "the response was " + strconv.Itoa(resp.StatusCode())
	if b != "" {
		reason += " " + b
	} else {
		reason += " with an empty body"
	}
	s.to.Sample(FailureSample{Endpoint: endpoint, Code: code, Reason: reason, Status: resp.StatusCode(), Body: b})
}

// oneLine folds whitespace runs to one space and drops bytes that are not
// UTF-8 (a rune the cut split),
// so a sample reads on one line of a summary.
func oneLine(s string) string {
	return strings.Join(strings.Fields(strings.ToValidUTF8(s, "")), " ")
}
