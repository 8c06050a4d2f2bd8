// Package runner turns a compiled script into load: a pure arrival schedule,
// virtual users that run flows, HTTP execution and captures. It records
// measurements through a Recorder and never formats output.
package runner

import "time"

// Recorder receives every measurement of a run. The report package implements it.
type Recorder interface {
	// Sink returns the sink for id: 0 for the scheduling goroutine alone,
	// 1 and up for virtual users, consecutive for consecutive arrivals. The
	// runner takes no lock around a sink and many goroutines may share one
	// id, so a Sink is safe for concurrent use; a Recorder spreads ids over
	// its own shards, each with one lock, so that users rarely contend and
	// a record takes exactly one lock.
	Sink(id int) Sink
}

// Sink records measurements; it is safe for concurrent use.
type Sink interface {
	// Response records one completed HTTP exchange: latency from the hand-off
	// to the transport to the last body byte, the status code and the body
	// bytes read. endpoint is the request's per-endpoint name
	// (scenario.Request.Endpoint, or its rendered URL's under
	// groupDynamicURLs: false); "" leaves it out of per-endpoint metrics.
	// It is the only
	// channel for http.responses, http.codes.<status> and the exchange's
	// share of http.downloaded_bytes: the runner never Counts those for an
	// exchange it passes here, so a Sink derives them from Response alone.
	Response(endpoint string, latency time.Duration, status int, downloaded int64)
	// Count adds delta to a counter named as Artillery names it
	// ("http.requests", "vusers.created", "errors.ECONNREFUSED", ...).
	// The runner never Counts http.downloaded_bytes: each response it
	// read comes through Response (a followed redirect's with 0 bytes, as
	// Artillery counts none for it); a Sink adds any it is given to what
	// Response carried.
	Count(name string, delta int64)
	// Lag records how late an arrival started against its scheduled time.
	Lag(d time.Duration)
	// Session records a completed virtual user's session length, from the
	// start of its scenario to the end of its flow (Artillery's
	// vusers.session_length, which leaves failed users out).
	Session(d time.Duration)
	// ServerTiming records the total a response's Server-Timing header
	// reported (total;dur=N, in ms) for endpoint, never "" (Artillery's
	// plugins.metrics-by-endpoint.server-timing.<endpoint>).
	ServerTiming(endpoint string, d time.Duration)
	// Timings records how one response's time divides, right after its
	// Response and only under config.http.extendedMetrics (Artillery's
	// http.dns, http.tcp, http.tls and http.total).
	Timings(t Timings)
}

// Timings is what config.http.extendedMetrics records of one response.
type Timings struct {
	// DNS, TCP and TLS are how long resolving the host, connecting to it
	// and the TLS handshake took when the connection the response came
	// over was opened: a kept-alive connection's responses repeat them, as
	// Artillery's do. Through a proxy, DNS and TCP are the proxy's.
	DNS, TCP, TLS time.Duration
	// HTTPS is set when the response came over TLS; TLS means nothing
	// otherwise.
	HTTPS bool
	// Total is the response's latency, as Response has it.
	Total time.Duration
}
