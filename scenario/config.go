package scenario

import (
	"fmt"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/primeload/primeload/report/metric"

	"go.yaml.in/yaml/v3"
)

// DefaultTimeout is config.http.timeout when the script sets none.
const DefaultTimeout = 10 * time.Second

const noJS = "primeload runs no JavaScript; use templates, captures, payload files and --var instead"

var (
	configKeys        = []string{"target", "phases", "mode", "defaults", "variables", "payload", "http", "timeout", "tls", "environments", "ensure", "plugins", "processor"}
	configUnsupported = map[string]string{
		"engines":    "engines other than http are not supported: primeload speaks HTTP only",
		"ws":         "the ws (WebSocket) engine is not supported: primeload speaks HTTP only",
		"socketio":   "the socketio engine is not supported: primeload speaks HTTP only",
		"playwright": "the playwright engine is not supported: primeload speaks HTTP only",
	}
	httpKeys   = []string{"timeout", "maxSockets", "pool", "defaults", "extendedMetrics"}
	phaseKeys  = []string{"name", "duration", "arrivalRate", "rampTo", "arrivalCount", "pause", "maxVusers", "vusers", "mode"}
	ensureKeys = []string{"thresholds", "conditions", "p95", "p99", "max", "min", "median", "maxErrorRate"}
	pluginKeys = []string{"ensure", "expect", "metrics-by-endpoint"}
	// The plugins' own options: accepted so Artillery scripts run unchanged.
	metricsPluginKeys    = []string{"useOnlyRequestNames", "stripQueryString", "ignoreUnnamedRequests", "metricsNamespace", "groupDynamicURLs"}
	metricsPluginRefused = map[string]string{
		"metricsPrefix": "metricsPrefix is not an option of Artillery's metrics-by-endpoint plugin; did you mean metricsNamespace?",
	}
)

// config parses one config mapping (the top one, or an environment when
// inEnv) and returns it with its default header templates and the
// environments node.
func (l *loader) config(n *yaml.Node, path string, inEnv bool) (Config, []templateUse, *yaml.Node) {
	cfg := Config{HTTP: HTTPConfig{Timeout: DefaultTimeout}, TLS: TLSConfig{RejectUnauthorized: true}}
	var uses []templateUse
	var envs *yaml.Node
	var legacy, modern *Defaults
	var timeout time.Duration
	// config.mode is every phase's default mode (Artillery's runner), so
	// it is read before the phases, wherever it is written.
	l.configMode = ""
	if mn, ok := l.quietKey(n, "mode"); ok {
		l.configMode = l.phaseMode(mn, join(path, "mode"))
	}
	defer func() { l.configMode = "" }()
	l.object(n, path, configKeys, configUnsupported, func(p pair, fp string) {
		switch p.key {
		case "target":
			cfg.Target = l.target(p.v, fp)
		case "phases":
			cfg.Phases = l.phases(p.v, fp)
		case "defaults":
			// Artillery's legacy place for what config.http.defaults holds.
			legacy = l.httpDefaults(p.v, fp, &uses)
		case "variables":
			cfg.Variables = l.variables(p.v, fp)
		case "payload":
			for i, pn := range l.list(p.v, fp, true) {
				ip := fp
				if l.deref(p.v).Kind == yaml.SequenceNode {
					ip = index(fp, i)
				}
				if pl, ok := l.payload(pn, ip); ok {
					cfg.Payloads = append(cfg.Payloads, pl)
				}
			}
		case "http":
			l.object(p.v, fp, httpKeys, nil, func(p pair, fp string) {
				switch p.key {
				case "extendedMetrics":
					cfg.HTTP.ExtendedMetrics, _ = l.boolean(p.v, fp)
				case "defaults":
					modern = l.httpDefaults(p.v, fp, &uses)
				case "timeout":
					if d, ok := l.duration(p.v, fp); ok {
						cfg.HTTP.Timeout = d
					}
				case "pool":
					if c, ok := l.count(p.v, fp, 1); ok && c > MaxPool {
						l.errorf(p.v, fp, "must be at most %d connections per host, got %d", MaxPool, c)
					} else if ok {
						cfg.HTTP.Pool = c
					}
				default: // maxSockets
					if c, ok := l.count(p.v, fp, 1); ok {
						cfg.HTTP.MaxSockets = c
					}
				}
			})
		case "tls":
			cfg.TLS = l.tlsConfig(p.v, fp)
		case "environments":
			if inEnv {
				l.errorf(p.k, fp, "environments cannot be nested inside an environment")
				return
			}
			envs = p.v
		case "ensure":
			l.ensure(p.v, fp, &cfg.Ensure)
		case "plugins":
			l.plugins(p.v, fp, &cfg)
		case "timeout":
			// Artillery reads config.timeout before config.http.timeout.
			if d, ok := l.duration(p.v, fp); ok {
				timeout = d
			}
		case "processor":
			// An error or a note once the flows are read: see script.
			l.processors = append(l.processors, p.k)
		}
	})
	cfg.Defaults = pickDefaults(modern, legacy)
	if timeout > 0 {
		cfg.HTTP.Timeout = timeout
	}
	return cfg, uses, envs
}

