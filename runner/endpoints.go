package runner

import (
	"bytes"
	"fmt"
	"strconv"
	"sync"
	"time"

	"github.com/primeload/primeload/report/metric"
	"github.com/primeload/primeload/scenario"
)

// endpointNames names requests by their rendered URL, bounded; safe for
// concurrent use. Each user renders its own URL, so the table is the only
// shared state and is touched once per request in this mode only.
//
// The bound is the recorder's (Options.MaxEndpoints): a $randomString() in a
// path must not grow the table without limit, and names past it are folded
// into metric.OtherEndpoint here, where the live warning can show one.
type endpointNames struct {
	opts   scenario.EndpointOptions
	target string
	limit  int
	warn   func(string)

	mu    sync.Mutex
	seen  map[string]string // interned, so a name is one string for the run
	other bool
}

func newEndpointNames(opts scenario.EndpointOptions, target string, limit int, warn func(string)) *endpointNames {
	return &endpointNames{opts: opts, target: target, limit: limit, warn: warn, seen: map[string]string{}}
}

// name returns the endpoint of a request sent to url (rendered, before the
// query parameters of qs) with the given name.
func (n *endpointNames) name(url []byte, reqName string) string {
	s := n.opts.EndpointName(n.target, string(url), reqName)
	if s == "" {
		return ""
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	if v, ok := n.seen[s]; ok {
		return v
	}
	if len(n.seen) < n.limit {
		n.seen[s] = s
		return s
	}
	if !n.other {
		n.other = true
		n.warn(fmt.Sprintf("warning: more than %d distinct endpoints from rendered URLs (groupDynamicURLs: false); the rest are recorded as %q, e.g. %q\n",
			n.limit, metric.OtherEndpoint, s))
	}
	return metric.OtherEndpoint
}

// serverTimingTotal reads the first total;dur=N (milliseconds, case
// ignored) of a Server-Timing header, as Artillery's plugin does. Artillery
// records -1 for a header without one; primeload records nothing, since a
// latency histogram has no negative values.
func serverTimingTotal(h []byte) (time.Duration, bool) {
	const key = "total;dur="
	if len(h) < len(key) {
		return 0, false // no header, the common case: nothing allocated
	}
	i := bytes.Index(bytes.ToLower(h), []byte(key))
	if i < 0 {
		return 0, false
	}
	rest := h[i+len(key):]
	j := 0
	for j < len(rest) && (rest[j] >= '0' && rest[j] <= '9' || rest[j] == '.') {
		j++
	}
	ms, err := strconv.ParseFloat(string(rest[:j]), 64)
	if err != nil {
		return 0, false
	}
	return time.Duration(ms * float64(time.Millisecond)), true
}
