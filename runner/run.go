package runner

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/valyala/fasthttp"

	"github.com/primeload/primeload/report/metric"
	"github.com/primeload/primeload/scenario"
)

// engine is the state of one Run.
type engine struct {
	script  *scenario.Script
	opts    Options
	sched   *Schedule
	target  string
	env     string
	http    *httpClient
	rec     Recorder
	seed    uint64
	weights []int // cumulative scenario weights
	// createdBy names each scenario's vusers.created_by_name counter, made
	// once so that an arrival builds no string.
	createdBy []string
	fixed     map[string]any
	trace     *tracing // nil when Options.Trace is
	// names names requests by their rendered URL (groupDynamicURLs:
	// false); nil when each request has its script-time name.
	names *endpointNames
	// staticURIs holds the parsed URL of each request whose URL is the
	// same for every user (*scenario.Request to *fasthttp.URI; see setURI).
	staticURIs sync.Map
	samples    *sampler // nil when the Recorder keeps no failure samples
	logMu      sync.Mutex
	log        io.Writer

	progress     *Progress
	active       []atomic.Int64 // running virtual users per phase
	completed    atomic.Int64
	failed       atomic.Int64
	cutOff       atomic.Int64
	expectFailed atomic.Int64
	phaseCreated []atomic.Int64 // closed-model iterations per phase

	// parked are the open-model users sleeping a think without a
	// goroutine (see park); whoever takes a user out of it, its wake-up
	// or cutParked, owns it.
	parkMu     sync.Mutex
	parked     map[*vu]struct{}
	parkingCut bool

	// queueHost is the pooled host every scenario's first request goes
	// to, when an arrival may wait for its pool before it starts (see
	// hostPool.queueArrival); nil when it may not.
	queueHost  []byte
	queueHTTPS bool

	// The open model's workers: idle ones take arrivals from work and
	// exit once quit is closed, at the schedule's end. vuCtx and wg are
	// the users' context and the group that counts them.
	work  chan job
	quit  chan struct{}
	vuCtx context.Context
	wg    *sync.WaitGroup
}

// job is an arrival for a worker, with what it was handed when it waited
// for the pool before it started (nil when it did not).
type job struct {
	a Arrival
	h *handoff
}

// Run sends the load script describes and records it into rec. It returns
// when the schedule has ended and every virtual user has finished, or, after
// ctx is cancelled, when the grace period is over (Outcome.Aborted). Sink id 0
// is used by the scheduling goroutine (vusers.created, vusers.skipped, Lag),
// ids from 1 by virtual users (see userSinkID). The error is non-nil only for options or a
// script the runner cannot start; a failing target is measured, not an error.
func Run(ctx context.Context, script *scenario.Script, rec Recorder, opts Options) (*Outcome, error) {
	e, err := newEngine(script, rec, opts)
	if err != nil {
		return nil, err
	}
	defer e.http.close()
	return e.run(ctx, rec.Sink(0))
}

