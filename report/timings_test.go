package report

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/primeload/primeload/report/metric"
	"github.com/primeload/primeload/runner"
)

// timedCollector records n responses of 2 ms per period for two periods,
// with Timings when timed: every fourth with an HTTPS connection's phases,
// the others plain ones with none.
func timedCollector(t *testing.T, timed bool) *Collector {
	t.Helper()
	c := NewCollector(t0, Info{Period: 10 * time.Second})
	for p := 1; p <= 2; p++ {
		for i := range 40 {
			sink := c.Sink(1 + i%5) // several shards
			sink.Response("GET /", 2*time.Millisecond, 200, 10)
			if !timed {
				continue
			}
			tm := runner.Timings{Total: 2 * time.Millisecond}
			if i%4 == 0 {
				tm = runner.Timings{DNS: 100 * time.Microsecond, TCP: 200 * time.Microsecond, TLS: 900 * time.Microsecond, HTTPS: true, Total: 2 * time.Millisecond}
			}
			sink.Timings(tm)
		}
		if _, err := c.Flush(t0.Add(time.Duration(p) * 10 * time.Second)); err != nil {
			t.Fatal(err)
		}
	}
	return c
}

// TestCollectorTimings: the extendedMetrics histograms come out under
// Artillery's names in every period and the aggregate, one value per
// response (http.tls one per HTTPS response), survive the JSON report and
// add up when reports merge; a run without Timings has none of them.
func TestCollectorTimings(t *testing.T) {
	r := timedCollector(t, true).Report()
	type want struct {
		count    int64
		min, max float64
	}
	check := func(what string, m *Metrics, scale int64) {
		t.Helper()
		for name, w := range map[string]want{
			metric.HTTPDNS:   {40, 0, 0.1},
			metric.HTTPTCP:   {40, 0, 0.2},
			metric.HTTPTLS:   {10, 0.9, 0.9},
			metric.HTTPTotal: {40, 2, 2},
		} {
			s, ok := m.Summaries[name]
			if !ok {
				t.Errorf("%s: no %s (summaries %v)", what, name, m.Summaries)
				continue
			}
			if s.Count != w.count*scale || !near(s.Min, w.min) || !near(s.Max, w.max) {
				t.Errorf("%s: %s = count %d, min %v, max %v; want %d, %v, %v", what, name, s.Count, s.Min, s.Max, w.count*scale, w.min, w.max)
			}
			if _, ok := m.HDR[name]; !ok {
				t.Errorf("%s: %s has no histogram to merge", what, name)
			}
			if m.Histograms[name] != s {
				t.Errorf("%s: histograms[%s] = %+v, summaries has %+v (Artillery's files carry both)", what, name, m.Histograms[name], s)
			}
		}
	}
	for i, m := range r.Intermediate {
		check("period "+string(rune('1'+i)), m, 1)
	}
	check("aggregate", r.Aggregate, 2)

	var buf bytes.Buffer
	if err := Encode(&buf, r); err != nil {
		t.Fatal(err)
	}
	var raw struct {
		Aggregate struct {
			Summaries, Histograms map[string]json.RawMessage
		}
	}
	if err := json.Unmarshal(buf.Bytes(), &raw); err != nil {
		t.Fatal(err)
	}
	for _, name := range metric.ExtendedSummaries() {
		if raw.Aggregate.Summaries[name] == nil || raw.Aggregate.Histograms[name] == nil {
			t.Errorf("the JSON report's aggregate lacks summaries or histograms %q", name)
		}
	}
	back, err := Decode(&buf)
	if err != nil {
		t.Fatal(err)
	}
	merged, err := Merge([]*Report{back, timedCollector(t, true).Report()}, false)
	if err != nil {
		t.Fatal(err)
	}
	check("merged", merged.Aggregate, 4)

	var sum bytes.Buffer
	if err := WriteSummary(&sum, r); err != nil {
		t.Fatal(err)
	}
	rows := map[string]string{}
	for _, line := range strings.Split(sum.String(), "\n") {
		if f := strings.Fields(line); len(f) == 10 {
			rows[f[0]] = strings.Join(f[1:], " ")
		}
	}
	for name, want := range map[string]string{
		metric.HTTPDNS:   "80 0.00 0.03 0.00 0.10 0.10 0.10 0.10 0.10",
		metric.HTTPTLS:   "20 0.90 0.90 0.90 0.90 0.90 0.90 0.90 0.90",
		metric.HTTPTotal: "80 2.00 2.00 2.00 2.00 2.00 2.00 2.00 2.00",
	} {
		if rows[name] != want {
			t.Errorf("summary row %s: %q, want %q:\n%s", name, rows[name], want, sum.String())
		}
	}

	off := timedCollector(t, false).Report()
	for _, m := range append(off.Intermediate, off.Aggregate) {
		for _, name := range metric.ExtendedSummaries() {
			if _, ok := m.Summaries[name]; ok {
				t.Errorf("without Timings the report has %s", name)
			}
		}
	}
}

func near(a, b float64) bool { return a-b < 0.002 && b-a < 0.002 }