// phaseMode reads a phase's mode or config.mode: "uniform" or "poisson"
// ("" when it is neither, which is reported).
func (l *loader) phaseMode(n *yaml.Node, path string) string {
	m, ok := l.str(n, path)
	if ok && m != "uniform" && m != "poisson" {
		l.errorf(l.deref(n), path, "must be uniform or poisson, got %q%s", m, didYouMean(m, []string{"uniform", "poisson"}))
		return ""
	}
	return m
}

// defaultsKeys are the keys of config.http.defaults and config.defaults.
var defaultsKeys = []string{"headers", "cookie", "strictCapture", "think"}

// httpDefaults reads config.http.defaults or the legacy config.defaults;
// its templates join uses, checked once every capture is known.
func (l *loader) httpDefaults(n *yaml.Node, path string, uses *[]templateUse) *Defaults {
	d := &Defaults{StrictCapture: true, set: map[string]bool{}}
	l.object(n, path, defaultsKeys, nil, func(p pair, fp string) {
		switch p.key {
		case "headers", "cookie":
			d.set[p.key] = true
			for _, hp := range l.pairs(p.v, fp) {
				hfp := join(fp, hp.key)
				t := l.template(hp.v, hfp, nil)
				if t == nil {
					continue
				}
				*uses = append(*uses, templateUse{t: t, n: l.deref(hp.v), path: hfp})
				if p.key == "headers" {
					d.Headers = append(d.Headers, Header{Name: hp.key, Value: t})
				} else {
					d.Cookies = append(d.Cookies, Param{Name: hp.key, Value: t})
				}
			}
		case "strictCapture":
			d.set[p.key] = true
			d.StrictCapture, _ = l.boolean(p.v, fp)
		case "think":
			d.set[p.key] = true
			if v := l.deref(p.v); v.Kind == yaml.ScalarNode {
				// Artillery's all_features script writes think: 2 here; its
				// engine reads only think.jitter, so a number changes nothing.
				l.warnf(v, fp, "has no effect: Artillery reads only think.jitter here (think: {jitter: 500} or {jitter: \"10%%\"}); a think step's pause is its own")
				return
			}
			l.object(p.v, fp, []string{"jitter"}, nil, func(p pair, fp string) {
				if j, ok := l.jitter(p.v, fp); ok {
					d.ThinkJitter = j
				}
			})
		}
	})
	return d
}

