package report_test

import (
	"fmt"
	"time"

	"github.com/primeload/primeload/report"
)

// A run records through sinks, closes periods with Flush, and reads any
// metric by its flat name, as ensure expressions do.
func ExampleCollector() {
	start := time.Date(2026, 11, 26, 10, 0, 0, 0, time.UTC)
	c := report.NewCollector(start, report.Info{Period: 10 * time.Second})
	sink := c.Sink(0)
	for i := 1; i <= 100; i++ {
		sink.Count("http.requests", 1)
		sink.Response("GET /api/goods-received/", time.Duration(i)*time.Millisecond, 200, 512)
	}
	if _, err := c.Flush(c.NextFlush(start)); err != nil {
		panic(err)
	}
	agg := c.Report().Aggregate
	for _, name := range []string{
		"http.codes.200",
		"http.request_rate",
		"http.response_time.p99",
		"plugins.metrics-by-endpoint.response_time.GET /api/goods-received/.median",
	} {
		v, _ := agg.Lookup(name)
		fmt.Println(name, v)
	}
	// Output:
	// http.codes.200 100
	// http.request_rate 10
	// http.response_time.p99 99.007
	// plugins.metrics-by-endpoint.response_time.GET /api/goods-received/.median 50.015
}
