package runner

import (
	"context"
	"maps"
	"math/rand/v2"
	"net/http/cookiejar"
	"reflect"
	"sync"

	"github.com/primeload/primeload/scenario"
)

// parallel runs p's steps at the same time, at most p.Limit at once, and
// returns when all have ended, as Artillery's createParallel does. Each
// step runs as a branch of the user: the user's cookie jar, its own
// connections (a user's connection carries one exchange at a time) and
// random stream, and a copy of the variables. What a branch changes in
// them (a capture, a loop's values) is written back in step order once all
// have ended, where Artillery's steps write one shared context as they go.
// One failed or cut branch fails or cuts the user, after the others end.
func (v *vu) parallel(ctx context.Context, p *scenario.Parallel) flowResult {
	if v.jar.jar == nil {
		// Branches share the jar, so it must exist before they start;
		// cookiejar.Jar is safe for concurrent use.
		v.jar.jar, _ = cookiejar.New(nil) // New never fails without options
	}
	branches := make([]*vu, len(p.Steps))
	results := make([]flowResult, len(p.Steps))
	slots := make(chan struct{}, max(p.Limit, 1))
	var wg sync.WaitGroup
	for i := range p.Steps {
		b := v.branch()
		branches[i] = b
		select {
		case slots <- struct{}{}:
		case <-ctx.Done():
			results[i] = flowCut
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-slots }()
			defer b.conns.close()
			results[i] = b.runSteps(ctx, p.Steps[i:i+1])
		}()
	}
	wg.Wait()
	orig := maps.Clone(v.tc.Vars)
	count, elem := v.tc.LoopCount, v.tc.LoopElement
	for _, b := range branches {
		v.mergeBranch(b, orig)
		// A loop in a branch leaves its last values, as after any loop.
		if b.tc.LoopCount != count || !reflect.DeepEqual(b.tc.LoopElement, elem) {
			v.tc.LoopCount, v.tc.LoopElement = b.tc.LoopCount, b.tc.LoopElement
		}
	}
	res := flowOK
	for _, r := range results {
		if r != flowOK && res != flowCut {
			res = r
		}
	}
	return res
}

// branch makes a copy of v that can run beside it (see parallel).
func (v *vu) branch() *vu {
	b := &vu{e: v.e, sink: v.sink, jar: v.jar, tc: v.tc, endpoint: v.endpoint, loopDepth: v.loopDepth}
	b.tc.Vars = maps.Clone(v.tc.Vars)
	b.pcg.Seed(v.tc.Rand.Uint64(), v.tc.Rand.Uint64())
	b.tc.Rand = rand.New(&b.pcg)
	b.own = userConns{http: v.e.http}
	b.conns = &b.own
	return b
}

// mergeBranch writes back what branch b changed from orig, the variables
// all branches started with.
func (v *vu) mergeBranch(b *vu, orig map[string]any) {
	for k, val := range b.tc.Vars {
		if old, ok := orig[k]; !ok || !reflect.DeepEqual(old, val) {
			v.tc.Vars[k] = val
			if v.captured != nil {
				v.captured[k] = val
			}
		}
	}
	for k := range orig {
		if _, ok := b.tc.Vars[k]; !ok {
			delete(v.tc.Vars, k)
			if v.captured != nil {
				delete(v.captured, k)
			}
		}
	}
}
