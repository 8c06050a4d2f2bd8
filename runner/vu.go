package runner

import (
	"context"
	"math"
	"math/rand/v2"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"time"

	"github.com/primeload/primeload/report/metric"
	"github.com/primeload/primeload/scenario"
	"github.com/valyala/fasthttp"
)

// flowResult is how a virtual user's flow ended.
type flowResult int

const (
	flowOK     flowResult = iota
	flowFailed            // an error, a strict capture miss or a failed expectation
	flowCut               // cancelled when the grace period ended
)

// closedSeedSalt keeps closed-model iterations' random streams apart from
// arrivals' streams, and each closed phase's from the others', where keys
// are the same numbers.
const closedSeedSalt = 0x9e3779b97f4a7c15

// closedStream is the random stream of closed-model phase i's iterations;
// arrivals use stream 0.
func closedStream(phase int) uint64 { return closedSeedSalt * uint64(phase+1) }

// vu is one virtual user: its variables, cookie jar and random stream.
type vu struct {
	e    *engine
	tc   scenario.Context
	sink Sink
	jar  lazyJar
	pcg  rand.PCG // the source of tc.Rand, kept inline to save an allocation
	// conns are the connections the user holds; own is their home for a
	// user that lives once (an arrival), a closed-model worker passes its
	// own to each iteration.
	conns *userConns
	own   userConns
	// captured collects the before flow's captures; nil for other users.
	captured map[string]any
	// endpoint names the request being sent in per-endpoint metrics; ""
	// records none.
	endpoint string
	// upload is the formData body of the request being sent, nil for
	// any other body, kept for a redirect that repeats it.
	upload *upload
	// loopDepth counts the loops running, so an inner loop gives the
	// outer one its $loopCount back.
	loopDepth int
	// flow is the user's scenario flow, next its step to run and started
	// when the flow began: where a parked user resumes (see engine.park).
	flow    []scenario.Step
	next    int
	started time.Time
	// phase is the arrival's phase, whose running users it counts in.
	phase int
	// wake resumes the user after a parked think; made on its first.
	wake *time.Timer
}

// newVU prepares a virtual user. key is the arrival's global index (or a
// closed-model iteration's closedKey): it seeds the random stream and picks
// the row of sequential payloads, so segments split rows consistently.
// stream is 0 for arrivals and closedStream for a closed phase.
func (e *engine) newVU(key int64, stream uint64) *vu {
	v := &vu{}
	e.resetVU(v, key, stream)
	return v
}

// resetVU makes v a fresh virtual user for key, as newVU does, keeping its
// variable map and random source: a goroutine that runs one user after
// another (a worker, a closed-model slot) allocates them once. v must have
// finished its flow and hold no connection of its own.
func (e *engine) resetVU(v *vu, key int64, stream uint64) {
	vars, r, rest, wait, pw, timed := v.tc.Vars, v.tc.Rand, v.own.rest[:0], v.own.wait, v.own.pw, v.own.timed
	if vars == nil {
		cfg := &e.script.Config
		vars = make(map[string]any, len(cfg.Variables)+len(e.fixed)+4)
	} else {
		clear(vars)
	}
	*v = vu{e: e, sink: e.rec.Sink(userSinkID(key))}
	v.own = userConns{http: e.http, rest: rest, wait: wait, pw: pw, timed: timed}
	v.conns = &v.own
	v.pcg.Seed(e.seed^stream, uint64(key))
	if r == nil {
		r = rand.New(&v.pcg) // v.pcg stays where it is, so r keeps drawing from it
	}
	e.initialVars(vars, key, r)
	v.tc = scenario.Context{
		Vars:        vars,
		Env:         e.opts.Env,
		Target:      e.target,
		Environment: e.env,
		// The same two draws as ever, so a seeded run's $uuid values
		// stay; the text is made only if a template asks for it.
		UUIDSeed: [2]uint64{r.Uint64(), r.Uint64()},
		Rand:     r,
	}
}

// initialVars binds config.variables (one random element of a list),
// payload rows, then before-flow captures and --var on top.
func (e *engine) initialVars(vars map[string]any, key int64, r *rand.Rand) {
	cfg := &e.script.Config
	for _, v := range cfg.Variables {
		if len(v.Values) > 0 {
			vars[v.Name] = v.Values[r.IntN(len(v.Values))]
		}
	}
	for i := range cfg.Payloads {
		p := &cfg.Payloads[i]
		if p.LoadAll {
			// Shared by every user: templates and loops only read it.
			vars[p.Name] = p.All
			continue
		}
		if len(p.Rows) == 0 {
			continue
		}
		var row []string
		if p.Order == "sequence" {
			row = p.Rows[int(uint64(key)%uint64(len(p.Rows)))]
		} else {
			row = p.Rows[r.IntN(len(p.Rows))]
		}
		bindRow(vars, p, row)
	}
	for k, val := range e.fixed {
		vars[k] = val
	}
}

