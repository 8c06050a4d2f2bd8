package prom

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/primeload/primeload/report"
	"github.com/prometheus/client_golang/exp/api/remote"
	"github.com/prometheus/prometheus/prompb"
)

// Push limits. A push is a whole snapshot (counters are cumulative), so a
// snapshot dropped for lack of room loses resolution, never totals: the
// next one carries them.
const (
	// QueueLen is how many snapshots may wait for the pusher; an offer
	// beyond it is dropped and counted.
	QueueLen = 4
	// PushTimeout bounds one push, retries included.
	PushTimeout = 5 * time.Second
)

// pusher sends snapshots by Prometheus remote write 1.0, which every
// receiver (Prometheus 2.x with --web.enable-remote-write-receiver, Mimir,
// Thanos, VictoriaMetrics) reads, from its own goroutine: offer never
// blocks.
type pusher struct {
	api      *remote.API
	url      string // credentials removed, for the report
	external []prompb.Label
	queue    chan *prompb.WriteRequest
	done     chan struct{}

	mu    sync.Mutex // guards stats; taken by the pusher and at the end, never by the run
	stats report.RemoteWrite
}

func newPusher(rawURL string, external map[string]string) (*pusher, error) {
	u, err := url.Parse(rawURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("remote write URL %q: want http:// or https://HOST/PATH (e.g. http://127.0.0.1:9090/api/v1/write)", rawURL)
	}
	path := u.Path
	base := *u
	base.Path, base.RawPath = "", ""
	api, err := remote.NewAPI(base.String(),
		remote.WithAPIPath(path),
		remote.WithAPIHTTPClient(&http.Client{Timeout: PushTimeout}),
		// Two quick retries, then the push counts as failed: the next
		// snapshot is a better retry than an old one.
		remote.WithAPIBackoff(remote.BackoffConfig{Min: 100 * time.Millisecond, Max: time.Second, MaxRetries: 2}),
	)
	if err != nil {
		return nil, fmt.Errorf("remote write URL %q: %w", rawURL, err)
	}
	shown := *u
	shown.User = nil
	p := &pusher{
		api:   api,
		url:   shown.String(),
		queue: make(chan *prompb.WriteRequest, QueueLen),
		done:  make(chan struct{}),
	}
	for k, v := range external {
		p.external = append(p.external, prompb.Label{Name: k, Value: v})
	}
	p.stats.URL = p.url
	return p, nil
}

// offer queues a push of ps, or counts it dropped when the queue is full.
func (p *pusher) offer(ps []Point, at time.Time) {
	req := p.request(ps, at)
	select {
	case p.queue <- req:
	default:
		p.mu.Lock()
		p.stats.Dropped++
		p.mu.Unlock()
	}
}

// run pushes what is queued until the queue is closed and empty, or ctx
// ends; then what is left counts as dropped.
func (p *pusher) run(ctx context.Context) {
	defer close(p.done)
	for {
		select {
		case req, ok := <-p.queue:
			if !ok {
				return
			}
			p.push(ctx, req)
		case <-ctx.Done():
			p.mu.Lock()
			p.stats.Dropped += int64(len(p.queue))
			p.mu.Unlock()
			return
		}
	}
}

func (p *pusher) push(ctx context.Context, req *prompb.WriteRequest) {
	ctx, cancel := context.WithTimeout(ctx, PushTimeout)
	defer cancel()
	_, err := p.api.Write(ctx, remote.WriteV1MessageType, req)
	p.mu.Lock()
	defer p.mu.Unlock()
	if err != nil {
		p.stats.Failed++
		p.stats.LastError = err.Error()
		return
	}
	p.stats.Sent++
}

// result is what the report says of the pushes.
func (p *pusher) result() *report.RemoteWrite {
	p.mu.Lock()
	defer p.mu.Unlock()
	r := p.stats
	return &r
}

// request is ps as remote-write series, each with one sample at at:
// counters and gauges as they are, histograms as their _bucket (one per le,
// +Inf last), _sum and _count series, as a scrape of the same metrics
// would store them.
func (p *pusher) request(ps []Point, at time.Time) *prompb.WriteRequest {
	ts := at.UnixMilli()
	req := &prompb.WriteRequest{}
	add := func(name string, f *Family, values []string, extra *prompb.Label, v float64) {
		labels := make([]prompb.Label, 0, len(values)+len(p.external)+2)
		labels = append(labels, prompb.Label{Name: "__name__", Value: name})
		for i, l := range f.Labels {
			labels = append(labels, prompb.Label{Name: l, Value: values[i]})
		}
		labels = append(labels, p.external...)
		if extra != nil {
			labels = append(labels, *extra)
		}
		slices.SortFunc(labels, func(a, b prompb.Label) int { return strings.Compare(a.Name, b.Name) })
		req.Timeseries = append(req.Timeseries, prompb.TimeSeries{Labels: labels, Samples: []prompb.Sample{{Value: v, Timestamp: ts}}})
	}
	bounds := Bounds()
	for _, pt := range ps {
		if pt.Family.Kind != Histogram {
			add(pt.Family.Name, pt.Family, pt.Labels, nil, pt.Value)
			continue
		}
		for i, b := range bounds {
			add(pt.Family.Name+"_bucket", pt.Family, pt.Labels, &prompb.Label{Name: "le", Value: formatLE(b.Seconds())}, float64(pt.Buckets.Cumulative[i]))
		}
		add(pt.Family.Name+"_bucket", pt.Family, pt.Labels, &prompb.Label{Name: "le", Value: "+Inf"}, float64(pt.Buckets.Count))
		add(pt.Family.Name+"_sum", pt.Family, pt.Labels, nil, seconds(pt.Buckets.Sum))
		add(pt.Family.Name+"_count", pt.Family, pt.Labels, nil, float64(pt.Buckets.Count))
	}
	return req
}
