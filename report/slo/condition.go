package slo

import "fmt"

// Condition is a filtrex 2.2 expression over a virtual user's variables,
// Artillery's ifTrue: the grammar and evaluator of ensure expressions, with
// each name a variable instead of a metric, and values JavaScript's: a
// variable may hold text ("ok" is a string, 'name' a variable, as in
// filtrex), a number, a boolean, a list or an object, or be unset
// (undefined, so x == "a" is false and x != "a" true). It is read-only once
// compiled.
type Condition struct {
	root  node
	names []string
}

// CompileCondition compiles an ifTrue expression.
func CompileCondition(expr string) (*Condition, error) {
	if len(expr) > MaxExpression {
		return nil, fmt.Errorf("expression is %d bytes long; at most %d", len(expr), MaxExpression)
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
// one not set), true when the result is truthy as Artillery's if
// (!result) reads it: so "name" holds for any non-empty text, and so does
// an expression that threw (a ~= pattern from a variable that does not
// compile), filtrex returning the exception.
func (c *Condition) Holds(lookup func(name string) any) bool {
	e := evaluation{vals: make([]value, len(c.names)), have: make([]bool, len(c.names))}
	for i, n := range c.names {
		e.vals[i], e.have[i] = jsValue(lookup(n)), true
	}
	v := e.eval(c.root)
	return e.threw || v.truthy()
}

// Names are the variables the condition reads.
func (c *Condition) Names() []string { return c.names }
