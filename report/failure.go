package report

import (
	"cmp"
	"slices"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/primeload/primeload/report/metric"
	"github.com/primeload/primeload/runner"
)

var _ runner.FailureRecorder = (*Collector)(nil)

// MaxFailureSamples is how many samples a report keeps of each failure, per
// endpoint and code; merged reports keep as many.
const MaxFailureSamples = 3

// maxFailureKeys bounds the (endpoint, code) pairs a collector tells apart
// beyond those known when it was made (the script's endpoints, every error
// code, statuses 400 to 599); failures past it still count in the counters.
const maxFailureKeys = 1024

// Failure is one kind of failure at one endpoint: how often it happened
// and a few samples of it, each with a reason in words.
type Failure struct {
	Endpoint string `json:"endpoint"`
	// Code is the counter it went under: an error (errors.ECONNREFUSED),
	// plugins.expect.failed, or a status of 400 or more (http.codes.401).
	Code    string          `json:"code"`
	Count   int64           `json:"count"`
	Samples []FailureSample `json:"samples,omitempty"`
}

// FailureSample is one failed exchange, credentials redacted.
type FailureSample struct {
	// Reason says what happened: "nothing listening on 127.0.0.1:8080",
	// "capture $.token failed: the response was 401 {...}".
	Reason string `json:"reason"`
	// Status is the response's status; absent when no response came.
	Status int `json:"status,omitempty"`
	// Body is the start of the response body (runner.FailureSampleBytes).
	Body string `json:"body,omitempty"`
}

// Label is the failure's code as people name it: "ECONNREFUSED", "HTTP 401",
// "expect failed", "expect statusCode failed".
func (f Failure) Label() string {
	switch {
	case f.Code == metric.ExpectFailed:
		return "expect failed"
	case strings.HasPrefix(f.Code, metric.ExpectFailed+"."):
		// One expectation type: "expect statusCode failed".
		return "expect " + f.Code[len(metric.ExpectFailed)+1:] + " failed"
	case strings.HasPrefix(f.Code, metric.CodePrefix):
		return "HTTP " + f.Code[len(metric.CodePrefix):]
	}
	return strings.TrimPrefix(f.Code, metric.ErrorPrefix)
}

// Reason is the first sample's reason, or "" without samples.
func (f Failure) Reason() string {
	if len(f.Samples) == 0 {
		return ""
	}
	return f.Samples[0].Reason
}

// Reasons lists the samples' reasons, each once, in the order seen.
func (f Failure) Reasons() []string {
	var rs []string
	for _, s := range f.Samples {
		if !slices.Contains(rs, s.Reason) {
			rs = append(rs, s.Reason)
		}
	}
	return rs
}

// failures counts failures per (endpoint, code) and keeps their first
// samples. The pairs known up front have a slot each, found through maps
// that are never written after newFailures, so counting one takes no lock:
// one atomic add, and a sample is taken only while the add stays within
// MaxFailureSamples.
type failures struct {
	eps   map[string]int // read-only
	codes map[string]int // read-only
	slots []atomic.Pointer[failureSlot]

	mu    sync.Mutex // guards other and every slot's samples
	other map[[2]string]*failureSlot
}

type failureSlot struct {
	endpoint, code string
	n              atomic.Int64
	samples        []FailureSample
}

func newFailures(endpoints []string) *failures {
	codes := append(metric.Errors(), metric.ExpectFailed)
	for st := 400; st < 600; st++ {
		codes = append(codes, metric.Code(st))
	}
	f := &failures{eps: map[string]int{}, codes: map[string]int{}, other: map[[2]string]*failureSlot{}}
	for _, ep := range endpoints {
		if _, dup := f.eps[ep]; !dup {
			f.eps[ep] = len(f.eps)
		}
	}
	for i, c := range codes {
		f.codes[c] = i
	}
	f.slots = make([]atomic.Pointer[failureSlot], len(f.eps)*len(f.codes))
	return f
}

// slot finds or makes the slot of (endpoint, code); nil once maxFailureKeys
// unknown pairs are taken.
func (f *failures) slot(endpoint, code string) *failureSlot {
	ei, eok := f.eps[endpoint]
	ci, cok := f.codes[code]
	if eok && cok {
		p := &f.slots[ei*len(f.codes)+ci]
		if s := p.Load(); s != nil {
			return s
		}
		p.CompareAndSwap(nil, &failureSlot{endpoint: endpoint, code: code})
		return p.Load()
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	k := [2]string{endpoint, code}
	s := f.other[k]
	if s == nil && len(f.other) < maxFailureKeys {
		s = &failureSlot{endpoint: endpoint, code: code}
		f.other[k] = s
	}
	return s
}

// WantSample counts one failure and reports whether its sample is wanted.
func (c *Collector) WantSample(endpoint, code string) bool {
	s := c.failures.slot(endpoint, code)
	return s != nil && s.n.Add(1) <= MaxFailureSamples
}

// Sample keeps one sample WantSample asked for.
func (c *Collector) Sample(fs runner.FailureSample) {
	s := c.failures.slot(fs.Endpoint, fs.Code)
	if s == nil {
		return
	}
	c.failures.mu.Lock()
	if len(s.samples) < MaxFailureSamples {
		s.samples = append(s.samples, FailureSample{Reason: fs.Reason, Status: fs.Status, Body: fs.Body})
	}
	c.failures.mu.Unlock()
}

// Failures returns every failure counted so far, most frequent first, with
// their samples.
func (c *Collector) Failures() []Failure { return c.failures.list() }

// list returns every failure counted so far, most frequent first.
func (f *failures) list() []Failure {
	var out []Failure
	add := func(s *failureSlot) {
		if n := s.n.Load(); n > 0 {
			out = append(out, Failure{Endpoint: s.endpoint, Code: s.code, Count: n, Samples: slices.Clone(s.samples)})
		}
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	for i := range f.slots {
		if s := f.slots[i].Load(); s != nil {
			add(s)
		}
	}
	for _, s := range f.other {
		add(s)
	}
	sortFailures(out)
	return out
}

func sortFailures(fs []Failure) {
	slices.SortFunc(fs, func(a, b Failure) int {
		return cmp.Or(cmp.Compare(b.Count, a.Count), cmp.Compare(a.Endpoint, b.Endpoint), cmp.Compare(a.Code, b.Code))
	})
}

// mergeFailures adds up the failures of several reports, keeping at most
// MaxFailureSamples samples of each, the earlier reports' first.
func mergeFailures(reports []*Report) []Failure {
	var out []Failure
	at := map[[2]string]int{}
	for _, r := range reports {
		for _, f := range r.Failures {
			k := [2]string{f.Endpoint, f.Code}
			i, ok := at[k]
			if !ok {
				i = len(out)
				at[k] = i
				out = append(out, Failure{Endpoint: f.Endpoint, Code: f.Code})
			}
			out[i].Count += f.Count
			room := MaxFailureSamples - len(out[i].Samples)
			out[i].Samples = append(out[i].Samples, f.Samples[:min(max(room, 0), len(f.Samples))]...)
		}
	}
	sortFailures(out)
	return out
}
