package target

import (
	"errors"
	"net/http"
	"strconv"
	"strings"
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
	}
	m.reg.MustRegister(m.requests, m.duration, m.inFlight, m.cacheHits, m.cacheMisses, m.cacheErrors,
		m.storeDuration, m.storeErrors,
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
// matched, never by raw path, so ids do not explode the label set.
func (m *metrics) instrument(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		m.inFlight.Inc()
		defer m.inFlight.Dec()
		start := time.Now()
		sw := &statusWriter{ResponseWriter: w, status: http.StatusOK}
		next.ServeHTTP(sw, r)
		route := routeLabel(r.Pattern)
		status := strconv.Itoa(sw.status)
		m.requests.WithLabelValues(r.Method, route, status).Inc()
		m.duration.WithLabelValues(r.Method, route, status).Observe(time.Since(start).Seconds())
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
