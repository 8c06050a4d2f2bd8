package slo

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"
)

// TestCondition: ifTrue expressions give the verdicts filtrex 2.2.3 gives
// Artillery over the same variables (each want was read from filtrex 2.2.3
// run under node with these variables; issue 18).
func TestCondition(t *testing.T) {
	vars := map[string]any{
		"n": 3.0, "page": "2", "status": "ok", "name": "ann", "empty": "", "zero": 0.0, "on": true,
		"kind": "x", "count": json.Number("5"), "tags": []any{"a", "b"}, "obj": map[string]any{"a": 1.0},
		"num1": []any{5.0}, "ok": "ok", "z": "0", "$loopCount": 2,
	}
	tests := []verdict{
		{"n > 2", true},
		{"n < 2", false},
		{"zero", false},
		{"not zero", true},
		{"n in (1, 2, 3)", true},
		{"n % 2 == 1 ? 1 : 0", true},
		{"(page + 1) * 2 == 6", false}, // "2" + 1 is "21"
		{`status == "ok"`, true},
		{"status == 'ok'", true}, // 'ok' is the variable ok
		{`status != "ok"`, false},
		{"name", true}, // non-empty text is truthy
		{"empty", false},
		{"z", true}, // "0" is truthy text
		{"missing", false},
		{`missing == "x"`, false},
		{`missing != "x"`, true},
		{"not missing", true},
		{"missing < 1", false},
		{"missing > -1", false},
		{`count > 2 and kind != "x"`, false},
		{`count > 2 and kind != "y"`, true},
		{`kind in ("x", "y")`, true},
		{`kind not in ("x", "y")`, false},
		{`"a" in tags`, true},
		{`("a", "b") in tags`, true},
		{`"c" in tags`, false},
		{"page == 2", true},
		{"page in (2, 3)", false}, // in compares without conversion
		{`page in ("2", "3")`, true},
		{"name or count", false}, // Number("ann") is NaN
		{"count and name", false},
		{"name and count", true},
		{`status + "!" == "ok!"`, true},
		{"n + page", true},
		{`n + page == "32"`, true},
		{`name < "bob"`, true},
		{`"b" < "a"`, false},
		{"page < 10", true},
		{`"10" < "9"`, true}, // text compares as text
		{`obj == "[object Object]"`, true},
		{"num1 == 5", true},
		{"on == 1", true},
		{`on == "1"`, true},
		{"on == true", false}, // true is a variable, not set
		{"name ? 1 : 0", true},
		{"empty ? 1 : 0", false},
		{"$loopCount < page", false},
		{"abs(page) == 2", true},
		{`name == "ann" ? "yes" : ""`, true},
		{`name == "a\"nn"`, false},
	}
	checkVerdicts(t, vars, tests)
	for _, bad := range []struct{ expr, want string }{
		{"n >", "ends too early"},
		{"name === 'Hassy'", "write == to compare"},
		{"name == `x`", "column 9: a string is written in double quotes"},
		{`name == "a\n"`, `column 11: \n is not an escape filtrex knows`},
		{`name == "ann`, "column 9: unterminated quote"},
		// filtrex reads these (JavaScript's RegExp); Go's RE2 does not.
		{`name ~= "(?=a)"`, `column 6: the regular expression "(?=a)" does not compile`},
		{`name ~= "\\u0061"`, `column 6: the regular expression "\\u0061" does not compile`},
		{`"a" of obj`, `column 5: unexpected "of"`}, // of takes a name on its left
		{`a of`, "ends too early"},
	} {
		if _, err := CompileCondition(bad.expr); err == nil || !strings.Contains(err.Error(), bad.want) {
			t.Errorf("%q: %v, want %q", bad.expr, err, bad.want)
		}
	}
}