func newEngine(script *scenario.Script, rec Recorder, opts Options) (*engine, error) {
	sched, err := NewSchedule(script.Config.Phases, opts.Segment)
	if err != nil {
		return nil, fmt.Errorf("schedule %s: %w", script.Path, err)
	}
	target := script.Config.Target
	if opts.Target != "" {
		target = opts.Target
	}
	target = strings.TrimSuffix(target, "/")
	if target != "" {
		u, err := url.Parse(target)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return nil, fmt.Errorf("target %q: want an absolute http:// or https:// URL", target)
		}
	}
	if target == "" {
		if pos, raw, ok := relativeURL(script); ok {
			return nil, fmt.Errorf("%s:%d: url %q is relative but config.target is empty; set config.target or pass --target", pos.File, pos.Line, raw)
		}
	}
	if p := script.Config.HTTP.Pool; p > scenario.MaxPool {
		return nil, fmt.Errorf("script %s: config.http.pool %d: want at most %d connections per host", script.Path, p, scenario.MaxPool)
	}
	if len(script.Scenarios) == 0 && sched.Expected() > 0 {
		return nil, fmt.Errorf("script %s: no scenarios to run", script.Path)
	}
	e := &engine{
		script:       script,
		opts:         opts,
		sched:        sched,
		target:       target,
		env:          script.Environment,
		seed:         opts.Seed,
		progress:     opts.Progress,
		trace:        newTracing(opts.Trace, opts.TraceN),
		samples:      newSampler(rec),
		log:          opts.Log,
		active:       make([]atomic.Int64, len(sched.Phases)),
		phaseCreated: make([]atomic.Int64, len(sched.Phases)),
	}
	if opts.Environment != "" {
		e.env = opts.Environment
	}
	if e.seed == 0 {
		e.seed = rand.Uint64()
	}
	sched.Seed = e.seed
	if e.progress == nil {
		e.progress = &Progress{}
	}
	e.progress.phase.Store(-1)
	if e.log == nil {
		e.log = io.Discard
	}
	if o := script.Config.Plugins.Endpoints; o.RenderURLs {
		limit := opts.MaxEndpoints
		if limit <= 0 {
			limit = metric.MaxEndpoints
		}
		e.names = newEndpointNames(o, target, limit, func(msg string) {
			e.logMu.Lock()
			_, _ = io.WriteString(e.log, msg)
			e.logMu.Unlock()
		})
	}
	if e.opts.Grace == 0 {
		e.opts.Grace = DefaultGrace
	}
	if e.opts.MaxBodyBytes <= 0 {
		e.opts.MaxBodyBytes = DefaultMaxBodyBytes
	}
	if e.opts.MaxDecodedBytes <= 0 {
		e.opts.MaxDecodedBytes = DefaultMaxDecodedBytes
	}
	e.rec = rec
	total := 0
	for i, s := range script.Scenarios {
		total += max(s.Weight, 0)
		e.weights = append(e.weights, total)
		e.createdBy = append(e.createdBy, metric.CreatedByName(s.MetricLabel(i)))
	}
	if total == 0 && len(script.Scenarios) > 0 {
		return nil, fmt.Errorf("script %s: scenario weights add up to 0; give at least one a weight >= 1", script.Path)
	}
	e.http = newHTTPClient(script.Config, opts.Insecure || !script.Config.TLS.RejectUnauthorized, e.opts.MaxBodyBytes, e.opts.MaxDecodedBytes)
	if e.http.proxies, err = newProxies(opts.Env); err != nil {
		return nil, fmt.Errorf("proxy: %w", err)
	}
	if e.http.pool != nil {
		e.http.pool.start = e.startQueued
		e.queueHTTPS, e.queueHost = e.arrivalHost()
	}
	return e, nil
}

// arrivalHost is the host of the pool every scenario's flow begins with a
// plain request to, at a URL the same for every user: an arrival may then
// wait for that host's connections before it starts, and its first
// request measures the wait, as it would have waiting itself. host is nil
// when the scenarios begin otherwise (another step first, a URL that
// depends on the user, a request that may be skipped, more than one host).
func (e *engine) arrivalHost() (https bool, host []byte) {
	for i, sc := range e.script.Scenarios {
		if len(sc.Flow) == 0 || sc.Flow[0].Request == nil {
			return false, nil
		}
		r := sc.Flow[0].Request
		raw, static := r.URL.Static()
		if !static || len(r.QS) > 0 || r.HasProbability || r.IfTrue != nil {
			return false, nil
		}
		if !strings.HasPrefix(raw, "http://") && !strings.HasPrefix(raw, "https://") {
			raw = e.target + raw
		}
		var u fasthttp.URI
		if err := u.Parse(nil, []byte(raw)); err != nil || len(u.Host()) == 0 {
			return false, nil
		}
		h, s := u.Host(), string(u.Scheme()) == "https"
		if i > 0 && (s != https || !bytes.Equal(h, host)) {
			return false, nil
		}
		https, host = s, append([]byte(nil), h...)
	}
	return https, host
}

