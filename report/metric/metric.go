// Package metric is primeload's metric vocabulary: the name of every
// counter, rate and latency summary a run records, and of the families whose
// last part varies (a status code, an endpoint). The runner records under
// these names, the report package aggregates them, the SLO catalogue accepts
// exactly them and the writers read them, so a metric is added here and
// nowhere else. Names are Artillery's where Artillery has the metric, so its
// ensure expressions and dashboards carry over; primeload's own additions
// start with "primeload.".
//
// The package has no dependencies, so runner and report both import it.
package metric

import (
	"slices"
	"strconv"
	"strings"
)

// Counters the runner and the collector record.
const (
	// Requests counts requests handed to the transport.
	Requests = "http.requests"
	// Responses counts completed exchanges. It travels through
	// runner.Sink.Response only, never through Count.
	Responses = "http.responses"
	// Downloaded counts response body bytes read.
	Downloaded = "http.downloaded_bytes"
	// VUsersCreated counts virtual users started.
	VUsersCreated = "vusers.created"
	// VUsersCompleted counts virtual users whose flow ran to its end.
	VUsersCompleted = "vusers.completed"
	// VUsersFailed counts virtual users whose flow an error ended.
	VUsersFailed = "vusers.failed"
	// VUsersSkipped counts arrivals not started because a phase's
	// maxVusers were all busy.
	VUsersSkipped = "vusers.skipped"
	// ExpectOK counts expectations that held.
	ExpectOK = ExpectPrefix + "ok"
	// ExpectFailed counts expectations that did not hold.
	ExpectFailed = ExpectPrefix + "failed"
	// Clamped counts latencies outside the histogram range (1 µs to 1 min),
	// recorded at the nearest bound instead of being dropped.
	Clamped = "primeload.clamped_values"
	// EndpointsFolded counts responses recorded under OtherEndpoint because
	// the run already had its maximum of distinct endpoints.
	EndpointsFolded = "primeload.endpoints_folded"
)

// RequestRate is the rate of Requests per second over a period.
const RequestRate = "http.request_rate"

// Latency summaries, each read by a statistic (report.SummaryStats):
// "http.response_time.p99".
const (
	// ResponseTime is the latency of every HTTP response.
	ResponseTime = "http.response_time"
	// ScheduleLag is how late arrivals started against their schedule.
	// Artillery does not measure it.
	ScheduleLag = "primeload.schedule_lag"
)

// Artillery's other run-wide summaries, counted over the same events as
// Artillery counts them.
const (
	// SessionLength is a completed virtual user's time from the start of its
	// scenario to the end of its flow; users that failed are not in it, as
	// in Artillery.
	SessionLength = "vusers.session_length"
	// ResponseTime2xx and its siblings are ResponseTime by status class
	// (ResponseTimeClass); a status outside 200 to 599 is in none.
	ResponseTime2xx = ResponseTime + ".2xx"
	ResponseTime3xx = ResponseTime + ".3xx"
	ResponseTime4xx = ResponseTime + ".4xx"
	ResponseTime5xx = ResponseTime + ".5xx"
)

// Artillery's extended HTTP metrics, recorded for every response only under
// config.http.extendedMetrics (ExtendedSummaries). DNS, TCP and TLS are the
// phases of opening the connection the response came over, repeated for
// every response over it, as Artillery reports them.
const (
	// HTTPDNS is resolving the host's name; 0 for an IP address.
	HTTPDNS = "http.dns"
	// HTTPTCP is connecting to the resolved address.
	HTTPTCP = "http.tcp"
	// HTTPTLS is the TLS handshake; recorded for HTTPS responses only.
	HTTPTLS = "http.tls"
	// HTTPTotal is from the request's start to its last body byte, the same
	// span as ResponseTime here (Artillery's response_time ends at the
	// first byte).
	HTTPTotal = "http.total"
)

// Error counters, one per cause, named as Node names the error so Artillery
// users recognise them. Every error the runner counts is one of these.
const (
	ErrTimedOut     = ErrorPrefix + "ETIMEDOUT"
	ErrConnRefused  = ErrorPrefix + "ECONNREFUSED"
	ErrConnReset    = ErrorPrefix + "ECONNRESET"
	ErrPipe         = ErrorPrefix + "EPIPE"
	ErrNotFound     = ErrorPrefix + "ENOTFOUND"
	ErrHostUnreach  = ErrorPrefix + "EHOSTUNREACH"
	ErrNetUnreach   = ErrorPrefix + "ENETUNREACH"
	ErrProto        = ErrorPrefix + "EPROTO"
	ErrCert         = ErrorPrefix + "ECERT"
	ErrRedirectLoop = ErrorPrefix + "ERR_TOO_MANY_REDIRECTS" // past a step's maxRedirects: got's MaxRedirectsError, by the code Artillery counts
	ErrBodyTooLarge = ErrorPrefix + "EBODYTOOLARGE"
	// ErrDecodedTooLarge: a gzip body past runner.Options.MaxDecodedBytes
	// once decompressed.
	ErrDecodedTooLarge = ErrorPrefix + "EDECODEDTOOLARGE"
	// ErrInvalidURL: the URL rendered without a host, so nothing was sent.
	ErrInvalidURL = ErrorPrefix + "EINVALIDURL"
	ErrUnknown    = ErrorPrefix + "EUNKNOWN"
	// ErrProxy: the HTTP_PROXY or HTTPS_PROXY proxy refused the tunnel
	// (Artillery counts it by its message, "Bad response: 407").
	ErrProxy = ErrorPrefix + "EPROXY"
	// ErrInvalidThink: a templated think rendered to something that is
	// not a duration; Artillery throws "Invalid think time".
	ErrInvalidThink = ErrorPrefix + "EINVALIDTHINK"
	// ErrNoEnt: a formData fromFile that does not open (not there, or
	// outside the script's folder), named as Node names a missing file.
	ErrNoEnt = ErrorPrefix + "ENOENT"
	// ErrCaptureMiss is a strict capture or match that found nothing, named
	// as Artillery names it.
	ErrCaptureMiss = ErrorPrefix + "Failed capture or match"
)

