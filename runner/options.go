package runner

import (
	"io"
	"sync/atomic"
	"time"

	"github.com/primeload/primeload/scenario"
)

// DefaultGrace is how long in-flight virtual users may finish after the run's
// context is cancelled, when Options.Grace is 0.
const DefaultGrace = 5 * time.Second

// DefaultMaxBodyBytes bounds how much of one response body is read, when
// Options.MaxBodyBytes is 0. A bigger body counts errors.EBODYTOOLARGE.
const DefaultMaxBodyBytes = 10 << 20

// DefaultMaxDecodedBytes bounds a gzip response body once decompressed,
// when Options.MaxDecodedBytes is 0. Only a step with a capture or an
// expectation decompresses; a body that grows past the bound (a gzip bomb
// inflates about a thousandfold) fails the step with
// errors.EDECODEDTOOLARGE and is never held whole.
const DefaultMaxDecodedBytes = 10 << 20

// DefaultTimeout is the per-request timeout when config.http.timeout is unset.
const DefaultTimeout = 10 * time.Second

// Options tune one run. The zero value runs the whole schedule now, with
// the script's own target and the defaults above.
type Options struct {
	// Target overrides config.target (the -t flag); "" keeps the script's.
	Target string
	// Vars set script variables (--var NAME=VALUE). They win over
	// config.variables, payload rows and before-flow captures.
	Vars map[string]string
	// Env looks up $processEnvironment.NAME / $env.NAME; nil sees no variables.
	Env func(string) (string, bool)
	// Environment is {{ $environment }}; "" uses script.Environment.
	Environment string
	// Segment is this process's share of a distributed run; zero for all.
	Segment Segment
	// StartAt is the wall-clock instant of the schedule start (--start-at).
	// Zero starts when the before flow is done. In the future, Run waits for
	// it. In the past, Run joins the schedule where it is: arrivals already
	// due are not sent (no burst) but counted as missed in the Outcome.
	StartAt time.Time
	// Grace is how long in-flight virtual users may finish once ctx is
	// cancelled; no arrivals start after the cancel. 0 means DefaultGrace, a
	// negative value cancels them at once.
	Grace time.Duration
	// Stop, when closed, ends the grace period at once (a second Ctrl-C).
	Stop <-chan struct{}
	// Insecure skips TLS certificate checks, as
	// config.tls.rejectUnauthorized: false does.
	Insecure bool
	// Log receives the rendered text of log steps, one line each; nil discards.
	Log io.Writer
	// MaxBodyBytes bounds the bytes read of one response body; 0 means
	// DefaultMaxBodyBytes.
	MaxBodyBytes int64
	// MaxDecodedBytes bounds a gzip response body once decompressed for a
	// capture or an expectation; 0 means DefaultMaxDecodedBytes.
	MaxDecodedBytes int64
	// MaxEndpoints bounds the distinct endpoints named from rendered URLs
	// (groupDynamicURLs: false); the rest are named metric.OtherEndpoint.
	// 0 means metric.MaxEndpoints. Give it the recorder's bound, so both
	// fold at the same count.
	MaxEndpoints int
	// Trace, when set, receives exchanges with their request, response and
	// outcome (see Exchange): the first TraceN of each endpoint and the
	// first TraceN failing ones of each endpoint and failure (an error
	// code, a failed capture or expectation, an HTTP status >= 400). nil
	// traces nothing and costs the request path nothing.
	Trace Tracer
	// TraceN is how many exchanges of each kind go to Trace; 0 means 1.
	TraceN int
	// Progress, when set, is updated live so a caller can poll it (progress bars).
	Progress *Progress
	// OnPhase is called from the scheduling goroutine when a phase starts; it
	// must return quickly.
	OnPhase func(PhasePlan)
	// Seed makes scenario picks, random payload rows and $random* values
	// repeatable; 0 picks a random seed.
	Seed uint64
	// BeforeArrival, when set, is called by the scheduler as each arrival
	// falls due, before its lag is measured. It is for tests: a slow hook
	// starves the scheduler the way a busy machine does. nil costs nothing.
	BeforeArrival func()
}

// Progress is a live view of a run, safe to read from another goroutine
// while Run updates it.
type Progress struct {
	phase     atomic.Int64
	active    atomic.Int64
	created   atomic.Int64
	completed atomic.Int64
	failed    atomic.Int64
	skipped   atomic.Int64
}

// Phase is the index of the current phase, -1 before the first starts.
func (p *Progress) Phase() int { return int(p.phase.Load()) }

// Active is the number of virtual users running now.
func (p *Progress) Active() int64 { return p.active.Load() }

// Created is the number of virtual users started so far.
func (p *Progress) Created() int64 { return p.created.Load() }

// Completed is the number of virtual users that finished their flow.
func (p *Progress) Completed() int64 { return p.completed.Load() }

// Failed is the number of virtual users whose flow ended on an error.
func (p *Progress) Failed() int64 { return p.failed.Load() }

// Skipped is the number of arrivals dropped because maxVusers was reached.
func (p *Progress) Skipped() int64 { return p.skipped.Load() }

// PhaseOutcome is what happened in one phase.
type PhaseOutcome struct {
	Index    int
	Name     string
	Kind     scenario.PhaseKind
	Expected int // arrivals this segment's schedule asked for
	Created  int // virtual users started (closed model: iterations)
	Skipped  int // arrivals dropped because maxVusers was reached
	Missed   int // arrivals already due when a late process joined (StartAt)
}

// Outcome summarises a run for the caller; the measurements themselves went
// to the Recorder.
type Outcome struct {
	Segment Segment
	Started time.Time // the schedule start (StartAt when given)
	Ended   time.Time
	Phases  []PhaseOutcome
	// Sums over Phases.
	Expected, Created, Skipped, Missed int

	// Completed counts virtual users that finished their flow (the before
	// and after flows are not virtual users).
	Completed int64
	// Failed counts virtual users whose flow ended on an error, a strict
	// capture miss or a failed expectation.
	Failed int64
	// CutOff counts virtual users cancelled at the end of the grace period;
	// Created == Completed + Failed + CutOff.
	CutOff int64
	// ExpectFailed counts failed expectations; a caller exits 21 when it is > 0.
	ExpectFailed int64
	// Aborted is true when ctx was cancelled before the schedule ended.
	Aborted bool
}
