package scenario

import "time"

// The limits below are every resource bound the loader enforces, in one
// place so README and FORMAT.md can list them (a test checks FORMAT.md's
// table against these values). Each is far beyond what a real script
// needs; each turns a typo or a hostile file into an error naming the
// field, before anything is allocated for it or any load is sent.
const (
	// MaxScriptBytes bounds the script file: larger input (a wrong path,
	// /dev/zero) is refused before it is read whole.
	MaxScriptBytes = 4 << 20
	// MaxYAMLNodes bounds the YAML nodes one load walks, each use of an
	// alias counting its nodes again, so a small file whose aliases
	// expand exponentially (a "billion laughs") is refused, not walked.
	MaxYAMLNodes = 250_000
	// MaxTemplateBytes bounds the template text one load compiles, each
	// use of an alias counting its text again, so a short script cannot
	// make validation compile gigabytes.
	MaxTemplateBytes = 16 << 20
	// MaxTemplateExpressions bounds the {{ }} expressions one load
	// compiles, counted like MaxTemplateBytes.
	MaxTemplateExpressions = 100_000
	// MaxNesting bounds how deep JSON bodies, variables and loop lists nest.
	MaxNesting = 100

	// MaxPhases bounds config.phases.
	MaxPhases = 1000
	// MaxDuration bounds every duration (phase, pause, think, timeout) and
	// the phases together, so schedule arithmetic in nanoseconds never
	// overflows.
	MaxDuration = 365 * 24 * time.Hour
	// MaxArrivalRate bounds arrivalRate, rampTo and the average rate of an
	// arrivalCount phase (arrivals per second).
	MaxArrivalRate = 1_000_000
	// MaxPhaseArrivals bounds the arrivals one phase schedules, however it
	// is written (arrivalCount, or rate × duration); split longer runs
	// into several phases.
	MaxPhaseArrivals = 1_000_000_000
	// MaxVUsers bounds vusers and maxVusers of one phase in the whole run
	// (all segments of a distributed run together).
	MaxVUsers = 1_000_000
	// MaxProcessVUsers bounds the closed-model users one process holds at
	// once (its segment's share of vusers): each costs about 10 KiB plus a
	// connection, so more would run out of memory mid-run. The runner
	// checks it before the first arrival; --segment spreads more users
	// over several processes.
	MaxProcessVUsers = 100_000

	// MaxPayloadBytes bounds one payload CSV file, so a mistaken path (a
	// disk image, a log) is not read into memory whole.
	MaxPayloadBytes = 256 << 20
	// MaxPayloadRows bounds one payload's rows: a file of tiny rows costs
	// far more memory per byte than its size suggests.
	MaxPayloadRows = 1_000_000

	// MaxPool bounds config.http.pool: a host cannot take more connections
	// from one address than there are ports.
	MaxPool = 65535
	// MaxRandomStringLength bounds $randomString(len), so one expression
	// cannot render megabytes per request.
	MaxRandomStringLength = 1 << 16
	// MaxTemplateInteger bounds the arguments of $randomNumber: the largest
	// integer JavaScript (and so Artillery) represents exactly, 2^53 - 1.
	MaxTemplateInteger = 1<<53 - 1
)
