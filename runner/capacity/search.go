package capacity

import (
	"github.com/primeload/primeload/report/capacity"
)

// search decides which rate to hold next from the steps so far. It is pure:
// no clock, no load, so every path of the search is table-tested.
//
// It rises geometrically (Start, Start·Growth, ...; capped at MaxRate)
// until a step fails, then bisects between the highest passing rate (lo)
// and the lowest failing one (hi) until they are within Precision of hi,
// then re-checks lo once: a rate that passed once by luck and fails its
// re-check becomes a failing rate and the search narrows below it. A step
// where the generator was the limit ends the search, since nothing above
// it can be measured.
type search struct {
	start, growth, precision, maxRate float64

	lo, hi    float64 // highest pass and lowest fail so far; 0: none
	last      float64 // the last rate rising tried
	rechecked bool
	steps     []capacity.Step
}

// minRateShare bounds the descent when even the first step fails: below
// Start/64 (six halvings) the answer is "it does not hold any useful rate".
const minRateShare = 1.0 / 64

// next returns the next rate to hold and why, or done and what ended the search.
func (s *search) next() (rate float64, stage capacity.Stage, done bool, limit capacity.Limit) {
	if n := len(s.steps); n > 0 && s.steps[n-1].Generator != "" {
		return 0, "", true, capacity.LimitGenerator
	}
	switch {
	case s.hi == 0 && s.last == 0:
		return min(s.start, s.maxRate), capacity.StageRise, false, ""
	case s.hi == 0 && s.last >= s.maxRate:
		return 0, "", true, capacity.LimitMaxRate
	case s.hi == 0:
		return min(s.last*s.growth, s.maxRate), capacity.StageRise, false, ""
	case s.lo == 0 && s.hi <= s.start*minRateShare:
		return 0, "", true, capacity.LimitTarget
	case s.lo == 0:
		return s.hi / 2, capacity.StageBisect, false, ""
	case (s.hi-s.lo)/s.hi > s.precision:
		return (s.lo + s.hi) / 2, capacity.StageBisect, false, ""
	case !s.rechecked:
		return s.lo, capacity.StageRecheck, false, ""
	}
	return 0, "", true, capacity.LimitTarget
}

// record takes the outcome of the step next asked for.
func (s *search) record(st capacity.Step) {
	s.steps = append(s.steps, st)
	if st.Stage == capacity.StageRise {
		s.last = st.Rate
	}
	switch {
	case st.Generator != "":
	case st.Stage == capacity.StageRecheck:
		s.rechecked = true
		if !st.Pass {
			s.hi, s.lo = st.Rate, s.bestPassBelow(st.Rate)
		}
	case st.Pass:
		s.lo = max(s.lo, st.Rate)
	default:
		if s.hi == 0 || st.Rate < s.hi {
			s.hi = st.Rate
		}
	}
}

// bestPassBelow is the highest passing rate below rate, or 0.
func (s *search) bestPassBelow(rate float64) float64 {
	best := 0.0
	for _, st := range s.steps {
		if st.Pass && st.Generator == "" && st.Rate < rate {
			best = max(best, st.Rate)
		}
	}
	return best
}
