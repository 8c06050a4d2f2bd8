// Package report records a run's measurements (sharded HdrHistograms and
// counters folded into periods), and reads, writes, merges and prints
// primeload's JSON report, which keeps the shape of Artillery's --output
// report so tools that read those read ours.
package report

import (
	"crypto/sha256"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/primeload/primeload/scenario"
)

// Report is a run's complete result: the JSON written by --output and read
// by `primeload report`.
type Report struct {
	// Aggregate covers the whole run; Intermediate holds one entry per period.
	Aggregate    *Metrics   `json:"aggregate"`
	Intermediate []*Metrics `json:"intermediate"`
	// Expected compares the arrivals each phase should have created with what happened.
	Expected []PhaseArrivals `json:"expected"`
	// ScheduleLag repeats the aggregate's ScheduleLag summary so readers need not dig.
	ScheduleLag *Summary `json:"scheduleLag,omitempty"`
	// Lag is the schedule lag as the lag rule judged it (LagRule); nil
	// until the run was judged.
	Lag *Lag `json:"lag,omitempty"`
	// MissedArrivals counts arrivals the generator could not start at all.
	MissedArrivals int64      `json:"missedArrivals"`
	Target         string     `json:"target"`
	Script         ScriptInfo `json:"script"`
	Environment    string     `json:"environment,omitempty"`
	// Segment is "i/n" when this report is one part of a distributed run.
	Segment   string    `json:"segment,omitempty"`
	StartedAt time.Time `json:"startedAt"`
	EndedAt   time.Time `json:"endedAt"`
	// Aborted is set when the run was interrupted before its schedule ended.
	Aborted bool   `json:"aborted"`
	Version string `json:"version"`
	// PeriodLength is the intended length of intermediate periods in ms;
	// Merge aligns periods on multiples of it.
	PeriodLength int64 `json:"periodLength"`
	// Failures counts each kind of failure per endpoint with a few samples
	// in words, most frequent first.
	Failures []Failure `json:"failures,omitempty"`
	// SLO holds the evaluated service level objectives; filled by report/slo.
	SLO []SLO `json:"slo,omitempty"`
	// Passed is nil until SLOs were evaluated, then whether all strict ones
	// held over a complete, trusted run: false for an interrupted or
	// untrusted one, whose SLO results still say what each measured.
	Passed *bool `json:"passed,omitempty"`
	// Verdict is "" until the run was judged, then what its exit code says.
	Verdict Verdict `json:"verdict,omitempty"`
	// Saturated names the sums Merge held at the int64 maximum instead of
	// letting them wrap: those figures are lower bounds.
	Saturated []string `json:"saturated,omitempty"`
	// RemoteWrite says how pushing live metrics went; nil without a push.
	RemoteWrite *RemoteWrite `json:"remoteWrite,omitempty"`
	// MetricsNamespace is the script's metricsNamespace when it is not
	// Artillery's default: the file names per-endpoint metrics under it, as
	// Artillery's does, while a decoded Report (and everything reading one)
	// holds the default names (metric.InNamespace).
	MetricsNamespace string `json:"metricsNamespace,omitempty"`
	// Series is the fine series for time charts (series.go): a point a
	// second however long the periods, absent from reports of tools that
	// do not write one and from a run's checkpoint.
	Series *Series `json:"primeloadSeries,omitempty"`

	// spilled are the periods before Intermediate's, left on disk (Spill).
	spilled *SpilledPeriods
}

// Spill makes s the report's first periods, before those in Intermediate
// (which then holds only periods kept in memory). EachPeriod, Encode and
// the writers that go through them read s whenever they run; Close
// releases it.
func (r *Report) Spill(s *SpilledPeriods) { r.spilled = s }

// EachPeriod passes every intermediate period, in order, to each: the
// spilled ones, read from disk one at a time, then Intermediate's. A period
// is each's to read only: an in-memory one is the report's own.
func (r *Report) EachPeriod(each func(*Metrics) error) error {
	if r.spilled != nil {
		if err := r.spilled.Each(each); err != nil {
			return err
		}
	}
	for _, m := range r.Intermediate {
		if err := each(m); err != nil {
			return err
		}
	}
	return nil
}