// pickDefaults merges config.http.defaults over config.defaults key by
// key, as Artillery reads each (http.defaults.headers || defaults.headers):
// a key set in the first replaces the second's whole.
func pickDefaults(modern, legacy *Defaults) Defaults {
	out := Defaults{StrictCapture: true}
	for _, d := range []*Defaults{legacy, modern} {
		if d == nil {
			continue
		}
		if d.set["headers"] {
			out.Headers = d.Headers
		}
		if d.set["cookie"] {
			out.Cookies = d.Cookies
		}
		if d.set["think"] {
			out.ThinkJitter = d.ThinkJitter
		}
	}
	// Either one turning strict captures off is enough, as in Artillery.
	for _, d := range []*Defaults{legacy, modern} {
		if d != nil && d.set["strictCapture"] && !d.StrictCapture {
			out.StrictCapture = false
		}
	}
	return out
}

// DefaultPhase is the phase of a script without config.phases: one
// virtual user, as in Artillery ({duration: 1, arrivalCount: 1}). line is
// where config starts, for messages.
func DefaultPhase(line int) Phase {
	return Phase{Kind: PhaseCount, Duration: time.Second, ArrivalCount: 1, Line: line}
}

// target checks config.target is an absolute http(s) URL. Which hosts may
// be loaded is the runner's decision, so it is not checked here.
func (l *loader) target(n *yaml.Node, path string) string {
	s, ok := l.str(n, path)
	if !ok {
		return ""
	}
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		l.errorf(l.deref(n), path, "must be an absolute http:// or https:// URL such as http://127.0.0.1:8080, got %s", describe(l.deref(n)))
		return ""
	}
	return strings.TrimSuffix(s, "/")
}

// phases reads config.phases and checks what spans phases: their number
// and their total length, so the schedule's sums cannot overflow.
func (l *loader) phases(n *yaml.Node, path string) []Phase {
	items := l.list(n, path, false)
	v := l.deref(n)
	switch {
	case v.Kind == yaml.SequenceNode && len(items) == 0:
		l.errorf(v, path, "must hold at least one phase")
		return nil
	case len(items) > MaxPhases:
		l.errorf(v, path, "must hold at most %d phases (MaxPhases), got %d", MaxPhases, len(items))
		return nil
	}
	var out []Phase
	var total time.Duration // each phase is at most MaxDuration, so this cannot overflow
	for i, ph := range items {
		phase, ok := l.phase(ph, index(path, i))
		if !ok {
			continue
		}
		out = append(out, phase)
		total += phase.Duration
	}
	if total > MaxDuration {
		l.errorf(v, path, "the phases together last %s, more than %s (MaxDuration); shorten them", formatHours(total), formatLimitDuration(MaxDuration))
	}
	return out
}

// formatHours writes a long duration in whole hours, as people plan soaks.
func formatHours(d time.Duration) string {
	return fmt.Sprintf("%dh", int64(d/time.Hour))
}

