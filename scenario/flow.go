package scenario

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

const noHooks = "hooks call JavaScript functions, which primeload does not support: " + noJS

var (
	methods         = []string{"get", "post", "put", "patch", "delete", "head", "options"}
	stepActions     = append(append([]string{}, methods...), "think", "loop", "log", "parallel")
	stepKeys        = append(append([]string{}, stepActions...), "count", "over", "loopValue", "loopElement", "limit", "jitter")
	stepUnsupported = map[string]string{
		"function":  "function steps call JavaScript, which primeload does not support: " + noJS,
		"whileTrue": "whileTrue calls a JavaScript function, which primeload does not support; use loop with count or over",
		"emit":      "emit is a socketio step; primeload speaks HTTP only",
		"send":      "send is a ws step; primeload speaks HTTP only",
		"connect":   "connect is a ws step; primeload speaks HTTP only",
	}
	scenarioKeys        = []string{"name", "weight", "flow", "engine"}
	scenarioUnsupported = map[string]string{
		"beforeScenario": "beforeScenario " + noHooks,
		"afterScenario":  "afterScenario " + noHooks,
		"beforeRequest":  "beforeRequest " + noHooks,
		"afterResponse":  "afterResponse " + noHooks,
	}
	requestUnsupported = map[string]string{
		"beforeRequest": "beforeRequest " + noHooks,
		"afterResponse": "afterResponse " + noHooks,
		"function":      "function " + noHooks,
	}
)

// section parses before: or after:, a mapping holding one flow.
func (l *loader) section(n *yaml.Node, path string, sc *scope) []Step {
	l.inSection = path
	defer func() { l.inSection = "" }()
	var steps []Step
	found := false
	l.object(n, path, []string{"flow"}, scenarioUnsupported, func(p pair, fp string) {
		found = true
		steps = l.flow(p.v, fp, sc)
	})
	if n := l.deref(n); n.Kind == yaml.MappingNode && !found {
		l.required(n, join(path, "flow"), "is required: the steps to run")
	}
	return steps
}

func (l *loader) scenarios(n *yaml.Node, sc *scope) []Scenario {
	items := l.list(n, "scenarios", false)
	if v := l.deref(n); v.Kind == yaml.SequenceNode && len(items) == 0 {
		l.errorf(v, "scenarios", "must hold at least one scenario")
	}
	var out []Scenario
	total := 0
	for i, sn := range items {
		path := index("scenarios", i)
		s := Scenario{Name: fmt.Sprintf("scenario %d", i+1), Weight: 1, Unnamed: true}
		found := false
		l.object(sn, path, scenarioKeys, scenarioUnsupported, func(p pair, fp string) {
			switch p.key {
			case "name":
				if name, ok := l.str(p.v, fp); ok {
					s.Name, s.Unnamed = name, false
				}
			case "weight":
				if w, ok := l.count(p.v, fp, 0); ok {
					s.Weight = w
				}
			case "engine":
				if e, ok := l.str(p.v, fp); ok && e != "http" {
					l.errorf(l.deref(p.v), fp, "engine %q is not supported: primeload speaks HTTP only (engine: http)", e)
				}
			case "flow":
				found = true
				s.Flow = l.flow(p.v, fp, sc.clone())
			}
		})
		if v := l.deref(sn); v.Kind == yaml.MappingNode && !found {
			l.required(v, join(path, "flow"), "is required: the steps a virtual user runs")
		}
		total += s.Weight
		out = append(out, s)
	}
	if len(out) > 0 && total == 0 {
		l.errorf(l.deref(n), "scenarios", "every weight is 0, so no scenario could ever run")
	}
	return out
}

// flow parses a list of steps. sc grows with each capture, so a later step
// may read what an earlier one captured.
func (l *loader) flow(n *yaml.Node, path string, sc *scope) []Step {
	items := l.list(n, path, false)
	if v := l.deref(n); v.Kind == yaml.SequenceNode && len(items) == 0 {
		l.errorf(v, path, "must hold at least one step")
	}
	var out []Step
	for i, sn := range items {
		if st, ok := l.step(sn, index(path, i), sc); ok {
			out = append(out, st)
		}
	}
	return out
}

