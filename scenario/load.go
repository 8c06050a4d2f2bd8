package scenario

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	goccy "github.com/goccy/go-yaml"
	goccyparser "github.com/goccy/go-yaml/parser"
	"go.yaml.in/yaml/v3"
)

// LoadOptions are the choices made outside the script file.
type LoadOptions struct {
	// Predicates compiles a request's ifTrue, a filtrex expression over
	// the user's variables (report/slo.CompileCondition, which this
	// package cannot import); nil refuses ifTrue.
	Predicates func(expr string) (Predicate, error)
	// Environment names a config.environments entry to merge over config
	// (-e); "" for none.
	Environment string
	// Vars are --var NAME=VALUE: defined for every virtual user, overriding
	// config.variables of the same name.
	Vars map[string]string
	// AllowOutsidePayload lets payload.path resolve outside the script's
	// folder; off by default so a shared script cannot read arbitrary files.
	AllowOutsidePayload bool
	// Env looks up $env.NAME and $processEnvironment.NAME where config is
	// rendered when the script loads (ensure limits; nil sees no
	// variables), and checks that every such reference without a
	// | default("...") names a variable that is set (nil: not checked, the
	// environment of the run is not known yet).
	Env func(string) (string, bool)
	// Layers are laid over the script, in order, before it is read:
	// --config FILE, --overrides JSON, --variables JSON.
	Layers []Layer
	// Payload is -p FILE: the path of a single config.payload mapping.
	Payload string
	// Solo replaces config.phases with one virtual user (--solo).
	Solo bool
}

// Load reads, validates and compiles the script at path. Script problems
// come back as an ErrorList holding all of them.
func Load(path string, opts LoadOptions) (*Script, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("read script %s: %w", path, err)
	}
	defer f.Close()
	// One byte past the limit tells a file at the limit from a larger one
	// without reading a device such as /dev/zero forever.
	data, err := io.ReadAll(io.LimitReader(f, MaxScriptBytes+1))
	if err != nil {
		return nil, fmt.Errorf("read script %s: %w", path, err)
	}
	return Parse(path, data, opts)
}

// Parse is Load for a script already in memory; name is used in messages
// and payload paths are resolved relative to its folder.
func Parse(name string, data []byte, opts LoadOptions) (*Script, error) {
	if len(data) > MaxScriptBytes {
		return nil, ErrorList{{Pos: Pos{File: name}, Message: fmt.Sprintf(
			"script too large: more than %d MiB (MaxScriptBytes); a script is YAML text, is this the right file?", MaxScriptBytes>>20)}}
	}
	l := &loader{file: name, dir: filepath.Dir(name), opts: opts}
	s := l.script(data)
	if l.overErr != nil {
		// Whatever else was found may be an artefact of the cut-short walk.
		return nil, ErrorList{l.overErr}
	}
	if len(l.errs) > 0 {
		l.errs.sort()
		return nil, l.errs
	}
	return s, nil
}

// loader carries the state of one Parse: where errors go and the budgets
// of work (see limits.go).
type loader struct {
	file   string
	dir    string
	opts   LoadOptions
	errs   ErrorList
	visits int // YAML nodes walked, against MaxYAMLNodes
	// tmplBytes and tmplExprs are the template text and expressions
	// compiled, against MaxTemplateBytes and MaxTemplateExpressions.
	tmplBytes int
	tmplExprs int
	// overErr is the first budget exceeded; once set, the walk stops.
	overErr *Error
	// origin names the file of each node a Layer brought (see Layer).
	origin map[*yaml.Node]string
	// trustedPayload is -p FILE, absolute: named by the user, it may lie
	// outside the script's folder.
	trustedPayload string

	// warns are the problems that do not stop the script, see Script.Warnings.
	warns []*Error
	// processors are the config.processor keys read; jsUses counts the
	// hooks and function steps that would call one.
	processors []*yaml.Node
	jsUses     int

	endpoints endpointSet
	baseURL   string   // config.target with the environment merged in
	captures  []string // every capture name anywhere, for defaults.headers
	// rendered holds the source of each config value rendered before it
	// was read (see renderConfigValues), for messages; unresolved, those
	// whose template named nothing known, reported once.
	rendered   map[*yaml.Node]string
	unresolved map[*yaml.Node]bool
	// unchosenEnv is set while an environment -e did not choose is read:
	// what it says is checked, not what it lacks (a payload path that only
	// -p gives when that environment runs).
	unchosenEnv bool
	// configMode is config.mode while a config is read: the mode of its
	// phases that set none.
	configMode string
	// otherEnvNames are what the environments -e did not choose define.
	otherEnvNames []envNames
	// lenientCaptures is config.http.defaults.strictCapture: false, which
	// makes a capture without strict: non-strict.
	lenientCaptures bool
	// expectOn is config.plugins.expect's presence, with the environment
	// merged; inSection is "before" or "after" while those flows load, as
	// Artillery checks expectations in scenarios only.
	expectOn, expectOffNoted bool
	expectDefault200         bool
	inSection                string
	// typos holds field paths offered as "did you mean": their "is
	// required" message would only repeat the same mistake.
	typos map[string]bool
}

