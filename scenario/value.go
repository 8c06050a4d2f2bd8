package scenario

import (
	"encoding/json"
	"fmt"
	"math"
	"sort"
)

// This file is the compiled JSON body: a tree whose strings are templates.

type valueKind int

const (
	valueStatic   valueKind = iota // a literal with its JSON precomputed
	valueTemplate                  // a string with {{ }}
	valueObject
	valueArray
)

// Value is a compiled JSON body: maps, lists and scalars whose strings are templates.
type Value struct {
	kind  valueKind
	lit   any    // valueStatic: the plain value
	json  []byte // valueStatic: its JSON
	tmpl  *Template
	keys  []string // valueObject, in the order written
	items []*Value // valueObject values or valueArray elements
}

// CompileValue compiles a decoded YAML value. Objects given as Pairs keep
// their key order; a map[string]any is written with sorted keys.
func CompileValue(v any) (*Value, error) {
	switch x := v.(type) {
	case string:
		t, err := Compile(x)
		if err != nil {
			return nil, err
		}
		if s, ok := t.Static(); ok {
			return staticValue(s)
		}
		return &Value{kind: valueTemplate, tmpl: t}, nil
	case nil, bool, int, int64, uint64, float64, json.Number:
		return staticValue(x)
	case []any:
		out := &Value{kind: valueArray, items: make([]*Value, 0, len(x))}
		for i, e := range x {
			c, err := CompileValue(e)
			if err != nil {
				return nil, fmt.Errorf("[%d]: %w", i, err)
			}
			out.items = append(out.items, c)
		}
		return out, nil
	case Pairs:
		out := &Value{kind: valueObject}
		for _, kv := range x {
			c, err := CompileValue(kv.Value)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", kv.Key, err)
			}
			out.keys = append(out.keys, kv.Key)
			out.items = append(out.items, c)
		}
		return out, nil
	case map[string]any:
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		p := make(Pairs, 0, len(keys))
		for _, k := range keys {
			p = append(p, KeyValue{k, x[k]})
		}
		return CompileValue(p)
	default:
		return nil, fmt.Errorf("%T cannot be sent as JSON", v)
	}
}

func staticValue(v any) (*Value, error) {
	if f, ok := v.(float64); ok && (math.IsNaN(f) || math.IsInf(f, 0)) {
		return nil, fmt.Errorf("%v is not a JSON number", f)
	}
	b, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	return &Value{kind: valueStatic, lit: v, json: b}, nil
}

// Refs returns the root variable names every template in the tree reads.
func (v *Value) Refs() []string {
	var refs []string
	v.walk(func(t *Template) {
		for _, r := range t.refs {
			if !containsString(refs, r) {
				refs = append(refs, r)
			}
		}
	})
	return refs
}

// Templates calls fn for each template in the tree, in document order.
func (v *Value) Templates(fn func(*Template)) { v.walk(fn) }

func (v *Value) walk(fn func(*Template)) {
	switch v.kind {
	case valueTemplate:
		fn(v.tmpl)
	case valueObject, valueArray:
		for _, it := range v.items {
			it.walk(fn)
		}
	}
}

// Resolve renders the tree into plain Go values (map[string]any, []any,
// strings, numbers, bools, nil).
func (v *Value) Resolve(c *Context) any {
	switch v.kind {
	case valueStatic:
		return v.lit
	case valueTemplate:
		return v.tmpl.Value(c)
	case valueObject:
		m := make(map[string]any, len(v.keys))
		for i, k := range v.keys {
			if v.items[i].Defined(c) {
				m[k] = v.items[i].Resolve(c)
			}
		}
		return m
	default:
		out := make([]any, len(v.items))
		for i, it := range v.items {
			out[i] = it.Resolve(c)
		}
		return out
	}
}

// AppendJSON renders the tree as JSON into dst, objects in the key order
// written. A string that is one expression keeps the value's JSON type.
func (v *Value) AppendJSON(dst []byte, c *Context) []byte {
	switch v.kind {
	case valueStatic:
		return append(dst, v.json...)
	case valueTemplate:
		if e := v.tmpl.single(); e != nil {
			return appendJSONExpr(dst, e, c)
		}
		dst = append(dst, '"')
		dst = v.tmpl.appendParts(dst, c, true)
		return append(dst, '"')
	case valueObject:
		dst = append(dst, '{')
		first := true
		for i, k := range v.keys {
			if !v.items[i].Defined(c) {
				// JSON.stringify leaves out a member whose value is undefined.
				continue
			}
			if !first {
				dst = append(dst, ',')
			}
			first = false
			dst = append(dst, '"')
			dst = appendJSONEscaped(dst, k)
			dst = append(dst, '"', ':')
			dst = v.items[i].AppendJSON(dst, c)
		}
		return append(dst, '}')
	default:
		dst = append(dst, '[')
		for i, it := range v.items {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = it.AppendJSON(dst, c)
		}
		return append(dst, ']')
	}
}

// Defined reports whether the value is there: false only for a template
// that is one expression whose variable is missing (see Template.Defined).
// In a list it is written as null, as JSON.stringify does.
func (v *Value) Defined(c *Context) bool {
	return v.kind != valueTemplate || v.tmpl.Defined(c)
}

// MarshalJSON writes the tree as written, templates as their source text.
func (v *Value) MarshalJSON() ([]byte, error) {
	switch v.kind {
	case valueStatic:
		return v.json, nil
	case valueTemplate:
		return json.Marshal(v.tmpl.raw)
	case valueObject:
		p := make(Pairs, len(v.keys))
		for i, k := range v.keys {
			p[i] = KeyValue{k, v.items[i]}
		}
		return p.MarshalJSON()
	default:
		return json.Marshal(v.items)
	}
}
