package scenario

import (
	"math/rand/v2"
)

// This file is the per-user runtime of templates: the Context a virtual
// user renders with, and the render paths, which allocate nothing beyond
// the result.

// Context is what templates see while one virtual user renders a request.
// One Context belongs to one virtual user and is not shared.
type Context struct {
	Vars        map[string]any              // captured, declared, payload and before-flow variables
	Env         func(string) (string, bool) // $processEnvironment.NAME and $env.NAME
	Target      string                      // {{ target }}
	Environment string                      // {{ $environment }}
	LoopCount   int                         // {{ $loopCount }}, from 0
	LoopElement any                         // {{ $loopElement }}
	UUID        string                      // {{ $uuid }}: fresh per virtual user
	// UUIDSeed, when UUID is "", is the user's $uuid as random bits,
	// formatted on first use: most scripts never use $uuid, and making
	// its text for every arrival costs an allocation each.
	UUIDSeed [2]uint64
	Rand     *rand.Rand // $randomString, $randomNumber
}

// AppendTo renders into dst and returns the extended slice.
func (t *Template) AppendTo(dst []byte, c *Context) []byte {
	return t.appendParts(dst, c, false)
}

// appendParts renders the template, JSON-string-escaping everything when esc
// is set so a template can be written inside a JSON string without a copy.
func (t *Template) appendParts(dst []byte, c *Context, esc bool) []byte {
	for i := range t.parts {
		p := &t.parts[i]
		if p.expr == nil {
			dst = appendText(dst, p.lit, esc)
			continue
		}
		dst = p.expr.appendTo(dst, c, esc)
	}
	return dst
}

// Render renders to a string.
func (t *Template) Render(c *Context) string {
	if s, ok := t.Static(); ok {
		return s
	}
	// The stack buffer keeps short renders down to the one string allocation.
	var buf [256]byte
	return string(t.AppendTo(buf[:0], c))
}

// Value renders keeping the value's type when the whole template is one
// expression ("{{ goodsId }}" gives the captured number), else a string.
func (t *Template) Value(c *Context) any {
	if len(t.parts) == 1 && t.parts[0].expr != nil {
		return t.parts[0].expr.value(c)
	}
	return t.Render(c)
}

// value evaluates e keeping its type; a missing variable is nil.
func (e *expr) value(c *Context) any {
	if e.fn == nil {
		v, _ := lookup(c.Vars[e.name], e.path)
		return v
	}
	if v, ok := e.fn.value(e, c); ok {
		return v
	}
	return string(e.appendTo(nil, c, false))
}

func (e *expr) appendTo(dst []byte, c *Context, esc bool) []byte {
	if e.fn == nil {
		root, ok := c.Vars[e.name]
		v, found := lookup(root, e.path)
		return appendVar(dst, v, ok && found, esc)
	}
	return e.fn.appendTo(dst, e, c, esc)
}

// appendVar writes a variable's value into text as Artillery does, being
// JavaScript: a missing variable or field (undefined, as a non-strict
// capture miss leaves it) as "undefined", a JSON null as "null".
func appendVar(dst []byte, v any, found, esc bool) []byte {
	switch {
	case !found:
		return append(dst, "undefined"...)
	case v == nil:
		return append(dst, "null"...)
	}
	return appendAny(dst, v, esc)
}

// Defined reports whether the template has a value: false only when it is
// one expression reading a variable or field that is not there, which
// Artillery renders as undefined, so a header, query field or JSON member
// of that value is left out of the request.
func (t *Template) Defined(c *Context) bool {
	e := t.single()
	return e == nil || e.defined(c)
}

// defined reports whether e has a value; only variables and $loopElement
// fields can miss.
func (e *expr) defined(c *Context) bool {
	switch {
	case e.fn == nil:
		root, ok := c.Vars[e.name]
		_, found := lookup(root, e.path)
		return ok && found
	case e.fn.op == opLoopElement:
		_, found := lookup(c.LoopElement, e.path)
		return found
	}
	return true
}

// appendJSONExpr writes one expression's value as a JSON value of its type.
func appendJSONExpr(dst []byte, e *expr, c *Context) []byte {
	form := jsonTyped
	if e.fn != nil {
		form = e.fn.json
	}
	switch form {
	case jsonNumber:
		return e.appendTo(dst, c, false)
	case jsonTyped:
		return appendJSONAny(dst, e.value(c))
	}
	dst = append(dst, '"')
	dst = e.appendTo(dst, c, true)
	return append(dst, '"')
}

// lookup walks path into v; ok is false when a step is missing, and true
// for a JSON null that is there.
func lookup(v any, path []segment) (any, bool) {
	for _, s := range path {
		switch x := v.(type) {
		case map[string]any:
			var ok bool
			if v, ok = x[s.key]; !ok {
				return nil, false
			}
		case []any:
			if s.index < 0 || s.index >= len(x) {
				return nil, false
			}
			v = x[s.index]
		case Pairs:
			v = nil
			found := false
			for _, kv := range x {
				if kv.Key == s.key {
					v, found = kv.Value, true
					break
				}
			}
			if !found {
				return nil, false
			}
		default:
			return nil, false
		}
	}
	return v, true
}
