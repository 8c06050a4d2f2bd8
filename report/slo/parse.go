package slo

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
)

// The grammar is filtrex 2.2's, with its precedence, lowest first; every
// binary operator is left-associative (so 2^3^2 is 64, and 1 < 2 < 3 is
// (1 < 2) < 3):
//
//	? :          a ? b : c
//	or
//	and
//	in, not in   x in (1, 2)
//	== != ~=     ~= in ifTrue only: text ~= "regular expression"
//	< <= > >=
//	+ -
//	* / %
//	^            power
//	not, unary - (so "not a == b" is "(not a) == b", as in filtrex)
//	of           in ifTrue only: name of x, the property name of x; its
//	             left is a name, its right binds tighter than any binary
//	             operator (so "a of b of c" is "a of (b of c)")
//
// A parenthesised list (a, b, ...) is only an operand of in and not in.

// node is one element of a compiled expression.
type node interface{}

type (
	numNode  float64
	strNode  string // a "string" literal, in ifTrue only
	refNode  int    // index into the check's names
	listNode []node
	unNode   struct {
		op string
		x  node
	}
	binNode struct {
		op   string
		l, r node
	}
	condNode struct{ c, a, b node }
	callNode struct {
		fn   string
		args []node
	}
	// existsNode is exists(metric): whether the run reported the metric.
	existsNode int
	// propNode is "name of obj".
	propNode struct {
		name string
		obj  node
	}
	// matchNode is "text ~= pattern"; re is the pattern compiled once
	// when it is a literal, nil when it is computed.
	matchNode struct {
		text, pattern node
		re            *regexp.Regexp
	}
)

// function is one function an expression may call.
type function struct {
	name          string
	minArgs, args int // args < 0: any number from minArgs
}

// functions are filtrex 2.2's functions (JavaScript's Math.abs ...), plus
// exists, which filtrex 3 added.
func functions() []function {
	return []function{
		{"abs", 1, 1}, {"ceil", 1, 1}, {"floor", 1, 1}, {"log", 1, 1},
		{"max", 1, -1}, {"min", 1, -1}, {"random", 0, 0}, {"round", 1, 1},
		{"sqrt", 1, 1}, {"exists", 1, 1},
	}
}

func functionNames() []string {
	var names []string
	for _, f := range functions() {
		names = append(names, f.name)
	}
	return names
}

// parser builds a node tree from tokens; names are bound to indexes.
type parser struct {
	toks  []token
	i     int
	names []string // names[i] is refNode(i)
}

// syntaxError is a problem at one token.
func (p *parser) errorf(t token, format string, args ...any) error {
	at := fmt.Sprintf("column %d", t.pos+1)
	if t.kind == tEOF {
		at = "at the end"
	}
	return fmt.Errorf("%s: %s", at, fmt.Sprintf(format, args...))
}

func (p *parser) peek() token { return p.toks[p.i] }

func (p *parser) next() token {
	t := p.toks[p.i]
	if t.kind != tEOF {
		p.i++
	}
	return t
}

func (p *parser) isOp(ops ...string) bool {
	t := p.peek()
	return t.kind == tOp && slices.Contains(ops, t.text)
}

// parse reads a whole expression.
func parse(toks []token) (node, []string, error) {
	p := &parser{toks: toks}
	n, err := p.ternary()
	if err != nil {
		return nil, nil, err
	}
	if t := p.peek(); t.kind != tEOF {
		return nil, nil, p.errorf(t, "unexpected %q", t.text)
	}
	if err := scalar(n); err != nil {
		return nil, nil, err
	}
	return n, p.names, nil
}

func (p *parser) ternary() (node, error) {
	c, err := p.or()
	if err != nil {
		return nil, err
	}
	for p.isOp("?") {
		p.next()
		a, err := p.ternary()
		if err != nil {
			return nil, err
		}
		if !p.isOp(":") {
			return nil, p.errorf(p.peek(), `expected ":" of "cond ? a : b"`)
		}
		p.next()
		b, err := p.or()
		if err != nil {
			return nil, err
		}
		c = condNode{c, a, b}
	}
	return c, nil
}

// binary parses one left-associative level of operators over the next.
func (p *parser) binary(next func() (node, error), ops ...string) (node, error) {
	l, err := next()
	if err != nil {
		return nil, err
	}
	for p.isOp(ops...) {
		op := p.next().text
		r, err := next()
		if err != nil {
			return nil, err
		}
		l = binNode{op, l, r}
	}
	return l, nil
}

func (p *parser) or() (node, error)  { return p.binary(p.and, "or") }
func (p *parser) and() (node, error) { return p.binary(p.in, "and") }

func (p *parser) in() (node, error) {
	l, err := p.eq()
	if err != nil {
		return nil, err
	}
	for {
		op := ""
		switch {
		case p.isOp("in"):
			op = "in"
		case p.isOp("not") && p.toks[p.i+1].kind == tOp && p.toks[p.i+1].text == "in":
			op = "not in"
			p.next()
		default:
			return l, nil
		}
		p.next()
		r, err := p.eq()
		if err != nil {
			return nil, err
		}
		l = binNode{op, l, r}
	}
}