func (l *loader) phase(n *yaml.Node, path string) (Phase, bool) {
	n = l.deref(n)
	ph := Phase{Line: n.Line}
	set := map[string]*yaml.Node{}
	before := len(l.errs)
	l.object(n, path, phaseKeys, nil, func(p pair, fp string) {
		set[p.key] = p.k
		switch p.key {
		case "name":
			ph.Name, _ = l.str(p.v, fp)
		case "duration":
			ph.Duration, _ = l.duration(p.v, fp)
		case "pause":
			if d, ok := l.duration(p.v, fp); ok {
				ph.Duration = d
			}
		case "arrivalRate":
			var ok bool
			if _, ramp := l.quietKey(n, "rampTo"); ramp {
				ph.ArrivalRate, ok = l.nonNegative(p.v, fp)
			} else {
				ph.ArrivalRate, ok = l.positive(p.v, fp)
			}
			l.atMost(p.v, fp, ok, ph.ArrivalRate, MaxArrivalRate, "arrivals per second")
		case "rampTo":
			var ok bool
			ph.RampTo, ok = l.nonNegative(p.v, fp)
			l.atMost(p.v, fp, ok, ph.RampTo, MaxArrivalRate, "arrivals per second")
		case "arrivalCount":
			var ok bool
			ph.ArrivalCount, ok = l.count(p.v, fp, 1)
			l.atMost(p.v, fp, ok, float64(ph.ArrivalCount), MaxPhaseArrivals, "arrivals")
		case "mode":
			ph.Poisson = l.phaseMode(p.v, fp) == "poisson"
		case "maxVusers", "vusers":
			c, ok := l.count(p.v, fp, 1)
			l.atMost(p.v, fp, ok, float64(c), MaxVUsers, "virtual users")
			if p.key == "vusers" {
				ph.VUsers = c
			} else {
				ph.MaxVusers = c
			}
		}
	})
	if n.Kind != yaml.MappingNode {
		return ph, false
	}
	// conflicts reports keys that cannot go with the phase's kind.
	conflicts := func(kind string, keys ...string) {
		for _, k := range keys {
			if kn, ok := set[k]; ok {
				l.errorf(kn, join(path, k), "cannot be combined with %s in one phase; split it into two phases", kind)
			}
		}
	}
	needDuration := func(kind string) {
		if _, ok := set["duration"]; !ok {
			l.required(n, join(path, "duration"), "is required with %s", kind)
		}
	}
	switch {
	case set["pause"] != nil:
		ph.Kind = PhasePause
		conflicts("pause", "duration", "arrivalRate", "rampTo", "arrivalCount", "vusers", "maxVusers")
	case set["vusers"] != nil:
		ph.Kind = PhaseClosed
		conflicts("vusers (a closed-model phase)", "arrivalRate", "rampTo", "arrivalCount", "maxVusers")
		needDuration("vusers")
	case set["arrivalCount"] != nil:
		ph.Kind = PhaseCount
		for _, k := range []string{"arrivalRate", "rampTo"} {
			if kn := set[k]; kn != nil && l.origin[kn] != l.origin[set["arrivalCount"]] {
				// Laid together by --config, index by index (Artillery's own
				// CLI tests: hello.json with hello_config.json): the count
				// wins, as in Artillery's phases.
				l.warnf(kn, join(path, k), "replaced by arrivalCount from %s, as Artillery's arrivalCount wins over a rate in the same phase", l.pos(set["arrivalCount"]).File)
				delete(set, k)
			}
		}
		ph.ArrivalRate, ph.RampTo = 0, 0
		conflicts("arrivalCount", "arrivalRate", "rampTo")
		needDuration("arrivalCount")
	case set["arrivalRate"] != nil:
		ph.Kind = PhaseConstant
		if set["rampTo"] != nil {
			ph.Kind = PhaseRamp
			if len(l.errs) == before && ph.ArrivalRate == 0 && ph.RampTo == 0 {
				l.errorf(set["rampTo"], join(path, "rampTo"), "a ramp from 0 to 0 sends nothing; one of arrivalRate and rampTo must be positive")
			}
		}
		needDuration("arrivalRate")
	case set["rampTo"] != nil:
		// Artillery 2.0.34 crashes on this phase; a ramp from 0 is what
		// it reads as.
		ph.Kind = PhaseRamp
		if len(l.errs) == before && ph.RampTo == 0 {
			l.errorf(set["rampTo"], join(path, "rampTo"), "a ramp from 0 to 0 sends nothing; rampTo must be positive")
		}
		needDuration("rampTo")
	case len(l.errs) == before:
		l.errorf(n, path, "a phase needs one of arrivalRate (with duration), arrivalCount, pause or vusers")
	}
	if set["mode"] == nil && l.configMode == "poisson" && ph.Kind == PhaseConstant {
		// config.mode applies where Artillery reads a mode, a constant
		// rate; elsewhere it changes nothing there or here.
		ph.Poisson = true
	}
	if kn := set["mode"]; kn != nil && ph.Poisson && ph.Kind != PhaseConstant {
		l.errorf(kn, join(path, "mode"), "poisson goes with arrivalRate without rampTo, as in Artillery, where it changes nothing elsewhere")
	}
	if len(l.errs) == before {
		l.phaseArrivals(n, path, ph)
	}
	return ph, len(l.errs) == before
}

