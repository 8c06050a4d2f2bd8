package scenario

import "go.yaml.in/yaml/v3"

// matchAs stands in for the name a capture would store, so a match entry
// reads as a capture without one.
const matchAs = "match"

// match reads one match entry: {json | header | regexp | ...: expr, value,
// strict}. It is read as a capture (same kinds, same expressions), with
// value and strict taken out first.
func (l *loader) match(n *yaml.Node, path string, sc *scope) (Match, bool) {
	n = l.deref(n)
	m := Match{Strict: true, Pos: l.pos(n)}
	if n.Kind != yaml.MappingNode {
		l.errorf(n, path, "a match is a mapping such as {json: \"$.id\", value: \"{{ id }}\"}, got %s", describe(n))
		return m, false
	}
	before := len(l.errs)
	spec := &yaml.Node{Kind: yaml.MappingNode, Line: n.Line, Column: n.Column}
	var valueN *yaml.Node
	for _, p := range l.pairs(n, path) {
		switch p.key {
		case "value":
			valueN = l.deref(p.v)
		case "strict":
			m.Strict, _ = l.boolean(p.v, join(path, p.key))
		case "as":
			l.errorf(p.k, join(path, p.key), "a match checks a value and stores nothing; use capture to store it")
		default:
			spec.Content = append(spec.Content, p.k, p.v)
		}
	}
	if valueN == nil {
		l.required(n, join(path, "value"), "is required: the value the expression must give")
		return m, false
	}
	spec.Content = append(spec.Content, &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: "as"},
		&yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: matchAs})
	c, ok := l.capture(spec, path, sc)
	m.Capture = c
	m.Value = l.template(valueN, join(path, "value"), sc)
	switch valueN.Tag {
	case "!!int", "!!float":
		m.ValueKind = "number"
	case "!!bool":
		m.ValueKind = "bool"
	}
	return m, ok && len(l.errs) == before
}
