package report

import (
	"fmt"
	"math"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/primeload/primeload/report/metric"
	"github.com/primeload/primeload/runner"
)

var t0 = time.Date(2026, 11, 26, 10, 0, 0, 0, time.UTC)

// sample is one recorded event for building collectors whose truth is known.
type sample struct {
	sink     int
	endpoint string
	latency  time.Duration
	status   int
	bytes    int64
	lag      time.Duration
}

// record plays samples into c as the runner would: a request count, the
// response, and the arrival's lag.
func record(c *Collector, ss []sample) {
	for _, s := range ss {
		sink := c.Sink(s.sink)
		sink.Count("http.requests", 1)
		sink.Response(s.endpoint, s.latency, s.status, s.bytes)
		sink.Lag(s.lag)
	}
}

// exactPercentile is the nearest-rank percentile of ds in ms, the truth an
// HdrHistogram at 3 significant digits must be within 0.1% of.
func exactPercentile(ds []time.Duration, p float64) float64 {
	s := slices.Clone(ds)
	slices.Sort(s)
	rank := int(math.Ceil(p / 100 * float64(len(s))))
	return float64(s[max(rank-1, 0)].Microseconds()) / 1000
}

func TestCollectorPeriod(t *testing.T) {
	var lat []time.Duration
	var ss []sample
	for i := 1; i <= 1000; i++ {
		d := time.Duration(i) * 137 * time.Microsecond
		lat = append(lat, d)
		ep, code := "GET /api/goods-received/{{ goodsId }}/", 200
		if i%10 == 0 {
			ep, code = "POST /api/auth/login/", 500
		}
		ss = append(ss, sample{sink: i, endpoint: ep, latency: d, status: code, bytes: 10})
	}
	c := NewCollector(t0, Info{Period: 10 * time.Second})
	record(c, ss)
	m, err := c.Flush(t0.Add(10 * time.Second))
	if err != nil {
		t.Fatal(err)
	}

	wantCounters := map[string]int64{
		"http.requests":         1000,
		"http.responses":        1000,
		"http.downloaded_bytes": 10000,
		"http.codes.200":        900,
		"http.codes.500":        100,
		"plugins.metrics-by-endpoint.GET /api/goods-received/{{ goodsId }}/.codes.200": 900,
		"plugins.metrics-by-endpoint.POST /api/auth/login/.codes.500":                  100,
	}
	for name, want := range wantCounters {
		if got := m.Counters[name]; got != want {
			t.Errorf("counter %s = %d, want %d", name, got, want)
		}
	}
	if len(m.Counters) != len(wantCounters) {
		t.Errorf("counters = %v, want exactly %v", m.Counters, wantCounters)
	}
	if got, want := m.Rates[metric.RequestRate], 100.0; got != want {
		t.Errorf("request rate = %v, want %v", got, want)
	}

	s := m.Summaries[metric.ResponseTime]
	if s.Count != 1000 {
		t.Errorf("count = %d, want 1000", s.Count)
	}
	for _, tc := range []struct {
		stat string
		p    float64
	}{{"p50", 50}, {"median", 50}, {"p75", 75}, {"p90", 90}, {"p95", 95}, {"p99", 99}, {"p999", 99.9}, {"max", 100}} {
		got, _ := s.Stat(tc.stat)
		want := exactPercentile(lat, tc.p)
		if math.Abs(got-want) > want*0.001 {
			t.Errorf("%s = %v ms, want %v ms within 0.1%%", tc.stat, got, want)
		}
	}
	if got, want := s.Min, 0.137; got != want {
		t.Errorf("min = %v, want %v", got, want)
	}
	if math.Abs(s.Mean-68.6185) > 0.07 {
		t.Errorf("mean = %v, want 68.6185 within 0.1%%", s.Mean)
	}
	if got := m.Summaries[metric.EndpointResponseTime+"POST /api/auth/login/"].Count; got != 100 {
		t.Errorf("login count = %d, want 100", got)
	}
	if m.Histograms[metric.ResponseTime] != s {
		t.Errorf("histograms[%s] = %+v, want it to repeat the summary %+v", metric.ResponseTime, m.Histograms[metric.ResponseTime], s)
	}
	if got, want := m.Start(), t0; !got.Equal(want) {
		t.Errorf("period start = %v, want %v", got, want)
	}
}