// phaseArrivals checks the limits that depend on several keys: the
// arrivals a rate phase schedules, and the average rate of a count phase.
// Each key alone was checked where it was read.
func (l *loader) phaseArrivals(n *yaml.Node, path string, ph Phase) {
	secs := ph.Duration.Seconds()
	switch ph.Kind {
	case PhaseConstant, PhaseRamp:
		// The mean rate over the phase times its length (exact for a ramp).
		arrivals := (ph.ArrivalRate + ph.RampTo) / 2 * secs
		if ph.Kind == PhaseConstant {
			arrivals = ph.ArrivalRate * secs
		}
		if arrivals > MaxPhaseArrivals {
			l.errorf(n, path, "schedules %.0f arrivals, more than %d (MaxPhaseArrivals); split it into several phases", arrivals, MaxPhaseArrivals)
		}
	case PhaseCount:
		if rate := float64(ph.ArrivalCount) / secs; secs > 0 && rate > MaxArrivalRate {
			l.errorf(n, join(path, "arrivalCount"), "%d arrivals in %v is %.0f per second, more than %d (MaxArrivalRate); lengthen the duration",
				ph.ArrivalCount, ph.Duration, rate, MaxArrivalRate)
		}
	}
}

// atMost reports v above limit, when v was read (ok).
func (l *loader) atMost(n *yaml.Node, path string, ok bool, v, limit float64, unit string) {
	if ok && v > limit {
		l.errorf(l.deref(n), path, "must be at most %.0f %s, got %s", limit, unit, describe(l.deref(n)))
	}
}

// quietKey finds key in mapping n without reporting anything.
func (l *loader) quietKey(n *yaml.Node, key string) (*yaml.Node, bool) {
	for _, p := range l.quietPairs(n) {
		if p.key == key {
			return p.v, true
		}
	}
	return nil, false
}

func (l *loader) nonNegative(n *yaml.Node, path string) (float64, bool) {
	f, ok := l.number(n, path, "a number >= 0")
	if ok && f < 0 {
		l.errorf(l.deref(n), path, "must be a number >= 0, got %s", describe(l.deref(n)))
		return 0, false
	}
	return f, ok
}

func (l *loader) variables(n *yaml.Node, path string) []Variable {
	var out []Variable
	for _, p := range l.pairs(n, path) {
		fp := join(path, p.key)
		if !validName(p.key) {
			l.errorf(p.k, fp, "variable names are letters, digits, _ and -, got %q", p.key)
			continue
		}
		v := l.value(p.v, false, 0)
		values, ok := v.([]any)
		if !ok {
			values = []any{v}
		} else if len(values) == 0 {
			l.errorf(l.deref(p.v), fp, "an empty list leaves nothing to pick; give at least one value")
			continue
		}
		out = append(out, Variable{Name: p.key, Values: values})
	}
	return out
}

