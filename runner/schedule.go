package runner

import (
	"fmt"
	"iter"
	"math"
	"math/rand/v2"
	"strconv"
	"strings"
	"time"

	"github.com/primeload/primeload/scenario"
)

// countEpsilon absorbs float noise in rate·duration products: 0.29/s for
// 100 s is 28.999999999999996 in float64 but 29 arrivals to the user.
const countEpsilon = 1e-9

// Arrival is one scheduled start of a virtual user.
type Arrival struct {
	At    time.Duration // offset from the schedule start
	Index int64         // k, the arrival's index in the whole (unsegmented) schedule
	Phase int           // index into Schedule.Phases
}

// Segment is this process's share of a distributed run: segment Index of
// Count, 1-based. Global arrival k belongs to segment (k mod Count)+1, so the
// union of all segments is exactly the one-process schedule. The zero value
// is the whole schedule (1/1).
type Segment struct {
	Index int
	Count int
}

// ParseSegment parses "i/N" as given to --segment.
func ParseSegment(s string) (Segment, error) {
	is, ns, ok := strings.Cut(s, "/")
	if !ok {
		return Segment{}, fmt.Errorf("segment %q: want i/N, e.g. 2/4", s)
	}
	i, err1 := strconv.Atoi(strings.TrimSpace(is))
	n, err2 := strconv.Atoi(strings.TrimSpace(ns))
	if err1 != nil || err2 != nil {
		return Segment{}, fmt.Errorf("segment %q: want i/N with whole numbers, e.g. 2/4", s)
	}
	seg := Segment{Index: i, Count: n}
	if err := seg.Validate(); err != nil {
		return Segment{}, err
	}
	return seg, nil
}

// Validate reports whether the segment is usable; the zero value is.
func (s Segment) Validate() error {
	if s == (Segment{}) {
		return nil
	}
	if s.Count < 1 || s.Index < 1 || s.Index > s.Count {
		return fmt.Errorf("segment %d/%d: want i/N with 1 <= i <= N", s.Index, s.Count)
	}
	return nil
}

// String formats the segment as "i/N".
func (s Segment) String() string {
	s = s.norm()
	return strconv.Itoa(s.Index) + "/" + strconv.Itoa(s.Count)
}

func (s Segment) norm() Segment {
	if s == (Segment{}) {
		return Segment{Index: 1, Count: 1}
	}
	return s
}

// Share splits a whole-run quantity (maxVusers, closed-model vusers) between
// segments: each gets n/N, the first n mod N segments one more, so the shares
// add up to n. A positive n never gives a share of 0, because 0 means "no cap"
// for maxVusers: with more segments than n, each segment keeps 1 and the
// whole run's cap becomes N.
func (s Segment) Share(n int) int {
	s = s.norm()
	if n <= 0 {
		return n
	}
	share := n / s.Count
	if s.Index-1 < n%s.Count {
		share++
	}
	return max(share, 1)
}

// owned counts the indices k in [0, x) that belong to the segment.
func (s Segment) owned(x int64) int64 {
	r := int64(s.Index - 1)
	if x <= r {
		return 0
	}
	return (x - r + int64(s.Count) - 1) / int64(s.Count)
}

// ExpectedArrivals is the number of arrivals a phase schedules in a whole
// (unsegmented) run: floor(r·d) for a constant rate, floor((r0+r1)/2·d) for a
// ramp, arrivalCount for a count phase, 0 for a pause or a closed-model phase.
func ExpectedArrivals(p scenario.Phase) int {
	if p.Kind == scenario.PhaseCount {
		return max(p.ArrivalCount, 0)
	}
	return floorCount(expectedBound(p))
}

// expectedBound is ExpectedArrivals before rounding and conversion, for
// checking a phase built in Go against the limits.
func expectedBound(p scenario.Phase) float64 {
	d := p.Duration.Seconds()
	switch p.Kind {
	case scenario.PhaseConstant:
		return p.ArrivalRate * d
	case scenario.PhaseRamp:
		return (p.ArrivalRate + p.RampTo) / 2 * d
	case scenario.PhaseCount:
		return float64(p.ArrivalCount)
	}
	return 0
}

func floorCount(x float64) int {
	if x <= 0 || math.IsNaN(x) {
		return 0
	}
	return int(math.Floor(x + countEpsilon))
}

// closedKey numbers iteration iter of a segment's slot-th user in a
// closed-model phase of n users (the whole run's count). Users are numbered
// across the whole run, and segment i of N runs users j = i-1, i-1+N, ...
// (Segment.Share of them; with more segments than users, each runs one, so
// the whole run has N). With U users in the whole run, user j's iterations
// take keys j, j+U, j+2U, ..., and a key picks sequential payload row
// key mod rows as an arrival's index does. So a user reads the same rows
// whichever process runs it, users never share a row until the rows wrap,
// and users iterating in step read the rows in order.
func closedKey(seg Segment, n, slot int, iter int64) int64 {
	seg = seg.norm()
	users := int64(max(n, seg.Count))
	j := int64(seg.Index - 1 + slot*seg.Count)
	return iter*users + j
}

