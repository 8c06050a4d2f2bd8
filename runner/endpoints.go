package runner

import (
	"fmt"
	"sync"

	"github.com/primeload/primeload/report/metric"
	"github.com/primeload/primeload/scenario"
)

// MaxEndpoints bounds the distinct endpoint names one run records when
// names come from rendered URLs (metrics-by-endpoint groupDynamicURLs:
// false). Each endpoint holds a latency histogram per report period, so a
// $randomString() in a path must not grow memory without limit; names past
// the bound are folded into OtherEndpoint.
const MaxEndpoints = 100

// OtherEndpoint is the one endpoint that the names past MaxEndpoints share.
const OtherEndpoint = "(other)"

// endpointNames names requests by their rendered URL, bounded; safe for
// concurrent use. Each user renders its own URL, so the table is the only
// shared state and is touched once per request in this mode only.
type endpointNames struct {
	opts   scenario.EndpointOptions
	target string
	warn   func(string)

	mu    sync.Mutex
	seen  map[string]string // interned, so a name is one string for the run
	other bool
}

func newEndpointNames(opts scenario.EndpointOptions, target string, warn func(string)) *endpointNames {
	return &endpointNames{opts: opts, target: target, warn: warn, seen: map[string]string{}}
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
	if len(n.seen) < MaxEndpoints {
		n.seen[s] = s
		return s
	}
	if !n.other {
		n.other = true
		n.warn(fmt.Sprintf("warning: more than %d distinct endpoints from rendered URLs (groupDynamicURLs: false); the rest are recorded as %q, e.g. %q\n",
			MaxEndpoints, OtherEndpoint, s))
	}
	return OtherEndpoint
}

// endpointError names the per-endpoint error counter, as Artillery's plugin
// does: plugins.metrics-by-endpoint.<endpoint>.errors.<code>.
func endpointError(endpoint, counter string) string {
	return metric.EndpointPrefix + endpoint + "." + counter
}