// bindRow binds a row's fields as variables of their own, cast as the
// payload says; a short row leaves its last fields undefined.
func bindRow(vars map[string]any, p *scenario.Payload, row []string) {
	for i, f := range p.Fields {
		if i < len(row) {
			vars[f] = scenario.CSVValue(row[i], p.Cast)
		}
	}
}

// lookup reads a variable as Artillery's context.vars holds it, where
// $loopCount and $loopElement are variables too; nil when not set.
func (v *vu) lookup(name string) any {
	switch name {
	case "$loopCount":
		return v.tc.LoopCount
	case "$loopElement":
		return v.tc.LoopElement
	}
	return v.tc.Vars[name]
}

// count adds to a counter in the user's sink.
func (v *vu) count(name string, delta int64) { v.sink.Count(name, delta) }

// userSinkID is the sink id of the user with key: 1 and up, consecutive for
// consecutive arrivals, so a Recorder that deals ids round robin over its
// shards spreads users evenly.
func userSinkID(key int64) int { return 1 + int(uint64(key)%math.MaxInt32) }

// runScenario picks a scenario by weight and runs its flow, counting the
// user under the scenario's name and, when the flow completes, its session
// length, as Artillery's runner does.
func (v *vu) runScenario(ctx context.Context) flowResult {
	v.startScenario()
	res, _ := v.runFlow(ctx, false)
	return res
}

// startScenario picks a scenario by weight, counts the user under its
// name and sets its flow to run from the first step.
func (v *vu) startScenario() {
	sc := v.e.script.Scenarios
	i := 0
	if len(sc) > 1 {
		w := v.tc.Rand.IntN(v.e.weights[len(v.e.weights)-1])
		for v.e.weights[i] <= w {
			i++
		}
	}
	v.count(v.e.createdBy[i], 1)
	v.flow, v.next, v.started = sc[i].Flow, 0, time.Now()
}

// parkThink is the shortest top-level think a user may sleep without its
// goroutine (see engine.park). A shorter one keeps it: resuming on a fresh
// goroutine costs a start and a stack growth, and users thinking briefly
// are never many at once.
const parkThink = time.Second

// runFlow runs the user's flow from its next step and, when the flow
// completes, records the session length. With park set, a think of at
// least parkThink between top-level steps is not slept: runFlow returns
// its length, with the flow set to resume after it.
func (v *vu) runFlow(ctx context.Context, park bool) (res flowResult, think time.Duration) {
	res, v.next, think = v.runFrom(ctx, v.flow, v.next, park)
	if think > 0 {
		return flowOK, think
	}
	if res == flowOK {
		v.sink.Session(time.Since(v.started))
	}
	return res, 0
}

// runSteps runs steps in order and stops at the first that ends the flow.
func (v *vu) runSteps(ctx context.Context, steps []scenario.Step) flowResult {
	res, _, _ := v.runFrom(ctx, steps, 0, false)
	return res
}

// runFrom is runSteps from step from. With park set, it returns at a
// think of at least parkThink instead of sleeping it: think is its length
// and next the step after it.
func (v *vu) runFrom(ctx context.Context, steps []scenario.Step, from int, park bool) (res flowResult, next int, think time.Duration) {
	for i := from; i < len(steps); i++ {
		s := &steps[i]
		var d time.Duration // the think this step asks for
		switch {
		case s.Request != nil:
			if r := s.Request; r.HasProbability && v.tc.Rand.Float64()*100 >= r.Probability || r.IfTrue != nil && !r.IfTrue.Holds(v.lookup) {
				continue // skipped, as Artillery skips it: nothing sent, nothing counted
			}
			res = v.request(ctx, s.Request)
			if res == flowOK {
				d = s.Request.Think
			}
		case s.Loop != nil:
			res = v.loop(ctx, s.Loop)
		case s.Parallel != nil:
			res = v.parallel(ctx, s.Parallel)
		case s.Log != nil:
			line := s.Log.AppendTo(nil, &v.tc)
			line = append(line, '\n')
			v.e.logMu.Lock()
			_, _ = v.e.log.Write(line) // a broken log writer must not fail the load
			v.e.logMu.Unlock()
		case s.ThinkT != nil:
			t, ok := scenario.ParseDuration(s.ThinkT.Render(&v.tc))
			if !ok {
				// Artillery throws on a think it cannot read.
				v.count(metric.ErrInvalidThink, 1)
				return flowFailed, len(steps), 0
			}
			d = s.ThinkJitter(v.e.script.Config.Defaults.ThinkJitter).Apply(t, v.tc.Rand.Float64)
		case s.Think > 0:
			d = s.ThinkJitter(v.e.script.Config.Defaults.ThinkJitter).Apply(s.Think, v.tc.Rand.Float64)
		}
		if res == flowOK && d > 0 {
			if park && d >= parkThink {
				return flowOK, i + 1, d
			}
			res = v.think(ctx, d)
		}
		if res != flowOK {
			return res, len(steps), 0
		}
	}
	return flowOK, len(steps), 0
}