// PhasePlan is one phase as scheduled for a segment.
type PhasePlan struct {
	Index    int
	Name     string
	Kind     scenario.PhaseKind
	Start    time.Duration // offset of the phase start from the schedule start
	Duration time.Duration
	Total    int   // arrivals of the whole run in this phase
	Expected int   // arrivals of this segment in this phase
	First    int64 // global index of the phase's first arrival in the whole run
	// MaxVusers is this segment's share of the phase's cap (see Segment.Share); 0 for none.
	MaxVusers int
	// VUsers is this segment's share of a closed-model phase's virtual users.
	VUsers int

	phase scenario.Phase
}

// Schedule is the arrival plan of a script for one segment. It is pure and
// clock-free: the runner adds the times to a start instant.
type Schedule struct {
	Phases  []PhasePlan
	Segment Segment
	// Seed draws the gaps of poisson phases, so a seed gives the same
	// arrivals in every run and in every segment.
	Seed uint64
}

// NewSchedule plans phases for a segment (the zero Segment for the whole run).
// It rejects values the scenario validator should already have rejected, so a
// script built in Go cannot make the runner loop forever.
func NewSchedule(phases []scenario.Phase, seg Segment) (*Schedule, error) {
	if err := seg.Validate(); err != nil {
		return nil, err
	}
	seg = seg.norm()
	s := &Schedule{Segment: seg, Phases: make([]PhasePlan, 0, len(phases))}
	var start time.Duration
	var first int64
	for i, p := range phases {
		if err := checkPhase(p); err != nil {
			return nil, fmt.Errorf("phase %d (line %d): %w", i+1, p.Line, err)
		}
		total := ExpectedArrivals(p)
		plan := PhasePlan{
			Index:     i,
			Name:      p.Name,
			Kind:      p.Kind,
			Start:     start,
			Duration:  p.Duration,
			Total:     total,
			Expected:  int(seg.owned(first+int64(total)) - seg.owned(first)),
			First:     first,
			MaxVusers: seg.Share(p.MaxVusers),
			phase:     p,
		}
		if p.Kind == scenario.PhaseClosed {
			plan.VUsers = seg.Share(p.VUsers)
			if plan.VUsers > scenario.MaxProcessVUsers {
				return nil, fmt.Errorf("phase %d (line %d): vusers %d would put %d virtual users in this process, more than %d (about 10 KiB each); spread them over processes with --segment i/N, N >= %d",
					i+1, p.Line, p.VUsers, plan.VUsers, scenario.MaxProcessVUsers, (p.VUsers+scenario.MaxProcessVUsers-1)/scenario.MaxProcessVUsers)
			}
		}
		s.Phases = append(s.Phases, plan)
		// Each phase is at most MaxDuration (checkPhase), so the sum is
		// checked before it could overflow.
		if start+p.Duration > scenario.MaxDuration {
			return nil, fmt.Errorf("phase %d (line %d): the phases up to here last %v, more than %v", i+1, p.Line, start+p.Duration, scenario.MaxDuration)
		}
		start += p.Duration
		first += int64(total)
	}
	return s, nil
}

func checkPhase(p scenario.Phase) error {
	switch {
	case p.Duration < 0:
		return fmt.Errorf("duration %v is negative; want >= 0", p.Duration)
	case p.ArrivalRate < 0 || math.IsNaN(p.ArrivalRate) || math.IsInf(p.ArrivalRate, 0):
		return fmt.Errorf("arrivalRate %v is invalid; want a finite number >= 0", p.ArrivalRate)
	case p.Kind == scenario.PhaseRamp && (p.RampTo < 0 || math.IsNaN(p.RampTo) || math.IsInf(p.RampTo, 0)):
		return fmt.Errorf("rampTo %v is invalid; want a finite number >= 0", p.RampTo)
	case p.ArrivalCount < 0:
		return fmt.Errorf("arrivalCount %d is negative; want >= 0", p.ArrivalCount)
	case p.MaxVusers < 0:
		return fmt.Errorf("maxVusers %d is negative; want >= 0 (0 for no cap)", p.MaxVusers)
	case p.Kind == scenario.PhaseClosed && p.VUsers < 1:
		return fmt.Errorf("vusers %d: want >= 1", p.VUsers)
	case p.Kind < scenario.PhaseConstant || p.Kind > scenario.PhaseClosed:
		return fmt.Errorf("unknown phase kind %d", p.Kind)
	case p.Kind == scenario.PhaseCount && p.ArrivalCount > 0 && p.Duration == 0:
		return fmt.Errorf("arrivalCount %d needs a duration > 0", p.ArrivalCount)
	case p.Duration > scenario.MaxDuration:
		return fmt.Errorf("duration %v is more than %v", p.Duration, scenario.MaxDuration)
	case expectedBound(p) > scenario.MaxPhaseArrivals:
		// Bounding the float before floorCount converts it keeps the
		// conversion and the running totals exact.
		return fmt.Errorf("%.0f arrivals is more than %d per phase", expectedBound(p), scenario.MaxPhaseArrivals)
	}
	return nil
}

