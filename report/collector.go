package report

import (
	"fmt"
	"maps"
	"math"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"
	"github.com/primeload/primeload/report/metric"
	"github.com/primeload/primeload/runner"
)

var _ runner.Recorder = (*Collector)(nil)

// maxShards bounds memory: each shard holds two windows with dense run-wide
// histograms (139 KB each) and a packed histogram per endpoint, and beyond a
// few shards per core contention is already gone.
const maxShards = 64

// Info is what a Collector stamps into every report it builds.
type Info struct {
	Target      string
	Script      ScriptInfo
	Environment string
	Segment     string
	Version     string
	// Period is the intended length of intermediate periods (--period).
	Period time.Duration
	// DropPeriods stops the collector keeping the periods it flushes: the
	// caller keeps them (in a Checkpoint), so memory holds the aggregate and
	// the open period however long the run, and Report's Intermediate is empty.
	DropPeriods bool
	// MaxEndpoints bounds the distinct endpoints recorded separately; the
	// rest are recorded as metric.OtherEndpoint. 0 means metric.MaxEndpoints.
	MaxEndpoints int
	// MetricsNamespace is the script's metricsNamespace ("" for Artillery's
	// default), carried into the Report for its files.
	MetricsNamespace string
}

// Collector implements runner.Recorder. Its shards are the only sharding of
// a run: the runner takes no lock of its own, virtual users record straight
// into a shard, and each record takes that shard's lock once. Flush, called
// once per period, folds the shards into an intermediate period and the
// aggregate, and computes every derived number once.
type Collector struct {
	info     Info
	start    time.Time
	shards   []shard
	failures *failures
	eps      endpointSet

	flushMu   sync.Mutex // one Flush at a time; guards everything below
	enc       histEncoder
	lastFlush time.Time
	period    *window // scratch: the shards of one period merged
	agg       *window
	// aggM is agg encoded as of aggAt; encoding the run-wide histograms
	// is most of a period's cost, so it happens when someone reads the
	// aggregate, not at every Flush (a run with 100 ms periods would
	// spend a tenth of a core on it).
	aggM  *Metrics
	aggAt time.Time
	inter []*Metrics

	liveMu   sync.Mutex
	lastP99  time.Duration
	lastRate float64

	// The fine series (series.go), advanced by Tick; nil until the first.
	seriesMu sync.Mutex
	series   *Series
	tickAt   time.Time // where the open step began
	tickTot  totals    // the running totals at tickAt
}

// NewCollector returns a Collector for a run that starts at start.
func NewCollector(start time.Time, info Info) *Collector {
	// At least one shard for the scheduler and two for virtual users.
	n := min(max(4*runtime.GOMAXPROCS(0), 3), maxShards)
	c := &Collector{
		info:      info,
		start:     start,
		shards:    make([]shard, n),
		lastFlush: start,
		period:    newFold(),
		agg:       newFold(),
		failures:  newFailures(info.Script.Endpoints),
	}
	c.eps.limit = info.MaxEndpoints
	if c.eps.limit <= 0 {
		c.eps.limit = metric.MaxEndpoints
	}
	c.eps.known.Store(&map[string]struct{}{})
	for i := range c.shards {
		c.shards[i].cur = newWindow()
		c.shards[i].spare = newWindow()
		c.shards[i].eps = &c.eps
	}
	return c
}

// Sink returns the sink for id. Id 0, the runner's scheduler, has shard 0 to
// itself, so no virtual user holds the lock it records schedule lag under (a
// wait there would be measured as lag); the other ids are dealt round robin
// over the remaining shards. Every sink is safe for concurrent use.
func (c *Collector) Sink(id int) runner.Sink {
	if id == 0 {
		return &c.shards[0]
	}
	return &c.shards[1+uint(id-1)%uint(len(c.shards)-1)]
}

// NextFlush returns the wall-clock period boundary after now. Flushing on
// these boundaries makes the periods of separate generators line up, so
// their reports merge period by period.
func (c *Collector) NextFlush(now time.Time) time.Time {
	p := c.info.Period
	if p <= 0 {
		p = 10 * time.Second
	}
	return now.Truncate(p).Add(p)
}