func TestCollectorClampsOutOfRange(t *testing.T) {
	c := NewCollector(t0, Info{})
	sink := c.Sink(0)
	sink.Response("GET /", 2*time.Minute, 200, 0)
	sink.Response("GET /", -time.Second, 200, 0)
	sink.Response("GET /", 500*time.Nanosecond, 200, 0) // below 1 µs is 0, in range
	sink.Lag(-time.Millisecond)                         // early is on time, not clamped
	sink.Lag(time.Hour)
	m, err := c.Flush(t0.Add(time.Second))
	if err != nil {
		t.Fatal(err)
	}
	if got, want := m.Counters[metric.Clamped], int64(3); got != want {
		t.Errorf("clamped = %d, want %d", got, want)
	}
	s := m.Summaries[metric.ResponseTime]
	if s.Count != 3 || s.Max < 60000 || s.Max > 60060 || s.Min != 0 {
		t.Errorf("summary = %+v, want 3 values, min 0, max at the 60 s bound", s)
	}
	if got := m.Summaries[metric.ScheduleLag].Count; got != 2 {
		t.Errorf("lag count = %d, want 2", got)
	}
}

func TestCollectorPeriodsFoldIntoAggregate(t *testing.T) {
	c := NewCollector(t0, Info{Period: 10 * time.Second, Target: "http://127.0.0.1:8080", Version: "test"})
	for p := 1; p <= 3; p++ {
		for i := range p * 10 {
			record(c, []sample{{sink: i, endpoint: "GET /", latency: time.Duration(p) * time.Millisecond, status: 200}})
		}
		if _, err := c.Flush(t0.Add(time.Duration(p) * 10 * time.Second)); err != nil {
			t.Fatal(err)
		}
	}
	// An empty period is kept: a stalled target must show, not vanish.
	if _, err := c.Flush(t0.Add(40 * time.Second)); err != nil {
		t.Fatal(err)
	}
	r := c.Report()
	var got []int64
	for _, m := range r.Intermediate {
		got = append(got, m.Counters["http.requests"])
	}
	if want := []int64{10, 20, 30, 0}; !slices.Equal(got, want) {
		t.Errorf("requests per period = %v, want %v", got, want)
	}
	if got := r.Aggregate.Counters["http.requests"]; got != 60 {
		t.Errorf("aggregate requests = %d, want 60", got)
	}
	if got, want := r.Aggregate.Rates[metric.RequestRate], 1.5; got != want {
		t.Errorf("aggregate rate = %v, want %v", got, want)
	}
	if got, want := r.Aggregate.Summaries[metric.ResponseTime].Max, 3.0; math.Abs(got-want) > want*0.001 {
		t.Errorf("aggregate max = %v, want %v within 0.1%%", got, want)
	}
	if !r.EndedAt.Equal(t0.Add(40*time.Second)) || !r.StartedAt.Equal(t0) {
		t.Errorf("run bounds = %v..%v, want %v..%v", r.StartedAt, r.EndedAt, t0, t0.Add(40*time.Second))
	}
	if r.PeriodLength != 10000 || r.Target != "http://127.0.0.1:8080" || r.Version != "test" {
		t.Errorf("header = %d %q %q, want the collector's info", r.PeriodLength, r.Target, r.Version)
	}
}

func TestCollectorConcurrentSinks(t *testing.T) {
	c := NewCollector(t0, Info{})
	const workers, each = 16, 500
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			sink := c.Sink(w)
			for i := range each {
				sink.Count("vusers.created", 1)
				sink.Count("http.requests", 1)
				sink.Response("GET /", time.Duration(i)*time.Microsecond, 200, 1)
				if i%2 == 0 {
					sink.Count("errors.ECONNRESET", 1)
				}
				sink.Count("vusers.completed", 1)
			}
		})
	}
	// Flushes race with recording: every sample must land in exactly one period.
	flushes := 0
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	for stop := false; !stop; flushes++ {
		select {
		case <-done:
			stop = true
		default:
		}
		if _, err := c.Flush(t0.Add(time.Duration(flushes+1) * time.Second)); err != nil {
			t.Fatal(err)
		}
	}
	r := c.Report()
	var sum int64
	for _, m := range r.Intermediate {
		sum += m.Counters["http.responses"]
	}
	if sum != workers*each || r.Aggregate.Counters["http.responses"] != workers*each {
		t.Errorf("responses: periods sum %d, aggregate %d, want %d", sum, r.Aggregate.Counters["http.responses"], workers*each)
	}
	live := c.Live()
	want := Live{Requests: workers * each, Responses: workers * each, Errors: workers * each / 2, LastP99: live.LastP99, LastRate: live.LastRate}
	if live != want {
		t.Errorf("live = %+v, want %+v", live, want)
	}
}

