package slo

import (
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"strings"
)

// Condition is a filtrex 2.2 expression over a virtual user's variables,
// Artillery's ifTrue: the same grammar and evaluation as ensure
// expressions, with each name a variable instead of a metric. Values are
// numbers, as in the rest of this package: a variable holding a number, a
// numeric string or a boolean reads as JavaScript's Number() reads it;
// anything else, or a variable that is not set, is NaN, so a comparison
// with it is false. It is read-only once compiled.
type Condition struct {
	root  node
	names []string
}

// CompileCondition compiles an ifTrue expression. Strings in the
// expression are refused: comparing text is not something a numeric
// evaluation could do as JavaScript does.
func CompileCondition(expr string) (*Condition, error) {
	if len(expr) > MaxExpression {
		return nil, fmt.Errorf("expression is %d bytes long; at most %d", len(expr), MaxExpression)
	}
	if i := strings.IndexAny(expr, "\"`"); i >= 0 {
		return nil, fmt.Errorf("column %d: strings are not supported in ifTrue here: primeload compares numbers only; compare a number variable, or split the flow into weighted scenarios", i+1)
	}
	l, err := lex(expr, &catalog{vars: true})
	if err != nil {
		return nil, err
	}
	if len(l.names) > 0 {
		return nil, l.names[0]
	}
	root, names, err := parse(l.toks)
	if err != nil {
		return nil, err
	}
	return &Condition{root: root, names: names}, nil
}

// Holds evaluates the condition over the variables lookup reads (nil for
// one not set); true is filtrex's truthy: not 0 and not NaN.
func (c *Condition) Holds(lookup func(name string) any) bool {
	e := evaluation{vals: make([]float64, len(c.names)), have: make([]bool, len(c.names))}
	for i, n := range c.names {
		e.vals[i], e.have[i] = jsNumber(lookup(n)), true
	}
	return truthy(e.eval(c.root))
}

// Names are the variables the condition reads.
func (c *Condition) Names() []string { return c.names }

// jsNumber is JavaScript's Number(v) for the values a user's variables hold.
func jsNumber(v any) float64 {
	switch x := v.(type) {
	case float64:
		return x
	case int:
		return float64(x)
	case int64:
		return float64(x)
	case json.Number:
		if f, err := x.Float64(); err == nil {
			return f
		}
	case bool:
		return num(x)
	case string:
		s := strings.TrimSpace(x)
		if s == "" {
			return 0
		}
		if f, err := strconv.ParseFloat(s, 64); err == nil {
			return f
		}
	}
	return math.NaN()
}