var yamlLineRE = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)

func (l *loader) script(data []byte) *Script {
	top := l.decode(data, "empty script: want a mapping with config and scenarios")
	if top == nil {
		return nil
	}
	if len(l.opts.Layers) > 0 || l.opts.Payload != "" || l.opts.Solo {
		if resolveAlias(top).Kind != yaml.MappingNode {
			l.errorf(top, "", "want a mapping with config and scenarios")
			return nil
		}
		if !l.applyLayers(resolveAlias(top)) {
			return nil
		}
	}
	root := l.deref(top)
	s := &Script{Path: l.file, Environment: l.opts.Environment, FileDir: l.dir, AllowOutsideFiles: l.opts.AllowOutsidePayload}
	var configN, scenariosN, beforeN, afterN *yaml.Node
	l.object(root, "", []string{"config", "scenarios", "before", "after"}, nil, func(p pair, _ string) {
		switch p.key {
		case "config":
			configN = p.v
		case "scenarios":
			scenariosN = p.v
		case "before":
			beforeN = p.v
		case "after":
			afterN = p.v
		}
	})
	if root.Kind != yaml.MappingNode {
		return nil
	}
	if configN == nil {
		l.required(root, "config", "is required: it holds target and phases")
		configN = &yaml.Node{Kind: yaml.MappingNode, Line: root.Line, Column: root.Column}
	}
	headers := l.configWithEnvironment(configN, s)
	l.lenientCaptures = !s.Config.Defaults.StrictCapture

	global := newScope()
	for _, name := range configNames(s.Config) {
		global.define(name)
	}
	for _, o := range l.otherEnvNames {
		// Defined by another environment: not a typo, but undefined in
		// this run, as in Artillery (test-calc-server.yml's -e single-cli
		// and its endpoint2, which an ifTrue then skips).
		var only []string
		for _, name := range o.names {
			if !global.has(name) {
				only = append(only, name)
			}
		}
		if len(only) == 0 {
			continue
		}
		chosen := "without -e"
		if l.opts.Environment != "" {
			chosen = "under -e " + l.opts.Environment
		}
		l.warnf(o.at, "config.environments."+o.env, "defines %s, undefined %s (rendered as Artillery renders an undefined variable)", strings.Join(only, ", "), chosen)
		for _, name := range only {
			global.define(name)
		}
	}

	l.expectOn = s.Config.Plugins.Expect
	l.expectDefault200 = s.Config.Plugins.ExpectOptions.ExpectDefault200
	shared := global.clone()
	if beforeN != nil {
		sc := global.clone()
		s.Before = l.section(beforeN, "before", sc)
		shared = sc // the before flow's captures reach every virtual user
	}
	if scenariosN == nil {
		l.required(root, "scenarios", "is required: a list of scenarios with a flow each")
	} else {
		s.Scenarios = l.scenarios(scenariosN, shared)
	}
	if afterN != nil {
		s.After = l.section(afterN, "after", shared.clone())
	}

	// Default headers go on every request, so any capture may feed them.
	all := shared.clone()
	for _, c := range l.captures {
		all.define(c)
	}
	for _, h := range headers {
		l.checkRefs(h.t, h.n, h.path, all)
		l.checkEnv(h.t, h.n, h.path)
	}
	for _, k := range l.processors {
		if l.jsUses > 0 {
			l.errorf(k, "config.processor", "JavaScript processors are not supported: %s", noJS)
		} else {
			// Artillery scripts often keep a processor line from a
			// template; with nothing calling it, it changes nothing.
			l.warnf(k, "config.processor", "not loaded: primeload runs no JavaScript, and no hook or function step here calls it")
		}
	}
	s.Endpoints, s.EndpointMethods = l.endpoints.list, l.endpoints.methods
	ErrorList(l.warns).sort()
	s.Warnings = l.warns
	return s
}

// syntaxProblem asks a second parser where a syntax error is. yaml.v3
// reports the line where the enclosing block starts (an indentation slip
// on line 7 of a phase comes back as line 4); goccy/go-yaml reports the
// token where parsing failed. It is used only on this error path, and only
// when it too finds the file broken at or after yaml.v3's line.
func syntaxProblem(data []byte) (pos Pos, problem string, ok bool) {
	// Only a better message is at stake: a panic in the second parser on
	// hostile input must not cost the first one's answer.
	defer func() {
		if recover() != nil {
			pos, problem, ok = Pos{}, "", false
		}
	}()
	_, err := goccyparser.ParseBytes(data, 0)
	var se *goccy.SyntaxError
	if !errors.As(err, &se) || se.Token == nil || se.Token.Position == nil {
		return Pos{}, "", false
	}
	return Pos{Line: se.Token.Position.Line, Column: se.Token.Position.Column}, se.Message, true
}

