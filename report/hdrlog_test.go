package report

import (
	"bytes"
	"errors"
	"io"
	"testing"

	"github.com/HdrHistogram/hdrhistogram-go"
	"github.com/primeload/primeload/report/metric"
)

func TestWriteHdrLogReadsBackWithHdrHistogramsReader(t *testing.T) {
	r := smallReport(t)
	var buf bytes.Buffer
	if err := WriteHdrLog(&buf, r); err != nil {
		t.Fatal(err)
	}
	type interval struct {
		tag        string
		start, end int64
		count      int64
	}
	var got []interval
	rd := hdrhistogram.NewHistogramLogReader(&buf)
	for {
		h, err := rd.NextIntervalHistogram()
		if errors.Is(err, io.EOF) || (err == nil && h == nil) {
			break
		}
		if err != nil {
			t.Fatalf("read interval %d: %v", len(got), err)
		}
		got = append(got, interval{h.Tag(), h.StartTimeMs(), h.EndTimeMs(), h.TotalCount()})
		want, err := r.Intermediate[(len(got)-1)/4].Histogram(map[string]string{"": metric.ResponseTime, metric.ResponseTime2xx: metric.ResponseTime2xx, "GET_/api/goods-received/": metric.EndpointResponseTime + "GET /api/goods-received/", metric.ScheduleLag: metric.ScheduleLag}[h.Tag()])
		if err != nil {
			t.Fatalf("interval %d tag %q: %v", len(got), h.Tag(), err)
		}
		if !h.Equals(want) {
			t.Errorf("interval %d tag %q differs from the report's histogram", len(got), h.Tag())
		}
	}
	// The log stores times relative to its base time; the reader adds it back.
	p0, p1, p2 := t0.UnixMilli(), t0.UnixMilli()+10000, t0.UnixMilli()+20000
	want := []interval{
		{"", p0, p1, 50}, {metric.ResponseTime2xx, p0, p1, 50}, {"GET_/api/goods-received/", p0, p1, 50}, {metric.ScheduleLag, p0, p1, 50},
		{"", p1, p2, 50}, {metric.ResponseTime2xx, p1, p2, 50}, {"GET_/api/goods-received/", p1, p2, 50}, {metric.ScheduleLag, p1, p2, 50},
	}
	if len(got) != len(want) {
		t.Fatalf("read %d intervals %+v, want %d", len(got), got, len(want))
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("interval %d = %+v, want %+v", i, got[i], want[i])
		}
	}
}
