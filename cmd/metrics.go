package cmd

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"time"

	"github.com/primeload/primeload/report"
	"github.com/primeload/primeload/report/prom"
	"github.com/spf13/pflag"
)

// MetricsOptions are run's live-metrics flags.
type MetricsOptions struct {
	// served: Addr serves Prometheus metrics; Hold keeps serving the final
	// metrics, so a scrape sees its last values.
	served
	// RemoteWrite is the remote-write URL pushed to; "" pushes nothing.
	RemoteWrite string
	// PushEvery is how often a snapshot is pushed; 0 means prom's default.
	PushEvery time.Duration
}

func addMetricsFlags(f *pflag.FlagSet) {
	f.String("metrics-addr", "", "serve live Prometheus metrics on `HOST:PORT` (loopback; \":9464\" means 127.0.0.1:9464)")
	boolFlag(f, "metrics-public", "", "let --metrics-addr listen on a non-loopback address, readable by anyone who reaches it")
	durationFlag(f, "metrics-hold", 0, "keep serving the final metrics this long after the run, for a last scrape")
	f.String("remote-write", "", "push live metrics by Prometheus remote write to `URL` (e.g. http://127.0.0.1:9090/api/v1/write)")
	durationFlag(f, "remote-write-every", 0, fmt.Sprintf("how often to push live metrics, and once at the end (0 means %s)", prom.DefaultPushEvery))
}

func metricsOptions(st *settings) (MetricsOptions, error) {
	sv, err := readServed(st, "metrics-addr", "metrics-public", "metrics-hold")
	o := MetricsOptions{served: sv, RemoteWrite: st.String("remote-write")}
	errs := []error{err}
	o.PushEvery, err = st.Duration("remote-write-every")
	errs = append(errs, err)
	if err == nil && o.PushEvery != 0 && o.PushEvery < 100*time.Millisecond {
		errs = append(errs, st.errorf("remote-write-every", "%s is too short (use 100ms or more)", o.PushEvery))
	}
	if o.RemoteWrite != "" {
		if u, err := url.Parse(o.RemoteWrite); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			errs = append(errs, st.errorf("remote-write", "%q is not an http:// or https:// URL (e.g. http://127.0.0.1:9090/api/v1/write)", o.RemoteWrite))
		}
	}
	return o, errors.Join(errs...)
}

// liveMetrics is a run's exporter and, with --metrics-addr, its server.
type liveMetrics struct {
	ex       *prom.Exporter
	addr     string // bound address; "" when not serving
	srv      *http.Server
	served   chan struct{}
	hold     time.Duration
	startCtx context.Context
	started  bool // set from the run's goroutine, read after it
}

// startMetrics listens (before any load, so a taken port costs none) and
// prepares the exporter; nil when no live metrics were asked for.
func startMetrics(ctx context.Context, o MetricsOptions, segment string) (*liveMetrics, error) {
	if o.Addr == "" && o.RemoteWrite == "" {
		return nil, nil
	}
	host, _ := os.Hostname()
	ex, err := prom.New(prom.Options{Segment: segment, RemoteWrite: o.RemoteWrite, PushEvery: o.PushEvery, Instance: host})
	if err != nil {
		return nil, err
	}
	// Pushing goes on through an interrupt: the last push says how it ended.
	lm := &liveMetrics{ex: ex, hold: o.Hold, startCtx: context.WithoutCancel(ctx)}
	if o.Addr == "" {
		return lm, nil
	}
	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", o.Addr)
	if err != nil {
		return nil, fmt.Errorf("metrics server: %w", err)
	}
	mux := http.NewServeMux()
	mux.Handle("/metrics", ex.Handler())
	lm.srv = &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	lm.addr = ln.Addr().String()
	lm.served = make(chan struct{})
	go func() {
		defer close(lm.served)
		_ = lm.srv.Serve(ln) // fails only if the listener breaks; the run goes on without it
	}()
	return lm, nil
}

// collector is the run's hook that starts the exporter on its collector.
func (lm *liveMetrics) collector(col *report.Collector) {
	lm.started = true
	lm.ex.Start(lm.startCtx, col)
}

// stop publishes the final snapshot and gives the last push up to
// prom.PushTimeout. It returns what the report says of pushing.
func (lm *liveMetrics) stop() *report.RemoteWrite {
	ctx, cancel := context.WithTimeout(lm.startCtx, prom.PushTimeout)
	defer cancel()
	return lm.ex.Stop(ctx)
}

// close holds the server for --metrics-hold after a run that started (ctx
// ending ends the hold) and shuts it down.
func (lm *liveMetrics) close(ctx context.Context) {
	if lm.srv == nil {
		return
	}
	if lm.hold > 0 && lm.started {
		t := time.NewTimer(lm.hold)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
		}
	}
	lm.srv.Close()
	<-lm.served
}