// Periods is how many intermediate periods EachPeriod passes on.
func (r *Report) Periods() int {
	n := len(r.Intermediate)
	if r.spilled != nil {
		n += r.spilled.Len()
	}
	return n
}

// Close releases the spilled periods, if any; the report keeps the rest.
func (r *Report) Close() error {
	if r.spilled == nil {
		return nil
	}
	err := r.spilled.Close()
	r.spilled = nil
	return err
}

// RemoteWrite counts the pushes of live metrics (run --remote-write). A
// receiver that is slow or down is counted here, never waited for.
type RemoteWrite struct {
	// URL is the receiver, without credentials.
	URL string `json:"url"`
	// Sent counts pushes the receiver accepted.
	Sent int64 `json:"sent"`
	// Failed counts pushes that failed: refused, timed out, or not 2xx.
	Failed int64 `json:"failed"`
	// Dropped counts snapshots never sent: the queue was full, or the end
	// came before their turn.
	Dropped int64 `json:"dropped"`
	// LastError is the last failure's text.
	LastError string `json:"lastError,omitempty"`
}

// PhaseArrivals is one phase's expected versus actual arrivals.
type PhaseArrivals struct {
	Name     string `json:"name"`
	Expected int64  `json:"expected"`
	Created  int64  `json:"created"`
	Skipped  int64  `json:"skipped"`
	// VUsers is set for a closed-model phase: its users, which repeat the
	// flow; Created then counts their iterations and Expected is 0.
	VUsers int64 `json:"vusers,omitempty"`
	// Start is when the phase began by the schedule, in Unix milliseconds
	// as periods are; 0 for a phase not begun (or a report from before).
	Start int64 `json:"start,omitempty"`
}

// ScriptInfo identifies the script a report came from and keeps its SLOs so
// they can be evaluated again later without the script file.
type ScriptInfo struct {
	Path string `json:"path"`
	// Digest is a hash of the script's content (e.g. "sha256:..."); reports
	// are merged only when their digests (or, lacking them, paths) agree.
	Digest    string   `json:"digest,omitempty"`
	Endpoints []string `json:"endpoints,omitempty"`
	// Scenarios names the script's scenarios as vusers.created_by_name
	// does, so a re-check knows them.
	Scenarios []string `json:"scenarios,omitempty"`
	// EndpointMethods lists each endpoint's HTTP methods: Artillery's
	// endpoint names leave the method out, people reading a report need it.
	EndpointMethods map[string][]string `json:"endpointMethods,omitempty"`
	// Ensure is the script's ensure section, the SLOs a re-check evaluates.
	Ensure scenario.Ensure `json:"ensure"`
}

// EndpointLabel is an endpoint as people read it: its methods before its
// name ("GET /items"), or the name alone when the report does not know them.
func (s ScriptInfo) EndpointLabel(endpoint string) string {
	ms := s.EndpointMethods[endpoint]
	if len(ms) == 0 {
		return endpoint
	}
	return strings.Join(ms, "|") + " " + endpoint
}

// ScriptDigest is the Digest of a script with the given content. Merge
// compares digests, so parts of a distributed run whose script sits at
// different paths on each machine still merge, and edited scripts do not.
func ScriptDigest(content []byte) string {
	return fmt.Sprintf("sha256:%x", sha256.Sum256(content))
}

// Metrics is one period (or the whole run) in Artillery's shape: counters,
// rates and summaries, plus the lossless histograms they were computed from.
type Metrics struct {
	Counters map[string]int64   `json:"counters"`
	Rates    map[string]float64 `json:"rates"`
	// Times are milliseconds since the Unix epoch. The collector does not
	// stamp each sample (that would cost a clock read per request), so the
	// first and last metric times are the period's bounds.
	FirstCounterAt   int64 `json:"firstCounterAt,omitempty"`
	LastCounterAt    int64 `json:"lastCounterAt,omitempty"`
	FirstHistogramAt int64 `json:"firstHistogramAt,omitempty"`
	LastHistogramAt  int64 `json:"lastHistogramAt,omitempty"`
	FirstMetricAt    int64 `json:"firstMetricAt"`
	LastMetricAt     int64 `json:"lastMetricAt"`
	// Period is the start of the period in ms since the epoch, as Artillery has it.
	Period int64 `json:"period"`
	// PeriodEnd is the end of the period in ms since the epoch; rates divide by End-Period.
	PeriodEnd int64              `json:"periodEnd"`
	Summaries map[string]Summary `json:"summaries"`
	// Histograms repeats Summaries, as Artillery's report does, for its readers.
	Histograms map[string]Summary `json:"histograms"`
	// HDR holds each summary's HdrHistogram (values in µs) in the standard
	// compressed base64 form, so periods and reports merge without loss.
	HDR map[string]string `json:"hdr"`
}