// Family prefixes: a name in a family is its prefix and a variable part.
const (
	// CodePrefix + status code counts responses by status: "http.codes.200".
	CodePrefix = "http.codes."
	// ErrorPrefix starts every error counter.
	ErrorPrefix = "errors."
	// ErrExpectPrefix + a request's name is the error of a failed
	// expectation under the expect plugin's reportFailuresAsErrors.
	ErrExpectPrefix = ErrorPrefix + "Failed expectations for request "
	// ExpectPrefix starts the expect plugin's counters.
	ExpectPrefix = "plugins.expect."
	// CreatedByNamePrefix + scenario name counts virtual users started per
	// scenario (CreatedByName).
	CreatedByNamePrefix = "vusers.created_by_name."
	// EndpointPrefix starts every per-endpoint metric (Artillery's
	// metrics-by-endpoint plugin).
	EndpointPrefix = "plugins.metrics-by-endpoint."
	// EndpointResponseTime + endpoint is an endpoint's latency summary.
	EndpointResponseTime = EndpointPrefix + "response_time."
	// EndpointServerTiming + endpoint summarises the total;dur of the
	// responses' Server-Timing headers, as Artillery's plugin does.
	EndpointServerTiming = EndpointPrefix + "server-timing."
	// EndpointCodes and EndpointErrors follow EndpointPrefix + endpoint + ".":
	// "plugins.metrics-by-endpoint./a.codes.200". The runner records both:
	// codes through Sink.Response, errors through Count (EndpointError).
	EndpointCodes  = "codes."
	EndpointErrors = "errors."
)

// DefaultNamespace is Artillery's metricsNamespace when a script sets none:
// EndpointPrefix without its dot.
const DefaultNamespace = "plugins.metrics-by-endpoint"

// InNamespace renames a per-endpoint metric for a script whose
// metricsNamespace is ns, as Artillery's plugin names it (ns + "." + the
// rest); other names, and every name when ns is "" or the default, are
// unchanged. Primeload records and reads the default names only; files and
// ensure expressions carry the namespaced ones.
func InNamespace(name, ns string) string {
	if ns == "" || ns == DefaultNamespace {
		return name
	}
	if rest, ok := strings.CutPrefix(name, EndpointPrefix); ok {
		return ns + "." + rest
	}
	return name
}

// NamespaceClash returns a built-in metric name or family that a
// metricsNamespace of ns would be read as, or "": under "http" an endpoint
// "2xx" would read as http.response_time.2xx, so such a namespace cannot be
// told apart from the run-wide names in a report or an ensure expression.
func NamespaceClash(ns string) string {
	families := []string{CodePrefix, ErrorPrefix, ErrExpectPrefix, ExpectPrefix, CreatedByNamePrefix}
	for _, name := range slices.Concat(Counters(), Rates(), Summaries(), ExtendedSummaries(), Errors(), families) {
		if strings.HasPrefix(name, ns+".") || strings.HasPrefix(ns+".", name) && strings.HasSuffix(name, ".") {
			return name
		}
	}
	return ""
}

// FromNamespace is InNamespace's inverse: a name under ns + "." becomes the
// default per-endpoint name; other names are unchanged.
func FromNamespace(name, ns string) string {
	if ns == "" || ns == DefaultNamespace {
		return name
	}
	if rest, ok := strings.CutPrefix(name, ns+"."); ok {
		return EndpointPrefix + rest
	}
	return name
}

// OtherEndpoint is the endpoint every response is recorded under once a run
// has its maximum of distinct endpoints (MaxEndpoints unless raised), so that
// a URL with a random part cannot grow memory without bound.
const OtherEndpoint = "(other)"

// MaxEndpoints is how many distinct endpoints a run records separately
// unless raised (run --max-endpoints). Each costs about 0.1 MiB of
// histograms and counters (report's BenchmarkEndpointMemory).
const MaxEndpoints = 1000

// Counters lists every counter with a fixed name. Families (status codes,
// per-endpoint metrics) are matched by their prefixes.
func Counters() []string {
	return []string{
		Requests, Responses, Downloaded,
		VUsersCreated, VUsersCompleted, VUsersFailed, VUsersSkipped,
		ExpectOK, ExpectFailed, Clamped, EndpointsFolded,
	}
}

