package scenario

import (
	"bytes"
	"errors"
	"io"
	"path/filepath"

	"go.yaml.in/yaml/v3"
)

// Merge says how a Layer combines with the script beneath it. The three
// are Artillery's three, so a split script means here what it meant there.
type Merge int

const (
	// MergeDeep merges mappings key by key and sequences index by index, the
	// layer winning on scalars: lodash's _.merge, which Artillery applies to
	// `run --config FILE` (the config file laid over the script).
	MergeDeep Merge = iota
	// MergeReplaceLists is MergeDeep except that a sequence in the layer
	// replaces the script's whole: Artillery's --overrides.
	MergeReplaceLists
	// MergeVariables sets each key of the layer in config.variables, whole:
	// Artillery's --variables.
	MergeVariables
)

// Layer is YAML (or JSON) laid over the script before it is read. Nodes a
// layer brings keep their own position, so an error in a shared config
// file names that file and line, not the script's.
type Layer struct {
	Name  string // a file name, or the flag that gave the text ("--overrides")
	Data  []byte
	Merge Merge
}

// applyLayers lays opts.Layers, then -p and --solo, over the script's root
// mapping, in Artillery's order. It reports false when a layer is unusable.
func (l *loader) applyLayers(root *yaml.Node) bool {
	ok := true
	for _, ly := range l.opts.Layers {
		sub := &loader{file: ly.Name, dir: l.dir, opts: l.opts}
		top := sub.decode(ly.Data, "empty: want a mapping")
		l.errs = append(l.errs, sub.errs...)
		if top == nil {
			ok = false
			continue
		}
		l.markOrigin(top, ly.Name)
		if top.Kind != yaml.MappingNode {
			l.errs = append(l.errs, &Error{Pos: l.pos(top), Field: ly.Name, Message: "want a mapping (a JSON object), e.g. {\"config\": {\"target\": \"http://127.0.0.1:8080\"}}"})
			ok = false
			continue
		}
		env := l.chosenEnvironment(root)
		if ly.Merge == MergeVariables {
			vars := childMapping(childMapping(root, "config"), "variables")
			for i := 0; i+1 < len(top.Content); i += 2 {
				setKey(vars, top.Content[i], top.Content[i+1])
				if env != nil {
					v := l.copyTree(top.Content[i+1])
					l.markOrigin(v, ly.Name)
					setKey(childMapping(env, "variables"), top.Content[i], v)
				}
			}
			continue
		}
		mergeNodes(root, top, ly.Merge == MergeReplaceLists)
		if cfg := mappingValue(top, "config"); env != nil && ly.Merge == MergeReplaceLists && cfg != nil {
			// Artillery merges -e's environment first and then --overrides
			// (and --variables, above), so these win over the environment's
			// own keys: lay the config part over the environment too.
			over := withoutKey(l.copyTree(cfg), "environments")
			l.markOrigin(over, ly.Name)
			mergeNodes(env, over, true)
		}
	}
	if l.opts.Payload != "" {
		l.layPayload(root)
	}
	if l.opts.Solo {
		// Artillery's --solo: one virtual user, whatever the phases say.
		one := &yaml.Node{Kind: yaml.SequenceNode, Content: []*yaml.Node{{Kind: yaml.MappingNode, Content: []*yaml.Node{
			scalar("duration"), scalar("1"), scalar("arrivalCount"), scalar("1"),
		}}}}
		l.markOrigin(one, "--solo")
		setKey(childMapping(root, "config"), scalar("phases"), one)
	}
	return ok
}

// chosenEnvironment is the mapping of config.environments named by -e,
// or nil.
func (l *loader) chosenEnvironment(root *yaml.Node) *yaml.Node {
	if l.opts.Environment == "" {
		return nil
	}
	cfg := mappingValue(root, "config")
	if cfg == nil {
		return nil
	}
	envs := mappingValue(cfg, "environments")
	if envs == nil {
		return nil
	}
	if env := mappingValue(envs, l.opts.Environment); env != nil && resolveAlias(env).Kind == yaml.MappingNode {
		return resolveAlias(env)
	}
	return nil
}

// copyTree is a deep copy of n, aliases resolved, so one layer laid in
// two places shares no node. Each node copied counts against
// MaxYAMLNodes (deref), as resolving aliases multiplies them: a
// billion-laughs layer stops at the budget instead of filling memory.
func (l *loader) copyTree(n *yaml.Node) *yaml.Node {
	n = l.deref(n)
	c := *n
	c.Content = make([]*yaml.Node, len(n.Content))
	for i, k := range n.Content {
		c.Content[i] = l.copyTree(k)
	}
	return &c
}

// withoutKey removes key from the mapping m and returns m.
func withoutKey(m *yaml.Node, key string) *yaml.Node {
	if m.Kind != yaml.MappingNode {
		return m
	}
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			m.Content = append(m.Content[:i:i], m.Content[i+2:]...)
			break
		}
	}
	return m
}

