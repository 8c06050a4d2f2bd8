package slo

import (
	"encoding/json"
	"strings"
	"testing"
)

// TestCondition: ifTrue expressions evaluate as filtrex 2.2 does over a
// user's variables (issue 18).
func TestCondition(t *testing.T) {
	vars := map[string]any{"n": 3.0, "page": "2", "id": json.Number("42"), "on": true, "name": "ann", "zero": 0.0}
	tests := []struct {
		expr string
		want bool
	}{
		{"n > 2", true},
		{"n < 2", false},
		{"page == 2", true},
		{"id == 42 and on", true},
		{"zero", false},
		{"notSet", false},
		{"notSet < 1", false},
		{"name", false},
		{"not zero", true},
		{"n in (1, 2, 3)", true},
		{"n % 2 == 1 ? 1 : 0", true},
		{"(page + 1) * 2 == 6", true},
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
		{`name == "ann"`, "column 9: strings are not supported in ifTrue"},
		{"n >", "ends too early"},
		{"name === 'Hassy'", "write == to compare"},
	} {
		if _, err := CompileCondition(bad.expr); err == nil || !strings.Contains(err.Error(), bad.want) {
			t.Errorf("%q: %v, want %q", bad.expr, err, bad.want)
		}
	}
}