func (l *loader) step(n *yaml.Node, path string, sc *scope) (Step, bool) {
	n = l.deref(n)
	st := Step{Pos: l.pos(n)}
	if n.Kind != yaml.MappingNode {
		l.errorf(n, path, "a step must be a mapping such as {get: {url: /}}, got %s", describe(n))
		return st, false
	}
	before := len(l.errs)
	ps := l.pairs(n, path)
	var action *pair
	keys := map[string]pair{}
	for i, p := range ps {
		fp := join(path, p.key)
		switch {
		case stepUnsupported[p.key] != "":
			if jsKeys[p.key] {
				l.jsUses++
			}
			l.errorf(p.k, fp, "%s", stepUnsupported[p.key])
		case !containsString(stepKeys, p.key):
			l.errorf(p.k, fp, "unknown step; valid steps: %s%s", strings.Join(stepActions, ", "), l.didYouMean(path, p.key, stepKeys))
		case containsString(stepActions, p.key):
			if action != nil {
				l.errorf(p.k, fp, "a step does one thing; this one already has %s", action.key)
				continue
			}
			action = &ps[i]
		default:
			keys[p.key] = p
		}
	}
	if action == nil {
		if len(l.errs) == before {
			l.errorf(n, path, "a step needs one of %s", strings.Join(stepActions, ", "))
		}
		return st, false
	}
	for k, p := range keys {
		with := "loop"
		switch k {
		case "limit":
			with = "parallel"
		case "jitter":
			with = "think"
		}
		if action.key != with {
			l.errorf(p.k, join(path, k), "only goes with %s", with)
		}
	}
	fp := join(path, action.key)
	switch action.key {
	case "think":
		if p, ok := keys["jitter"]; ok {
			st.Jitter = l.stepJitter(p.v, join(path, "jitter"))
		}
		if v := l.deref(action.v); v.Kind == yaml.ScalarNode && strings.Contains(v.Value, "{{") {
			// Artillery renders a think when the user reaches it.
			st.ThinkT = l.template(v, fp, sc)
			break
		}
		st.Think, _ = l.duration(action.v, fp)
	case "log":
		st.Log = l.template(action.v, fp, sc)
	case "loop":
		st.Loop = l.loop(action.v, fp, keys, path, sc)
	case "parallel":
		st.Parallel = &Parallel{Steps: l.flow(action.v, fp, sc), Limit: DefaultParallelLimit}
		if p, ok := keys["limit"]; ok {
			st.Parallel.Limit, _ = l.count(p.v, join(path, "limit"), 1)
		}
	default:
		st.Request = l.request(action.v, fp, strings.ToUpper(action.key), sc)
	}
	return st, len(l.errs) == before
}

// stepJitter reads a think step's jitter. Artillery takes the step's when
// it is truthy and config.http.defaults.think's otherwise, so jitter: 0 is
// nil here: the default applies.
func (l *loader) stepJitter(n *yaml.Node, path string) *Jitter {
	if v := l.deref(n); v.Kind == yaml.ScalarNode && v.Tag == "!!int" && strings.Trim(v.Value, "+-0") == "" {
		return nil
	}
	j, ok := l.jitter(n, path)
	if !ok {
		return nil
	}
	return &j
}

func (l *loader) loop(n *yaml.Node, path string, keys map[string]pair, stepPath string, sc *scope) *Loop {
	lp := &Loop{}
	countP, hasCount := keys["count"]
	overP, hasOver := keys["over"]
	switch {
	case hasCount && hasOver:
		l.errorf(overP.k, join(stepPath, "over"), "a loop has count or over, not both")
	case hasCount:
		l.loopCount(countP.v, join(stepPath, "count"), lp, sc)
	case hasOver:
		op := join(stepPath, "over")
		v := l.deref(overP.v)
		if v.Kind == yaml.SequenceNode {
			lp.OverValues = l.value(v, false, 0).([]any)
			if len(lp.OverValues) == 0 {
				l.errorf(v, op, "an empty list runs the loop zero times; give at least one element")
			}
			break
		}
		name, ok := l.str(v, op)
		if !ok {
			break
		}
		src := name
		if !strings.Contains(name, "{{") {
			// Artillery names the variable bare: over: productIds.
			src = "{{ " + name + " }}"
		}
		if !l.chargeTemplate(v, src) {
			break
		}
		t, err := Compile(src)
		if err != nil || t.single() == nil {
			l.errorf(v, op, "must name a variable holding a list (over: productIds) or be a literal list, got %s", describe(v))
			break
		}
		l.checkRefs(t, v, op, sc)
		lp.Over = t
	default:
		l.errorf(l.deref(n), path, "a loop needs count or over; a loop without either would never end")
	}
	for _, k := range []string{"loopValue", "loopElement"} {
		if p, ok := keys[k]; ok {
			name := l.name(p.v, join(stepPath, k))
			if k == "loopValue" {
				lp.IndexVar = name
			} else {
				lp.ElementVar = name
			}
			// Defined after the loop too: it keeps its last value.
			sc.define(name)
		}
	}
	// Captures inside the body count for steps after the loop too.
	sc.loops++
	lp.Steps = l.flow(n, path, sc)
	sc.loops--
	sc.afterLoop = true
	return lp
}