// Duration is the length of the whole schedule, pauses and closed phases included.
func (s *Schedule) Duration() time.Duration {
	if len(s.Phases) == 0 {
		return 0
	}
	last := s.Phases[len(s.Phases)-1]
	return last.Start + last.Duration
}

// Expected is the number of arrivals this segment schedules in all phases.
func (s *Schedule) Expected() int {
	n := 0
	for _, p := range s.Phases {
		n += p.Expected
	}
	return n
}

// Arrivals yields this segment's arrivals in time order.
func (s *Schedule) Arrivals() iter.Seq[Arrival] {
	return func(yield func(Arrival) bool) {
		for i := range s.Phases {
			for a := range s.PhaseArrivals(i) {
				if !yield(a) {
					return
				}
			}
		}
	}
}

// PhaseArrivals yields this segment's arrivals of phase i in time order.
func (s *Schedule) PhaseArrivals(i int) iter.Seq[Arrival] {
	p := &s.Phases[i]
	n := int64(s.Segment.Count)
	r := int64(s.Segment.Index - 1)
	return func(yield func(Arrival) bool) {
		if p.Total == 0 {
			return
		}
		// The first global index >= p.First that is congruent to r mod n.
		k := p.First + ((r-p.First%n)+n)%n
		if p.phase.Poisson && p.Kind == scenario.PhaseConstant {
			s.poissonArrivals(i, k, n, yield)
			return
		}
		for end := p.First + int64(p.Total); k < end; k += n {
			a := Arrival{At: p.Start + p.offset(k-p.First), Index: k, Phase: i}
			if !yield(a) {
				return
			}
		}
	}
}

// poissonSalt keeps poisson phases' gap streams apart from users' streams.
const poissonSalt = 0x2545f4914f6cdd1d

// poissonArrivals yields the arrivals of poisson phase i from global index
// k on, every n-th, until one is refused. The phase's Total arrivals are
// the points of a Poisson process over the phase conditioned on that many
// (Artillery's count varies around it; keeping it exact keeps the expected
// count and segments exact): such points are n sorted uniforms, which are
// d·S(j)/S(N+1) for partial sums S of N+1 exponential gaps. The gaps are
// drawn twice from the same seeded stream: once for S(N+1), then in order.
func (s *Schedule) poissonArrivals(i int, k, n int64, yield func(Arrival) bool) {
	p := &s.Phases[i]
	stream := func() *rand.Rand { return rand.New(rand.NewPCG(s.Seed, poissonSalt*uint64(i+1))) }
	r := stream()
	var total float64
	for range p.Total + 1 {
		total += r.ExpFloat64()
	}
	r = stream()
	var sum float64
	d := float64(p.Duration)
	for j := int64(0); j < int64(p.Total); j++ {
		sum += r.ExpFloat64()
		if p.First+j != k {
			continue
		}
		at := min(max(time.Duration(d*sum/total), 0), p.Duration-1)
		if !yield(Arrival{At: p.Start + at, Index: k, Phase: i}) {
			return
		}
		k += n
	}
}

// offset is the time of the phase's j-th arrival (0-based, whole-run count)
// from the phase start. It is truncated to the nanosecond so it never reaches
// the phase end.
func (p *PhasePlan) offset(j int64) time.Duration {
	d := p.Duration.Seconds()
	var t float64
	switch p.Kind {
	case scenario.PhaseConstant:
		t = float64(j) / p.phase.ArrivalRate
	case scenario.PhaseCount:
		t = float64(j) * d / float64(p.Total)
	case scenario.PhaseRamp:
		t = rampTime(p.phase.ArrivalRate, p.phase.RampTo, d, float64(j))
	}
	at := time.Duration(t * 1e9)
	return min(max(at, 0), p.Duration-1)
}

// rampTime solves r0·t + (r1−r0)·t²/(2d) = k for t: the instant the integral
// of a linearly ramping rate reaches k arrivals. The form 2k/(b+√(b²+4ak))
// stays accurate when the ramp is nearly flat (a → 0) and for ramps down.
func rampTime(r0, r1, d, k float64) float64 {
	if k == 0 {
		return 0
	}
	a := (r1 - r0) / (2 * d)
	disc := max(r0*r0+4*a*k, 0)
	return 2 * k / (r0 + math.Sqrt(disc))
}
