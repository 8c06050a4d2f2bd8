package scenario

import "testing"

// TestUndefinedRendering: a variable that is not there (a non-strict
// capture's miss) and a JSON null render as Artillery, being JavaScript,
// renders them (issue 18): "undefined" and "null" inside text, a member
// left out of a JSON object, null in a JSON list.
func TestUndefinedRendering(t *testing.T) {
	c := testContext()
	c.Vars["none"] = nil
	text := []struct{ src, want string }{
		{"/items/{{ gone }}", "/items/undefined"},
		{"/items/{{ none }}", "/items/null"},
		{"{{ user.addresses[5].city }}!", "undefined!"},
		{"{{ gone }}", "undefined"},
	}
	for _, tt := range text {
		if got := MustCompile(tt.src).Render(c); got != tt.want {
			t.Errorf("Render(%q) = %q, want %q", tt.src, got, tt.want)
		}
	}
	defined := []struct {
		src  string
		want bool
	}{
		{"{{ gone }}", false},
		{"{{ user.missing }}", false},
		{"{{ none }}", true}, // null is a value
		{"a {{ gone }}", true},
		{"{{ $loopElement.id }}", true},
		{"{{ $loopElement.nope }}", false},
		{"{{ $uuid }}", true},
		{"static", true},
	}
	for _, tt := range defined {
		if got := MustCompile(tt.src).Defined(c); got != tt.want {
			t.Errorf("Defined(%q) = %v, want %v", tt.src, got, tt.want)
		}
	}
	bodies := []struct {
		body any
		want string
	}{
		{Pairs{{"a", "{{ gone }}"}, {"b", 1}}, `{"b":1}`},
		{Pairs{{"b", 1}, {"a", "{{ gone }}"}, {"c", "{{ none }}"}}, `{"b":1,"c":null}`},
		{Pairs{{"a", "{{ gone }}"}}, `{}`},
		{[]any{"{{ gone }}", 2}, `[null,2]`},
		{Pairs{{"s", "id-{{ gone }}"}}, `{"s":"id-undefined"}`},
	}
	for _, tt := range bodies {
		v, err := CompileValue(tt.body)
		if err != nil {
			t.Fatal(err)
		}
		if got := string(v.AppendJSON(nil, c)); got != tt.want {
			t.Errorf("AppendJSON(%v) = %s, want %s", tt.body, got, tt.want)
		}
	}
}
