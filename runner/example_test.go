package runner_test

import (
	"fmt"
	"time"

	"github.com/primeload/primeload/runner"
	"github.com/primeload/primeload/scenario"
)

// A ramp's arrivals follow the integral of its rate, and four segments of a
// distributed run split them one by one.
func ExampleNewSchedule() {
	phases := []scenario.Phase{
		{Name: "warm up", Kind: scenario.PhaseRamp, ArrivalRate: 0, RampTo: 4, Duration: 2 * time.Second},
		{Name: "steady", Kind: scenario.PhaseConstant, ArrivalRate: 3, Duration: time.Second, MaxVusers: 10},
	}
	whole, _ := runner.NewSchedule(phases, runner.Segment{})
	for a := range whole.Arrivals() {
		fmt.Printf("arrival %d at %v\n", a.Index, a.At.Round(time.Millisecond))
	}
	for i := 1; i <= 4; i++ {
		seg, _ := runner.ParseSegment(fmt.Sprintf("%d/4", i))
		s, _ := runner.NewSchedule(phases, seg)
		fmt.Printf("segment %v: %d + %d arrivals, maxVusers %d\n", seg, s.Phases[0].Expected, s.Phases[1].Expected, s.Phases[1].MaxVusers)
	}
	// Output:
	// arrival 0 at 0s
	// arrival 1 at 1s
	// arrival 2 at 1.414s
	// arrival 3 at 1.732s
	// arrival 4 at 2s
	// arrival 5 at 2.333s
	// arrival 6 at 2.667s
	// segment 1/4: 1 + 1 arrivals, maxVusers 3
	// segment 2/4: 1 + 1 arrivals, maxVusers 3
	// segment 3/4: 1 + 1 arrivals, maxVusers 2
	// segment 4/4: 1 + 0 arrivals, maxVusers 2
}