func TestNextFlushIsWallClockAligned(t *testing.T) {
	c := NewCollector(t0, Info{Period: 10 * time.Second})
	for _, tc := range []struct{ now, want time.Time }{
		{t0, t0.Add(10 * time.Second)},
		{t0.Add(3 * time.Second), t0.Add(10 * time.Second)},
		{t0.Add(19999 * time.Millisecond), t0.Add(20 * time.Second)},
	} {
		if got := c.NextFlush(tc.now); !got.Equal(tc.want) {
			t.Errorf("NextFlush(%v) = %v, want %v", tc.now, got, tc.want)
		}
	}
}

func TestLookupAndNames(t *testing.T) {
	m := &Metrics{
		Counters:  map[string]int64{"http.codes.500": 3, "http.requests": 10},
		Rates:     map[string]float64{metric.RequestRate: 2.5},
		Summaries: map[string]Summary{metric.ResponseTime: {P99: 12.5}, metric.EndpointResponseTime + "GET /a.json": {P95: 7}},
	}
	for _, tc := range []struct {
		name   string
		want   float64
		wantOK bool
	}{
		{"http.codes.500", 3, true},
		{"http.request_rate", 2.5, true},
		{"http.response_time.p99", 12.5, true},
		{"plugins.metrics-by-endpoint.response_time.GET /a.json.p95", 7, true}, // a dot inside the endpoint
		{"http.response_time.p98", 0, false},
		{"http.codes.404", 0, false},
		{"nodots", 0, false},
	} {
		got, ok := m.Lookup(tc.name)
		if ok != tc.wantOK || (ok && got != tc.want) {
			t.Errorf("Lookup(%q) = %v, %v; want %v, %v", tc.name, got, ok, tc.want, tc.wantOK)
		}
	}
	names := m.Names()
	if len(names) != 3+2*len(SummaryStats()) || !slices.IsSorted(names) || !slices.Contains(names, "http.response_time.p999") {
		t.Errorf("Names() = %v", names)
	}
	for _, n := range names {
		if _, ok := m.Lookup(n); !ok {
			t.Errorf("Lookup(%q) fails for a name Names gave", n)
		}
	}
}

func TestScriptDigest(t *testing.T) {
	a, b := ScriptDigest([]byte("config: {}\n")), ScriptDigest([]byte("config: {}\n"))
	c := ScriptDigest([]byte("config: {target: x}\n"))
	if a != b || a == c || !strings.HasPrefix(a, "sha256:") || len(a) != len("sha256:")+64 {
		t.Errorf("digests %q %q %q: want equal for equal content, different otherwise", a, b, c)
	}
}

func TestSinkDoesNotAllocate(t *testing.T) {
	c := NewCollector(t0, Info{})
	sink := c.Sink(3)
	rec := func() {
		sink.Count("http.requests", 1)
		sink.Response("GET /api/goods-received/{{ goodsId }}/", 3*time.Millisecond, 200, 512)
		sink.Lag(time.Millisecond)
	}
	rec() // the first record of a name in a window may allocate its entry
	if got := testing.AllocsPerRun(100, rec); got != 0 {
		t.Errorf("recording allocates %v times per request, want 0", got)
	}
	// After a flush the windows are reused with their entries kept.
	if _, err := c.Flush(t0.Add(time.Second)); err != nil {
		t.Fatal(err)
	}
	rec()
	if got := testing.AllocsPerRun(100, rec); got != 0 {
		t.Errorf("recording after a flush allocates %v times per request, want 0", got)
	}
}

