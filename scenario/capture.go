package scenario

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"github.com/andybalholm/cascadia"
	"github.com/antchfx/xpath"
	"go.yaml.in/yaml/v3"
)

// This file reads capture entries and compiles their expressions, at load
// time or, for a templated expression, per response (Resolve).

var (
	captureKinds = []string{"json", "header", "regexp", "xpath", "selector"}
	captureKeys  = append(append([]string{}, captureKinds...), "as", "strict", "group", "flags", "index", "attr")
	// captureOnly names the keys that go with one kind only.
	captureOnly = map[string]CaptureKind{
		"group": CaptureRegexp, "flags": CaptureRegexp,
		"index": CaptureSelector, "attr": CaptureSelector,
	}
	captureUnsupported = map[string]string{
		"transform": "transform calls JavaScript, which primeload does not support",
	}
)

// captureKindOf maps a capture key to its kind.
var captureKindOf = map[string]CaptureKind{
	"json": CaptureJSON, "header": CaptureHeader, "regexp": CaptureRegexp,
	"xpath": CaptureXPath, "selector": CaptureSelector,
}

// String is the capture key of the kind.
func (k CaptureKind) String() string {
	for name, kind := range captureKindOf {
		if kind == k {
			return name
		}
	}
	return "capture"
}

// capture reads one capture entry; sc is the scope its templated
// expression may read.
func (l *loader) capture(n *yaml.Node, path string, sc *scope) (Capture, bool) {
	n = l.deref(n)
	c := Capture{Strict: !l.lenientCaptures, Pos: l.pos(n)}
	before := len(l.errs)
	var kinds []string
	var exprN *yaml.Node
	var exprPath string
	only := map[string]*yaml.Node{}
	l.object(n, path, captureKeys, captureUnsupported, func(p pair, fp string) {
		if kind, ok := captureKindOf[p.key]; ok {
			kinds = append(kinds, p.key)
			c.Kind = kind
			exprN, exprPath = l.deref(p.v), fp
			c.Expr, _ = l.str(p.v, fp)
			return
		}
		if _, ok := captureOnly[p.key]; ok {
			only[p.key] = l.deref(p.v)
		}
		switch p.key {
		case "as":
			c.As = l.name(p.v, fp)
		case "strict":
			c.Strict, _ = l.boolean(p.v, fp)
		case "group":
			c.Group, _ = l.str(p.v, fp)
		case "flags":
			c.Flags, _ = l.str(p.v, fp)
		case "index":
			c.Index, _ = l.str(p.v, fp)
			if _, err := strconv.Atoi(c.Index); err != nil && c.Index != "random" && c.Index != "last" {
				l.errorf(l.deref(p.v), fp, "must be random, last or a whole number, got %s", describe(l.deref(p.v)))
			}
		case "attr":
			c.Attr, _ = l.str(p.v, fp)
		}
	})
	if n.Kind != yaml.MappingNode {
		return c, false
	}
	switch {
	case len(kinds) == 0 && len(l.errs) == before:
		l.errorf(n, path, "a capture needs one of %s", strings.Join(captureKinds, ", "))
	case len(kinds) > 1:
		l.errorf(n, path, "a capture reads from one place; this one has %s", strings.Join(kinds, " and "))
	}
	if c.As == "" && len(l.errs) == before {
		l.errorf(n, join(path, "as"), "is required: the variable name the captured value is stored in")
	}
	if len(l.errs) != before {
		return c, false
	}
	for _, key := range []string{"group", "flags", "index", "attr"} {
		if kn := only[key]; kn != nil && captureOnly[key] != c.Kind {
			l.errorf(kn, join(path, key), "only goes with %s", captureOnly[key])
		}
	}
	if strings.Contains(c.Expr, "{{") {
		// Checked for what it reads now, compiled per response.
		if l.chargeTemplate(exprN, c.Expr) {
			c.Tmpl = l.template(exprN, exprPath, sc)
		}
	} else if err := c.compile(c.Expr); err != nil {
		l.errorf(exprN, exprPath, "%v", err)
	}
	if kn := only["group"]; kn != nil && c.Regexp != nil && len(l.errs) == before {
		if g, err := strconv.Atoi(c.Group); err == nil {
			if g < 0 || g > c.Regexp.NumSubexp() {
				l.errorf(kn, join(path, "group"), "the regexp has %d groups, got group %d", c.Regexp.NumSubexp(), g)
			}
		} else if c.Regexp.SubexpIndex(c.Group) < 0 {
			l.errorf(kn, join(path, "group"), "the regexp has no group named %q", c.Group)
		}
	}
	return c, len(l.errs) == before
}

// Resolve returns the capture with its expression compiled: c itself, or
// for a templated expression a copy compiled from its rendering in tc.
func (c *Capture) Resolve(tc *Context) (*Capture, error) {
	if c.Tmpl == nil {
		return c, nil
	}
	r := *c
	r.Expr = c.Tmpl.Render(tc)
	if err := r.compile(r.Expr); err != nil {
		return nil, err
	}
	return &r, nil
}

// compile fills the compiled field of c's kind from expr.
func (c *Capture) compile(expr string) error {
	var err error
	switch c.Kind {
	case CaptureJSON:
		c.JSON, err = CompileJSONPath(expr)
	case CaptureRegexp:
		c.Regexp, err = compileJSRegexp(expr, c.Flags)
	case CaptureXPath:
		if c.XPath, err = xpath.Compile(expr); err != nil {
			err = fmt.Errorf("invalid XPath %q: %w", expr, err)
		}
	case CaptureSelector:
		if c.Selector, err = cascadia.Compile(expr); err != nil {
			err = fmt.Errorf("invalid CSS selector %q: %w", expr, err)
		}
	case CaptureHeader:
		if strings.TrimSpace(expr) == "" {
			err = fmt.Errorf("must name a header")
		}
	}
	return err
}

// compileJSRegexp compiles a JavaScript regular expression with its flags
// in Go's syntax. Only the first match is read, so g changes nothing, and
// Go is always Unicode-aware (u, v); y anchors the match at the start.
func compileJSRegexp(expr, flags string) (*regexp.Regexp, error) {
	var inline []byte
	sticky := false
	for i, f := range flags {
		if strings.ContainsRune(flags[:i], f) {
			return nil, fmt.Errorf("flag %c is given twice in %q", f, flags)
		}
		switch f {
		case 'i', 'm', 's':
			inline = append(inline, byte(f))
		case 'y':
			sticky = true
		case 'g', 'u', 'v', 'd':
		default:
			return nil, fmt.Errorf("unknown regexp flag %q in %q; valid: d, g, i, m, s, u, v, y", f, flags)
		}
	}
	src := expr
	if sticky {
		src = `\A(?:` + src + `)`
	}
	if len(inline) > 0 {
		src = "(?" + string(inline) + ")" + src
	}
	re, err := regexp.Compile(src)
	if err != nil {
		return nil, fmt.Errorf("invalid regular expression: %v (primeload reads Go's RE2 syntax, which has no lookaround or backreferences)", err)
	}
	return re, nil
}
