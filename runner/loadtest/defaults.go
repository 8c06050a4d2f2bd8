package loadtest

import (
	"fmt"
	"strings"

	"github.com/primeload/primeload/report"
	"github.com/primeload/primeload/report/metric"
)

// The default checks judge a script that declares no SLOs, so a run where
// every request failed cannot pass for lack of a gate. Documented in the
// README ("When a run goes wrong"); Options.NoDefaultChecks turns them off.
const (
	// DefaultMaxErrorRate is the highest error rate (report.ErrorRateMeaning)
	// a run may have, in percent.
	DefaultMaxErrorRate = 1.0
	// DefaultMax4xxShare is the share of responses, in percent, that may be
	// 4xx: a majority means the script is wrong (a token, a path), not the
	// target slow.
	DefaultMax4xxShare = 50.0
)

// defaultChecks evaluates the default checks on the report's aggregate.
// Each failing one says why in words, with the most frequent failure's
// reason when the report sampled one.
func defaultChecks(rep *report.Report) []report.SLO {
	m := rep.Aggregate
	t, requests, responses := m.Tally(), m.Counters[metric.Requests], m.Counters[metric.Responses]
	rate := t.ErrorRate(requests)
	var share float64
	if responses > 0 {
		share = float64(t.HTTP4xx) / float64(responses) * 100
	}
	errLimit, shareLimit := DefaultMaxErrorRate, DefaultMax4xxShare
	checks := []report.SLO{
		{
			Name: "default: error rate", Expression: fmt.Sprintf("error rate <= %s%%", report.FormatNumber(errLimit)),
			Value: &rate, Limit: &errLimit, OK: rate <= errLimit, Strict: true,
			Detail: fmt.Sprintf("%d of %d requests (%s)", t.Failed(), requests, report.ErrorRateMeaning),
		},
		{
			Name: "default: 4xx share", Expression: fmt.Sprintf("HTTP 4xx <= %s%% of responses", report.FormatNumber(shareLimit)),
			Value: &share, Limit: &shareLimit, OK: share <= shareLimit, Strict: true,
			Detail: fmt.Sprintf("%d of %d responses", t.HTTP4xx, responses),
		},
	}
	for i := range checks {
		if !checks[i].OK {
			if why := topReason(rep, i == 1); why != "" {
				checks[i].Detail += "; most frequent: " + why
			}
		}
	}
	return checks
}

// topReason is the most frequent sampled failure's label and reason: of a
// 4xx when want4xx, else of a network error or 5xx.
func topReason(rep *report.Report, want4xx bool) string {
	for _, f := range rep.Failures { // most frequent first
		st := 0
		if len(f.Samples) > 0 {
			st = f.Samples[0].Status
		}
		is4xx := st >= 400 && st < 500 && f.Code == metric.Code(st)
		if is4xx == want4xx && (want4xx || st == 0 || st >= 500) {
			return f.Endpoint + " " + f.Label() + ": " + f.Reason()
		}
	}
	return ""
}

// Cause is the first thing to tell a person about a judged run that did
// not pass, one line per reason: the verdict in words, then the first
// failing strict SLO or default check when the verdict is another. It is
// empty for a run that passed.
func Cause(rep *report.Report) []string {
	var lines []string
	switch rep.Verdict {
	case report.Pass, "":
		return nil
	case report.Untrusted:
		_, why := rep.Untrusted()
		lines = append(lines, "FAILED (untrusted): "+why)
	case report.Interrupted:
		lines = append(lines, "FAILED (interrupted): the run did not send its whole schedule")
	case report.ExpectFailed:
		line := fmt.Sprintf("FAILED: %d expectations failed", rep.Aggregate.Counters[metric.ExpectFailed])
		for _, f := range rep.Failures { // most frequent first
			if strings.HasPrefix(f.Code, metric.ExpectFailed) {
				line += fmt.Sprintf("; most often %s at %s (%d times): %s", f.Label(), f.Endpoint, f.Count, f.Reason())
				break
			}
		}
		lines = append(lines, line)
	}
	for _, s := range rep.SLO {
		if s.Strict && !s.OK {
			lines = append(lines, fmt.Sprintf("FAILED: %s: measured %s; %s", s.Title(), s.Measured(), s.Detail))
			break
		}
	}
	return lines
}