func (p *parser) eq() (node, error) {
	l, err := p.rel()
	if err != nil {
		return nil, err
	}
	for p.isOp("==", "!=", "~=") {
		op := p.next()
		r, err := p.rel()
		if err != nil {
			return nil, err
		}
		if op.text != "~=" {
			l = binNode{op.text, l, r}
			continue
		}
		m := matchNode{text: l, pattern: r}
		if lit, ok := r.(strNode); ok {
			if m.re, err = regexp.Compile(string(lit)); err != nil {
				return nil, p.errorf(op, "the regular expression %q does not compile: %v (a literal pattern is checked here; primeload reads Go's RE2 syntax, which lacks JavaScript's lookaround, backreferences and \\u escapes)", string(lit), err)
			}
		}
		l = m
	}
	return l, nil
}

func (p *parser) rel() (node, error) { return p.binary(p.add, "<", "<=", ">", ">=") }
func (p *parser) add() (node, error) { return p.binary(p.mul, "+", "-") }
func (p *parser) mul() (node, error) { return p.binary(p.pow, "*", "/", "%") }
func (p *parser) pow() (node, error) { return p.binary(p.unary, "^") }

func (p *parser) unary() (node, error) {
	if p.isOp("-", "not") {
		op := p.next().text
		x, err := p.unary()
		if err != nil {
			return nil, err
		}
		return unNode{op, x}, nil
	}
	return p.primary()
}

func (p *parser) primary() (node, error) {
	t := p.next()
	switch t.kind {
	case tNum:
		return numNode(t.num), nil
	case tStr:
		return strNode(t.name), nil
	case tMetric:
		if p.isOp("of") {
			p.next()
			obj, err := p.unary()
			if err != nil {
				return nil, err
			}
			return propNode{t.name, obj}, nil
		}
		return refNode(p.bind(t.name)), nil
	case tFunc:
		return p.call(t)
	case tLParen:
		first, err := p.ternary()
		if err != nil {
			return nil, err
		}
		list := listNode{first}
		for p.peek().kind == tComma {
			p.next()
			n, err := p.ternary()
			if err != nil {
				return nil, err
			}
			list = append(list, n)
		}
		if c := p.next(); c.kind != tRParen {
			return nil, p.errorf(c, `expected ")"`)
		}
		if len(list) == 1 {
			return first, nil
		}
		return list, nil
	case tEOF:
		return nil, p.errorf(t, "the expression ends too early")
	}
	return nil, p.errorf(t, "unexpected %q", t.text)
}

func (p *parser) bind(name string) int {
	if i := slices.Index(p.names, name); i >= 0 {
		return i
	}
	p.names = append(p.names, name)
	return len(p.names) - 1
}

// call parses fn(args) after the function name t.
func (p *parser) call(t token) (node, error) {
	i := slices.IndexFunc(functions(), func(f function) bool { return f.name == t.text })
	if i < 0 {
		msg := fmt.Sprintf("unknown function %s()", t.text)
		if s := closest(t.text, functionNames()); s != "" {
			msg += fmt.Sprintf("; did you mean %s()?", s)
		}
		return nil, p.errorf(t, "%s (functions: %s)", msg, strings.Join(functionNames(), ", "))
	}
	f := functions()[i]
	p.next() // "(", guaranteed by the lexer
	var args []node
	if p.peek().kind != tRParen {
		for {
			a, err := p.ternary()
			if err != nil {
				return nil, err
			}
			args = append(args, a)
			if p.peek().kind != tComma {
				break
			}
			p.next()
		}
	}
	if c := p.next(); c.kind != tRParen {
		return nil, p.errorf(c, `expected ")" closing %s(`, f.name)
	}
	if len(args) < f.minArgs || f.args >= 0 && len(args) > f.args {
		want := fmt.Sprintf("%d argument", f.minArgs)
		switch {
		case f.args < 0:
			want = fmt.Sprintf("at least %d argument", f.minArgs)
		case f.args == 0:
			want = "no argument"
		}
		if f.minArgs != 1 {
			want += "s"
		}
		return nil, p.errorf(t, "%s() takes %s, got %d", f.name, want, len(args))
	}
	if f.name == "exists" {
		r, ok := args[0].(refNode)
		if !ok {
			return nil, p.errorf(t, "exists() takes a metric name, e.g. exists(http.response_time.p95)")
		}
		return existsNode(r), nil
	}
	return callNode{f.name, args}, nil
}

// scalar checks that lists appear only as operands of in and not in.
func scalar(n node) error {
	switch n := n.(type) {
	case listNode:
		return fmt.Errorf("a list (a, b, ...) is only used after in or not in, as in http.codes.200 in (10, 20)")
	case unNode:
		return scalar(n.x)
	case binNode:
		if n.op == "in" || n.op == "not in" {
			return errors2(listOrScalar(n.l), listOrScalar(n.r))
		}
		return errors2(scalar(n.l), scalar(n.r))
	case condNode:
		return errors2(scalar(n.c), errors2(scalar(n.a), scalar(n.b)))
	case propNode:
		return scalar(n.obj)
	case matchNode:
		return errors2(scalar(n.text), scalar(n.pattern))
	case callNode:
		for _, a := range n.args {
			if err := scalar(a); err != nil {
				return err
			}
		}
	}
	return nil
}

func listOrScalar(n node) error {
	if l, ok := n.(listNode); ok {
		for _, e := range l {
			if err := scalar(e); err != nil {
				return err
			}
		}
		return nil
	}
	return scalar(n)
}

func errors2(a, b error) error {
	if a != nil {
		return a
	}
	return b
}