// relativeURL finds a request whose URL is written as a path, which needs a
// target. A URL that starts with a template may render absolute, so only a
// literal start counts.
func relativeURL(script *scenario.Script) (scenario.Pos, string, bool) {
	var find func(steps []scenario.Step) (scenario.Pos, string, bool)
	find = func(steps []scenario.Step) (scenario.Pos, string, bool) {
		for _, s := range steps {
			if s.Loop != nil {
				if pos, raw, ok := find(s.Loop.Steps); ok {
					return pos, raw, true
				}
			}
			if s.Parallel != nil {
				if pos, raw, ok := find(s.Parallel.Steps); ok {
					return pos, raw, true
				}
			}
			if s.Request == nil {
				continue
			}
			raw := s.Request.URL.Raw()
			if !strings.HasPrefix(raw, "{{") && !strings.HasPrefix(raw, "http://") && !strings.HasPrefix(raw, "https://") {
				return s.Pos, raw, true
			}
		}
		return scenario.Pos{}, "", false
	}
	flows := [][]scenario.Step{script.Before, script.After}
	for _, sc := range script.Scenarios {
		flows = append(flows, sc.Flow)
	}
	for _, f := range flows {
		if pos, raw, ok := find(f); ok {
			return pos, raw, true
		}
	}
	return scenario.Pos{}, "", false
}

func (e *engine) run(ctx context.Context, sink0 Sink) (*Outcome, error) {
	out := &Outcome{Segment: e.sched.Segment}
	for _, p := range e.sched.Phases {
		out.Phases = append(out.Phases, PhaseOutcome{Index: p.Index, Name: p.Name, Kind: p.Kind, Expected: p.Expected})
	}
	if ctx.Err() != nil {
		out.Aborted = true
		out.Started, out.Ended = time.Now(), time.Now()
		return out, nil
	}

	// Virtual users outlive ctx by the grace period, so their context is
	// detached from it and cancelled by us.
	vuCtx, cancelVUs := context.WithCancel(context.WithoutCancel(ctx))
	defer cancelVUs()

	e.fixed = map[string]any{}
	for k, val := range e.opts.Vars {
		e.fixed[k] = val
	}
	if len(e.script.Before) > 0 {
		v := e.newVU(0, 0)
		v.captured = map[string]any{}
		v.runSteps(ctx, e.script.Before)
		v.conns.close()
		// Only captures seed the users: the before user's own variable
		// picks and payload row must not replace theirs.
		for k, val := range v.captured {
			e.fixed[k] = val
		}
		// --var still wins over what the before flow captured.
		for k, val := range e.opts.Vars {
			e.fixed[k] = val
		}
	}

	now := time.Now()
	start := now
	var joinAt time.Duration // arrivals before this offset are missed
	if !e.opts.StartAt.IsZero() {
		start = e.opts.StartAt
		if now.After(start) {
			joinAt = now.Sub(start)
		}
	}
	out.Started = start

	var wg sync.WaitGroup
	e.work, e.quit, e.vuCtx, e.wg = make(chan job), make(chan struct{}), vuCtx, &wg
	e.schedule(ctx, vuCtx, sink0, start, joinAt, out, &wg)
	close(e.quit)

	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-ctx.Done():
	}
	if ctx.Err() != nil {
		out.Aborted = true
		e.graceWait(done)
	}
	cancelVUs()
	e.cutParked(&wg)
	e.cutQueued()
	select {
	case <-done:
	default:
		// Requests in flight do not watch ctx; closing their connections
		// ends them now rather than at their timeout.
		e.http.conns.closeAll()
		<-done
		if e.http.pool != nil {
			e.http.pool.reset(e.http)
		}
		e.http.conns.reopen()
	}

	if len(e.script.After) > 0 {
		afterCtx, stop := e.afterFlowCtx(ctx)
		v := e.newVU(0, 0)
		v.runSteps(afterCtx, e.script.After)
		v.conns.close()
		stop()
	}

	for i := range out.Phases {
		p := &out.Phases[i]
		p.Created += int(e.phaseCreated[i].Load())
		out.Expected += p.Expected
		out.Created += p.Created
		out.Skipped += p.Skipped
		out.Missed += p.Missed
	}
	out.Completed = e.completed.Load()
	out.Failed = e.failed.Load()
	out.CutOff = e.cutOff.Load()
	out.ExpectFailed = e.expectFailed.Load()
	out.Ended = time.Now()
	return out, nil
}

