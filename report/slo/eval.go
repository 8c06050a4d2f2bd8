package slo

import (
	"math"
	"math/rand/v2"
)

// Evaluation follows filtrex 2.2, which compiles to JavaScript: every value
// is a number; a comparison, not, in and not in give 1 or 0; "a and b" is b
// when a is true (not 0 and not NaN) and a otherwise, "a or b" is a when a is
// true and b otherwise; / and % follow IEEE 754 as JavaScript does (x/0 is
// Infinity, 0/0 is NaN). A check passes when its value is exactly 1, as
// Artillery requires.

// evaluation holds one check's metric values while its tree is walked.
type evaluation struct {
	vals    []float64
	have    []bool
	missing []int // names read without a value, in the order read
}

func (e *evaluation) eval(n node) float64 {
	switch n := n.(type) {
	case numNode:
		return float64(n)
	case refNode:
		if !e.have[n] {
			e.miss(int(n))
			return math.NaN()
		}
		return e.vals[n]
	case existsNode:
		return num(e.have[n])
	case unNode:
		x := e.eval(n.x)
		if n.op == "-" {
			return -x
		}
		return num(!truthy(x))
	case condNode:
		if truthy(e.eval(n.c)) {
			return e.eval(n.a)
		}
		return e.eval(n.b)
	case callNode:
		return e.call(n)
	case binNode:
		return e.binary(n)
	}
	panic("slo: unknown node") // the parser builds no other node
}

func (e *evaluation) miss(i int) {
	for _, m := range e.missing {
		if m == i {
			return
		}
	}
	e.missing = append(e.missing, i)
}

func (e *evaluation) binary(n binNode) float64 {
	switch n.op {
	case "and":
		if l := e.eval(n.l); !truthy(l) {
			return l
		}
		return e.eval(n.r)
	case "or":
		if l := e.eval(n.l); truthy(l) {
			return l
		}
		return e.eval(n.r)
	case "in", "not in":
		in := subset(e.values(n.l), e.values(n.r))
		return num(in == (n.op == "in"))
	}
	l, r := e.eval(n.l), e.eval(n.r)
	switch n.op {
	case "+":
		return l + r
	case "-":
		return l - r
	case "*":
		return l * r
	case "/":
		return l / r
	case "%":
		return math.Mod(l, r) // the sign of l, as JavaScript's %
	case "^":
		return pow(l, r)
	case "==":
		return num(l == r)
	case "!=":
		return num(l != r)
	case "<":
		return num(l < r)
	case "<=":
		return num(l <= r)
	case ">":
		return num(l > r)
	case ">=":
		return num(l >= r)
	}
	panic("slo: unknown operator " + n.op)
}

// values evaluates an operand of in: a list, or one value standing for a
// list of one, as filtrex does.
func (e *evaluation) values(n node) []float64 {
	l, ok := n.(listNode)
	if !ok {
		return []float64{e.eval(n)}
	}
	vs := make([]float64, len(l))
	for i, x := range l {
		vs[i] = e.eval(x)
	}
	return vs
}

// subset reports whether every value of a is in b, comparing as
// JavaScript's Array.includes does (NaN equals NaN).
func subset(a, b []float64) bool {
	for _, x := range a {
		found := false
		for _, y := range b {
			if x == y || math.IsNaN(x) && math.IsNaN(y) {
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
		args[i] = e.eval(a)
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
