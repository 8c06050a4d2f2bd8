package loadtest

import (
	"context"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/primeload/primeload/report"
	"github.com/primeload/primeload/scenario"
)

// TestCheckpointCountsArrivals: the report a killed run leaves behind (the
// last checkpoint) counts each phase's arrivals so far, not 0.
func TestCheckpointCountsArrivals(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	t.Cleanup(srv.Close)
	src := []byte(`config:
  target: "` + srv.URL + `"
  phases:
    - duration: 1
      arrivalCount: 5
      name: first
    - duration: 2
      arrivalRate: 4
      name: second
    - duration: 1
      arrivalCount: 3
      name: third
scenarios:
  - flow:
      - get:
          url: "/"
`)
	script, err := scenario.Parse("two.yml", src, scenario.LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var checkpoints []*report.Report
	ckpt := filepath.Join(t.TempDir(), "run.json")
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	// What is on disk after each period is what a SIGKILL would leave.
	var readErr error
	rep, err := Run(ctx, script, Options{Period: 200 * time.Millisecond, Checkpoint: ckpt}, Hooks{
		Checkpoint: func(n int) {
			r, err := report.ReadFile(ckpt)
			if err != nil {
				readErr = err
				return
			}
			if len(r.Intermediate) != n {
				t.Errorf("checkpoint after %d periods reads back %d", n, len(r.Intermediate))
			}
			checkpoints = append(checkpoints, r)
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	if readErr != nil {
		t.Fatalf("checkpoint mid-run: %v", readErr)
	}
	if rep.Periods() != len(checkpoints) {
		t.Errorf("final report has %d periods, the checkpoint had %d", rep.Periods(), len(checkpoints))
	}
	if len(checkpoints) < 5 {
		t.Fatalf("%d checkpoints in a 4 s run with 200 ms periods, want at least 5", len(checkpoints))
	}
	var sawSecond bool
	for i, c := range checkpoints {
		if !c.Aborted {
			t.Errorf("checkpoint %d not marked aborted", i)
		}
		if len(c.Expected) != 3 {
			t.Fatalf("checkpoint %d has %d phases, want 3", i, len(c.Expected))
		}
		var sum int64
		for j, p := range c.Expected {
			if p.Created > p.Expected || p.Created > rep.Expected[j].Created {
				t.Errorf("checkpoint %d phase %s created %d, more than expected %d or finally created %d", i, p.Name, p.Created, p.Expected, rep.Expected[j].Created)
			}
			sum += p.Created
		}
		if got := c.Aggregate.Counters["vusers.created"]; sum < got || sum > got+3 {
			// The counters are flushed a moment before the phases are
			// read: arrivals in between count only in the phases (a few
			// at most at 5/s, even on a loaded machine).
			t.Errorf("checkpoint %d: phases created %d, counter vusers.created %d", i, sum, got)
		}
		if c.Expected[1].Created > 0 {
			sawSecond = true
			if c.Expected[0].Created != 5 {
				t.Errorf("checkpoint %d: second phase started but first phase created %d, want all 5", i, c.Expected[0].Created)
			}
		}
	}
	if !sawSecond {
		t.Errorf("no checkpoint saw the second phase's arrivals: %+v", checkpoints[len(checkpoints)-1].Expected)
	}
	if rep.Aborted || rep.Expected[0].Created != 5 || rep.Expected[1].Created != 8 || rep.Expected[2].Created != 3 {
		t.Errorf("final report: aborted %v, phases %+v", rep.Aborted, rep.Expected)
	}
	// Each phase starts where the schedule puts it (0 s, 1 s, 3 s), by the
	// report's clock, in the final report and in a checkpoint that saw it.
	for j, at := range []time.Duration{0, time.Second, 3 * time.Second} {
		if got, want := rep.Expected[j].Start, rep.StartedAt.Add(at).UnixMilli(); got != want {
			t.Errorf("phase %d starts at %d, want %d (startedAt + %s)", j, got, want, at)
		}
	}
	// A checkpoint reads the schedule's start off its first phase callback,
	// a moment after the runner's own clock.
	if last := checkpoints[len(checkpoints)-1]; last.Expected[1].Created > 0 {
		if d := last.Expected[1].Start - rep.Expected[1].Start; d < -50 || d > 50 {
			t.Errorf("checkpoint: phase 2 starts at %d, the final report says %d", last.Expected[1].Start, rep.Expected[1].Start)
		}
	}
}

func TestCheckStartAt(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 12, 2, 15, 0, 0, 0, time.UTC)
	const dur = 40 * time.Second
	tests := []struct {
		name string
		at   time.Time
		ok   bool
	}{
		{"none", time.Time{}, true},
		{"in the future", now.Add(time.Minute), true},
		{"now", now, true},
		{"late by part of the schedule: joins, misses counted", now.Add(-39 * time.Second), true},
		{"late by the whole schedule", now.Add(-dur), false},
		{"an hour late", now.Add(-time.Hour), false},
	}
	for _, tt := range tests {
		err := checkStartAt(tt.at, dur, now)
		if (err == nil) != tt.ok {
			t.Errorf("%s: err = %v, want ok %v", tt.name, err, tt.ok)
		}
		if err != nil && !strings.Contains(err.Error(), "--start-at") {
			t.Errorf("%s: %q does not name --start-at", tt.name, err)
		}
	}
}

// TestRunKeepsFineSeries: with 10 s periods, a 3 s run still has a point a
// second, Hooks.Step is called after each, and the points together count
// every response and request of the aggregate.
func TestRunKeepsFineSeries(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	t.Cleanup(srv.Close)
	src := []byte(`config:
  target: "` + srv.URL + `"
  phases:
    - duration: 3
      arrivalRate: 20
scenarios:
  - flow:
      - get:
          url: "/"
      - think: 0.5
      - get:
          url: "/"
`)
	script, err := scenario.Parse("fine.yml", src, scenario.LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	var steps []int64 // each step's responses so far, from its sample
	rep, err := Run(ctx, script, Options{Period: 10 * time.Second}, Hooks{
		Step: func(sm Sample) { steps = append(steps, sm.Live.Responses) },
	})
	if err != nil {
		t.Fatal(err)
	}
	s := rep.Series
	// Step follows every whole second's point; the last point, closed at
	// the run's end, has none.
	if s != nil && len(steps) != len(s.Points)-1 {
		t.Errorf("%d steps for %d points, want one for each whole second's", len(steps), len(s.Points))
	}
	if !slices.IsSorted(steps) || len(steps) > 0 && steps[len(steps)-1] == 0 {
		t.Errorf("responses seen by the steps %v: want them growing", steps)
	}
	if s == nil || s.Step != 1000 || len(s.Points) < 3 || len(s.Points) > 6 {
		t.Fatalf("series of a 3.5 s run: %+v, want 3 to 6 points of 1000 ms", s)
	}
	var requests, responses, lat, active int64
	for _, p := range s.Points {
		requests += p.Requests
		responses += p.Responses
		lat += p.Latency.Count()
		active = max(active, p.Active)
	}
	agg := rep.Aggregate
	if requests != agg.Counters["http.requests"] || responses != agg.Counters["http.responses"] || lat != responses {
		t.Errorf("series counts %d requests, %d responses (%d latencies); the aggregate %d and %d",
			requests, responses, lat, agg.Counters["http.requests"], agg.Counters["http.responses"])
	}
	if active < 5 || s.Points[len(s.Points)-1].Active != 0 {
		t.Errorf("active users peak at %d and end at %d; want about 10 at the peak and 0 at the end", active, s.Points[len(s.Points)-1].Active)
	}
}