// Flush closes the period that ends at now, folds it into the aggregate and
// returns it. Periods with nothing recorded are still returned (and kept,
// unless Info.DropPeriods), so a stalled target shows as empty periods
// rather than a gap.
func (c *Collector) Flush(now time.Time) (*Metrics, error) {
	c.flushMu.Lock()
	defer c.flushMu.Unlock()
	c.drain()
	start := c.lastFlush
	if now.Before(start) {
		now = start
	}
	m, err := c.period.metrics(start, now, &c.enc)
	if err != nil {
		return nil, fmt.Errorf("close period at %s: %w", now.Format(time.RFC3339), err)
	}
	c.agg.add(c.period)
	c.period.reset()
	if !c.info.DropPeriods {
		c.inter = append(c.inter, m)
	}
	c.lastFlush = now

	c.liveMu.Lock()
	c.lastP99 = time.Duration(m.Summaries[metric.ResponseTime].P99 * float64(time.Millisecond))
	c.lastRate = m.Rates[metric.RequestRate]
	c.liveMu.Unlock()
	return m, nil
}

// drain moves what the shards recorded into the open period. The caller
// holds flushMu.
func (c *Collector) drain() {
	for i := range c.shards {
		s := &c.shards[i]
		s.mu.Lock()
		s.cur, s.spare = s.spare, s.cur
		s.mu.Unlock()
		// spare is now out of reach of every sink: merge it without the lock.
		c.period.add(s.spare)
		s.spare.reset()
	}
}

// Aggregate returns the whole run as of the last Flush, encoding it if a
// Flush came since it was last asked for. It is shared with the collector
// and must not be modified.
func (c *Collector) Aggregate() (*Metrics, error) {
	c.flushMu.Lock()
	defer c.flushMu.Unlock()
	return c.aggregate()
}

// aggregate is Aggregate for a caller holding flushMu.
func (c *Collector) aggregate() (*Metrics, error) {
	if c.aggM != nil && c.aggAt.Equal(c.lastFlush) {
		return c.aggM, nil
	}
	m, err := c.agg.metrics(c.start, c.lastFlush, &c.enc)
	if err != nil {
		return nil, fmt.Errorf("fold the periods into the aggregate: %w", err)
	}
	c.aggM, c.aggAt = m, c.lastFlush
	return m, nil
}

// Report returns the report as of the last Flush. Its Metrics are shared
// with the collector and must not be modified; the caller owns the rest and
// fills in what only it knows (Expected, MissedArrivals, Aborted). Should
// the aggregate fail to encode (Aggregate says why), it is the last one
// that did.
func (c *Collector) Report() *Report {
	r := c.report()
	// The fine series' copy is most of a live render's Report (1.8 ms of
	// an hour's run, BenchmarkReport): made outside flushMu, so a render
	// each second never holds up Flush or Snapshot for it.
	r.Series = c.fineSeries()
	return r
}

// report is Report without the fine series, under flushMu.
func (c *Collector) report() *Report {
	c.flushMu.Lock()
	defer c.flushMu.Unlock()
	if _, err := c.aggregate(); err != nil && c.aggM == nil {
		c.aggM = &Metrics{Counters: map[string]int64{}}
	}
	r := &Report{
		Aggregate:    c.aggM,
		Intermediate: slices.Clone(c.inter),
		Expected:     []PhaseArrivals{},
		Target:       c.info.Target,
		Script:       c.info.Script,
		Environment:  c.info.Environment,
		Segment:      c.info.Segment,
		StartedAt:    c.start,
		EndedAt:      c.lastFlush,
		Version:      c.info.Version,
		PeriodLength: c.info.Period.Milliseconds(),
		Failures:     c.failures.list(),

		MetricsNamespace: c.info.MetricsNamespace,
	}
	if s, ok := c.aggM.Summaries[metric.ScheduleLag]; ok {
		r.ScheduleLag = &s
	}
	if r.Intermediate == nil {
		r.Intermediate = []*Metrics{}
	}
	return r
}

// Live is a cheap view of the run for progress bars.
type Live struct {
	Requests     int64
	Responses    int64
	Errors       int64 // sum of every errors.* counter
	VUsersActive int64 // created minus completed and failed
	// LastP99 and LastRate describe the last closed period (0 before the first).
	LastP99  time.Duration
	LastRate float64
}

