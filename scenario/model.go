// Package scenario is primeload's script model: it loads Artillery-format
// YAML, validates it with positions, and compiles every template once so the
// runner renders requests without parsing.
package scenario

import (
	"regexp"
	"time"

	"github.com/andybalholm/cascadia"
	"github.com/antchfx/xpath"
	"github.com/primeload/primeload/report/metric"
)

// Script is a fully validated, compiled script. It is read-only after Load
// and safe to share between goroutines.
type Script struct {
	Path        string // the file it was loaded from, as given
	Environment string // the -e environment merged in, "" for none
	Config      Config
	Before      []Step // run once before the first arrival; nil for none
	After       []Step // run once after the last virtual user; nil for none
	Scenarios   []Scenario
	// Endpoints lists every endpoint label the script can produce, in flow
	// order and without duplicates (see Request.Endpoint), so reports and SLO
	// validation know them before any load is sent.
	Endpoints []string
	// EndpointMethods lists each endpoint's HTTP methods, for people:
	// Artillery's names leave the method out.
	EndpointMethods map[string][]string
	// Warnings are problems that do not stop the script, in file order:
	// keys Artillery accepts that change nothing here, a processor nothing
	// calls. Each reads as an Error does; validate and run print them as
	// notes so nothing accepted is silently ignored.
	Warnings []*Error `json:",omitempty"`
	// FileDir is the folder formData fromFile paths resolve against, and
	// AllowOutsideFiles lets them leave it (--allow-outside-payload).
	FileDir           string `json:"-"`
	AllowOutsideFiles bool   `json:"-"`
}

// Config is the script's config section, with the environment merged in.
type Config struct {
	Target string
	Phases []Phase
	// Defaults are config.http.defaults over the legacy config.defaults.
	Defaults Defaults
	// Variables from config.variables. A list value means one element is
	// picked at random per virtual user; a scalar is a one-element list.
	Variables []Variable
	Payloads  []Payload
	HTTP      HTTPConfig
	TLS       TLSConfig
	Ensure    Ensure
	Plugins   Plugins
}

// Defaults is what config.http.defaults (or the legacy config.defaults)
// gives every request and step.
type Defaults struct {
	Headers []Header // sent on every request unless the request sets its own
	Cookies []Param  // cookies set in the user's jar for every request's URL
	// StrictCapture is false when strictCapture: false made captures
	// without strict non-strict.
	StrictCapture bool
	ThinkJitter   Jitter // think: {jitter}, applied to think steps
	set           map[string]bool
}

// ThinkJitter is the jitter a think step applies: its own, else def
// (config.http.defaults.think's), as Artillery's createThink picks.
func (s *Step) ThinkJitter(def Jitter) Jitter {
	if s.Jitter != nil {
		return *s.Jitter
	}
	return def
}

// Jitter varies a think time as Artillery's think jitter does: uniformly
// within Amount milliseconds either side, or Amount percent of it.
type Jitter struct {
	Amount  int
	Percent bool
}

// PhaseKind tells how a phase schedules arrivals.
type PhaseKind int

// Phase kinds. Exactly one applies to each phase.
const (
	PhaseConstant PhaseKind = iota // duration + arrivalRate
	PhaseRamp                      // duration + arrivalRate + rampTo
	PhaseCount                     // duration + arrivalCount
	PhasePause                     // pause
	PhaseClosed                    // duration + vusers (primeload extension: closed model)
)

// Phase is one entry of config.phases.
type Phase struct {
	Name         string
	Kind         PhaseKind
	Duration     time.Duration // for PhasePause, the pause length
	ArrivalRate  float64       // arrivals per second at the phase start
	RampTo       float64       // arrivals per second at the phase end (PhaseRamp)
	ArrivalCount int           // PhaseCount
	// Poisson (mode: poisson) spaces a constant rate's arrivals randomly,
	// as a Poisson process; the default spaces them evenly.
	Poisson   bool
	MaxVusers int // 0 means no cap
	VUsers    int // PhaseClosed
	Line      int // where the phase starts in the file, for messages
}

// Variable is one config.variables entry.
type Variable struct {
	Name   string
	Values []any // plain values (string, float64, int, bool, nil, []any, map[string]any)
}

// Payload is one config.payload CSV source, already read into memory.
type Payload struct {
	Path       string   // resolved path of the CSV file
	Fields     []string // variable names bound per row
	Order      string   // "random" (default) or "sequence"
	SkipHeader bool
	Delimiter  rune
	// Cast (default true, as in Artillery) turns each field that reads as
	// a number into one when it is bound; see CSVValue.
	Cast           bool
	SkipEmptyLines bool // default true
	// LoadAll binds the whole table under Name, as All; Rows is nil then.
	LoadAll bool
	Name    string
	Rows    [][]string // the parsed rows (header skipped)
	// All is the table for LoadAll: one object per row keyed by Fields,
	// or the rows as lists when there are no Fields; values cast.
	All []any `json:",omitempty"`
}

