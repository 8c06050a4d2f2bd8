package runner

import (
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/primeload/primeload/scenario"
)

func TestClosedKey(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		seg        Segment
		n, slot    int
		iter, want int64
	}{
		{"whole run, first user", Segment{}, 3, 0, 0, 0},
		{"whole run, third user, second iteration", Segment{}, 3, 2, 1, 5},
		{"segment 2/4 of 10: its first user is user 1", Segment{2, 4}, 10, 0, 0, 1},
		{"segment 2/4 of 10: its third user is user 9", Segment{2, 4}, 10, 2, 0, 9},
		{"segment 2/4 of 10: user 9 again after all 10", Segment{2, 4}, 10, 2, 1, 19},
		// Fewer users than segments: each segment runs one, the run has N.
		{"segment 3/4 of 2 users", Segment{3, 4}, 2, 0, 1, 6},
	}
	for _, tt := range tests {
		if got := closedKey(tt.seg, tt.n, tt.slot, tt.iter); got != tt.want {
			t.Errorf("%s: closedKey = %d, want %d", tt.name, got, tt.want)
		}
	}
}

// Whatever the split, the segments' users are the whole run's users, each
// once, and their keys never meet.
func TestClosedKeysPartitionUsers(t *testing.T) {
	t.Parallel()
	for _, n := range []int{1, 2, 3, 7, 10, 64} {
		for _, segs := range []int{1, 2, 3, 4, 8} {
			users := max(n, segs)
			var keys []int64
			for i := 1; i <= segs; i++ {
				seg := Segment{Index: i, Count: segs}
				for slot := range seg.Share(n) {
					for iter := range int64(3) {
						keys = append(keys, closedKey(seg, n, slot, iter))
					}
				}
			}
			slices.Sort(keys)
			want := make([]int64, 3*users)
			for k := range want {
				want[k] = int64(k)
			}
			if !slices.Equal(keys, want) {
				t.Errorf("%d users in %d segments, 3 iterations each: keys %v, want 0..%d once each", n, segs, keys, 3*users-1)
			}
		}
	}
}

// Closed-model users in two segments read sequential payload rows by the
// closedKey rule: segment 1 runs users 0 and 2, segment 2 users 1 and 3, so
// with 4 users and an even number of rows segment 1 reads only even rows
// and segment 2 only odd ones, each user reads its rows in order from its
// own number, and no row is read twice.
func TestRunClosedSegmentsSplitRows(t *testing.T) {
	t.Parallel()
	const rows = 1000 // far more than 4 users iterate through in the phase
	var mu sync.Mutex
	seen := map[string][]int{} // rows read, by segment
	srv := serve(t, func(w http.ResponseWriter, r *http.Request) {
		seg, row, _ := strings.Cut(strings.TrimPrefix(r.URL.Path, "/"), "/")
		n, err := strconv.Atoi(row)
		if err != nil {
			t.Errorf("request %s: no row number", r.URL.Path)
		}
		mu.Lock()
		seen[seg] = append(seen[seg], n)
		mu.Unlock()
		time.Sleep(5 * time.Millisecond) // bounds the iterations
		ok(w, r)
	})
	payload := scenario.Payload{Fields: []string{"row"}, Order: "sequence"}
	for i := range rows {
		payload.Rows = append(payload.Rows, []string{strconv.Itoa(i)})
	}
	var wg sync.WaitGroup
	for i := 1; i <= 2; i++ {
		wg.Go(func() {
			script := newScript(srv.URL, []scenario.Phase{closed(4, 150*time.Millisecond)}, []scenario.Step{get("/" + strconv.Itoa(i) + "/{{ row }}")})
			script.Config.Payloads = []scenario.Payload{payload}
			out, _ := run(t, script, Options{Segment: Segment{Index: i, Count: 2}})
			if out.Phases[0].Created < 2 {
				t.Errorf("segment %d/2 ran %d iterations, want at least one per user", i, out.Phases[0].Created)
			}
		})
	}
	wg.Wait()

	all := map[int]bool{}
	for seg, want := range map[string][]int{"1": {0, 2}, "2": {1, 3}} {
		byUser := map[int][]int{}
		for _, row := range seen[seg] {
			if all[row] {
				t.Errorf("row %d read twice", row)
			}
			all[row] = true
			byUser[row%4] = append(byUser[row%4], row)
		}
		for user, got := range byUser {
			if !slices.Contains(want, user) {
				t.Errorf("segment %s read row %d, which belongs to user %d; want only users %v", seg, got[0], user, want)
				continue
			}
			slices.Sort(got)
			for i, row := range got {
				if row != user+4*i {
					t.Errorf("segment %s user %d read rows %v, want %d, %d, ... in order", seg, user, got, user, user+4)
					break
				}
			}
		}
	}
}