// TestResponseCountersAreExact: http.responses and http.codes.* equal the
// number of Response calls exactly, in every period and the aggregate, and
// http.downloaded_bytes adds the bytes of failed exchanges, which only
// Count carries, to what Response carried.
func TestResponseCountersAreExact(t *testing.T) {
	for _, tc := range []struct {
		name        string
		responses   int
		failedBytes int64 // Count of a failed exchange's bytes
		want        map[string]int64
	}{
		{"responses only", 3, 0, map[string]int64{"http.responses": 3, "http.codes.200": 3, "http.downloaded_bytes": 30}},
		{"responses and a failed exchange's bytes", 3, 7, map[string]int64{"http.responses": 3, "http.codes.200": 3, "http.downloaded_bytes": 37}},
		{"a failed exchange's bytes only", 0, 7, map[string]int64{"http.responses": 0, "http.codes.200": 0, "http.downloaded_bytes": 7}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := NewCollector(t0, Info{})
			for i := range tc.responses {
				c.Sink(i).Response("GET /", time.Millisecond, 200, 10)
			}
			c.Sink(1).Count("http.downloaded_bytes", tc.failedBytes)
			if _, err := c.Flush(t0.Add(time.Second)); err != nil {
				t.Fatal(err)
			}
			// A second period records the same again: the aggregate folds
			// windows and must add them, not keep either.
			for i := range tc.responses {
				c.Sink(i).Response("GET /", time.Millisecond, 200, 10)
			}
			c.Sink(2).Count("http.downloaded_bytes", tc.failedBytes)
			if _, err := c.Flush(t0.Add(2 * time.Second)); err != nil {
				t.Fatal(err)
			}
			r := c.Report()
			for i, m := range []*Metrics{r.Intermediate[0], r.Intermediate[1], r.Aggregate} {
				mult := int64(1)
				if m == r.Aggregate {
					mult = 2
				}
				for name, want := range tc.want {
					if got := m.Counters[name]; got != want*mult {
						t.Errorf("metrics %d: %s = %d, want %d", i, name, got, want*mult)
					}
				}
			}
		})
	}
}

// The scheduler (sink id 0) records schedule lag; a virtual user sharing its
// shard's lock would make it wait, and the wait would read as lag. So id 0
// has a shard to itself and user ids spread over all the others.
func TestSchedulerSinkHasItsOwnShard(t *testing.T) {
	c := NewCollector(t0, Info{})
	n := len(c.shards)
	sched := c.Sink(0)
	users := map[runner.Sink]bool{}
	for id := 1; id <= 10*n; id++ {
		s := c.Sink(id)
		if s == sched {
			t.Fatalf("user sink id %d shares the scheduler's shard (%d shards)", id, n)
		}
		users[s] = true
	}
	if got, want := len(users), n-1; got != want {
		t.Errorf("user ids use %d shards, want all %d but the scheduler's", got, want)
	}
}

// TestCollectorFoldsEndpoints: past the limit, new endpoints are recorded as
// one (other) endpoint, counted in primeload.endpoints_folded, and nothing
// is lost: every response is in exactly one endpoint and in the run-wide
// totals. The endpoints admitted first keep their names in every shard.
func TestCollectorFoldsEndpoints(t *testing.T) {
	t.Parallel()
	c := NewCollector(t0, Info{MaxEndpoints: 2})
	eps := []string{"GET /a", "GET /b", "GET /c", "GET /d", "GET /e"}
	for round := range 3 {
		for s := 1; s < len(c.shards); s++ {
			sink := c.Sink(s)
			for i, ep := range eps {
				sink.Response(ep, time.Duration(1+round+i)*time.Millisecond, 200, 10)
			}
		}
	}
	m, err := c.Flush(t0.Add(time.Second))
	if err != nil {
		t.Fatal(err)
	}
	perEndpoint := int64(3 * (len(c.shards) - 1))
	tests := []struct {
		name      string
		got, want int64
	}{
		{"GET /a", m.Summaries[metric.EndpointLatency("GET /a")].Count, perEndpoint},
		{"GET /b", m.Summaries[metric.EndpointLatency("GET /b")].Count, perEndpoint},
		{"GET /c", m.Summaries[metric.EndpointLatency("GET /c")].Count, 0},
		{"(other)", m.Summaries[metric.EndpointLatency(metric.OtherEndpoint)].Count, 3 * perEndpoint},
		{"(other) 200s", m.Counters[metric.EndpointCode(metric.OtherEndpoint, 200)], 3 * perEndpoint},
		{metric.EndpointsFolded, m.Counters[metric.EndpointsFolded], 3 * perEndpoint},
		{metric.Responses, m.Counters[metric.Responses], 5 * perEndpoint},
		{metric.ResponseTime, m.Summaries[metric.ResponseTime].Count, 5 * perEndpoint},
	}
	for _, tt := range tests {
		if tt.got != tt.want {
			t.Errorf("%s: got %d, want %d", tt.name, tt.got, tt.want)
		}
	}
	r := c.Report()
	var out strings.Builder
	if err := WriteSummary(&out, r); err != nil {
		t.Fatal(err)
	}
	if want := fmt.Sprintf("%d responses of the rest are recorded as \"(other)\"", 3*perEndpoint); !strings.Contains(unwrapped(out.String()), want) {
		t.Errorf("summary does not warn %q:\n%s", want, out.String())
	}
}