// Live sums the shards' running totals; it takes no lock a virtual user waits on.
func (c *Collector) Live() Live {
	var t totals
	for i := range c.shards {
		t.add(&c.shards[i])
	}
	l := Live{Requests: t.requests, Responses: t.responses, Errors: t.errors, VUsersActive: t.created - t.ended}
	c.liveMu.Lock()
	l.LastP99, l.LastRate = c.lastP99, c.lastRate
	c.liveMu.Unlock()
	return l
}

// Tick closes the fine series' open step at now (the caller ticks on
// whole seconds: SeriesStep) and opens the next. It takes each shard's
// lock once, for as long as summing its sketch takes, and none of Flush's.
func (c *Collector) Tick(now time.Time) {
	c.seriesMu.Lock()
	defer c.seriesMu.Unlock()
	if c.series == nil {
		c.series = &Series{Step: SeriesStep.Milliseconds()}
		c.tickAt = c.start
	}
	if now.Before(c.tickAt) {
		now = c.tickAt
	}
	acc := make([]int64, sketchBuckets)
	var tot totals
	for i := range c.shards {
		s := &c.shards[i]
		s.mu.Lock()
		s.sec.drainInto(acc)
		s.mu.Unlock()
		tot.add(s)
	}
	last := c.tickTot
	c.series.append(SeriesPoint{
		Time:      c.tickAt.UnixMilli(),
		Length:    now.Sub(c.tickAt).Milliseconds(),
		Requests:  tot.requests - last.requests,
		Responses: tot.responses - last.responses,
		Errors:    tot.errors - last.errors,
		Ended:     tot.ended - last.ended,
		Active:    tot.created - tot.ended,
		Latency:   sketchOf(acc),
	})
	c.tickAt, c.tickTot = now, tot
}

// fineSeries returns a copy of the fine series, nil if Tick was never called.
func (c *Collector) fineSeries() *Series {
	c.seriesMu.Lock()
	defer c.seriesMu.Unlock()
	return c.series.clone()
}

// totals are the shards' running totals summed.
type totals struct{ requests, responses, errors, created, ended int64 }

func (t *totals) add(s *shard) {
	t.requests += s.requests.Load()
	t.responses += s.responses.Load()
	t.errors += s.errors.Load()
	t.created += s.vcreated.Load()
	t.ended += s.vended.Load()
}

// shard is the recording state of the worker slots mapped to it.
type shard struct {
	mu    sync.Mutex
	cur   *window      // guarded by mu
	spare *window      // touched only by Flush
	sec   secondSketch // the fine series' open step; guarded by mu
	eps   *endpointSet

	// Running totals for Live, never reset.
	requests, responses, errors, vcreated, vended atomic.Int64
	_                                             [64]byte // keeps neighbouring shards off this cache line
}

// Response records one HTTP exchange without allocating once its endpoint
// and status have been seen in the period.
func (s *shard) Response(endpoint string, latency time.Duration, status int, downloaded int64) {
	us, clamped := micros(latency)
	s.mu.Lock()
	w := s.cur
	w.responses++
	w.downloaded += downloaded
	if clamped {
		w.clamped++
	}
	w.codes[status]++
	w.rt.rec.RecordValue(us) // in range after micros
	s.sec.record(us)
	if c := statusClass(status); c >= 0 {
		w.byClass[c].RecordValue(us)
	}
	if endpoint != "" { // "" is a request left out of per-endpoint metrics
		e := w.ep[endpoint]
		if e == nil || endpoint == metric.OtherEndpoint {
			e = w.endpoint(s.eps, endpoint)
		}
		e.codes[status]++
		e.h.RecordValue(us)
	}
	s.mu.Unlock()
	s.responses.Add(1)
}

// Count adds delta to a counter.
func (s *shard) Count(name string, delta int64) {
	s.mu.Lock()
	s.cur.counters[name] += delta
	s.mu.Unlock()
	switch {
	case name == metric.Requests:
		s.requests.Add(delta)
	case name == metric.VUsersCreated:
		s.vcreated.Add(delta)
	case name == metric.VUsersCompleted || name == metric.VUsersFailed:
		s.vended.Add(delta)
	case strings.HasPrefix(name, metric.ErrorPrefix):
		s.errors.Add(delta)
	}
}

// Lag records how late an arrival started.
func (s *shard) Lag(d time.Duration) {
	if d < 0 {
		d = 0 // early is on time: the schedule, not the generator, decided
	}
	s.record(d, func(w *window) recorder { return w.lag.rec })
}