// HTTPConfig is config.http.
type HTTPConfig struct {
	Timeout time.Duration // per request; default 10s
	// MaxSockets is config.http.maxSockets, Artillery's cap on one virtual
	// user's connections per host. It is accepted for compatibility: a
	// primeload user sends one request at a time, so it never holds more
	// than one connection per host.
	MaxSockets int
	// Pool, when > 0, shares that many connections per host among all
	// virtual users (config.http.pool) instead of each user holding its own.
	Pool int
	// ExtendedMetrics is config.http.extendedMetrics: every response also
	// records how long its connection took to resolve, connect and
	// handshake, and its total (Artillery's http.dns, http.tcp, http.tls
	// and http.total).
	ExtendedMetrics bool `json:",omitempty"`
}

// ExtendedMetricsEnv, set in the environment to any value, turns
// HTTPConfig.ExtendedMetrics on for every script, as it does in Artillery.
const ExtendedMetricsEnv = "ARTILLERY_EXTENDED_HTTP_METRICS"

// TLSConfig is config.tls, which Artillery hands to its HTTP client (got)
// as its https options; the names are got's.
type TLSConfig struct {
	RejectUnauthorized bool // default true; false skips certificate checks
	// CA is certificateAuthority: PEM certificates trusted instead of the
	// system's; nil for the system's.
	CA []byte `json:",omitempty"`
	// Certificate and Key are the client certificate chain and its key in
	// PEM, for targets that ask for one (mutual TLS); both or neither.
	Certificate []byte `json:",omitempty"`
	Key         []byte `json:"-"`
	MinVersion  uint16 `json:",omitempty"` // tls.VersionTLS12 ...; 0 for Go's default
	MaxVersion  uint16 `json:",omitempty"`
}

// Ensure holds SLOs from config.ensure and config.plugins.ensure, kept with
// their positions so the report package can compile and check them.
type Ensure struct {
	Thresholds []Threshold `json:"thresholds,omitempty"`
	Conditions []Condition `json:"conditions,omitempty"`
	// Legacy keys: p95: 200, maxErrorRate: 1 ...
	Legacy []Threshold `json:"legacy,omitempty"`
	// OutsidePlugin is set when the checks come from config.ensure and
	// config.plugins.ensure is absent: primeload enforces them, Artillery
	// would not (EnsureOutsidePluginNote).
	OutsidePlugin bool `json:"outsidePlugin,omitempty"`
}

// Len counts the checks.
func (e Ensure) Len() int { return len(e.Thresholds) + len(e.Conditions) + len(e.Legacy) }

// EnsureOutsidePluginNote says, at load and under the SLO results, that
// config.ensure is enforced where Artillery would ignore it: Artillery
// 2.0.34 loads its ensure plugin only when config.plugins names it, so the
// same script there runs no check and exits 0. Enforcing is the safer
// reading of a script that states SLOs, but a CI gate that never fired
// before now can.
const EnsureOutsidePluginNote = "enforced, though config.plugins.ensure is not set: Artillery 2.0.34 loads its ensure plugin only from config.plugins, so there these checks never run and the run exits 0; add \"plugins: {ensure: {}}\" under config so the script means the same to both"

// Threshold is "metric: limit", meaning metric < limit.
type Threshold struct {
	Metric string  `json:"metric"`
	Limit  float64 `json:"limit"`
	Pos    Pos     `json:"-"`
}

// Condition is an ensure expression.
type Condition struct {
	Expression string `json:"expression"`
	Strict     bool   `json:"strict"` // default true; false only warns
	Pos        Pos    `json:"-"`
}

// Plugins records which of the accepted plugins were configured.
type Plugins struct {
	// Expect is set when config.plugins.expect is configured: only then
	// are expectations checked, as in Artillery.
	Expect            bool
	ExpectOptions     ExpectOptions
	MetricsByEndpoint bool
	Ensure            bool
	// Endpoints are the metrics-by-endpoint options, honoured whether or not
	// the plugin is configured.
	Endpoints EndpointOptions
}

// Predicate is a compiled ifTrue expression.
type Predicate interface {
	// Holds evaluates the expression over a user's variables, read
	// through lookup (nil for one that is not set).
	Holds(lookup func(name string) any) bool
}

