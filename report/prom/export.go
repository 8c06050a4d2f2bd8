package prom

import (
	"cmp"
	"slices"
	"sync/atomic"
	"time"

	"github.com/primeload/primeload/report"
	"github.com/prometheus/client_golang/prometheus"
)

// Point is one series of a snapshot: a family, its label values and its
// value (Value for counters and gauges, Buckets for histograms).
type Point struct {
	Family  *Family
	Labels  []string
	Value   float64
	Buckets report.Buckets
}

// Points turns a snapshot into series, sorted by family and labels. Every
// name of the snapshot has a family (a test holds report/metric to it);
// one that had none would be left out rather than published under a
// made-up name.
func (m *Mapping) Points(s report.Snapshot) []Point {
	var ps []Point
	for name, v := range s.Counters {
		if f, labels, ok := m.Lookup(name); ok && f.Kind == Counter {
			ps = append(ps, Point{Family: f, Labels: labels, Value: float64(v)})
		}
	}
	for name, b := range s.Buckets {
		if f, labels, ok := m.Lookup(name); ok && f.Kind == Histogram {
			ps = append(ps, Point{Family: f, Labels: labels, Buckets: b})
		}
	}
	ps = append(ps, Point{Family: m.gauge(VUsersActive), Value: float64(s.VUsersActive)})
	slices.SortFunc(ps, func(a, b Point) int {
		return cmp.Or(cmp.Compare(a.Family.Name, b.Family.Name), slices.Compare(a.Labels, b.Labels))
	})
	return ps
}

func (m *Mapping) gauge(name string) *Family {
	for _, f := range m.families {
		if f.Name == name {
			return f
		}
	}
	panic("prom: no family " + name) // Families lists it: a programming error
}

// collector is a prometheus.Collector over the last published snapshot. A
// scrape reads one atomic pointer: it never waits on the run, and the run
// never waits on a scrape.
type collector struct {
	descs   map[*Family]*prometheus.Desc
	metrics atomic.Pointer[[]prometheus.Metric]
}

var _ prometheus.Collector = (*collector)(nil)

func newCollector(m *Mapping, segment string) *collector {
	c := &collector{descs: map[*Family]*prometheus.Desc{}}
	for _, f := range m.families {
		c.descs[f] = prometheus.NewDesc(f.Name, f.Help, f.Labels, prometheus.Labels{SegmentLabel: segment})
	}
	return c
}

func (c *collector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range c.descs {
		ch <- d
	}
}

func (c *collector) Collect(ch chan<- prometheus.Metric) {
	if ms := c.metrics.Load(); ms != nil {
		for _, m := range *ms {
			ch <- m
		}
	}
}

// publish builds the metrics a scrape returns from ps, away from any scrape.
func (c *collector) publish(ps []Point) {
	bounds := Bounds()
	ms := make([]prometheus.Metric, 0, len(ps))
	for _, p := range ps {
		d := c.descs[p.Family]
		var m prometheus.Metric
		var err error
		switch p.Family.Kind {
		case Counter:
			m, err = prometheus.NewConstMetric(d, prometheus.CounterValue, p.Value, p.Labels...)
		case Gauge:
			m, err = prometheus.NewConstMetric(d, prometheus.GaugeValue, p.Value, p.Labels...)
		case Histogram:
			buckets := make(map[float64]uint64, len(bounds))
			for i, b := range bounds {
				buckets[b.Seconds()] = uint64(p.Buckets.Cumulative[i])
			}
			m, err = prometheus.NewConstHistogram(d, uint64(p.Buckets.Count), seconds(p.Buckets.Sum), buckets, p.Labels...)
		}
		if err == nil { // only a label that is not UTF-8 fails: an endpoint name from a script
			ms = append(ms, m)
		}
	}
	c.metrics.Store(&ms)
}

func seconds(d time.Duration) float64 { return d.Seconds() }
