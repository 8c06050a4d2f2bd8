package runner

import (
	"fmt"
	"sync"

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