// ExpectOptions are config.plugins.expect's options.
type ExpectOptions struct {
	// ReportFailuresAsErrors makes a failed expectation end the virtual
	// user with an error, as a failed capture does; otherwise the flow
	// goes on and the failure is only counted.
	ReportFailuresAsErrors bool
	// UseOnlyRequestNames names a request by its name, when it has one,
	// in that error.
	UseOnlyRequestNames bool
	// ExpectDefault200 is recorded for messages; the loader has already
	// given each scenario request without expectations statusCode: 200.
	ExpectDefault200 bool
}

// Pos is a position in a script file.
type Pos struct {
	File   string
	Line   int
	Column int
}

// Scenario is one weighted entry of scenarios.
type Scenario struct {
	Name   string // as written, or "scenario N" for people when unnamed
	Weight int    // default 1
	Flow   []Step
	// Unnamed is set when the script gave no name: per-scenario metrics
	// then name it by its index, as Artillery does (MetricLabel).
	Unnamed bool
}

// MetricLabel names scenario index i in per-scenario metrics
// (vusers.created_by_name.<label>): its name, or i when it has none.
func (s Scenario) MetricLabel(i int) string {
	if s.Unnamed {
		return metric.ScenarioLabel("", i)
	}
	return metric.ScenarioLabel(s.Name, i)
}

// Step is one flow entry; exactly one of its fields is set.
type Step struct {
	Request *Request
	Think   time.Duration // when > 0 and Request == nil: a think step
	// ThinkT is a templated think step (think: "{{ pause }}"), rendered
	// when the user reaches it and read as Think is; nil for none.
	ThinkT *Template
	// Jitter is a think step's own jitter, used instead of
	// config.http.defaults.think's; nil for none.
	Jitter   *Jitter `json:",omitempty"`
	Loop     *Loop
	Parallel *Parallel
	Log      *Template
	Pos      Pos
}

// DefaultParallelLimit is how many of a parallel step's steps run at once
// when it sets no limit, as in Artillery (async.parallelLimit's 100).
const DefaultParallelLimit = 100

// Parallel runs Steps at the same time for one virtual user, at most
// Limit at once, and goes on when all have ended.
type Parallel struct {
	Steps []Step
	Limit int
}

// Loop repeats Steps Count times, or once per element of Over.
type Loop struct {
	Steps []Step
	Count int // 0 when Over or CountT is used
	// From is where $loopCount starts: Artillery's count: "2-5" runs
	// 5 - 2 = 3 times with $loopCount 2, 3, 4; 0 otherwise.
	From int
	// CountT is a templated count ("{{ n }}"), rendered when the loop
	// starts and read as a number or a "from-to" range; nil for none.
	CountT *Template
	// IndexVar and ElementVar are loopValue and loopElement: variables
	// that hold the iteration and the element too; "" for none.
	IndexVar, ElementVar string
	Over                 *Template // a variable holding a list, or nil
	// OverValues is a literal list given in the script instead of a variable.
	OverValues []any
}

// Request is one HTTP step.
type Request struct {
	Method string // upper case: GET, POST, ...
	URL    *Template
	// Name is the step's name as written; "" when it has none.
	Name string
	// Endpoint names the request in per-endpoint metrics as Artillery's
	// metrics-by-endpoint plugin does (EndpointOptions.EndpointName): the
	// URL template's path as written, so "/goods/{{ id }}" is one endpoint,
	// and "path (name)" for a named request. "" records no per-endpoint
	// metrics (ignoreUnnamedRequests). Under groupDynamicURLs: false the
	// runner names each request by its rendered URL instead.
	Endpoint       string
	Headers        []Header
	QS             []Param
	JSON           *Value // JSON body; nil for none
	Body           *Template
	Form           []Param
	FormData       []FormField // multipart/form-data body
	Auth           *Auth
	Cookie         []Param
	FollowRedirect bool // default true
	Gzip           bool
	Capture        []Capture
	Match          []Match
	Expect         []Expect
	Think          time.Duration // think after this request (Artillery's per-request think)
	// IfTrue, when set, is Artillery's ifTrue: the request is sent only
	// when it holds for the user's variables.
	IfTrue Predicate `json:"-"`
	// Probability, when HasProbability, is the percent chance (0 to 100)
	// that the request is sent at all; otherwise it is skipped.
	Probability    float64
	HasProbability bool
	// MaxRedirects, when set, is how many redirects a chain follows before
	// the next one fails the request (got's maxRedirects, which Artillery
	// passes through from the step); nil is got's default,
	// DefaultMaxRedirects. See RedirectLimit.
	MaxRedirects *int `json:",omitempty"`
}

// DefaultMaxRedirects is got's maxRedirects, which Artillery keeps: ten
// redirects are followed and the eleventh fails the request.
const DefaultMaxRedirects = 10