// ServerTiming records the total of an endpoint's Server-Timing header.
func (s *shard) ServerTiming(endpoint string, d time.Duration) {
	us, clamped := micros(d)
	s.mu.Lock()
	w := s.cur
	if clamped {
		w.clamped++
	}
	e := w.ep[endpoint]
	if e == nil {
		// Response, which came first, counted any fold already.
		if !s.eps.admit(endpoint) {
			endpoint = metric.OtherEndpoint
		}
		if e = w.ep[endpoint]; e == nil {
			e = newEndpointStats()
			w.ep[endpoint] = e
		}
	}
	if e.st == nil {
		e.st = newPacked()
	}
	_ = e.st.RecordValue(us) // in range after micros
	s.mu.Unlock()
}

// Session records a completed virtual user's session length.
func (s *shard) Session(d time.Duration) {
	s.record(d, func(w *window) recorder { return w.session })
}

// recorder is a histogram, dense or packed, as a shard records into it.
type recorder interface{ RecordValue(v int64) error }

// record adds d to the histogram of the open window that pick chooses,
// counting a clamped value.
func (s *shard) record(d time.Duration, pick func(*window) recorder) {
	us, clamped := micros(d)
	s.mu.Lock()
	if clamped {
		s.cur.clamped++
	}
	_ = pick(s.cur).RecordValue(us) // in range after micros
	s.mu.Unlock()
}

// statusClasses counts the status classes that have a latency summary of
// their own, 2xx to 5xx.
const statusClasses = 4

// statusClass is the index of status's class in window.byClass, or -1 for
// a status outside 200 to 599 (metric.ResponseTimeClass).
func statusClass(status int) int {
	if status < 200 || status >= 600 {
		return -1
	}
	return status/100 - 2
}

// endpointSet is the run's distinct endpoints, shared by every shard, and
// their bound. A shard asks it only when its window first sees a name, so the
// steady recording path never touches it.
type endpointSet struct {
	limit int
	// known is replaced whole, never changed, so it is read without a lock.
	known atomic.Pointer[map[string]struct{}]
	full  atomic.Bool
	mu    sync.Mutex // serialises additions
}