// oneDocument reads what follows the first document: Artillery ignores
// later documents silently, but one is most likely a second script pasted
// in, so it is an error at its ---. An empty one (a trailing ---) is not.
func (l *loader) oneDocument(dec *yaml.Decoder, data []byte) bool {
	for {
		var next yaml.Node
		err := dec.Decode(&next)
		switch {
		case errors.Is(err, io.EOF):
			return true
		case err != nil:
			l.yamlError(err, data)
			return false
		}
		if len(next.Content) == 1 && next.Content[0].Kind == yaml.ScalarNode && next.Content[0].Tag == "!!null" && next.Content[0].Value == "" {
			continue
		}
		l.errs = append(l.errs, &Error{Pos: Pos{File: l.file, Line: next.Line, Column: next.Column},
			Message: "a script is one YAML document; a second one starts here (---): remove it or move it to its own file"})
		return false
	}
}

func (l *loader) yamlError(err error, data []byte) {
	var te *yaml.TypeError
	msg := err.Error()
	if errors.As(err, &te) && len(te.Errors) > 0 {
		msg = te.Errors[0]
	}
	for _, line := range strings.Split(msg, "\n") {
		if m := yamlLineRE.FindStringSubmatch(line); m != nil {
			n, _ := strconv.Atoi(m[1])
			e := &Error{Pos: Pos{File: l.file, Line: n, Column: 1}, Message: "invalid YAML: " + m[2]}
			if pos, problem, ok := syntaxProblem(data); ok && pos.Line >= n {
				e.Pos.Line, e.Pos.Column = pos.Line, pos.Column
				e.Message = "invalid YAML: " + problem
				if pos.Line > n {
					e.Message += fmt.Sprintf(" (in the block that starts at line %d)", n)
				}
			}
			l.errs = append(l.errs, e)
			return
		}
	}
	l.errs = append(l.errs, &Error{Pos: Pos{File: l.file}, Message: "invalid YAML: " + strings.TrimPrefix(msg, "yaml: ")})
}

// envNames are the variable and payload names an environment -e did not
// choose defines.
type envNames struct {
	env   string
	at    *yaml.Node
	names []string
}

// configNames are the names cfg defines for every user: variables and
// payload fields (a loadAll payload's name).
func configNames(cfg Config) []string {
	var out []string
	for _, v := range cfg.Variables {
		out = append(out, v.Name)
	}
	for _, p := range cfg.Payloads {
		if p.LoadAll {
			out = append(out, p.Name)
			continue
		}
		out = append(out, p.Fields...)
	}
	return out
}

// configWithEnvironment parses config, checks every environment on its own,
// and fills s.Config from config with the chosen environment merged over it.
// It returns the default header templates of the final config.
func (l *loader) configWithEnvironment(configN *yaml.Node, s *Script) []templateUse {
	l.unresolved = map[*yaml.Node]bool{}
	l.renderConfigValues(configN, "config", false)
	cfg, headers, envsN := l.config(configN, "config", false)
	envs := map[string]*yaml.Node{}
	var names []string
	if envsN != nil {
		l.object(envsN, "config.environments", nil, nil, func(p pair, path string) {
			envs[p.key] = p.v
			names = append(names, p.key)
			l.unchosenEnv = p.key != l.opts.Environment
			envCfg, _, _ := l.config(p.v, path, true)
			if l.unchosenEnv {
				l.otherEnvNames = append(l.otherEnvNames, envNames{env: p.key, at: p.k, names: configNames(envCfg)})
			}
			l.unchosenEnv = false
		})
	}
	if name := l.opts.Environment; name != "" {
		env, ok := envs[name]
		switch {
		case ok:
			// Every part of the merged config was checked above, where it was
			// written; parse it quietly so nothing is reported twice.
			saved, savedWarns, savedProcessors := l.errs, l.warns, l.processors
			cfg, headers, _ = l.config(l.merge(configN, env), "config", false)
			l.errs = saved
			l.warns, l.processors = savedWarns, savedProcessors
		case len(names) == 0:
			// Artillery warns and runs on: -e then only sets $environment,
			// as in its multiple_payloads test ("./{{ $environment }}-urls.csv").
			l.warnf(configN, "config.environments", "the script defines no environments: -e %s only sets $environment", name)
		default:
			sort.Strings(names)
			l.errorf(envsN, "config.environments", "no environment %q; available: %s%s", name, strings.Join(names, ", "), didYouMean(name, names))
		}
	}
	if cfg.Target == "" && !l.hasKey(configN, "target") {
		var with []string
		for _, name := range names {
			if l.hasKey(envs[name], "target") {
				with = append(with, name)
			}
		}
		hint := ""
		if len(with) > 0 && l.opts.Environment == "" {
			sort.Strings(with)
			hint = "; or choose an environment that sets it with -e: " + strings.Join(with, ", ")
		}
		l.required(configN, "config.target", "is required: the base URL requests are relative to, e.g. http://127.0.0.1:8080%s", hint)
	}
	var bad []string
	for k := range l.opts.Vars {
		if !validName(k) {
			bad = append(bad, k)
		}
	}
	sort.Strings(bad)
	for _, k := range bad {
		l.errs = append(l.errs, &Error{Pos: Pos{File: l.file}, Field: "--var " + k,
			Message: "variable names are letters, digits, _ and -"})
	}
	if cfg.Ensure.Len() > 0 && !cfg.Plugins.Ensure {
		cfg.Ensure.OutsidePlugin = true
		at := configN
		for _, p := range l.quietPairs(l.deref(configN)) {
			if p.key == "ensure" {
				at = p.k
			}
		}
		l.warnf(at, "config.ensure", "%s", EnsureOutsidePluginNote)
	}
	if l.opts.Env != nil {
		// Artillery turns the extended metrics on for every script when
		// this variable is set, to anything (update-global-object.ts).
		if _, ok := l.opts.Env(ExtendedMetricsEnv); ok {
			cfg.HTTP.ExtendedMetrics = true
		}
	}
	if len(cfg.Phases) == 0 && !l.hasKey(configN, "phases") {
		// Artillery's default, the documented way to run a functional test.
		cfg.Phases = []Phase{DefaultPhase(configN.Line)}
	}
	cfg.Variables = withVars(cfg.Variables, l.opts.Vars)
	s.Config = cfg
	l.baseURL, l.endpoints.opts = cfg.Target, cfg.Plugins.Endpoints
	return headers
}

