package slo

import (
	"math"
	"math/rand/v2"
	"regexp"
)

// Evaluation follows filtrex 2.2, which compiles to JavaScript and runs it:
// a comparison, not, in and not in give 1 or 0; "a and b" is Number(a && b)
// and "a or b" Number(a || b); == is JavaScript's loose ==, < compares two
// strings as text and anything else as numbers, + joins text; / and %
// follow IEEE 754 as JavaScript does (x/0 is Infinity, 0/0 is NaN). Ensure
// expressions hold numbers only, so for them all of this is arithmetic. A
// check passes when its value is exactly 1, as Artillery requires.

// evaluation holds one expression's values while its tree is walked.
type evaluation struct {
	vals    []value
	have    []bool
	missing []int // names read without a value, in the order read
	// threw is set when a computed ~= pattern did not compile: filtrex
	// then returns the exception, an object, so Artillery's ifTrue holds
	// whatever the rest of the expression gives.
	threw bool
}

func (e *evaluation) eval(n node) value {
	switch n := n.(type) {
	case numNode:
		return numValue(float64(n))
	case strNode:
		return value{k: kStr, s: string(n)}
	case refNode:
		if !e.have[n] {
			e.miss(int(n))
			return numValue(math.NaN())
		}
		return e.vals[n]
	case existsNode:
		return boolValue(e.have[n] && e.vals[n].k != kUndef)
	case unNode:
		x := e.eval(n.x)
		if n.op == "-" {
			return numValue(-x.number())
		}
		return boolValue(!x.truthy())
	case condNode:
		if e.eval(n.c).truthy() {
			return e.eval(n.a)
		}
		return e.eval(n.b)
	case callNode:
		return numValue(e.call(n))
	case binNode:
		return e.binary(n)
	case propNode:
		return e.eval(n.obj).prop(n.name)
	case matchNode:
		return e.match(n)
	}
	panic("slo: unknown node") // the parser builds no other node
}

// match is filtrex's Number(RegExp(pattern).test(text)): the pattern is
// String(pattern), or the empty one for undefined; the text String(text),
// so an unset variable is the text "undefined".
func (e *evaluation) match(n matchNode) value {
	re := n.re
	if re == nil {
		pat := e.eval(n.pattern)
		src := ""
		if pat.k != kUndef {
			src = pat.str()
		}
		var err error
		if re, err = regexp.Compile(src); err != nil {
			e.threw = true
			return numValue(0)
		}
	}
	return boolValue(re.MatchString(e.eval(n.text).str()))
}

func (e *evaluation) miss(i int) {
	for _, m := range e.missing {
		if m == i {
			return
		}
	}
	e.missing = append(e.missing, i)
}

func (e *evaluation) binary(n binNode) value {
	switch n.op {
	case "and":
		if l := e.eval(n.l); !l.truthy() {
			return numValue(l.number())
		}
		return numValue(e.eval(n.r).number())
	case "or":
		if l := e.eval(n.l); l.truthy() {
			return numValue(l.number())
		}
		return numValue(e.eval(n.r).number())
	case "in", "not in":
		in := subset(e.values(n.l), e.values(n.r))
		return boolValue(in == (n.op == "in"))
	}
	lv, rv := e.eval(n.l), e.eval(n.r)
	switch n.op {
	case "+":
		return plus(lv, rv)
	case "==":
		return boolValue(looseEqual(lv, rv))
	case "!=":
		return boolValue(!looseEqual(lv, rv))
	case "<", "<=", ">", ">=":
		return boolValue(compare(n.op, lv, rv))
	}
	l, r := lv.number(), rv.number()
	switch n.op {
	case "-":
		return numValue(l - r)
	case "*":
		return numValue(l * r)
	case "/":
		return numValue(l / r)
	case "%":
		return numValue(math.Mod(l, r)) // the sign of l, as JavaScript's %
	case "^":
		return numValue(pow(l, r))
	}
	panic("slo: unknown operator " + n.op)
}

// values evaluates an operand of in: a list, a variable holding a list, or
// one value standing for a list of one, as filtrex's coerceArray does.
func (e *evaluation) values(n node) []value {
	l, ok := n.(listNode)
	if !ok {
		return e.eval(n).elements()
	}
	vs := make([]value, len(l))
	for i, x := range l {
		vs[i] = e.eval(x)
	}
	return vs
}

// subset reports whether every value of a is in b, comparing as
// JavaScript's Array.includes does (no conversion; NaN equals NaN).
func subset(a, b []value) bool {
	for _, x := range a {
		found := false
		for _, y := range b {
			if sameValueZero(x, y) {
				found = true
				break
			}
		}
		if !found {
			return false
		}
	}
	return true
}

func (e *evaluation) call(n callNode) float64 {
	args := make([]float64, len(n.args))
	for i, a := range n.args {
		args[i] = e.eval(a).number()
	}
	switch n.fn {
	case "abs":
		return math.Abs(args[0])
	case "ceil":
		return math.Ceil(args[0])
	case "floor":
		return math.Floor(args[0])
	case "log":
		return math.Log(args[0])
	case "sqrt":
		return math.Sqrt(args[0])
	case "round":
		return round(args[0])
	case "random":
		return rand.Float64()
	case "max", "min":
		v := args[0]
		for _, a := range args[1:] {
			if n.fn == "max" {
				v = math.Max(v, a)
			} else {
				v = math.Min(v, a)
			}
		}
		return v
	}
	panic("slo: unknown function " + n.fn)
}

// round is JavaScript's Math.round: halves go up, so round(-2.5) is -2.
func round(x float64) float64 {
	if math.IsNaN(x) || math.IsInf(x, 0) {
		return x
	}
	f := math.Floor(x)
	if x-f >= 0.5 {
		f++
	}
	return f
}

// pow is JavaScript's Math.pow, which differs from math.Pow where the
// exponent is NaN or the base is ±1 and the exponent infinite.
func pow(x, y float64) float64 {
	if math.IsNaN(y) || math.IsInf(y, 0) && math.Abs(x) == 1 {
		return math.NaN()
	}
	return math.Pow(x, y)
}

func truthy(x float64) bool { return x != 0 && !math.IsNaN(x) }

func num(b bool) float64 {
	if b {
		return 1
	}
	return 0
}