// RedirectLimit is how many redirects r follows before the next one fails
// it (0: the first redirect fails it, as in got).
func (r *Request) RedirectLimit() int {
	if r.MaxRedirects == nil {
		return DefaultMaxRedirects
	}
	return *r.MaxRedirects
}

// FormField is one formData field: text, or a file streamed from disk.
type FormField struct {
	Name  string
	Value *Template // the text; nil for a file
	// File is fromFile: a path relative to the script's folder (see
	// Script.FileDir), under the payload path rule.
	File *Template
	// ContentType is the part's Content-Type; nil gives none for text and
	// the file extension's type (else application/octet-stream) for a file.
	ContentType *Template
	Pos         Pos
}

// Header is a header with a templated value.
type Header struct {
	Name  string
	Value *Template
}

// Param is a query, form or cookie field with a templated value.
type Param struct {
	Name  string
	Value *Template
}

// Auth is HTTP basic auth.
type Auth struct {
	User *Template
	Pass *Template
}

// CaptureKind is where a capture reads from.
type CaptureKind int

// Capture kinds.
const (
	CaptureJSON     CaptureKind = iota // a JSONPath into the JSON body
	CaptureHeader                      // a response header
	CaptureRegexp                      // a regular expression over the body
	CaptureXPath                       // an XPath into an XML body
	CaptureSelector                    // a CSS selector into an HTML body
)

// Capture extracts a value from a response into a variable.
type Capture struct {
	Kind CaptureKind
	Expr string // the JSONPath, header name, regexp, XPath or selector as written
	// Tmpl is set when Expr holds {{ }}: it is rendered for each response
	// and compiled then (see Resolve); the compiled fields below are nil.
	Tmpl     *Template `json:",omitempty"`
	JSON     *JSONPath
	Regexp   *regexp.Regexp
	XPath    *xpath.Expr       `json:"-"`
	Selector cascadia.Selector `json:"-"`
	Flags    string            `json:",omitempty"` // regexp: JavaScript's flags (i, m, s, g, u, y) as written
	Group    string            // regexp group: a number or a name; "" means the whole match
	// Index picks among a selector's matches: "" (the first), "random",
	// "last" or a number.
	Index string `json:",omitempty"`
	Attr  string `json:",omitempty"` // selector: the attribute read; "" gives all of them as an object
	As    string
	// Strict (default true, or config.http.defaults.strictCapture) makes a
	// miss fail the virtual user.
	Strict bool
	Pos    Pos
}

// Match is one entry of a request's match (deprecated in Artillery, still
// evaluated by v2): a capture expression whose value must equal Value.
type Match struct {
	// Capture reads the value; its As is unused.
	Capture Capture
	Value   *Template
	// ValueKind is the YAML type of a literal value (number, bool), which
	// JavaScript's !== compares along with the value; "" for a string.
	ValueKind string
	Strict    bool // default true: a mismatch fails the user
	Pos       Pos
}

// ExpectKind is what an expectation checks.
type ExpectKind int

// Expectation kinds, the checks of Artillery's expect plugin.
const (
	ExpectStatusCode ExpectKind = iota
	ExpectNotStatusCode
	ExpectContentType
	ExpectHasProperty
	ExpectNotHasProperty
	ExpectHasHeader
	ExpectHeaderEquals
	ExpectEquals
	ExpectMatchesRegexp
	ExpectCdnHit
)

// Expect is one expect entry.
type Expect struct {
	Kind ExpectKind
	// Type names the check in counters (plugins.expect.ok.<Type>) as the
	// expect plugin names it: the key, or "header <name> values equals"
	// for headerEquals, whose name may be a template (then rendered).
	Type string
	// StatusCode holds the literal codes of statusCode and notStatusCode;
	// Codes the templated ones, each rendered and read as a number.
	StatusCode []int
	Codes      []*Template
	// Value is contentType, hasProperty, notHasProperty (a lodash path into
	// the JSON body), hasHeader or matchesRegexp.
	Value *Template
	// Regexp is matchesRegexp compiled when the script loads; nil when
	// the pattern is a template.
	Regexp *regexp.Regexp
	// Equals are the values of equals (all must render equal), or the
	// header name and value of headerEquals.
	Equals []*Template
	CdnHit bool // cdnHit: true wants a cache hit, false a miss
	Pos    Pos
}

// ScenarioLabels names each scenario as its per-scenario metrics do
// (vusers.created_by_name.<label>): by name, or by index when unnamed.
func (s *Script) ScenarioLabels() []string {
	labels := make([]string, len(s.Scenarios))
	for i, sc := range s.Scenarios {
		labels[i] = sc.MetricLabel(i)
	}
	return labels
}