// TestCollectorEndpointLimitDefault: without Info.MaxEndpoints the
// documented default applies, and the first MaxEndpoints names are kept.
func TestCollectorEndpointLimitDefault(t *testing.T) {
	t.Parallel()
	c := NewCollector(t0, Info{})
	sink := c.Sink(1)
	for i := range metric.MaxEndpoints + 1 {
		sink.Response(fmt.Sprintf("GET /%d", i), time.Millisecond, 204, 0)
	}
	m, err := c.Flush(t0.Add(time.Second))
	if err != nil {
		t.Fatal(err)
	}
	if got := m.Counters[metric.EndpointsFolded]; got != 1 {
		t.Errorf("%s = %d, want 1 (only the %dth endpoint folds)", metric.EndpointsFolded, got, metric.MaxEndpoints+1)
	}
	if got := len(m.Endpoints()); got != metric.MaxEndpoints+1 {
		t.Errorf("%d endpoints in the period, want %d named and (other)", got, metric.MaxEndpoints)
	}
}

// TestCollectorOtherFromRunner: responses the runner already named
// (other) (rendered URLs past the same bound) take no place among the
// endpoints and count as folded, so the summary warns about them too.
func TestCollectorOtherFromRunner(t *testing.T) {
	t.Parallel()
	c := NewCollector(t0, Info{MaxEndpoints: 2})
	sink := c.Sink(1)
	for _, ep := range []string{metric.OtherEndpoint, "GET /a", metric.OtherEndpoint, "GET /b", "GET /c"} {
		sink.Response(ep, time.Millisecond, 200, 0)
	}
	m, err := c.Flush(t0.Add(time.Second))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name      string
		got, want int64
	}{
		{"GET /a", m.Summaries[metric.EndpointLatency("GET /a")].Count, 1},
		{"GET /b", m.Summaries[metric.EndpointLatency("GET /b")].Count, 1},
		{"(other)", m.Summaries[metric.EndpointLatency(metric.OtherEndpoint)].Count, 3},
		{metric.EndpointsFolded, m.Counters[metric.EndpointsFolded], 3},
	}
	for _, tt := range tests {
		if tt.got != tt.want {
			t.Errorf("%s: got %d, want %d", tt.name, tt.got, tt.want)
		}
	}
}

