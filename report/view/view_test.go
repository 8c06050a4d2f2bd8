package view

import (
	"reflect"
	"testing"
	"time"

	"github.com/primeload/primeload/report/reporttest"
)

// truth counts what reporttest.Run with Failures records, from its rules:
// request n (from 1) goes to endpoint ((n-1) mod perPeriod) mod 3; a multiple
// of 200 times out (no response), another multiple of 50 gets a 500.
func truth(periods, perPeriod int) (requests, http5xx, network int64, perEndpoint [3][2]int64) {
	for n := 1; n <= periods*perPeriod; n++ {
		requests++
		ep := (n - 1) % perPeriod % 3
		switch {
		case n%200 == 0:
			network++
		case n%50 == 0:
			http5xx++
			perEndpoint[ep][0]++
			perEndpoint[ep][1]++
		default:
			perEndpoint[ep][0]++
		}
	}
	return
}

func TestSummarizeAndEndpoints(t *testing.T) {
	t.Parallel()
	r := reporttest.Run(t, reporttest.Options{Failures: true, Periods: 4})
	requests, http5xx, network, perEndpoint := truth(4, 200)

	o := Summarize(r)
	if got, want := o.Requests, requests; got != want {
		t.Errorf("Requests = %d, want %d", got, want)
	}
	if got, want := o.Tally, (Tally{HTTP5xx: http5xx, Network: network}); got != want {
		t.Errorf("Tally = %+v, want %+v", got, want)
	}
	if got, want := o.ErrorRate, float64(http5xx+network)/float64(requests)*100; got != want {
		t.Errorf("ErrorRate = %v, want %v", got, want)
	}
	if got, want := o.Duration, 40*time.Second; got != want {
		t.Errorf("Duration = %v, want %v", got, want)
	}
	if got, want := o.Rate, float64(requests)/40; got != want {
		t.Errorf("Rate = %v, want %v", got, want)
	}
	if o.Untrusted || o.Title != "black-friday.yml" {
		t.Errorf("Untrusted = %v, Title = %q", o.Untrusted, o.Title)
	}

	eps := Endpoints(r)
	if len(eps) != len(reporttest.Endpoints()) {
		t.Fatalf("%d endpoint rows, want %d", len(eps), len(reporttest.Endpoints()))
	}
	for i, ep := range eps {
		if ep.Name != reporttest.Endpoints()[i] || ep.Responses != perEndpoint[i][0] || ep.Tally.HTTP5xx != perEndpoint[i][1] || !ep.HasLatency || ep.Latency.Count != perEndpoint[i][0] {
			t.Errorf("row %d = %s %d responses %d 5xx (latency count %d), want %s %d and %d",
				i, ep.Name, ep.Responses, ep.Tally.HTTP5xx, ep.Latency.Count, reporttest.Endpoints()[i], perEndpoint[i][0], perEndpoint[i][1])
		}
	}

	if got, want := StatusCodes(r), []Count{{"200", requests - http5xx - network}, {"500", http5xx}}; !reflect.DeepEqual(got, want) {
		t.Errorf("StatusCodes = %v, want %v", got, want)
	}
	if got, want := Errors(r), []Count{{"ETIMEDOUT", network}}; !reflect.DeepEqual(got, want) {
		t.Errorf("Errors = %v, want %v", got, want)
	}
}

func TestUntrustedOverview(t *testing.T) {
	t.Parallel()
	o := Summarize(reporttest.Run(t, reporttest.Options{Periods: 1, Lag: 25 * time.Millisecond}))
	if !o.Untrusted || o.UntrustedBy == "" || o.LagP99 < 25 {
		t.Errorf("Untrusted = %v %q, lag p99 %v ms; want untrusted with a reason and lag >= 25 ms", o.Untrusted, o.UntrustedBy, o.LagP99)
	}
}

func TestFormats(t *testing.T) {
	t.Parallel()
	tests := []struct {
		v        float64
		ms, perc string
	}{
		{0.1234, "0.12", "0.12%"},
		{12.345, "12.3", "12.35%"},
		{1234.5, "1234", "1234.50%"},
	}
	for _, tt := range tests {
		if got := Ms(tt.v); got != tt.ms {
			t.Errorf("Ms(%v) = %q, want %q", tt.v, got, tt.ms)
		}
		if got := Percent(tt.v); got != tt.perc {
			t.Errorf("Percent(%v) = %q, want %q", tt.v, got, tt.perc)
		}
	}
}

func TestVUsersActive(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		v    VUsers
		want int64
	}{
		{"some in flight", VUsers{Created: 13, Completed: 9, Failed: 1}, 3},
		{"all done", VUsers{Created: 13, Completed: 12, Failed: 1}, 0},
		{"skipped ones were never in flight", VUsers{Created: 5, Completed: 5, Skipped: 7}, 0},
		// A live flush can hold completions whose creations are in the next period.
		{"more finished than created so far", VUsers{Created: 12, Completed: 14}, 0},
	}
	for _, tt := range tests {
		if got := tt.v.Active(); got != tt.want {
			t.Errorf("%s: %+v.Active() = %d, want %d", tt.name, tt.v, got, tt.want)
		}
	}
}