func (l *loader) ensure(n *yaml.Node, path string, e *Ensure) {
	l.object(n, path, ensureKeys, nil, func(p pair, fp string) {
		switch p.key {
		case "thresholds":
			for i, tn := range l.list(p.v, fp, false) {
				ip := index(fp, i)
				ps := l.pairs(tn, ip)
				if len(ps) != 1 {
					if tn := l.deref(tn); tn.Kind == yaml.MappingNode {
						l.errorf(tn, ip, `each threshold is one "metric: limit" pair, such as "http.response_time.p95": 250`)
					}
					continue
				}
				if f, ok := l.limit(ps[0].v, join(ip, ps[0].key)); ok {
					e.Thresholds = append(e.Thresholds, Threshold{Metric: ps[0].key, Limit: f, Pos: l.pos(ps[0].k)})
				}
			}
		case "conditions":
			for i, cn := range l.list(p.v, fp, false) {
				c := Condition{Strict: true, Pos: l.pos(l.deref(cn))}
				var expr *yaml.Node
				l.object(cn, index(fp, i), []string{"expression", "strict"}, nil, func(p pair, fp string) {
					switch p.key {
					case "expression":
						expr = p.v
						c.Expression, _ = l.str(p.v, fp)
						c.Expression = l.renderConfig(c.Expression)
					case "strict":
						c.Strict, _ = l.boolean(p.v, fp)
					}
				})
				if l.deref(cn).Kind != yaml.MappingNode {
					continue
				}
				if expr == nil {
					l.errorf(l.deref(cn), join(index(fp, i), "expression"), `is required, such as "http.response_time.p99 < 300"`)
					continue
				}
				e.Conditions = append(e.Conditions, c)
			}
		default: // legacy p95, p99, max, min, median, maxErrorRate
			if f, ok := l.limit(p.v, fp); ok {
				e.Legacy = append(e.Legacy, Threshold{Metric: p.key, Limit: f, Pos: l.pos(p.k)})
			}
		}
	})
}

// endpointOptions reads config.plugins.metrics-by-endpoint.
func (l *loader) endpointOptions(n *yaml.Node, path string) EndpointOptions {
	var o EndpointOptions
	l.object(n, path, metricsPluginKeys, metricsPluginRefused, func(p pair, fp string) {
		switch p.key {
		case "useOnlyRequestNames":
			o.UseOnlyRequestNames, _ = l.boolean(p.v, fp)
		case "stripQueryString":
			o.StripQueryString, _ = l.boolean(p.v, fp)
		case "ignoreUnnamedRequests":
			o.IgnoreUnnamedRequests, _ = l.boolean(p.v, fp)
		case "groupDynamicURLs":
			group, ok := l.boolean(p.v, fp)
			o.RenderURLs = ok && !group
		case "metricsNamespace":
			if ns, ok := l.str(p.v, fp); ok {
				switch {
				case strings.TrimSpace(ns) == "":
					l.errorf(l.deref(p.v), fp, "metricsNamespace is empty; give a name such as %s (the default) or leave the key out", metric.DefaultNamespace)
				case metric.NamespaceClash(ns) != "":
					l.errorf(l.deref(p.v), fp, "metricsNamespace %q would name endpoints like the built-in %s; choose another, e.g. plugins.%s", ns, metric.NamespaceClash(ns), ns)
				case ns != metric.DefaultNamespace:
					o.Namespace = ns
				}
			}
		}
	})
	return o
}

// limit reads an ensure limit: a number >= 0, or a template that renders
// to one when the script loads, as Artillery renders config from
// --variables and the environment ("{{ $env.P95_MS }}").
func (l *loader) limit(n *yaml.Node, path string) (float64, bool) {
	v := l.deref(n)
	if v.Kind != yaml.ScalarNode || !strings.Contains(v.Value, "{{") {
		return l.nonNegative(n, path)
	}
	r := l.renderConfig(v.Value)
	f, err := strconv.ParseFloat(strings.TrimSpace(r), 64)
	switch {
	case strings.Contains(r, "{{"):
		l.errorf(v, path, "%s is not set: a limit can use --var names, $environment, $env.NAME and $processEnvironment.NAME", strings.TrimSpace(v.Value))
	case err != nil || f < 0 || f-f != 0:
		l.errorf(v, path, "must be a number >= 0, got %q from %s", r, strings.TrimSpace(v.Value))
	default:
		return f, true
	}
	return 0, false
}

// configTemplateRE is a template in config; configNameRE the one value
// such a template may name, before an optional | default("text").
var (
	configTemplateRE = regexp.MustCompile(`\{\{(.*?)\}\}`)
	configNameRE     = regexp.MustCompile(`^[$\w.-]+$`)
)