// afterFlowCtx is the after flow's context. The after flow runs even once
// ctx is cancelled, for the grace period counted from the cancel (from now
// for an aborted run); Stop, a second Ctrl-C, ends it at once. Its
// connections are closed then, since reads and writes do not watch a
// context. stop returns once the goroutine watching ctx has exited.
func (e *engine) afterFlowCtx(ctx context.Context) (afterCtx context.Context, stop func()) {
	afterCtx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	exited := make(chan struct{})
	go func() {
		defer close(exited)
		select {
		case <-afterCtx.Done():
			return
		case <-ctx.Done():
		}
		e.graceWait(afterCtx.Done())
		if afterCtx.Err() == nil {
			cancel()
			e.http.conns.closeAll()
		}
	}()
	return afterCtx, func() { cancel(); <-exited }
}

// graceWait lets in-flight virtual users finish until the grace period ends
// or Stop is closed.
func (e *engine) graceWait(done <-chan struct{}) {
	if e.opts.Grace < 0 {
		return
	}
	t := time.NewTimer(e.opts.Grace)
	defer t.Stop()
	select {
	case <-done:
	case <-t.C:
	case <-e.opts.Stop:
	}
}

// sleepUntil waits for the instant at, or until ctx is done; it reports
// whether the instant was reached.
func sleepUntil(ctx context.Context, t *time.Timer, at time.Time) bool {
	d := time.Until(at)
	if d <= 0 {
		return ctx.Err() == nil
	}
	t.Reset(d)
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		t.Stop()
		return false
	}
}

// batchWindow is how early an arrival may start: after a wake-up, every
// arrival due within it starts in the same pass instead of arming a timer
// of its own. Go's timers on Linux wake no finer than this under load, so
// the schedule keeps its shape; lag is still each arrival's own (an early
// start is on time).
const batchWindow = 100 * time.Microsecond