// Summary describes a latency distribution in milliseconds with microsecond precision.
type Summary struct {
	Min    float64 `json:"min"`
	Max    float64 `json:"max"`
	Count  int64   `json:"count"`
	Mean   float64 `json:"mean"`
	P50    float64 `json:"p50"`
	Median float64 `json:"median"`
	P75    float64 `json:"p75"`
	P90    float64 `json:"p90"`
	P95    float64 `json:"p95"`
	P99    float64 `json:"p99"`
	P999   float64 `json:"p999"`
}

// SummaryStats lists the statistics a summary metric is addressed by, as in
// "http.response_time.p99".
func SummaryStats() []string {
	return []string{"min", "max", "count", "mean", "p50", "median", "p75", "p90", "p95", "p99", "p999"}
}

// Stat returns one statistic of the summary by its name in SummaryStats.
func (s Summary) Stat(name string) (float64, bool) {
	switch name {
	case "min":
		return s.Min, true
	case "max":
		return s.Max, true
	case "count":
		return float64(s.Count), true
	case "mean":
		return s.Mean, true
	case "p50":
		return s.P50, true
	case "median":
		return s.Median, true
	case "p75":
		return s.P75, true
	case "p90":
		return s.P90, true
	case "p95":
		return s.P95, true
	case "p99":
		return s.P99, true
	case "p999":
		return s.P999, true
	}
	return math.NaN(), false
}

// Lookup returns the value of a flat metric name: a counter
// ("http.codes.500"), a rate ("http.request_rate") or a summary statistic
// ("http.response_time.p99"). A counter that never counted is absent.
func (m *Metrics) Lookup(name string) (float64, bool) {
	if v, ok := m.Counters[name]; ok {
		return float64(v), true
	}
	if v, ok := m.Rates[name]; ok {
		return v, true
	}
	// Endpoint labels may contain dots, so the statistic is after the last one.
	i := strings.LastIndexByte(name, '.')
	if i < 0 {
		return 0, false
	}
	s, ok := m.Summaries[name[:i]]
	if !ok {
		return 0, false
	}
	return s.Stat(name[i+1:])
}

// Names lists every flat name Lookup answers for, sorted.
func (m *Metrics) Names() []string {
	var names []string
	for k := range m.Counters {
		names = append(names, k)
	}
	for k := range m.Rates {
		names = append(names, k)
	}
	for k := range m.Summaries {
		for _, s := range SummaryStats() {
			names = append(names, k+"."+s)
		}
	}
	slices.Sort(names)
	return names
}

// Start returns the period's start time.
func (m *Metrics) Start() time.Time { return time.UnixMilli(m.Period) }

// End returns the period's end time.
func (m *Metrics) End() time.Time { return time.UnixMilli(m.PeriodEnd) }

// renamed returns m with its per-endpoint names moved into namespace ns by
// rename (metric.InNamespace or metric.FromNamespace); m itself is not
// changed, since it may be the collector's own.
func (m *Metrics) renamed(ns string, rename func(name, ns string) string) *Metrics {
	if m == nil || ns == "" {
		return m
	}
	out := *m
	out.Counters = renameKeys(m.Counters, ns, rename)
	out.Rates = renameKeys(m.Rates, ns, rename)
	out.Summaries = renameKeys(m.Summaries, ns, rename)
	out.Histograms = renameKeys(m.Histograms, ns, rename)
	out.HDR = renameKeys(m.HDR, ns, rename)
	return &out
}

func renameKeys[V any](src map[string]V, ns string, rename func(name, ns string) string) map[string]V {
	if src == nil {
		return nil
	}
	dst := make(map[string]V, len(src))
	for k, v := range src {
		dst[rename(k, ns)] = v
	}
	return dst
}