// TestConditionMatchAndOf: filtrex 2.2.3's ~= (Number(RegExp(b).test(a)))
// and "name of x" (x's own property name), with the verdicts filtrex 2.2.3
// itself gave under node for the same variables: each want is !!result, as
// Artillery's ifTrue reads it, so a pattern from a variable that does not
// compile, which makes filtrex return the exception, sends the request.
func TestConditionMatchAndOf(t *testing.T) {
	vars := map[string]any{
		"n": 3.0, "page": "2", "status": "ok", "name": "ann", "zero": 0.0, "tags": []any{"a", "b"},
		"obj": map[string]any{"a": json.Number("1")}, "codes": "[", "text": "héllo wörld", "multi": "a\nb",
		"user": map[string]any{"name": "ann", "roles": []any{"admin"}, "address": map[string]any{"city": "Oslo"}},
	}
	tests := []verdict{
		{`name ~= "^a"`, true},
		{`name ~= "^b"`, false},
		{`name ~= "N"`, false}, // no flags: case counts
		{`page ~= "^[0-9]+$"`, true},
		{`n ~= "3"`, true},                  // the text of a number
		{`missing ~= "undef"`, true},        // String(undefined)
		{`name ~= missing`, true},           // RegExp(undefined) is the empty pattern
		{`tags ~= "^a,b$"`, true},           // a list's text joins it with commas
		{`obj ~= "object"`, true},           // "[object Object]"
		{`name ~= codes`, true},             // RegExp("[") throws; filtrex returns the error, truthy
		{`not (name ~= codes)`, true},       // the whole expression is the error
		{`zero and (name ~= codes)`, false}, // and stops before the throw
		{`name ~= "a" == 1`, true},          // ~= sits with ==, left to right
		{`status ~= "ok" and n > 2`, true},
		{`name ~= "^a.n$"`, true},
		{`name ~= "(?<x>a)n"`, true},
		{`text ~= "w\\wrld"`, false}, // \w is ASCII in both
		{`multi ~= "^b"`, false},     // no multiline flag
		{`multi ~= "a$"`, false},
		{`name ~= "a|z" ? 1 : 0`, true},
		{`city of address of user == "Oslo"`, true},
		{`name of user == "ann"`, true},
		{`a of obj == 1`, true},
		{`b of obj`, false},
		{`length of tags == 2`, true},
		{`'0' of tags == "a"`, true},
		{`length of name == 3`, true},
		{`'1' of name == "n"`, true},
		{`x of missing`, false},
		{`length of n`, false}, // a number owns no property
		{`roles of user in ("admin")`, true},
		{`a of obj + 1 == 2`, true}, // of binds tighter than +
		{`name of user ~= "^an"`, true},
		{`toString of obj`, false}, // own properties only
		{`constructor of user`, false},
		{`'length' of tags == 2`, true},
		{`not a of obj`, false},
		{`a of obj == 1 and length of tags > 1`, true},
		{`length of text == 11`, true}, // UTF-16 code units
		{`name of user of missing`, false},
	}
	checkVerdicts(t, vars, tests)
	for _, expr := range []string{"a of obj", "name of user of missing"} {
		if c, _ := CompileCondition(expr); slices.Contains(c.Names(), strings.Fields(expr)[0]) {
			t.Errorf("%q reads %v: the name left of of is a property, not a variable", expr, c.Names())
		}
	}
}

// verdict is an ifTrue expression and whether it holds.
type verdict struct {
	expr string
	want bool
}

// checkVerdicts compiles each expression and evaluates it over vars.
func checkVerdicts(t *testing.T, vars map[string]any, tests []verdict) {
	t.Helper()
	for _, tt := range tests {
		c, err := CompileCondition(tt.expr)
		if err != nil {
			t.Errorf("%q: %v", tt.expr, err)
			continue
		}
		if got := c.Holds(func(n string) any { return vars[n] }); got != tt.want {
			t.Errorf("%q = %v, want %v", tt.expr, got, tt.want)
		}
	}
}

// TestEnsureRefusesStrings: ensure expressions are over numbers; a string,
// ~= and of stay errors there though ifTrue reads them.
func TestEnsureRefusesStrings(t *testing.T) {
	for _, tt := range []struct{ expr, want string }{
		{`http.codes.200 == "x"`, "a string has no use in an ensure expression"},
		{`http.codes.200 ~= 2`, "column 16: filtrex's ~= matches text against a regular expression; metrics are numbers"},
		{`p95 of http.response_time`, `column 5: filtrex's "of" reads a property of an object; metrics are plain numbers`},
	} {
		if l, err := lex(tt.expr, newCatalog(Names{})); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("lex %q: %v, %v; want %q", tt.expr, l, err, tt.want)
		}
	}
}