// schedule starts virtual users on the clock. Every arrival's due time is
// start + its offset, so lateness never accumulates; when it wakes late, it
// starts every arrival already due in one pass (timer batching) and records
// each one's lag. Arrivals go to idle workers (see worker) and a new worker
// starts only when none is idle. It returns when the schedule ends or ctx
// is cancelled; the idle workers exit then.
func (e *engine) schedule(ctx, vuCtx context.Context, sink0 Sink, start time.Time, joinAt time.Duration, out *Outcome, wg *sync.WaitGroup) {
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	var spare *handoff  // kept for the next arrival when one did not queue
	var queue *hostPool // where arrivals wait for the pool (see arrivalHost)
	if e.queueHost != nil {
		queue = e.http.pool.host(e.queueHTTPS, e.queueHost)
	}
	for i := range e.sched.Phases {
		p := &e.sched.Phases[i]
		po := &out.Phases[i]
		phaseEnd := p.Start + p.Duration
		if joinAt >= phaseEnd && p.Duration > 0 {
			po.Missed = p.Expected
			continue
		}
		if !sleepUntil(ctx, timer, start.Add(p.Start)) {
			return
		}
		e.progress.phase.Store(int64(i))
		if e.opts.OnPhase != nil {
			e.opts.OnPhase(*p)
		}
		if p.Kind == scenario.PhaseClosed {
			e.startClosed(ctx, vuCtx, p, start.Add(phaseEnd), wg)
			continue
		}
		for a := range e.sched.PhaseArrivals(i) {
			if a.At < joinAt {
				po.Missed++
				continue
			}
			due := start.Add(a.At)
			if time.Until(due) > batchWindow {
				if !sleepUntil(ctx, timer, due) {
					return
				}
			} else if ctx.Err() != nil {
				return
			}
			if e.opts.BeforeArrival != nil {
				e.opts.BeforeArrival()
			}
			sink0.Lag(time.Since(due))
			if p.MaxVusers > 0 && e.active[i].Load() >= int64(p.MaxVusers) {
				po.Skipped++
				e.progress.skipped.Add(1)
				sink0.Count(metric.VUsersSkipped, 1)
				continue
			}
			po.Created++
			e.active[i].Add(1)
			e.progress.active.Add(1)
			e.progress.created.Add(1)
			sink0.Count(metric.VUsersCreated, 1)
			if queue != nil {
				if spare == nil {
					spare = new(handoff)
				}
				*spare = handoff{a: a}
				wg.Add(1)
				if queue.queueArrival(spare, e.http.timeout) {
					spare = nil
					continue
				}
				wg.Done()
			}
			select {
			case e.work <- job{a: a}:
			default:
				wg.Add(1)
				go e.worker(vuCtx, job{a: a})
			}
		}
	}
	// A trailing pause or closed phase still takes its time.
	sleepUntil(ctx, timer, start.Add(e.sched.Duration()))
}

// worker runs open-model virtual users one after another: j's, then each
// arrival handed to it while idle (e.work), until e.quit is closed. Reusing
// goroutines saves one goroutine start and its stack growth per arrival,
// and the user's storage is reused through resetVU, unless the user parked
// (see park): then it is the user's until it ends. The caller has counted
// the worker in e.wg.
func (e *engine) worker(ctx context.Context, j job) {
	defer e.wg.Done()
	v := new(vu)
	for {
		e.resetVU(v, j.a.Index, 0)
		v.phase = j.a.Phase
		v.startScenario()
		if h := j.h; h != nil {
			v.started, v.own.handoff = h.queued, h
		}
		if e.runUser(ctx, v, e.wg) {
			v = new(vu) // the parked user keeps the old one
		}
		select {
		case j = <-e.work:
		case <-e.quit:
			return
		}
	}
}

// startQueued starts an arrival that waited for the pool before starting,
// on an idle worker or a new one. It is called by whoever handed h its
// connection, slot or error, after the schedule's end too.
func (e *engine) startQueued(h *handoff) {
	j := job{a: h.a, h: h}
	select {
	case e.work <- j:
		e.wg.Done() // counted when it queued; the worker is counted already
	default:
		go e.worker(e.vuCtx, j) // counted when it queued
	}
}

// cutQueued ends every arrival still waiting for the pool as cut off, as
// a waiting request ends when the users' context is cancelled.
func (e *engine) cutQueued() {
	if e.http.pool == nil {
		return
	}
	for _, h := range e.http.pool.takeArrivals() {
		e.progress.active.Add(-1)
		e.cutOff.Add(1)
		e.active[h.a.Phase].Add(-1)
		e.wg.Done()
	}
}

// runUser runs v's flow on the calling goroutine until it ends, or until a
// long top-level think, which v sleeps parked; it reports whether v was
// parked, and so is no longer the caller's.
func (e *engine) runUser(ctx context.Context, v *vu, wg *sync.WaitGroup) (parked bool) {
	res, think := v.runFlow(ctx, true)
	if think > 0 {
		if e.park(ctx, v, think, wg) {
			return true
		}
		res = flowCut
	}
	e.endUser(v, res)
	return false
}

