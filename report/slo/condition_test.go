package slo

import (
	"encoding/json"
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
	tests := []struct {
		expr string
		want bool
	}{
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
	for _, bad := range []struct{ expr, want string }{
		{"n >", "ends too early"},
		{"name === 'Hassy'", "write == to compare"},
		{"name == `x`", "column 9: a string is written in double quotes"},
		{`name == "a\n"`, `column 11: \n is not an escape filtrex knows`},
		{`name == "ann`, "column 9: unterminated quote"},
		{`name ~= "^a"`, "column 6: filtrex's ~= (a regular-expression match) is not supported here"},
		{`a of obj`, `column 3: filtrex's "of" (a property of an object) is not supported here`},
	} {
		if _, err := CompileCondition(bad.expr); err == nil || !strings.Contains(err.Error(), bad.want) {
			t.Errorf("%q: %v, want %q", bad.expr, err, bad.want)
		}
	}
}

// TestEnsureRefusesStrings: ensure expressions are over numbers; a string
// stays an error there though ifTrue reads them.
func TestEnsureRefusesStrings(t *testing.T) {
	l, err := lex(`http.codes.200 == "x"`, newCatalog(Names{}))
	if err == nil || !strings.Contains(err.Error(), "a string has no use in an ensure expression") {
		t.Fatalf("lex: %v, %v", l, err)
	}
}
