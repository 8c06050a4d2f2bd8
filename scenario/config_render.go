package scenario

import (
	"strings"

	"go.yaml.in/yaml/v3"
)

// configRendered are the config keys, under config or an environment,
// whose values Artillery renders once before the run (its
// resolveConfigTemplates) and primeload reads as plain values: a phase's
// "{{ $env.RATE }}", a templated target, timeout or payload path. They are
// rendered in place before config is read, so each is validated as what
// it became, at its own position. http.defaults, variables and flows keep
// their templates for each request; ensure renders its own (ensureLimit).
var configRendered = map[string]bool{"target": true, "phases": true, "http": true, "timeout": true, "payload": true, "tls": true}

// renderConfigValues renders the templated scalars of configRendered
// under a config mapping and under each of its environments. In an
// environment -e did not choose, a value that cannot be rendered (an
// environment variable only that environment's runs set, as Artillery's
// script-overrides example has) is quietly left unchecked: Artillery
// never reads it, and the loader does not check it either.
func (l *loader) renderConfigValues(n *yaml.Node, path string, quiet bool) {
	for _, p := range l.quietPairs(n) {
		fp := join(path, p.key)
		switch {
		case p.key == "environments":
			for _, ep := range l.quietPairs(p.v) {
				l.renderConfigValues(ep.v, join(fp, ep.key), quiet || ep.key != l.opts.Environment)
			}
		case p.key == "http":
			for _, hp := range l.quietPairs(p.v) {
				if hp.key != "defaults" {
					l.renderScalars(hp.v, join(fp, hp.key), 0, quiet)
				}
			}
		case configRendered[p.key]:
			l.renderScalars(p.v, fp, 0, quiet)
		}
	}
}

// renderScalars renders each templated scalar under n once; quiet marks
// one that cannot be rendered unresolved without reporting it.
func (l *loader) renderScalars(n *yaml.Node, path string, depth int, quiet bool) {
	n = l.deref(n)
	if depth > MaxNesting {
		return
	}
	switch n.Kind {
	case yaml.SequenceNode:
		for i, c := range n.Content {
			l.renderScalars(c, index(path, i), depth+1, quiet)
		}
	case yaml.MappingNode:
		for _, p := range l.quietPairs(n) {
			l.renderScalars(p.v, join(path, p.key), depth+1, quiet)
			if l.unresolved[l.deref(p.v)] {
				// Checks that point at the key say the same again.
				l.unresolved[p.k] = true
			}
		}
	case yaml.ScalarNode:
		if _, done := l.rendered[n]; done || l.unresolved[n] || !strings.Contains(n.Value, "{{") {
			return
		}
		raw := n.Value
		r := l.renderConfig(raw)
		if strings.Contains(r, "{{") {
			if quiet {
				l.unresolved[n] = true
				return
			}
			l.errorf(n, path, "%s is not set: config values can use --var names, $environment, $env.NAME and $processEnvironment.NAME", strings.TrimSpace(raw))
			// Reported once here, not again by the key's own check.
			l.unresolved[n] = true
			return
		}
		if l.rendered == nil {
			l.rendered = map[*yaml.Node]string{}
		}
		l.rendered[n] = raw
		n.Value, n.Tag = r, plainTag(r)
	}
}

// plainTag is the tag YAML gives text written unquoted, so a rendered
// "5" reads as a number and "false" as a boolean.
func plainTag(s string) string {
	var doc yaml.Node
	if yaml.Unmarshal([]byte(s), &doc) != nil || len(doc.Content) != 1 || doc.Content[0].Kind != yaml.ScalarNode {
		return "!!str"
	}
	return doc.Content[0].Tag
}