// endUser closes an open-model user's connections and counts how it ended.
func (e *engine) endUser(v *vu, res flowResult) {
	if h := v.own.handoff; h != nil {
		v.own.handoff = nil // its first request never used it
		e.http.pool.giveBack(e.http, h)
	}
	v.conns.close()
	e.finish(v, res)
	e.active[v.phase].Add(-1)
}

// park lets v sleep a think of d at the top level of its flow without a
// goroutine: a timer resumes it on a fresh one. A goroutine whose user
// holds a connection for minutes keeps a stack of 4 KiB or more and its
// bookkeeping; parked, the user keeps its vu, its connections and a timer.
// The user counts in wg until it ends. park reports false, leaving v to the
// caller, once the virtual users are cut off (cutParked).
func (e *engine) park(ctx context.Context, v *vu, d time.Duration, wg *sync.WaitGroup) bool {
	e.parkMu.Lock()
	defer e.parkMu.Unlock()
	if e.parkingCut {
		return false
	}
	if e.parked == nil {
		e.parked = map[*vu]struct{}{}
	}
	e.parked[v] = struct{}{}
	wg.Add(1)
	if v.wake == nil {
		v.wake = time.AfterFunc(d, func() {
			if e.unpark(v) {
				defer wg.Done()
				e.runUser(ctx, v, wg)
			}
		})
	} else {
		v.wake.Reset(d)
	}
	return true
}

// unpark takes v out of the parked users for its wake-up; false when
// cutParked took it first.
func (e *engine) unpark(v *vu) bool {
	e.parkMu.Lock()
	defer e.parkMu.Unlock()
	if _, ok := e.parked[v]; !ok {
		return false
	}
	delete(e.parked, v)
	return true
}

// cutParked ends every parked user as cut off, as a think ends when the
// virtual users' context is cancelled, and lets no user park after it.
// wg is the one the users were parked with.
func (e *engine) cutParked(wg *sync.WaitGroup) {
	e.parkMu.Lock()
	parked := e.parked
	e.parked, e.parkingCut = nil, true
	e.parkMu.Unlock()
	for v := range parked {
		v.wake.Stop()
		e.endUser(v, flowCut)
		wg.Done()
	}
}

// finish counts how a virtual user's flow ended.
func (e *engine) finish(v *vu, res flowResult) {
	e.progress.active.Add(-1)
	switch res {
	case flowOK:
		e.completed.Add(1)
		e.progress.completed.Add(1)
		v.count(metric.VUsersCompleted, 1)
	case flowFailed:
		e.failed.Add(1)
		e.progress.failed.Add(1)
		v.count(metric.VUsersFailed, 1)
	case flowCut:
		e.cutOff.Add(1)
	}
}

// startClosed starts a closed-model phase: this segment's share of the
// phase's users (p.VUsers), each a goroutine that runs a fresh virtual user
// after another until end. An iteration running at end finishes; none
// starts after it or after ctx is cancelled. Variables and cookies are fresh
// each iteration, but the goroutine's connections carry over, as a k6 VU's
// do: it is one user repeating its scenario. Each iteration's key, and so
// its sequential payload row, is closedKey's.
func (e *engine) startClosed(ctx, vuCtx context.Context, p *PhasePlan, end time.Time, wg *sync.WaitGroup) {
	stream := closedStream(p.Index)
	for slot := range p.VUsers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			conns := &userConns{http: e.http}
			defer conns.close()
			var v vu
			for iter := int64(0); ctx.Err() == nil && time.Now().Before(end); iter++ {
				e.phaseCreated[p.Index].Add(1)
				e.progress.active.Add(1)
				e.progress.created.Add(1)
				e.resetVU(&v, closedKey(e.sched.Segment, p.phase.VUsers, slot, iter), stream)
				v.conns = conns
				v.count(metric.VUsersCreated, 1)
				res := v.runScenario(vuCtx)
				e.finish(&v, res)
				if res == flowCut {
					return
				}
			}
		}()
	}
}