// withVars puts --var values over config.variables, keeping file order.
func withVars(vars []Variable, set map[string]string) []Variable {
	names := make([]string, 0, len(set))
	for k := range set {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, k := range names {
		v := Variable{Name: k, Values: []any{set[k]}}
		replaced := false
		for i := range vars {
			if vars[i].Name == k {
				vars[i], replaced = v, true
			}
		}
		if !replaced {
			vars = append(vars, v)
		}
	}
	return vars
}

// merge lays over on top of base: mappings merge key by key, anything else
// (lists included) is replaced, so an environment's phases replace the base
// phases instead of mixing with them.
func (l *loader) merge(base, over *yaml.Node) *yaml.Node {
	base, over = l.deref(base), l.deref(over)
	if base.Kind != yaml.MappingNode || over.Kind != yaml.MappingNode {
		return over
	}
	out := &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map", Line: base.Line, Column: base.Column}
	overPairs := l.quietPairs(over)
	used := map[string]bool{}
	for _, bp := range l.quietPairs(base) {
		if bp.key == "environments" {
			continue
		}
		v := bp.v
		for _, op := range overPairs {
			if op.key == bp.key {
				v = l.merge(bp.v, op.v)
				used[op.key] = true
			}
		}
		out.Content = append(out.Content, bp.k, v)
	}
	for _, op := range overPairs {
		if !used[op.key] {
			out.Content = append(out.Content, op.k, op.v)
		}
	}
	return out
}

func (l *loader) quietPairs(n *yaml.Node) []pair {
	saved := l.errs
	ps := l.pairs(n, "")
	l.errs = saved
	return ps
}

func (l *loader) hasKey(n *yaml.Node, key string) bool {
	for _, p := range l.quietPairs(l.deref(n)) {
		if p.key == key {
			return true
		}
	}
	return false
}

// ---- YAML node helpers ----

type pair struct {
	key  string
	k, v *yaml.Node
}

// deref follows aliases and counts the walk against MaxYAMLNodes.
func (l *loader) deref(n *yaml.Node) *yaml.Node {
	l.visits++
	if l.visits > MaxYAMLNodes && l.overErr == nil {
		l.overLimit(n, fmt.Sprintf("script too large: more than %d YAML nodes to walk (MaxYAMLNodes), each use of an alias counting its nodes again", MaxYAMLNodes))
	}
	for i := 0; n.Kind == yaml.AliasNode && n.Alias != nil && i < 100; i++ {
		n = n.Alias
	}
	if l.overErr != nil || n.Kind == yaml.AliasNode {
		return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!null", Line: n.Line, Column: n.Column}
	}
	return n
}

// overLimit records the first exceeded budget at n; the walk then stops.
func (l *loader) overLimit(n *yaml.Node, msg string) {
	if l.overErr == nil {
		l.overErr = &Error{Pos: l.pos(n), Message: msg}
	}
}

// chargeTemplate counts src against the template budgets before it is
// compiled; false once the load has compiled too much. Aliases make one
// string compile again at each use, so this, not the file size, bounds
// the work.
func (l *loader) chargeTemplate(n *yaml.Node, src string) bool {
	l.tmplBytes += len(src)
	l.tmplExprs += strings.Count(src, "{{")
	if l.overErr == nil && (l.tmplBytes > MaxTemplateBytes || l.tmplExprs > MaxTemplateExpressions) {
		l.overLimit(n, fmt.Sprintf("script too large: more than %d MiB of templates or %d {{ }} expressions to compile "+
			"(MaxTemplateBytes, MaxTemplateExpressions), each use of an alias counting its text again", MaxTemplateBytes>>20, MaxTemplateExpressions))
	}
	return l.overErr == nil
}

// chargeValue is chargeTemplate for every string in a decoded value.
func (l *loader) chargeValue(n *yaml.Node, v any) bool {
	switch x := v.(type) {
	case string:
		return l.chargeTemplate(n, x)
	case []any:
		for _, e := range x {
			if !l.chargeValue(n, e) {
				return false
			}
		}
	case Pairs:
		for _, kv := range x {
			if !l.chargeValue(n, kv.Value) {
				return false
			}
		}
	}
	return l.overErr == nil
}

func (l *loader) pos(n *yaml.Node) Pos {
	if f := l.origin[n]; f != "" {
		return Pos{File: f, Line: n.Line, Column: n.Column}
	}
	return Pos{File: l.file, Line: n.Line, Column: n.Column}
}

func (l *loader) errorf(n *yaml.Node, field, format string, args ...any) {
	if l.unresolved[n] {
		return // its template was reported as not set
	}
	msg := fmt.Sprintf(format, args...)
	if raw, ok := l.rendered[n]; ok {
		msg += fmt.Sprintf(" (rendered from %q)", raw)
	}
	l.errs = append(l.errs, &Error{Pos: l.pos(n), Field: field, Message: msg})
}

func (l *loader) warnf(n *yaml.Node, field, format string, args ...any) {
	l.warns = append(l.warns, &Error{Pos: l.pos(n), Field: field, Message: fmt.Sprintf(format, args...)})
}

// harmlessKeys are Artillery keys, by field path ("config." also covers
// each environment), that change nothing in primeload: accepted with a
// note saying why, neither an error nor silent.
var harmlessKeys = map[string]string{
	"version":              "has no effect: primeload reads every script the same way",
	"$schema":              "has no effect: it tells an editor which schema to check the file against",
	"config.statsInterval": "has no effect: primeload reports in periods of run --period (default 10s)",
	"config.includeFiles":  "has no effect: it lists files to ship to Artillery's cloud runners; primeload reads only the script and its payload files",
	"config.bundling":      "has no effect: it shapes how Artillery bundles processor JavaScript, which primeload does not run",
}

// harmless says why key under path has no effect, or "" when it is not
// one of harmlessKeys.
func harmless(path, key string) string {
	if env, ok := strings.CutPrefix(path, "config.environments."); ok && !strings.Contains(env, ".") {
		path = "config"
	}
	return harmlessKeys[join(path, key)]
}

// jsKeys are the keys that call a processor's JavaScript function.
var jsKeys = map[string]bool{
	"function": true, "beforeRequest": true, "afterResponse": true,
	"beforeScenario": true, "afterScenario": true, "whileTrue": true,
}

// join builds a field path: join("config", "phases") is config.phases.
func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

func index(path string, i int) string { return fmt.Sprintf("%s[%d]", path, i) }

// pairs returns a mapping's entries with YAML merge keys (<<) expanded and
// duplicate keys reported; nil when n is not a mapping.
func (l *loader) pairs(n *yaml.Node, path string) []pair {
	n = l.deref(n)
	if n.Kind != yaml.MappingNode {
		l.errorf(n, path, "must be a mapping of keys to values, got %s", describe(n))
		return nil
	}
	var out []pair
	seen := map[string]*yaml.Node{}
	var merged []pair
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := l.deref(n.Content[i]), n.Content[i+1]
		if k.Kind != yaml.ScalarNode {
			l.errorf(k, path, "keys must be plain names, got %s", describe(k))
			continue
		}
		if k.Tag == "!!merge" {
			merged = append(merged, l.mergeKey(v, path)...)
			continue
		}
		if prev, dup := seen[k.Value]; dup {
			l.errorf(k, join(path, k.Value), "duplicate key (first set at line %d)", prev.Line)
			continue
		}
		seen[k.Value] = k
		out = append(out, pair{key: k.Value, k: k, v: v})
	}
	for _, m := range merged {
		if _, ok := seen[m.key]; !ok {
			seen[m.key] = m.k
			out = append(out, m)
		}
	}
	return out
}

