package loadtest_test

import (
	"context"
	"fmt"
	"log"
	"net/http"
	"net/http/httptest"
	"time"

	"github.com/primeload/primeload/runner/loadtest"
	"github.com/primeload/primeload/scenario"
)

// A Go program runs a script against a local server and reads the judged
// report: the same report `primeload run -o` writes for the same script.
func Example() {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprint(w, `{"id":7}`)
	}))
	defer srv.Close()

	src := []byte(`config:
  target: "` + srv.URL + `"
  phases:
    - duration: 1
      arrivalCount: 4
      name: smoke
  ensure:
    thresholds:
      - http.response_time.p99: 1000
    conditions:
      - expression: "http.codes.200 == http.requests"
scenarios:
  - flow:
      - get:
          url: "/items/7"
`)
	script, err := scenario.Parse("smoke.yml", src, scenario.LoadOptions{})
	if err != nil {
		log.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	rep, err := loadtest.Run(ctx, script, loadtest.Options{Source: src, Period: time.Second}, loadtest.Hooks{})
	if err != nil {
		log.Fatal(err)
	}
	for _, p := range rep.Expected {
		fmt.Printf("phase %s: expected %d, created %d\n", p.Name, p.Expected, p.Created)
	}
	fmt.Println("requests:", rep.Aggregate.Counters["http.requests"], "200s:", rep.Aggregate.Counters["http.codes.200"])
	for _, s := range rep.SLO {
		fmt.Println(s.Status(), s.Title())
	}
	// rep.Verdict is what the CLI's exit code says: "passed" here, or
	// "untrusted" on a machine too busy to keep the schedule.
	fmt.Println("strict SLOs passed:", *rep.Passed)
	// Output:
	// phase smoke: expected 4, created 4
	// requests: 4 200s: 4
	// ok http.response_time.p99 < 1000
	// ok http.codes.200 == http.requests
	// strict SLOs passed: true
}
