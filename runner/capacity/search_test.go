package capacity

import (
	"fmt"
	"math"
	"strings"
	"testing"

	"github.com/primeload/primeload/report/capacity"
)

// drive runs a search against a pretend target that passes every rate up
// to holds (and, when lucky is set, passes that rate the first time only),
// with the generator giving up at genLimit (0: never).
func drive(t *testing.T, s *search, holds, lucky, genLimit float64) ([]string, capacity.Limit) {
	t.Helper()
	var trail []string
	seen := map[float64]bool{}
	for range 100 {
		rate, stage, done, limit := s.next()
		if done {
			return trail, limit
		}
		st := capacity.Step{Stage: stage, Rate: rate, Pass: rate <= holds}
		if rate == lucky {
			st.Pass = !seen[rate]
			seen[rate] = true
		}
		if genLimit > 0 && rate >= genLimit {
			st.Pass, st.Generator = false, "lag"
		}
		trail = append(trail, fmt.Sprintf("%s %g %v", stage, math.Round(rate*100)/100, st.Verdict()))
		s.record(st)
	}
	t.Fatal("the search did not end in 100 steps")
	return nil, ""
}

func TestSearch(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name                   string
		s                      search
		holds, lucky, genLimit float64
		want                   string
		limit                  capacity.Limit
	}{
		{
			name: "rise, fail, bisect to 10%, re-check",
			s:    search{start: 50, growth: 2, precision: 0.1, maxRate: 1000}, holds: 210,
			want:  "rise 50 pass|rise 100 pass|rise 200 pass|rise 400 fail|bisect 300 fail|bisect 250 fail|bisect 225 fail|bisect 212.5 fail|recheck 200 pass",
			limit: capacity.LimitTarget,
		},
		{
			name: "every step passes up to the maximum rate",
			s:    search{start: 100, growth: 2, precision: 0.05, maxRate: 300}, holds: 1e9,
			want:  "rise 100 pass|rise 200 pass|rise 300 pass",
			limit: capacity.LimitMaxRate,
		},
		{
			name: "the first step fails: halve until one passes, then bisect",
			s:    search{start: 100, growth: 2, precision: 0.2, maxRate: 1000}, holds: 30,
			want:  "rise 100 fail|bisect 50 fail|bisect 25 pass|bisect 37.5 fail|bisect 31.25 fail|recheck 25 pass",
			limit: capacity.LimitTarget,
		},
		{
			name: "nothing holds: stop six halvings down",
			s:    search{start: 64, growth: 2, precision: 0.1, maxRate: 1000}, holds: 0,
			want:  "rise 64 fail|bisect 32 fail|bisect 16 fail|bisect 8 fail|bisect 4 fail|bisect 2 fail|bisect 1 fail",
			limit: capacity.LimitTarget,
		},
		{
			name: "a lucky pass fails its re-check: narrow below it",
			s:    search{start: 100, growth: 2, precision: 0.3, maxRate: 1000}, holds: 100, lucky: 150,
			want:  "rise 100 pass|rise 200 fail|bisect 150 pass|recheck 150 fail|bisect 125 fail",
			limit: capacity.LimitTarget,
		},
		{
			name: "the generator gives up first: stop, the target did not fail",
			s:    search{start: 100, growth: 2, precision: 0.05, maxRate: 10000}, holds: 1e9, genLimit: 400,
			want:  "rise 100 pass|rise 200 pass|rise 400 generator",
			limit: capacity.LimitGenerator,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := tt.s
			trail, limit := drive(t, &s, tt.holds, tt.lucky, tt.genLimit)
			if got := strings.Join(trail, "|"); got != tt.want || limit != tt.limit {
				t.Errorf("steps\n got %s (%s)\nwant %s (%s)", got, limit, tt.want, tt.limit)
			}
		})
	}
}

// TestSearchConverges: for any capacity within the bounds, the search ends
// with lo and hi within the precision, lo passing and hi failing, in a
// bounded number of steps.
func TestSearchConverges(t *testing.T) {
	t.Parallel()
	for holds := 7.0; holds < 5000; holds *= 1.37 {
		s := search{start: 10, growth: 2, precision: 0.05, maxRate: 10000}
		trail, limit := drive(t, &s, holds, 0, 0)
		if limit != capacity.LimitTarget || s.lo > holds || s.hi <= holds || (s.hi-s.lo)/s.hi > 0.05 {
			t.Errorf("holds %g: lo %g hi %g limit %s after %v", holds, s.lo, s.hi, limit, trail)
		}
		if len(trail) > 20 {
			t.Errorf("holds %g: %d steps", holds, len(trail))
		}
	}
}