// mergeKey expands the value of a << key: a mapping or a list of them.
func (l *loader) mergeKey(v *yaml.Node, path string) []pair {
	v = l.deref(v)
	if v.Kind == yaml.SequenceNode {
		var out []pair
		for _, m := range v.Content {
			out = append(out, l.pairs(m, path)...)
		}
		return out
	}
	return l.pairs(v, path)
}

// object walks a mapping, reporting unknown keys (with a suggestion) and
// unsupported ones (with why), and calls fn for each known key. A nil known
// list accepts every key.
func (l *loader) object(n *yaml.Node, path string, known []string, unsupported map[string]string, fn func(p pair, path string)) {
	for _, p := range l.pairs(n, path) {
		fp := join(path, p.key)
		if why := harmless(path, p.key); why != "" {
			l.warnf(p.k, fp, "%s", why)
			continue
		}
		if why, ok := unsupported[p.key]; ok {
			if jsKeys[p.key] {
				l.jsUses++
			}
			l.errorf(p.k, fp, "%s", why)
			continue
		}
		if known != nil && !containsString(known, p.key) {
			l.errorf(p.k, fp, "unknown key; valid keys here: %s%s", strings.Join(known, ", "), l.didYouMean(path, p.key, known))
			continue
		}
		fn(p, fp)
	}
}