// loopRangeRE is Artillery's count range, "2-5".
var loopRangeRE = regexp.MustCompile(`^\s*(\d+)\s*-\s*(\d+)\s*$`)

// loopCount reads count: a whole number, a "from-to" range (Artillery runs
// to - from iterations, $loopCount from from), or a template rendered
// when the loop starts.
func (l *loader) loopCount(n *yaml.Node, path string, lp *Loop, sc *scope) {
	v := l.deref(n)
	if v.Kind == yaml.ScalarNode && strings.Contains(v.Value, "{{") {
		lp.CountT = l.template(v, path, sc)
		return
	}
	if m := loopRangeRE.FindStringSubmatch(v.Value); v.Kind == yaml.ScalarNode && m != nil {
		from, err1 := strconv.Atoi(m[1])
		to, err2 := strconv.Atoi(m[2])
		if err1 != nil || err2 != nil || to <= from {
			l.errorf(v, path, "a range from-to runs to - from times (Artillery's reading), so %q would run zero times; the end must be larger", v.Value)
			return
		}
		lp.From, lp.Count = from, to-from
		return
	}
	lp.Count, _ = l.count(n, path, 1)
}

// findRef returns the scalar under n whose template reads name, and its
// field path, so an undefined name in a JSON body is reported where it is.
func (l *loader) findRef(n *yaml.Node, name, path string) (*yaml.Node, string) {
	found, foundPath := l.deref(n), path
	l.eachTemplate(n, path, func(t *Template, sn *yaml.Node, sp string) bool {
		if containsString(t.Refs(), name) {
			found, foundPath = sn, sp
			return false
		}
		return true
	})
	return found, foundPath
}

// eachTemplate compiles each scalar with {{ }} under n again, with its
// node and field path, until fn returns false. It serves messages that
// must point inside a JSON body, which is compiled as one value.
func (l *loader) eachTemplate(n *yaml.Node, path string, fn func(t *Template, n *yaml.Node, path string) bool) bool {
	n = l.deref(n)
	switch n.Kind {
	case yaml.ScalarNode:
		if !strings.Contains(n.Value, "{{") || !l.chargeTemplate(n, n.Value) {
			return true
		}
		if t, err := Compile(n.Value); err == nil {
			return fn(t, n, path)
		}
	case yaml.SequenceNode:
		for i, c := range n.Content {
			if !l.eachTemplate(c, index(path, i), fn) {
				return false
			}
		}
	case yaml.MappingNode:
		for _, p := range l.quietPairs(n) {
			if !l.eachTemplate(p.v, join(path, p.key), fn) {
				return false
			}
		}
	}
	return true
}

// headers reads a name: value mapping of header templates.
func (l *loader) headers(n *yaml.Node, path string, sc *scope) []Header {
	var out []Header
	for _, p := range l.params(n, path, sc) {
		out = append(out, Header(p))
	}
	return out
}

// params reads a name: value mapping whose values are templates.
func (l *loader) params(n *yaml.Node, path string, sc *scope) []Param {
	var out []Param
	for _, p := range l.pairs(n, path) {
		if t := l.template(p.v, join(path, p.key), sc); t != nil {
			out = append(out, Param{Name: p.key, Value: t})
		}
	}
	return out
}

// LoopCount reads a rendered count as Artillery does: a whole number n
// (from 0, n times) or a "from-to" range (to - from times, from from).
// Anything else, or a count below 1, runs zero times, as Artillery runs
// a count that is not a number; its -1 (forever) is not copied.
func LoopCount(s string) (from, n int) {
	if m := loopRangeRE.FindStringSubmatch(s); m != nil {
		from, err1 := strconv.Atoi(m[1])
		to, err2 := strconv.Atoi(m[2])
		if err1 != nil || err2 != nil || to <= from {
			return 0, 0
		}
		return from, to - from
	}
	c, err := strconv.Atoi(strings.TrimSpace(s))
	if err != nil || c < 1 {
		return 0, 0
	}
	return 0, c
}