// admit reports whether endpoint is recorded under its own name: it already
// is, or the run has fewer than limit endpoints and it becomes one. Once the
// run is full, a new name is answered without a lock.
func (s *endpointSet) admit(endpoint string) bool {
	if _, ok := (*s.known.Load())[endpoint]; ok {
		return true
	}
	if s.full.Load() {
		return false
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	known := *s.known.Load()
	if _, ok := known[endpoint]; ok {
		return true
	}
	if len(known) >= s.limit {
		s.full.Store(true)
		return false
	}
	// Copying is O(endpoints) per new endpoint, bounded by limit, once per run.
	next := maps.Clone(known)
	next[endpoint] = struct{}{}
	s.known.Store(&next)
	return true
}

// endpoint returns the stats a response of endpoint is recorded into when w
// has none for that name yet: its own, or the run's OtherEndpoint once the
// run has its limit of endpoints. OtherEndpoint itself is never admitted:
// the runner folds rendered URLs into it at the same bound, and every
// response recorded under it counts as folded, whoever folded it.
func (w *window) endpoint(eps *endpointSet, endpoint string) *endpointStats {
	if endpoint == metric.OtherEndpoint || !eps.admit(endpoint) {
		w.folded++
		endpoint = metric.OtherEndpoint
		if e := w.ep[endpoint]; e != nil {
			return e
		}
	}
	e := newEndpointStats()
	w.ep[endpoint] = e
	return e
}

// endpointStats is one endpoint's share of a window. Every shard has one per
// endpoint in each of its two windows, so its histogram is packed: a dense
// one here cost 2.5 MiB per endpoint on 2 cores and 8 times that on 16.
type endpointStats struct {
	h     *hdrhistogram.PackedHistogram
	codes map[int]int64
	// st is the Server-Timing totals, nil until a response carries one.
	st *hdrhistogram.PackedHistogram
}

func newEndpointStats() *endpointStats {
	return &endpointStats{h: newPacked(), codes: map[int]int64{}}
}

// window is what was recorded in one period, kept in forms that need no
// string building on the hot path; names are made at flush.
type window struct {
	counters   map[string]int64
	codes      map[int]int64
	responses  int64
	downloaded int64
	clamped    int64
	folded     int64 // responses recorded under metric.OtherEndpoint
	rt, lag    runHist
	// byClass holds rt by status class (statusClass) and session the
	// completed users' session lengths. They are packed, like the
	// endpoints', since every window of every shard has them: dense they
	// would add 0.7 MB per window.
	byClass [statusClasses]*hdrhistogram.PackedHistogram
	session *hdrhistogram.PackedHistogram
	ep      map[string]*endpointStats
	timings *timingHists // config.http.extendedMetrics; nil until recorded
}

// newWindow is a window a shard records into.
func newWindow() *window {
	w := newFold()
	w.rt, w.lag = runHist{rec: newHist()}, runHist{rec: newHist()}
	return w
}

// newFold is a window shards' windows are folded into: the open period, the
// aggregate.
func newFold() *window {
	w := &window{
		counters: map[string]int64{},
		codes:    map[int]int64{},
		rt:       newRunFold(),
		lag:      newRunFold(),
		session:  newPacked(),
		ep:       map[string]*endpointStats{},
	}
	for i := range w.byClass {
		w.byClass[i] = newPacked()
	}
	return w
}

// runHist is one of a window's run-wide histograms, recorded on every
// response or arrival. A shard records into it dense, at constant time per
// value. A fold keeps it packed: a dense one there cost most of a Flush,
// since merging, summarizing and encoding a dense histogram walk its counts
// up to the largest value (thousands of indices, each with index
// arithmetic), while a packed one's cost is its few hundred populated
// buckets. Exactly one of rec and fold is set.
type runHist struct {
	rec  *hdrhistogram.Histogram
	fold *hdrhistogram.PackedHistogram
	// packing is a fold's scratch for a dense window on its way in.
	packing *hdrhistogram.PackedHistogram
}

func newRunFold() runHist { return runHist{fold: newPacked(), packing: newPacked()} }

// add folds o, dense or packed, into h, a fold; the geometry is the same,
// so nothing is dropped. A dense o is packed first, in one plain pass over
// its counts that only appends: packing it straight into a populated fold
// would insert bucket by bucket, shifting the fold's buckets each time.
// The two sorted bucket lists are then merged in one pass.
func (h runHist) add(o runHist) {
	if o.rec != nil {
		h.packing.Reset()
		h.packing.MergeFrom(o.rec)
		o.fold = h.packing
	}
	h.fold.Merge(o.fold)
}

func (h runHist) reset() {
	if h.rec != nil {
		h.rec.Reset()
		return
	}
	h.fold.Reset()
}

// hist is the histogram for reading.
func (h runHist) hist() hist {
	if h.rec != nil {
		return h.rec
	}
	return h.fold
}

// reset empties w but keeps its map entries and histograms, zeroed, so the
// next period records without allocating.
func (w *window) reset() {
	zero(w.counters)
	zero(w.codes)
	w.responses, w.downloaded, w.clamped, w.folded = 0, 0, 0, 0
	w.rt.reset()
	w.lag.reset()
	w.session.Reset()
	for _, h := range w.byClass {
		h.Reset()
	}
	w.timings.reset()
	for _, e := range w.ep {
		e.h.Reset()
		if e.st != nil {
			e.st.Reset()
		}
		zero(e.codes)
	}
}

// add folds o into w. Both have the same geometry, so nothing is dropped.
func (w *window) add(o *window) {
	addNonZero(w.counters, o.counters)
	addNonZero(w.codes, o.codes)
	w.responses += o.responses
	w.downloaded += o.downloaded
	w.clamped += o.clamped
	w.folded += o.folded
	w.rt.add(o.rt)
	w.lag.add(o.lag)
	w.session.Merge(o.session)
	for i, h := range o.byClass {
		w.byClass[i].Merge(h)
	}
	w.addTimings(o.timings)
	for k, e := range o.ep {
		hasST := e.st != nil && e.st.TotalCount() > 0
		if e.h.TotalCount() == 0 && !hasST {
			continue
		}
		dst := w.ep[k]
		if dst == nil {
			dst = newEndpointStats()
			w.ep[k] = dst
		}
		dst.h.Merge(e.h)
		addNonZero(dst.codes, e.codes)
		if hasST {
			if dst.st == nil {
				dst.st = newPacked()
			}
			dst.st.Merge(e.st)
		}
	}
}

// zero keeps m's keys with zero values, so the next period's first record
// of a known name does not allocate.
func zero[K comparable](m map[K]int64) {
	for k := range m {
		m[k] = 0
	}
}

// addNonZero adds src's non-zero counts to dst.
func addNonZero[K comparable](dst, src map[K]int64) {
	for k, v := range src {
		if v != 0 {
			dst[k] += v
		}
	}
}

// metrics names and derives everything in w for the period [start, end).
func (w *window) metrics(start, end time.Time, enc *histEncoder) (*Metrics, error) {
	counters, hists := w.named()
	m := &Metrics{
		Counters:  counters,
		Rates:     map[string]float64{},
		Period:    start.UnixMilli(),
		PeriodEnd: end.UnixMilli(),
		Summaries: map[string]Summary{},
		HDR:       map[string]string{},
	}
	if err := m.setHists(hists, enc); err != nil {
		return nil, err
	}
	return m, nil
}

// named gives w's non-zero counters and histograms their metric names. The
// histograms are w's own, not copies.
func (w *window) named() (map[string]int64, map[string]hist) {
	counters := map[string]int64{}
	for k, v := range w.counters {
		if v != 0 {
			counters[k] = v
		}
	}
	// Response is the only channel for these (runner.Sink's contract);
	// Count adds only the bytes of exchanges that never completed, so the
	// two add up.
	if w.responses > 0 {
		counters[metric.Responses] += w.responses
	}
	if w.downloaded > 0 {
		counters[metric.Downloaded] += w.downloaded
	}
	for code, v := range w.codes {
		if v != 0 {
			counters[metric.Code(code)] += v
		}
	}
	for ep, e := range w.ep {
		for code, v := range e.codes {
			if v != 0 {
				counters[metric.EndpointCode(ep, code)] = v
			}
		}
	}
	if w.clamped > 0 {
		counters[metric.Clamped] = w.clamped
	}
	if w.folded > 0 {
		counters[metric.EndpointsFolded] = w.folded
	}
	hists := map[string]hist{}
	if h := w.rt.hist(); h.TotalCount() > 0 {
		hists[metric.ResponseTime] = h
	}
	if h := w.lag.hist(); h.TotalCount() > 0 {
		hists[metric.ScheduleLag] = h
	}
	if w.session.TotalCount() > 0 {
		hists[metric.SessionLength] = w.session
	}
	for i, h := range w.byClass {
		if h.TotalCount() > 0 {
			hists[metric.ResponseTimeClass(200+100*i)] = h
		}
	}
	w.timings.name(hists)
	for k, e := range w.ep {
		if e.h.TotalCount() > 0 {
			hists[metric.EndpointLatency(k)] = e.h
		}
		if e.st != nil && e.st.TotalCount() > 0 {
			hists[metric.EndpointServerTimingOf(k)] = e.st
		}
	}
	return counters, hists
}

// setHists encodes and summarizes hists into m, then derives the rest.
func (m *Metrics) setHists(hists map[string]hist, he *histEncoder) error {
	for name, h := range hists {
		enc, err := encodeHist(he, h)
		if err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		m.HDR[name] = enc
		m.Summaries[name] = summarize(h)
	}
	m.derive()
	return nil
}

// derive fills everything computed from counters, summaries and bounds.
func (m *Metrics) derive() {
	m.Histograms = maps.Clone(m.Summaries)
	m.FirstMetricAt, m.LastMetricAt = m.Period, m.PeriodEnd
	m.FirstCounterAt, m.LastCounterAt, m.FirstHistogramAt, m.LastHistogramAt = 0, 0, 0, 0
	if len(m.Counters) > 0 {
		m.FirstCounterAt, m.LastCounterAt = m.Period, m.PeriodEnd
	}
	if len(m.Summaries) > 0 {
		m.FirstHistogramAt, m.LastHistogramAt = m.Period, m.PeriodEnd
	}
	if m.Rates == nil {
		m.Rates = map[string]float64{}
	}
	if secs := float64(m.PeriodEnd-m.Period) / 1000; secs > 0 {
		m.Rates[metric.RequestRate] = math.Round(float64(m.Counters[metric.Requests])/secs*100) / 100
	} else {
		m.Rates[metric.RequestRate] = 0
	}
}