// didYouMean suggests a key and remembers it, see loader.typos.
func (l *loader) didYouMean(path, word string, known []string) string {
	s := suggest(word, known)
	if s == "" {
		return ""
	}
	if l.typos == nil {
		l.typos = map[string]bool{}
	}
	l.typos[join(path, s)] = true
	return "; did you mean " + s + "?"
}

// required reports a missing key unless a typo of it was already reported.
func (l *loader) required(n *yaml.Node, path, format string, args ...any) {
	if !l.typos[path] {
		l.errorf(n, path, format, args...)
	}
}

func containsString(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// describe says what a node is, for "got ..." in messages.
func describe(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		switch n.Tag {
		case "!!null":
			return "nothing"
		case "!!str":
			v := n.Value
			if len(v) > 60 {
				v = v[:57] + "..."
			}
			return strconv.Quote(v)
		}
		return n.Value
	}
	return "nothing"
}

// str reads a scalar as text; numbers and booleans give their text.
func (l *loader) str(n *yaml.Node, path string) (string, bool) {
	n = l.deref(n)
	if n.Kind != yaml.ScalarNode || n.Tag == "!!null" {
		l.errorf(n, path, "must be a string, got %s", describe(n))
		return "", false
	}
	return n.Value, true
}

// number reads a number; quoted numbers are accepted as Artillery (being
// JavaScript) accepts them.
func (l *loader) number(n *yaml.Node, path, want string) (float64, bool) {
	n = l.deref(n)
	if n.Kind == yaml.ScalarNode && n.Tag != "!!null" && n.Tag != "!!bool" {
		var f float64
		if err := n.Decode(&f); err == nil {
			if f == f && f-f == 0 { // finite
				return f, true
			}
		} else if f, err := strconv.ParseFloat(strings.TrimSpace(n.Value), 64); err == nil && f-f == 0 {
			return f, true
		}
	}
	l.errorf(n, path, "must be %s, got %s", want, describe(n))
	return 0, false
}

// positive reads a number > 0.
func (l *loader) positive(n *yaml.Node, path string) (float64, bool) {
	f, ok := l.number(n, path, "a positive number")
	if ok && f <= 0 {
		l.errorf(n, path, "must be a positive number, got %s", describe(l.deref(n)))
		return 0, false
	}
	return f, ok
}

// count reads a whole number >= lo.
func (l *loader) count(n *yaml.Node, path string, lo int) (int, bool) {
	want := "a whole number"
	switch lo {
	case 0:
		want = "a whole number >= 0"
	case 1:
		want = "a positive whole number"
	default:
		want = fmt.Sprintf("a whole number >= %d", lo)
	}
	f, ok := l.number(n, path, want)
	if !ok {
		return 0, false
	}
	if f != float64(int64(f)) || f < float64(lo) || f > 1e12 {
		l.errorf(n, path, "must be %s, got %s", want, describe(l.deref(n)))
		return 0, false
	}
	return int(f), true
}

func (l *loader) boolean(n *yaml.Node, path string) (bool, bool) {
	n = l.deref(n)
	var b bool
	if n.Kind == yaml.ScalarNode && n.Tag == "!!bool" && n.Decode(&b) == nil {
		return b, true
	}
	l.errorf(n, path, "must be true or false, got %s", describe(n))
	return false, false
}

// duration reads seconds as a number or a string: Artillery's forms
// ("10min", "0.5 min", "9 seconds", "2 hrs", "1d", see msDuration) and
// Go's ("90s", "1h30m", "500ms"); a bare number in a string counts as
// seconds.
func (l *loader) duration(n *yaml.Node, path string) (time.Duration, bool) {
	n = l.deref(n)
	const want = `must be a positive duration: seconds as a number or a string such as "90s", "10min", "0.5 min", "2 hrs", "1h30m", "500ms"`
	if n.Kind != yaml.ScalarNode || n.Tag == "!!null" || n.Tag == "!!bool" {
		l.errorf(n, path, "%s, got %s", want, describe(n))
		return 0, false
	}
	d, tooLong, ok := parseDuration(n.Value)
	switch {
	case tooLong:
		l.errorf(n, path, "must be at most %s (MaxDuration), got %s", formatLimitDuration(MaxDuration), describe(n))
		return 0, false
	case !ok:
		l.errorf(n, path, "%s, got %s", want, describe(n))
		return 0, false
	}
	return d, true
}