// renderConfig renders the templates of a config value that name what is
// known when the script loads (--var names, $environment, $env.NAME and
// $processEnvironment.NAME, each with an optional | default("text") used
// when it is not set), as Artillery renders its config before a run.
// Any other template is kept as written: it may be part of a metric name
// (an endpoint such as /goods/{{ id }}).
func (l *loader) renderConfig(s string) string {
	if !strings.Contains(s, "{{") {
		return s
	}
	return configTemplateRE.ReplaceAllStringFunc(s, func(t string) string {
		expr, def, hasDef, err := splitDefault(strings.TrimSpace(configTemplateRE.FindStringSubmatch(t)[1]))
		name := strings.TrimSpace(expr)
		if err != nil || !configNameRE.MatchString(name) {
			return t
		}
		if v, ok := l.opts.Vars[name]; ok {
			return v
		}
		if name == "$environment" && l.opts.Environment != "" {
			return l.opts.Environment
		}
		for _, p := range []string{"$env.", "$processEnvironment."} {
			if env, ok := strings.CutPrefix(name, p); ok && l.opts.Env != nil {
				if v, ok := l.opts.Env(env); ok {
					return v
				}
			}
		}
		if hasDef {
			return def
		}
		return t
	})
}

func (l *loader) plugins(n *yaml.Node, path string, cfg *Config) {
	for _, p := range l.pairs(n, path) {
		fp := join(path, p.key)
		if !containsString(pluginKeys, p.key) {
			l.errorf(p.k, fp, "plugin %q is not supported; supported plugins: %s%s", p.key, strings.Join(pluginKeys, ", "), didYouMean(p.key, pluginKeys))
			continue
		}
		v := l.deref(p.v)
		empty := v.Kind == yaml.ScalarNode && v.Tag == "!!null"
		switch p.key {
		case "ensure":
			cfg.Plugins.Ensure = true
			if !empty {
				l.ensure(v, fp, &cfg.Ensure)
			}
		case "expect":
			cfg.Plugins.Expect = true
			if !empty {
				l.expectPlugin(v, fp, &cfg.Plugins.ExpectOptions)
			}
		case "metrics-by-endpoint":
			cfg.Plugins.MetricsByEndpoint = true
			if !empty {
				cfg.Plugins.Endpoints = l.endpointOptions(v, fp)
			}
		}
	}
}

// ParseJitter reads a jitter as Artillery writes it: whole milliseconds
// ("500", 500) or a whole percentage ("20%").
func ParseJitter(s string) (Jitter, error) {
	t := strings.TrimSpace(s)
	j := Jitter{}
	if rest, ok := strings.CutSuffix(t, "%"); ok {
		j.Percent, t = true, rest
	}
	n, err := strconv.Atoi(t)
	if err != nil || n < 0 {
		why := ""
		if strings.Contains(t, ".") {
			// parseInt("0.5") is 0: Artillery silently drops such a jitter.
			why = "; Artillery reads the whole milliseconds only, so 0.5 would be no jitter at all"
		}
		return Jitter{}, fmt.Errorf("must be whole milliseconds (500) or a percentage (20%%), got %q%s", s, why)
	}
	j.Amount = n
	return j, nil
}

// jitter reads a think jitter, a think step's or config.http.defaults.think's.
func (l *loader) jitter(n *yaml.Node, path string) (Jitter, bool) {
	s, ok := l.str(n, path)
	if !ok {
		return Jitter{}, false
	}
	j, err := ParseJitter(s)
	if err != nil {
		l.errorf(l.deref(n), path, "%v", err)
		return Jitter{}, false
	}
	return j, true
}

// Apply varies d by the jitter, drawing from r: Artillery's
// max(0, d - j + random * 2j), in whole milliseconds as there.
func (j Jitter) Apply(d time.Duration, r func() float64) time.Duration {
	if j.Amount == 0 {
		return d
	}
	ms := float64(d.Milliseconds())
	approx := float64(j.Amount)
	if j.Percent {
		approx = ms * approx / 100
	}
	return time.Duration(max(0, ms-approx+r()*2*approx) * float64(time.Millisecond))
}
