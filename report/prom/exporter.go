package prom

import (
	"context"
	"net/http"
	"time"

	"github.com/primeload/primeload/report"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Defaults for Options.
const (
	// DefaultEvery is how often a snapshot is taken for scrapes.
	DefaultEvery = time.Second
	// DefaultPushEvery is how often a snapshot is pushed.
	DefaultPushEvery = 5 * time.Second
)

// Options configure an Exporter.
type Options struct {
	// Segment is the segment label's value, "1/1" for a whole run.
	Segment string
	// Every is how often the run is snapshotted; 0 means DefaultEvery.
	Every time.Duration
	// RemoteWrite is the remote-write URL pushed to; "" pushes nothing.
	RemoteWrite string
	// PushEvery is how often a snapshot is pushed; 0 means DefaultPushEvery.
	PushEvery time.Duration
	// Instance is the instance label of pushed series (a scrape adds its
	// own job and instance); pushed series also get job="primeload".
	Instance string
}

// Exporter publishes snapshots of a run's collector: to scrapes through
// Handler and, with Options.RemoteWrite, by push. Its goroutine, not the
// run's, takes the snapshots; the run's virtual users only ever see the
// collector's shard locks held for a pointer swap, as at a period flush.
type Exporter struct {
	opts    Options
	mapping *Mapping
	coll    *collector
	reg     *prometheus.Registry
	pusher  *pusher

	col      *report.Collector
	stop     context.CancelFunc
	loopDone chan struct{}
	pushStop context.CancelFunc
	lastPush time.Time
}

// New returns an Exporter; it fails only on a bad remote-write URL.
func New(o Options) (*Exporter, error) {
	if o.Every <= 0 {
		o.Every = DefaultEvery
	}
	if o.PushEvery <= 0 {
		o.PushEvery = DefaultPushEvery
	}
	m := NewMapping()
	e := &Exporter{opts: o, mapping: m, coll: newCollector(m, o.Segment), reg: prometheus.NewRegistry()}
	if err := e.reg.Register(e.coll); err != nil {
		return nil, err // the families' names are fixed: a programming error
	}
	if o.RemoteWrite != "" {
		p, err := newPusher(o.RemoteWrite, map[string]string{"job": Namespace, "instance": o.Instance, SegmentLabel: o.Segment})
		if err != nil {
			return nil, err
		}
		e.pusher = p
	}
	return e, nil
}

// Handler serves the last snapshot in Prometheus's exposition formats.
func (e *Exporter) Handler() http.Handler {
	return promhttp.HandlerFor(e.reg, promhttp.HandlerOpts{})
}

// Start snapshots col every Options.Every, and pushes every PushEvery,
// until Stop. ctx bounds the pushes; it should outlive an interrupt of the
// run, so that the last push still goes.
func (e *Exporter) Start(ctx context.Context, col *report.Collector) {
	e.col = col
	loopCtx, stop := context.WithCancel(ctx)
	e.stop = stop
	e.loopDone = make(chan struct{})
	if e.pusher != nil {
		pushCtx, cancel := context.WithCancel(ctx)
		e.pushStop = cancel
		go e.pusher.run(pushCtx)
	}
	go func() {
		defer close(e.loopDone)
		t := time.NewTicker(e.opts.Every)
		defer t.Stop()
		for {
			select {
			case <-loopCtx.Done():
				return
			case now := <-t.C:
				e.publish(now, false)
			}
		}
	}()
}

// publish takes a snapshot for scrapes, and pushes it when one is due or
// final is set.
func (e *Exporter) publish(now time.Time, final bool) {
	s := e.col.Snapshot(now, Bounds())
	ps := e.mapping.Points(s)
	e.coll.publish(ps)
	if e.pusher != nil && (final || now.Sub(e.lastPush) >= e.opts.PushEvery) {
		e.lastPush = now
		e.pusher.offer(ps, now)
	}
}

// Stop ends the snapshots, publishes the final one (call it once the run's
// last period is flushed, so it equals the report) and waits until it is
// pushed or ctx ends, whichever is first; what is unsent then is dropped.
// It returns what the report says of the pushes, nil without push. Scrapes
// keep being answered with the final snapshot.
func (e *Exporter) Stop(ctx context.Context) *report.RemoteWrite {
	if e.col == nil {
		return nil
	}
	e.stop()
	<-e.loopDone
	e.publish(time.Now(), true)
	if e.pusher == nil {
		return nil
	}
	close(e.pusher.queue)
	select {
	case <-e.pusher.done:
	case <-ctx.Done():
		e.pushStop() // the in-flight push fails, the queued ones are dropped
		<-e.pusher.done
	}
	e.pushStop()
	return e.pusher.result()
}