// ParseDuration reads a rendered duration as scripts write them (see
// duration): a positive length of at most MaxDuration, or false.
func ParseDuration(s string) (time.Duration, bool) {
	d, tooLong, ok := parseDuration(s)
	return d, ok && !tooLong
}

// parseDuration is duration's grammar; tooLong marks a length past
// MaxDuration.
func parseDuration(s string) (d time.Duration, tooLong, ok bool) {
	s = strings.TrimSpace(s)
	if f, err := strconv.ParseFloat(s, 64); err == nil {
		if f <= 0 || f != f {
			return 0, false, false
		}
		if f > MaxDuration.Seconds() {
			return 0, true, false
		}
		return time.Duration(f * float64(time.Second)), false, true
	}
	var perr error
	if secs, ok := msDuration(s); ok {
		if secs > MaxDuration.Seconds() {
			return 0, true, false
		}
		d = time.Duration(secs * float64(time.Second))
	} else {
		d, perr = time.ParseDuration(s)
	}
	if perr != nil && strings.Contains(perr.Error(), "invalid duration") && isDurationShaped(s) {
		// time.ParseDuration says "invalid" for an overflow too.
		return 0, true, false
	}
	if perr != nil || d <= 0 {
		return 0, false, false
	}
	if d > MaxDuration {
		return 0, true, false
	}
	return d, false, true
}

// msUnits are the units of Artillery's duration grammar (the ms package),
// in seconds; a year is 365.25 days there.
var msUnits = map[string]float64{
	"ms": 0.001, "msec": 0.001, "msecs": 0.001, "millisecond": 0.001, "milliseconds": 0.001,
	"s": 1, "sec": 1, "secs": 1, "second": 1, "seconds": 1,
	"m": 60, "min": 60, "mins": 60, "minute": 60, "minutes": 60,
	"h": 3600, "hr": 3600, "hrs": 3600, "hour": 3600, "hours": 3600,
	"d": 86400, "day": 86400, "days": 86400,
	"w": 7 * 86400, "week": 7 * 86400, "weeks": 7 * 86400,
	"y": 365.25 * 86400, "yr": 365.25 * 86400, "yrs": 365.25 * 86400, "year": 365.25 * 86400, "years": 365.25 * 86400,
}

// msDurationRE is the ms package's grammar: a number, optional spaces, a
// unit in any case. (Without a unit it means milliseconds there, but
// Artillery reads a bare whole number as seconds, so that form never
// reaches this.)
var msDurationRE = regexp.MustCompile(`^(-?\d*\.?\d+) *([a-zA-Z]+)$`)

// msDuration reads Artillery's duration strings, in seconds.
func msDuration(s string) (float64, bool) {
	m := msDurationRE.FindStringSubmatch(s)
	if m == nil {
		return 0, false
	}
	unit, ok := msUnits[strings.ToLower(m[2])]
	if !ok {
		return 0, false
	}
	f, err := strconv.ParseFloat(m[1], 64)
	if err != nil {
		return 0, false
	}
	return f * unit, true
}

// isDurationShaped reports whether s is digits, dots and unit letters, as
// a Go duration too large for time.Duration is.
func isDurationShaped(s string) bool {
	return s != "" && strings.Trim(s, "0123456789.hmsuµn") == "" && s[0] >= '0' && s[0] <= '9'
}

// formatLimitDuration writes a limit in hours and days: 8760h (365 days).
func formatLimitDuration(d time.Duration) string {
	h := int64(d / time.Hour)
	return fmt.Sprintf("%dh (%d days)", h, h/24)
}

// list returns a sequence's items; a single item counts as a list of one
// when one is true (Artillery allows "capture:" and "payload:" either way).
func (l *loader) list(n *yaml.Node, path string, one bool) []*yaml.Node {
	n = l.deref(n)
	switch {
	case n.Kind == yaml.SequenceNode:
		return n.Content
	case one && n.Kind != yaml.ScalarNode:
		return []*yaml.Node{n}
	}
	l.errorf(n, path, "must be a list, got %s", describe(n))
	return nil
}

// value converts a node into plain Go values; with ordered set, mappings
// become Pairs so JSON bodies keep the key order written.
func (l *loader) value(n *yaml.Node, ordered bool, depth int) any {
	n = l.deref(n)
	if l.overErr != nil {
		return nil
	}
	if depth > MaxNesting {
		l.errorf(n, "", "nested more than %d levels deep (MaxNesting)", MaxNesting)
		return nil
	}
	switch n.Kind {
	case yaml.MappingNode:
		ps := l.pairs(n, "")
		if ordered {
			out := make(Pairs, 0, len(ps))
			for _, p := range ps {
				out = append(out, KeyValue{p.key, l.value(p.v, true, depth+1)})
			}
			return out
		}
		out := make(map[string]any, len(ps))
		for _, p := range ps {
			out[p.key] = l.value(p.v, false, depth+1)
		}
		return out
	case yaml.SequenceNode:
		out := make([]any, 0, len(n.Content))
		for _, c := range n.Content {
			out = append(out, l.value(c, ordered, depth+1))
		}
		return out
	case yaml.ScalarNode:
		var v any
		if n.Decode(&v) != nil {
			return n.Value
		}
		switch x := v.(type) {
		case float64, int, bool, string, nil:
			return x
		case int64:
			return int(x)
		case uint64:
			return float64(x)
		default:
			return n.Value // timestamps and binary stay as written
		}
	}
	return nil
}