// loop runs l.Steps Count times or once per element, with $loopCount and
// $loopElement set (and loopValue, loopElement when named). An inner
// loop gives the outer one its values back afterwards; after an outermost
// loop they keep their last values, as Artillery leaves them in the
// user's variables: $loopCount one past the last iteration, $loopElement
// undefined after an over loop. Each iteration starts only while ctx is
// live.
func (v *vu) loop(ctx context.Context, l *scenario.Loop) flowResult {
	saveCount, saveElem := v.tc.LoopCount, v.tc.LoopElement
	v.loopDepth++
	defer func() {
		v.loopDepth--
		if v.loopDepth > 0 {
			v.tc.LoopCount, v.tc.LoopElement = saveCount, saveElem
		}
	}()
	items := l.OverValues
	if l.Over != nil {
		// A variable that is not a list loops zero times rather than
		// guessing; the loader checks literal lists.
		items, _ = l.Over.Value(&v.tc).([]any)
	}
	from, n := l.From, l.Count
	switch {
	case l.Over != nil || l.OverValues != nil:
		n = len(items)
	case l.CountT != nil:
		from, n = scenario.LoopCount(l.CountT.Render(&v.tc))
	}
	over := l.Over != nil || l.OverValues != nil
	set := func(i int) {
		v.tc.LoopCount = from + i
		// In a count loop Artillery's $loopElement is the first count.
		v.tc.LoopElement = from
		if over {
			v.tc.LoopElement = nil
			if i < len(items) {
				v.tc.LoopElement = items[i]
			}
		}
		if l.IndexVar != "" {
			v.tc.Vars[l.IndexVar] = v.tc.LoopCount
		}
		if l.ElementVar != "" {
			v.tc.Vars[l.ElementVar] = v.tc.LoopElement
		}
	}
	for i := range n {
		// Steps that never wait (log, an empty body) would not see the
		// run end; a count may be 10^12.
		if ctx.Err() != nil {
			return flowCut
		}
		set(i)
		if res := v.runSteps(ctx, l.Steps); res != flowOK {
			return res
		}
	}
	set(n)
	return flowOK
}

// think sleeps d, or until ctx ends the user. The timer is the user's
// waitTimer, which a worker keeps from user to user, so a think allocates
// nothing once the worker has made it.
func (v *vu) think(ctx context.Context, d time.Duration) flowResult {
	t := v.conns.waitTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return flowOK
	case <-ctx.Done():
		return flowCut
	}
}

// lazyJar is a per-user cookie jar created on the first Set-Cookie, so users
// of cookie-less targets cost nothing.
type lazyJar struct{ jar *cookiejar.Jar }

// store keeps the response's cookies.
func (j *lazyJar) store(req *fasthttp.Request, resp *fasthttp.Response) {
	var cookies []*http.Cookie
	for _, line := range resp.Header.Cookies() {
		if c, err := http.ParseSetCookie(string(line)); err == nil {
			cookies = append(cookies, c)
		}
	}
	if len(cookies) == 0 {
		return
	}
	u, err := url.Parse(string(req.URI().FullURI()))
	if err != nil {
		return
	}
	if j.jar == nil {
		j.jar, _ = cookiejar.New(nil) // New never fails without options
	}
	j.jar.SetCookies(u, cookies)
}

// addTo adds the cookies the jar holds for the request's URL.
func (j *lazyJar) addTo(req *fasthttp.Request) {
	if j.jar == nil {
		return
	}
	u, err := url.Parse(string(req.URI().FullURI()))
	if err != nil {
		return
	}
	for _, c := range j.jar.Cookies(u) {
		req.Header.SetCookie(c.Name, c.Value)
	}
}
