package report

import (
	"strconv"
	"strings"

	"github.com/primeload/primeload/report/metric"
)

// ErrorRateMeaning says what the error rate counts. It is the one
// definition: every writer prints the rate with these words beside it, and
// the default checks judge the same figure.
const ErrorRateMeaning = "network errors + HTTP 5xx per request sent, 4xx apart"

// Tally counts what went wrong: responses with a 4xx or 5xx status, and
// requests that got no response (network errors: every errors.* counter).
type Tally struct {
	HTTP4xx, HTTP5xx, Network int64
}

// Failed is what the error rate counts: network errors and 5xx responses.
// A 4xx is the client's fault as HTTP has it (a wrong token, a bad id), so
// it is reported beside the rate, not in it.
func (t Tally) Failed() int64 { return t.HTTP5xx + t.Network }

// ErrorRate is t's Failed as a percentage of requests; 0 without requests.
func (t Tally) ErrorRate(requests int64) float64 {
	if requests <= 0 {
		return 0
	}
	return float64(t.Failed()) / float64(requests) * 100
}

// Tally counts m's run-wide status code and error counters.
func (m *Metrics) Tally() Tally {
	var t Tally
	for name, v := range m.Counters {
		t.Add(name, v)
	}
	return t
}

// Add counts a run-wide http.codes.NNN or errors.X counter into t.
func (t *Tally) Add(name string, v int64) {
	if code, ok := strings.CutPrefix(name, metric.CodePrefix); ok {
		t.AddStatus(code, v)
	} else if strings.HasPrefix(name, metric.ErrorPrefix) {
		t.Network += v
	}
}

// AddStatus counts v responses of status code (as text) into t and returns
// how many responses it counted: 0 when code is not a number.
func (t *Tally) AddStatus(code string, v int64) int64 {
	n, err := strconv.Atoi(code)
	if err != nil {
		return 0
	}
	switch {
	case n >= 500:
		t.HTTP5xx += v
	case n >= 400:
		t.HTTP4xx += v
	}
	return v
}
