package report

import (
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"
	"github.com/primeload/primeload/report/metric"
	"github.com/primeload/primeload/runner"
)

// timingHists are a window's config.http.extendedMetrics histograms. They
// are packed, like the per-endpoint ones, and a window makes them on its
// first Timings, so a run without the option holds none.
type timingHists struct {
	dns, tcp, tls, total *hdrhistogram.PackedHistogram
}

func newTimingHists() *timingHists {
	return &timingHists{dns: newPacked(), tcp: newPacked(), tls: newPacked(), total: newPacked()}
}

// Timings records one response's config.http.extendedMetrics histograms.
// A clamped value is not counted again: every phase is part of the
// response's latency, which Response counted already.
func (s *shard) Timings(t runner.Timings) {
	s.mu.Lock()
	w := s.cur
	if w.timings == nil {
		w.timings = newTimingHists()
	}
	h := w.timings
	recordPhase(h.dns, t.DNS)
	recordPhase(h.tcp, t.TCP)
	if t.HTTPS {
		// Artillery records an undefined phase for plain HTTP, which its
		// sketch counts as a 0 and which makes the summary's mean, min and
		// max null; primeload records no TLS where there was none.
		recordPhase(h.tls, t.TLS)
	}
	recordPhase(h.total, t.Total)
	s.mu.Unlock()
}

// recordPhase adds d to p, in the histogram range.
func recordPhase(p *hdrhistogram.PackedHistogram, d time.Duration) {
	us, _ := micros(d)
	_ = p.RecordValue(us) // in range after micros
}

// each calls fn with each histogram and its metric name; nothing for nil.
func (h *timingHists) each(fn func(name string, p *hdrhistogram.PackedHistogram)) {
	if h == nil {
		return
	}
	fn(metric.HTTPDNS, h.dns)
	fn(metric.HTTPTCP, h.tcp)
	fn(metric.HTTPTLS, h.tls)
	fn(metric.HTTPTotal, h.total)
}

// reset empties h, keeping its histograms for the next period.
func (h *timingHists) reset() {
	h.each(func(_ string, p *hdrhistogram.PackedHistogram) { p.Reset() })
}

// addTimings folds o's histograms into w's, making w's on the first.
func (w *window) addTimings(o *timingHists) {
	if o == nil || o.total.TotalCount() == 0 {
		return
	}
	if w.timings == nil {
		w.timings = newTimingHists()
	}
	w.timings.dns.Merge(o.dns)
	w.timings.tcp.Merge(o.tcp)
	w.timings.tls.Merge(o.tls)
	w.timings.total.Merge(o.total)
}

// name adds h's non-empty histograms to hists under their metric names.
func (h *timingHists) name(hists map[string]hist) {
	h.each(func(name string, p *hdrhistogram.PackedHistogram) {
		if p.TotalCount() > 0 {
			hists[name] = p
		}
	})
}
