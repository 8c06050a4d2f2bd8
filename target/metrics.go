package target

import (
	"errors"
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/primeload/primeload/target/logistics"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// metrics lives in a registry of its own per Server, so several servers in
// one process (tests, run --with-target) never collide in a global one.
type metrics struct {
	reg           *prometheus.Registry
	requests      *prometheus.CounterVec
	duration      *prometheus.HistogramVec
	inFlight      prometheus.Gauge
	cacheHits     *prometheus.CounterVec
	cacheMisses   *prometheus.CounterVec
	cacheErrors   *prometheus.CounterVec
	storeDuration *prometheus.HistogramVec
	storeErrors   *prometheus.CounterVec
	loginsRefused prometheus.Counter
	writesRefused prometheus.Counter
	// routes holds the series of each method-bound mux pattern, filled
	// while the routes are registered and only read once serving.
	routes map[string]*routeMetrics
}

// routeMetrics caches one route's series by status, so answering a request
// hashes no label values (WithLabelValues did, twice per request).
type routeMetrics struct {
	method, route string
	byStatus      [500]atomic.Pointer[routeSeries] // statuses 100 to 599
}

// routeSeries are a route's request counter and duration for one status.
type routeSeries struct {
	requests prometheus.Counter
	duration prometheus.Observer
}

// route registers a mux pattern of the form "METHOD /path"; call it before
// serving.
func (m *metrics) route(pattern string) {
	method, _, ok := strings.Cut(pattern, " ")
	if !ok || strings.HasPrefix(method, "/") {
		return // any method: labelled per request
	}
	m.routes[pattern] = &routeMetrics{method: method, route: routeLabel(pattern)}
}

// series returns the request's counter and histogram.
func (m *metrics) series(r *http.Request, status int) routeSeries {
	rm := m.routes[r.Pattern]
	if rm == nil || rm.method != r.Method || status < 100 || status > 599 {
		// HEAD on a GET route, 405s, unmatched paths: rare, so looked up.
		return m.lookup(methodLabel(r.Method), routeLabel(r.Pattern), status)
	}
	slot := &rm.byStatus[status-100]
	if rs := slot.Load(); rs != nil {
		return *rs
	}
	// Two requests may both get here; they store equal series.
	rs := m.lookup(rm.method, rm.route, status)
	slot.Store(&rs)
	return rs
}

func (m *metrics) lookup(method, route string, status int) routeSeries {
	code := otherLabel
	if status >= 100 && status <= 599 {
		code = strconv.Itoa(status)
	}
	return routeSeries{requests: m.requests.WithLabelValues(method, route, code), duration: m.duration.WithLabelValues(method, route, code)}
}

func newMetrics() *metrics {
	const ns = "primepre"
	m := &metrics{
		reg: prometheus.NewRegistry(),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: ns, Name: "http_requests_total", Help: "HTTP requests answered, by method, route template and status.",
		}, []string{"method", "route", "status"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Namespace: ns, Name: "http_request_duration_seconds", Help: "Time to answer HTTP requests, by method, route template and status.",
			Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10},
		}, []string{"method", "route", "status"}),
		inFlight: prometheus.NewGauge(prometheus.GaugeOpts{
			Namespace: ns, Name: "http_requests_in_flight", Help: "HTTP requests being answered now.",
		}),
		cacheHits: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: ns, Name: "cache_hits_total", Help: "Responses served from the cache, by resource.",
		}, []string{"resource"}),
		cacheMisses: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: ns, Name: "cache_misses_total", Help: "Cache lookups that went to the store, by resource.",
		}, []string{"resource"}),
		cacheErrors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: ns, Name: "cache_errors_total", Help: "Cache operations that failed (the store answered instead), by operation.",
		}, []string{"op"}),
		storeDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Namespace: ns, Name: "store_query_duration_seconds", Help: "Time of store calls, by operation.",
			Buckets: []float64{.0001, .00025, .0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5},
		}, []string{"op"}),
		storeErrors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: ns, Name: "store_errors_total", Help: "Store calls that failed other than not found, by operation.",
		}, []string{"op"}),
		loginsRefused: prometheus.NewCounter(prometheus.CounterOpts{
			Namespace: ns, Name: "logins_refused_total", Help: "Logins answered 503 because every password-check slot was busy.",
		}),
		writesRefused: prometheus.NewCounter(prometheus.CounterOpts{
			Namespace: ns, Name: "writes_refused_total", Help: "Writes answered 503 because their cache invalidation could not be published.",
		}),
		routes: map[string]*routeMetrics{},
	}
	m.reg.MustRegister(m.requests, m.duration, m.inFlight, m.cacheHits, m.cacheMisses, m.cacheErrors,
		m.storeDuration, m.storeErrors, m.loginsRefused, m.writesRefused,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

func (m *metrics) handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{Registry: m.reg})
}

// store starts timing one store call; call the result with the call's error.
func (m *metrics) store(op string) func(error) {
	start := time.Now()
	return func(err error) {
		m.storeDuration.WithLabelValues(op).Observe(time.Since(start).Seconds())
		if err != nil && !isNotFound(err) {
			m.storeErrors.WithLabelValues(op).Inc()
		}
	}
}

// instrument counts and times every request by the route pattern the mux
// matched, never by raw path, so ids do not explode the label set. Every
// label is drawn from a fixed set (registered patterns, standard methods,
// statuses 100 to 599, otherwise otherLabel), so the series are bounded
// whatever clients send.
func (m *metrics) instrument(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		m.inFlight.Inc()
		defer m.inFlight.Dec()
		start := time.Now()
		sw := &statusWriter{ResponseWriter: w, status: http.StatusOK}
		next.ServeHTTP(sw, r)
		rs := m.series(r, sw.status)
		rs.requests.Inc()
		rs.duration.Observe(time.Since(start).Seconds())
	})
}

// statusWriter remembers the status code written.
type statusWriter struct {
	http.ResponseWriter
	status int
	wrote  bool
}

func (w *statusWriter) WriteHeader(code int) {
	if !w.wrote {
		w.status, w.wrote = code, true
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	w.wrote = true
	return w.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the real writer.
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

func isNotFound(err error) bool { return errors.Is(err, logistics.ErrNotFound) }

// otherLabel stands for every label value outside a known set, so a
// client cannot grow the number of series by sending made-up values.
const otherLabel = "other"

// methodLabel is the method when it is one of HTTP's standard methods and
// otherLabel for anything else: without a login, 20k requests with made-up
// methods made 20k series and a 35 MB /metrics.
func methodLabel(method string) string {
	switch method {
	case http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch,
		http.MethodDelete, http.MethodConnect, http.MethodOptions, http.MethodTrace:
		return method
	}
	return otherLabel
}

// routeLabel turns a mux pattern ("GET /api/goods-received/{id}/{$}") into
// the route template users know ("/api/goods-received/{id}/"); the method
// is a label of its own.
func routeLabel(pattern string) string {
	if _, path, ok := strings.Cut(pattern, " "); ok {
		pattern = path
	}
	pattern = strings.TrimSuffix(pattern, "{$}")
	if pattern == "" || pattern == "/" {
		return "unmatched"
	}
	return pattern
}
