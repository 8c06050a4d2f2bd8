package slo

import (
	"slices"
	"strings"

	"github.com/primeload/primeload/report"
	"github.com/primeload/primeload/report/metric"
)

// knownErrorCodes are the codes of the error counters primeload records,
// so that a bare errors.<code> finds its end even when the code is not one
// word: Artillery's capture failure has spaces.
func knownErrorCodes() []string {
	codes := make([]string, 0, len(metric.Errors()))
	for _, e := range metric.Errors() {
		codes = append(codes, strings.TrimPrefix(e, metric.ErrorPrefix))
	}
	return codes
}

// matchName returns the end of the longest metric name the catalogue knows
// that starts at s[i], or -1. A name must end where a word ends, so that
// http.codes.5000 or http.response_time.p95x is not taken for a shorter name.
func (c *catalog) matchName(s string, i int) int {
	if c.vars {
		// Variables have filtrex's symbol shape; word() reads them.
		return -1
	}
	best := -1
	try := func(end int) {
		if end > best && endsWord(s, end) {
			best = end
		}
	}
	rest := s[i:]
	for _, n := range c.fixedNames() {
		if strings.HasPrefix(rest, n) {
			try(i + len(n))
		}
	}
	// Extended names match whether the run records them or not: classify
	// then says what records them.
	for _, base := range slices.Concat(summaries(), metric.ExtendedSummaries()) {
		if t, ok := strings.CutPrefix(rest, base+"."); ok {
			try(c.statEnd(s, len(s)-len(t)))
		}
	}
	if t, ok := strings.CutPrefix(rest, metric.CodePrefix); ok {
		try(codeEnd(s, len(s)-len(t)))
	}
	if t, ok := strings.CutPrefix(rest, metric.ErrorPrefix); ok {
		try(errorEnd(s, len(s)-len(t)))
	}
	if t, ok := strings.CutPrefix(rest, metric.CreatedByNamePrefix); ok {
		// A scenario name may hold spaces; a typo still reaches classify,
		// which suggests the scenario meant.
		try(wordTailEnd(s, len(s)-len(t)))
		for _, sc := range c.scenarios {
			if strings.HasPrefix(t, sc) {
				try(len(s) - len(t) + len(sc))
			}
		}
	}
	if t, ok := strings.CutPrefix(rest, metric.ExpectPrefix); ok {
		try(wordTailEnd(s, len(s)-len(t)))
		// plugins.expect.ok.<type>, plugins.expect.failed.<type>
		for _, o := range []string{"ok.", "failed."} {
			if u, ok := strings.CutPrefix(t, o); ok {
				try(wordTailEnd(s, len(s)-len(u)))
			}
		}
	}
	if t, ok := strings.CutPrefix(rest, metric.EndpointPrefix); ok {
		try(c.endpointEnd(s, len(s)-len(t)))
	}
	return best
}

// fixedNames are the whole names of counters and rates.
func (c *catalog) fixedNames() []string { return counters() }

// endpointEnd matches what follows the per-endpoint prefix at s[i]:
// response_time.<endpoint>.<stat>, <endpoint>.codes.<code> or
// <endpoint>.errors.<code>.
func (c *catalog) endpointEnd(s string, i int) int {
	best := -1
	for _, ep := range c.endpoints {
		for _, family := range endpointSummaries() {
			f := strings.TrimPrefix(family, metric.EndpointPrefix)
			if strings.HasPrefix(s[i:], f+ep+".") {
				best = max(best, c.statEnd(s, i+len(f)+len(ep)+1))
			}
		}
		if t, ok := strings.CutPrefix(s[i:], ep+"."+metric.EndpointCodes); ok {
			best = max(best, codeEnd(s, len(s)-len(t)))
		}
		if t, ok := strings.CutPrefix(s[i:], ep+"."+metric.EndpointErrors); ok {
			best = max(best, errorEnd(s, len(s)-len(t)))
		}
	}
	return best
}

// isEndpointName reports whether a word starts a per-endpoint name.
func (c *catalog) isEndpointName(w string) bool {
	return strings.HasPrefix(w+".", metric.EndpointPrefix)
}

// statEnd matches the longest summary statistic at s[i] (p999 before p99).
func (c *catalog) statEnd(s string, i int) int {
	best := -1
	for _, st := range report.SummaryStats() {
		if strings.HasPrefix(s[i:], st) && endsWord(s, i+len(st)) {
			best = max(best, i+len(st))
		}
	}
	return best
}

// codeEnd matches a three-digit status code at s[i].
func codeEnd(s string, i int) int {
	if i+3 <= len(s) && metric.IsStatusCode(s[i:i+3]) {
		return i + 3
	}
	return -1
}

// errorEnd matches an error code at s[i]: a known code with spaces, or one word.
func errorEnd(s string, i int) int {
	for _, code := range knownErrorCodes() {
		if strings.HasPrefix(s[i:], code) && endsWord(s, i+len(code)) {
			return i + len(code)
		}
	}
	return wordTailEnd(s, i)
}

// wordTailEnd matches [A-Za-z0-9_]+ at s[i].
func wordTailEnd(s string, i int) int {
	j := i
	for j < len(s) && (isLetter(s[j]) || isDigit(s[j]) || s[j] == '_') {
		j++
	}
	if j == i {
		return -1
	}
	return j
}

// endsWord reports whether a name may end at s[end]: not inside a word, and
// not before a dot that continues it.
func endsWord(s string, end int) bool {
	if end < 0 {
		return false
	}
	if end == len(s) {
		return true
	}
	if isNameByte(s[end]) {
		return false
	}
	return !(s[end] == '.' && end+1 < len(s) && isNameByte(s[end+1]))
}