// Rates lists every rate.
func Rates() []string { return []string{RequestRate} }

// Summaries lists every run-wide latency summary.
func Summaries() []string {
	return []string{ResponseTime, ScheduleLag, SessionLength, ResponseTime2xx, ResponseTime3xx, ResponseTime4xx, ResponseTime5xx}
}

// ExtendedSummaries lists the summaries config.http.extendedMetrics adds;
// a run without it has none of them.
func ExtendedSummaries() []string { return []string{HTTPDNS, HTTPTCP, HTTPTLS, HTTPTotal} }

// ResponseTimeClass names the summary of status's class, as Artillery's
// HTTP engine does: "http.response_time.2xx" for 200 to 299, up to 5xx;
// "" for a status outside 200 to 599.
func ResponseTimeClass(status int) string {
	switch {
	case status >= 200 && status < 300:
		return ResponseTime2xx
	case status >= 300 && status < 400:
		return ResponseTime3xx
	case status >= 400 && status < 500:
		return ResponseTime4xx
	case status >= 500 && status < 600:
		return ResponseTime5xx
	}
	return ""
}

// CreatedByName names the counter of virtual users started in the
// scenario with label (ScenarioLabel): "vusers.created_by_name.0".
func CreatedByName(label string) string { return CreatedByNamePrefix + label }

// ScenarioLabel is how per-scenario metrics name scenario index: by its
// name, or by its index when it has none, as Artillery does.
func ScenarioLabel(name string, index int) string {
	if name == "" {
		return strconv.Itoa(index)
	}
	return name
}

// Errors lists every error counter the runner records.
func Errors() []string {
	return []string{
		ErrTimedOut, ErrConnRefused, ErrConnReset, ErrPipe, ErrNotFound, ErrHostUnreach, ErrNetUnreach,
		ErrProto, ErrCert, ErrRedirectLoop, ErrBodyTooLarge, ErrDecodedTooLarge, ErrInvalidURL, ErrUnknown, ErrCaptureMiss,
		ErrProxy, ErrInvalidThink, ErrNoEnt,
	}
}

// ExpectTypes are the checks of Artillery's expect plugin, each the last
// part of its ExpectCheck counters; headerEquals counts under
// "header <name> values equals" (ExpectHeaderType).
func ExpectTypes() []string {
	return []string{"statusCode", "notStatusCode", "contentType", "hasProperty", "notHasProperty",
		"hasHeader", "headerEquals", "equals", "matchesRegexp", "cdnHit"}
}

// IsExpectType reports whether typ is the last part of an ExpectCheck
// counter: one of ExpectTypes other than headerEquals, or a headerEquals
// type ("header x-cache values equals").
func IsExpectType(typ string) bool {
	if name, ok := strings.CutPrefix(typ, "header "); ok {
		name, ok = strings.CutSuffix(name, " values equals")
		return ok && name != ""
	}
	return typ != "headerEquals" && slices.Contains(ExpectTypes(), typ)
}

// ExpectHeaderType is headerEquals' type for header name.
func ExpectHeaderType(name string) string { return "header " + name + " values equals" }

// ExpectCheck names the counter of one expectation type's outcomes, as
// the expect plugin names it: "plugins.expect.ok.statusCode",
// "plugins.expect.failed.contentType".
func ExpectCheck(ok bool, typ string) string {
	if ok {
		return ExpectOK + "." + typ
	}
	return ExpectFailed + "." + typ
}

// Code names the counter of responses with status code: "http.codes.200".
func Code(status int) string { return CodePrefix + strconv.Itoa(status) }

// EndpointLatency names an endpoint's latency summary.
func EndpointLatency(endpoint string) string { return EndpointResponseTime + endpoint }

// EndpointServerTimingOf names an endpoint's Server-Timing summary.
func EndpointServerTimingOf(endpoint string) string { return EndpointServerTiming + endpoint }

// EndpointCodePrefix starts the names of an endpoint's status code counters.
func EndpointCodePrefix(endpoint string) string {
	return EndpointPrefix + endpoint + "." + EndpointCodes
}

// EndpointCode names the counter of an endpoint's responses with status code.
func EndpointCode(endpoint string, status int) string {
	return EndpointCodePrefix(endpoint) + strconv.Itoa(status)
}

// EndpointError names an endpoint's counter of an error counter's cause,
// as Artillery's plugin does: EndpointError("/a", "errors.ETIMEDOUT") is
// "plugins.metrics-by-endpoint./a.errors.ETIMEDOUT".
func EndpointError(endpoint, errorCounter string) string {
	return EndpointPrefix + endpoint + "." + errorCounter
}

// IsStatusCode reports whether s is a 3-digit HTTP status code, the last
// part of a status code counter.
func IsStatusCode(s string) bool {
	return len(s) == 3 && s[0] >= '1' && s[0] <= '5' && isDigit(s[1]) && isDigit(s[2])
}

func isDigit(b byte) bool { return '0' <= b && b <= '9' }