// templateUse is a template with where it was written, for late ref checks.
type templateUse struct {
	t    *Template
	n    *yaml.Node
	path string
}

// template compiles a scalar as a template and checks its names against sc
// (nil skips the check). It returns nil after reporting a problem.
func (l *loader) template(n *yaml.Node, path string, sc *scope) *Template {
	n = l.deref(n)
	s, ok := l.str(n, path)
	if !ok || !l.chargeTemplate(n, s) {
		return nil
	}
	t, err := Compile(s)
	if err != nil {
		var te *TemplateError
		off := 0
		if errors.As(err, &te) {
			off = te.Offset
		}
		l.errs = append(l.errs, &Error{Pos: l.posAt(n, off), Field: path, Message: err.Error()})
		return nil
	}
	if sc != nil {
		// Config templates (sc == nil) are checked once the environment
		// is merged, see script.
		l.checkRefs(t, n, path, sc)
		l.checkEnv(t, n, path)
	}
	return t
}

// checkEnv reports each environment variable t reads, with no default,
// that is not set: it would be sent as "" (a token becoming "Bearer ",
// every request a 401), so it is refused before any load. Without
// LoadOptions.Env the environment is not known and nothing is checked.
func (l *loader) checkEnv(t *Template, n *yaml.Node, path string) {
	if t == nil || l.opts.Env == nil {
		return
	}
	for _, r := range t.unsetEnv(l.opts.Env) {
		l.errs = append(l.errs, &Error{Pos: l.posAt(n, r.off), Field: path, Message: fmt.Sprintf(
			"environment variable %s is not set: export it, or give a default: {{ $env.%s | default(\"...\") }}", r.name, r.name)})
	}
}

// posAt points inside a one-line scalar, so an error lands on its {{.
func (l *loader) posAt(n *yaml.Node, off int) Pos {
	p := l.pos(n)
	if strings.ContainsAny(n.Value, "\n\\'") {
		return p
	}
	switch n.Style {
	case 0:
		p.Column += off
	case yaml.SingleQuotedStyle, yaml.DoubleQuotedStyle:
		p.Column += off + 1
	}
	return p
}

// checkRefs reports every name t reads that sc does not define.
func (l *loader) checkRefs(t *Template, n *yaml.Node, path string, sc *scope) {
	if t == nil {
		return
	}
	if off, ok := t.loopOffset(); ok && !sc.loopValues() {
		l.errs = append(l.errs, &Error{Pos: l.posAt(n, off), Field: path,
			Message: "$loopCount and $loopElement only have a value inside a loop's steps, or after a loop"})
	}
	for _, name := range t.Refs() {
		if sc.has(name) {
			continue
		}
		l.errs = append(l.errs, &Error{
			Pos:   l.posAt(n, t.refOffset(name)),
			Field: path,
			Message: fmt.Sprintf("{{ %s }}: %s is not defined by config.variables, payload fields, "+
				"an earlier capture's \"as\" or --var%s", name, name, didYouMean(name, sc.names())),
		})
	}
}

// scope is the set of variable names defined at a point of a flow.
type scope struct {
	set   map[string]bool
	loops int // how many loops enclose this point, for $loopCount and $loopElement
	// afterLoop: a loop ran before this point, and its $loopCount and
	// $loopElement keep their last values, as in Artillery.
	afterLoop bool
}

// loopValues reports whether $loopCount and $loopElement have a value here.
func (s *scope) loopValues() bool { return s.loops > 0 || s.afterLoop }

func newScope() *scope { return &scope{set: map[string]bool{}} }

func (s *scope) define(name string)   { s.set[name] = true }
func (s *scope) has(name string) bool { return s.set[name] }
func (s *scope) clone() *scope {
	c := newScope()
	c.loops = s.loops
	c.afterLoop = s.afterLoop
	for k := range s.set {
		c.set[k] = true
	}
	return c
}

func (s *scope) names() []string {
	out := make([]string, 0, len(s.set))
	for k := range s.set {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// name reads a variable name that templates can read back.
func (l *loader) name(n *yaml.Node, path string) string {
	s, ok := l.str(n, path)
	if ok && !validName(s) {
		l.errorf(l.deref(n), path, "names are letters, digits, _ and -, got %q", s)
	}
	return s
}

// validName reports whether name can be read back in a template.
func validName(name string) bool {
	if name == "" || name[0] == '$' {
		return false
	}
	for i := 0; i < len(name); i++ {
		if !isIdentByte(name[i]) {
			return false
		}
	}
	return true
}