// TestCollectorStatusClassesAndSessions: each response is also in its
// status class's summary (a status outside 200 to 599 in none), and
// sessions have a summary of their own, across shards and periods.
func TestCollectorStatusClassesAndSessions(t *testing.T) {
	t.Parallel()
	c := NewCollector(t0, Info{Period: 10 * time.Second})
	record(c, []sample{
		{sink: 1, endpoint: "/a", latency: 1 * time.Millisecond, status: 200},
		{sink: 2, endpoint: "/a", latency: 3 * time.Millisecond, status: 204},
		{sink: 3, endpoint: "/a", latency: 5 * time.Millisecond, status: 304},
		{sink: 4, endpoint: "/a", latency: 7 * time.Millisecond, status: 404},
		{sink: 5, endpoint: "/a", latency: 9 * time.Millisecond, status: 503},
		{sink: 6, endpoint: "/a", latency: 11 * time.Millisecond, status: 101},
	})
	c.Sink(1).Session(2 * time.Second)
	if _, err := c.Flush(t0.Add(10 * time.Second)); err != nil {
		t.Fatal(err)
	}
	c.Sink(2).Session(4 * time.Second)
	record(c, []sample{{sink: 7, endpoint: "/a", latency: 13 * time.Millisecond, status: 201}})
	if _, err := c.Flush(t0.Add(20 * time.Second)); err != nil {
		t.Fatal(err)
	}
	m := c.Report().Aggregate
	tests := []struct {
		name     string
		count    int64
		min, max float64
	}{
		{metric.ResponseTime, 7, 1, 13},
		{metric.ResponseTime2xx, 3, 1, 13},
		{metric.ResponseTime3xx, 1, 5, 5},
		{metric.ResponseTime4xx, 1, 7, 7},
		{metric.ResponseTime5xx, 1, 9, 9},
		{metric.SessionLength, 2, 2000, 4000},
	}
	for _, tt := range tests {
		s, ok := m.Summaries[tt.name]
		if !ok {
			t.Errorf("%s: no summary", tt.name)
			continue
		}
		if s.Count != tt.count || math.Abs(s.Min-tt.min) > tt.min/1000 || math.Abs(s.Max-tt.max) > tt.max/1000 {
			t.Errorf("%s: count %d min %v max %v, want %d, %v, %v", tt.name, s.Count, s.Min, s.Max, tt.count, tt.min, tt.max)
		}
		if _, ok := m.HDR[tt.name]; !ok {
			t.Errorf("%s: no histogram in the report", tt.name)
		}
	}
	if p := c.Report().Intermediate[0]; p.Summaries[metric.SessionLength].Count != 1 || p.Summaries[metric.ResponseTime2xx].Count != 2 {
		t.Errorf("first period: sessions %d, 2xx %d; want 1 and 2", p.Summaries[metric.SessionLength].Count, p.Summaries[metric.ResponseTime2xx].Count)
	}
}

// TestFoldMatchesDense holds the packed folds (the period, the aggregate)
// to what dense histograms of the same values give: the same summary and
// the same encoding, byte for byte, so keeping the folds packed changes
// what a Flush costs and nothing it reports.
func TestFoldMatchesDense(t *testing.T) {
	c := NewCollector(t0, Info{Period: 10 * time.Second})
	periodRT, periodLag, aggRT := newHist(), newHist(), newHist()
	for p := range 2 {
		periodRT.Reset()
		periodLag.Reset()
		x := uint64(12345 + p)
		for i := range 5000 {
			x = x*6364136223846793005 + 1442695040888963407 // LCG: values spread over the whole range
			us := int64(x>>20) % highestMicros
			if i%7 == 0 {
				us %= 2000 // and dense at the low end, where most latencies are
			}
			lag := us / 3
			sink := c.Sink(i % 9)
			sink.Response("GET /", time.Duration(us)*time.Microsecond, 200, 0)
			sink.Lag(time.Duration(lag) * time.Microsecond)
			periodRT.RecordValue(us)
			periodLag.RecordValue(lag)
			aggRT.RecordValue(us)
		}
		m, err := c.Flush(t0.Add(time.Duration(p+1) * 10 * time.Second))
		if err != nil {
			t.Fatal(err)
		}
		checkHist(t, fmt.Sprintf("period %d %s", p, metric.ResponseTime), m, metric.ResponseTime, periodRT)
		checkHist(t, fmt.Sprintf("period %d %s", p, metric.ScheduleLag), m, metric.ScheduleLag, periodLag)
	}
	agg, err := c.Aggregate()
	if err != nil {
		t.Fatal(err)
	}
	checkHist(t, "aggregate", agg, metric.ResponseTime, aggRT)
}

// checkHist compares m's histogram name with dense's summary and encoding.
func checkHist(t *testing.T, what string, m *Metrics, name string, dense hist) {
	t.Helper()
	if got, want := m.Summaries[name], summarize(dense); got != want {
		t.Errorf("%s: summary %+v, dense %+v", what, got, want)
	}
	want, err := encodeHist(nil, dense)
	if err != nil {
		t.Fatal(err)
	}
	if m.HDR[name] != want {
		t.Errorf("%s: encoding differs from the dense histogram's", what)
	}
}