// layPayload gives -p FILE to config.payload as Artillery does: a single
// payload mapping takes it as its path (over any path it had); a list of
// payloads, or none, ignores it, which is said in a note. Artillery merges
// -e's environment first, so the chosen environment's payload, when it
// has one, is the one that takes it.
func (l *loader) layPayload(root *yaml.Node) {
	cfg := mappingValue(root, "config")
	var p *yaml.Node
	if env := l.chosenEnvironment(root); env != nil && mappingValue(env, "payload") != nil {
		p = resolveAlias(mappingValue(env, "payload"))
	} else if cfg != nil {
		p = mappingValue(cfg, "payload")
	}
	if p == nil || p.Kind != yaml.MappingNode {
		n := root
		if p != nil {
			n = p
		}
		l.warnf(n, "--payload", "ignored: it fills a single config.payload mapping, and this script has none")
		return
	}
	abs, err := filepath.Abs(l.opts.Payload)
	if err != nil {
		abs = l.opts.Payload
	}
	// The user named this file on the command line: it may be anywhere.
	l.trustedPayload = abs
	v := scalar(abs)
	l.markOrigin(v, "--payload")
	setKey(p, scalar("path"), v)
}

// decode reads one YAML document and returns its top node, or nil with the
// problem recorded; empty says what an empty document should have been.
func (l *loader) decode(data []byte, empty string) *yaml.Node {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil && !errors.Is(err, io.EOF) {
		l.yamlError(err, data)
		return nil
	}
	if !l.oneDocument(dec, data) {
		return nil
	}
	if doc.Kind != yaml.DocumentNode || len(doc.Content) == 0 {
		l.errs = append(l.errs, &Error{Pos: Pos{File: l.file, Line: 1, Column: 1}, Message: empty})
		return nil
	}
	return doc.Content[0]
}

// markOrigin records that n and everything under it came from file.
func (l *loader) markOrigin(n *yaml.Node, file string) {
	if l.origin == nil {
		l.origin = map[*yaml.Node]string{}
	}
	var walk func(*yaml.Node)
	walk = func(n *yaml.Node) {
		if n == nil || l.origin[n] != "" {
			return
		}
		l.origin[n] = file
		for _, c := range n.Content {
			walk(c)
		}
		walk(n.Alias)
	}
	walk(n)
}

// mergeNodes lays src over dst in place (dst is a mapping or sequence of
// the same kind; anything else is replaced by the caller).
func mergeNodes(dst, src *yaml.Node, replaceLists bool) {
	dst, src = resolveAlias(dst), resolveAlias(src)
	switch {
	case dst.Kind == yaml.MappingNode && src.Kind == yaml.MappingNode:
		for i := 0; i+1 < len(src.Content); i += 2 {
			k, v := src.Content[i], src.Content[i+1]
			if old := mappingValue(dst, k.Value); old != nil && mergeable(old, v, replaceLists) {
				mergeNodes(old, v, replaceLists)
				continue
			}
			setKey(dst, k, v)
		}
	case dst.Kind == yaml.SequenceNode && src.Kind == yaml.SequenceNode:
		for i, v := range src.Content {
			if i < len(dst.Content) && mergeable(dst.Content[i], v, replaceLists) {
				mergeNodes(dst.Content[i], v, replaceLists)
				continue
			}
			if i < len(dst.Content) {
				dst.Content[i] = v
			} else {
				dst.Content = append(dst.Content, v)
			}
		}
	}
}

// mergeable: both mappings, or both sequences when lists merge by index.
func mergeable(a, b *yaml.Node, replaceLists bool) bool {
	a, b = resolveAlias(a), resolveAlias(b)
	if a.Kind == yaml.MappingNode && b.Kind == yaml.MappingNode {
		return true
	}
	return !replaceLists && a.Kind == yaml.SequenceNode && b.Kind == yaml.SequenceNode
}

func resolveAlias(n *yaml.Node) *yaml.Node {
	for n.Kind == yaml.AliasNode && n.Alias != nil {
		n = n.Alias
	}
	return n
}

// mappingValue is the value of key in mapping m, or nil.
func mappingValue(m *yaml.Node, key string) *yaml.Node {
	m = resolveAlias(m)
	if m.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			return m.Content[i+1]
		}
	}
	return nil
}

// setKey sets key k of mapping m to v, replacing a value already there.
func setKey(m, k, v *yaml.Node) {
	m = resolveAlias(m)
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == k.Value {
			m.Content[i+1] = v
			return
		}
	}
	m.Content = append(m.Content, k, v)
}

// childMapping is m's mapping under key, made (or made a mapping) if need be.
func childMapping(m *yaml.Node, key string) *yaml.Node {
	if c := mappingValue(m, key); c != nil && resolveAlias(c).Kind == yaml.MappingNode {
		return resolveAlias(c)
	}
	c := &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map", Line: m.Line, Column: m.Column}
	setKey(m, scalar(key), c)
	return c
}

func scalar(v string) *yaml.Node {
	return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: v}
}
