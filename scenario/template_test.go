package scenario

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"reflect"
	"regexp"
	"strings"
	"sync"
	"testing"
)

func testContext() *Context {
	return &Context{
		Vars: map[string]any{
			"goodsId": float64(42),
			"name":    "Shanghai",
			"quote":   `a "b" \c` + "\n",
			"user": map[string]any{
				"addresses": []any{map[string]any{"city": "Accra"}},
				"tags":      []any{"x", "y"},
			},
			"count": json.Number("7"),
			"ok":    true,
		},
		Env: func(k string) (string, bool) {
			if k == "API_TOKEN" {
				return "secret", true
			}
			return "", false
		},
		Target:      "http://127.0.0.1:8080",
		Environment: "quick",
		LoopCount:   3,
		LoopElement: map[string]any{"id": "e1"},
		UUID:        "6f1c1b7e-0000-4000-8000-000000000000",
		Rand:        rand.New(rand.NewPCG(1, 2)),
	}
}

func TestTemplateRender(t *testing.T) {
	tests := []struct {
		src  string
		want string
	}{
		{"plain text", "plain text"},
		{"", ""},
		{"/api/goods-received/{{ goodsId }}/", "/api/goods-received/42/"},
		{"{{goodsId}}-{{name}}", "42-Shanghai"},
		{"{{ user.addresses[0].city }}", "Accra"},
		{"{{ user['addresses'][0][\"city\"] }}", "Accra"},
		{"{{ user.tags.1 }}", "y"},
		{"{{ user.tags }}", `["x","y"]`},
		// Artillery writes JavaScript's undefined into text.
		{"{{ user.missing.deep }}", "undefined"},
		{"{{ nothing }}", "undefined"},
		{"Bearer {{ $processEnvironment.API_TOKEN }}", "Bearer secret"},
		{"{{ $env.API_TOKEN }}|{{ $env.UNSET }}", "secret|"},
		{"{{ $environment }}", "quick"},
		{"{{ target }}/x", "http://127.0.0.1:8080/x"},
		{"{{ $uuid }}", "6f1c1b7e-0000-4000-8000-000000000000"},
		{"{{ $uuid() }}", "6f1c1b7e-0000-4000-8000-000000000000"},
		{"{{ $loopCount }}", "3"},
		{"{{ $loopElement.id }}", "e1"},
		{"{{ count }} {{ ok }}", "7 true"},
		{"{{ $randomNumber(5, 5) }}", "5"},
		{"{{ $randomString(0) }}", ""},
		{"a }} b", "a }} b"},
		// Defaults apply only when the variable is not set (issue 12).
		{`{{ $env.UNSET | default("dflt") }}`, "dflt"},
		{`{{ $env.API_TOKEN | default("x") }}`, "secret"},
		{`{{ $processEnvironment.UNSET|default('a "b" | c') }}`, `a "b" | c`},
		{`{{ $env.PORT | default(8080) }}`, "8080"},
		{`Bearer {{ $env.UNSET | default("") }}.`, "Bearer ."},
	}
	for _, tt := range tests {
		tmpl, err := Compile(tt.src)
		if err != nil {
			t.Fatalf("Compile(%q): %v", tt.src, err)
		}
		if got := tmpl.Render(testContext()); got != tt.want {
			t.Errorf("Render(%q) = %q, want %q", tt.src, got, tt.want)
		}
		if tmpl.Raw() != tt.src {
			t.Errorf("Raw() = %q, want %q", tmpl.Raw(), tt.src)
		}
	}
}

func TestTemplateRandom(t *testing.T) {
	c := testContext()
	s := MustCompile("{{ $randomString() }}").Render(c)
	if !regexp.MustCompile(`^[A-Za-z0-9]{10}$`).MatchString(s) {
		t.Errorf("$randomString() = %q, want 10 alphanumerics", s)
	}
	if s := MustCompile("{{ $randomString(25) }}").Render(c); len(s) != 25 {
		t.Errorf("$randomString(25) has length %d", len(s))
	}
	seen := map[any]bool{}
	n := MustCompile("{{ $randomNumber(1, 3) }}")
	for range 300 {
		v := n.Value(c)
		i, ok := v.(int)
		if !ok || i < 1 || i > 3 {
			t.Fatalf("$randomNumber(1, 3) = %#v, want an int in [1,3]", v)
		}
		seen[i] = true
	}
	if len(seen) != 3 {
		t.Errorf("$randomNumber(1, 3) produced %v over 300 draws, want both ends included", seen)
	}
	// With no UUID in the context a fresh one is still valid.
	u := MustCompile("{{ $uuid }}").Render(&Context{})
	if !regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`).MatchString(u) {
		t.Errorf("$uuid = %q, want a v4 UUID", u)
	}
}

func TestTemplateValueKeepsType(t *testing.T) {
	c := testContext()
	tests := []struct {
		src  string
		want any
	}{
		{"{{ goodsId }}", float64(42)},
		{" {{ goodsId }}", " 42"},
		{"{{ ok }}", true},
		{"{{ user.tags }}", []any{"x", "y"}},
		{"{{ $loopCount }}", 3},
		{"{{ nothing }}", nil},
		{"static", "static"},
		{"{{ $environment }}", "quick"},
	}
	for _, tt := range tests {
		if got := MustCompile(tt.src).Value(c); !reflect.DeepEqual(got, tt.want) {
			t.Errorf("Value(%q) = %#v, want %#v", tt.src, got, tt.want)
		}
	}
}

func TestTemplateStaticAndRefs(t *testing.T) {
	tests := []struct {
		src      string
		static   bool
		wantRefs []string
	}{
		{"/api/x", true, nil},
		{"/{{ a }}/{{ b.c[0] }}/{{ a }}", false, []string{"a", "b"}},
		{"{{ $uuid }}{{ target }}{{ $loopElement.x }}{{ $env.X }}", false, nil},
	}
	for _, tt := range tests {
		tmpl := MustCompile(tt.src)
		s, ok := tmpl.Static()
		if ok != tt.static || (ok && s != tt.src) {
			t.Errorf("Static(%q) = %q, %v; want static=%v", tt.src, s, ok, tt.static)
		}
		if got := tmpl.Refs(); !reflect.DeepEqual(got, tt.wantRefs) {
			t.Errorf("Refs(%q) = %v, want %v", tt.src, got, tt.wantRefs)
		}
	}
}

func TestCompileErrors(t *testing.T) {
	tests := []struct {
		src     string
		wantErr string
		offset  int
	}{
		{"/x/{{ id", "unclosed {{", 3},
		{"{{ }}", "empty expression", 0},
		{"ab{{ $nope }}", "unknown builtin $nope", 2},
		{"{{ $randomNumber(1) }}", "needs two arguments (min, max), got 1", 0},
		{"{{ $randomNumber(9, 1) }}", "greater than max", 0},
		{"{{ $randomNumber(a, b) }}", "whole numbers", 0},
		{"{{ $randomString(1, 2) }}", "one length", 0},
		{"{{ $processEnvironment }}", "needs one variable name", 0},
		{"{{ user[x] }}", "index must be", 0},
		{"{{ a b }}", "unexpected", 0},
		{"{{ name() }}", "not a function", 0},
		{"{{ $uuid(3) }}", "no arguments", 0},
		{"{{ $loopCount.x }}", "has no fields", 0},
		{`{{ name | default("x") }}`, "only goes with $env.NAME and $processEnvironment.NAME", 0},
		{`{{ $uuid | default("x") }}`, "only goes with", 0},
		{`{{ $env.X | upper }}`, `unknown filter "upper"`, 0},
		{`{{ $env.X | default(x) }}`, "default needs quoted text", 0},
		{`{{ $env.X | default("a"b") }}`, "default needs quoted text", 0},
	}
	for _, tt := range tests {
		_, err := Compile(tt.src)
		if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
			t.Errorf("Compile(%q) error = %v, want it to contain %q", tt.src, err, tt.wantErr)
			continue
		}
		if te, ok := err.(*TemplateError); !ok || te.Offset != tt.offset {
			t.Errorf("Compile(%q) error %#v, want a *TemplateError at offset %d", tt.src, err, tt.offset)
		}
	}
}

func TestValueAppendJSON(t *testing.T) {
	c := testContext()
	body := Pairs{
		{"goods_id", "{{ goodsId }}"},
		{"status", "in_transit"},
		{"note", "moved {{ quote }} to {{ name }}"},
		{"whole", "{{ quote }}"},
		{"list", []any{1, 2.5, "{{ $loopCount }}", nil, true}},
		{"nested", Pairs{{"z", "{{ user.addresses[0] }}"}, {"a", "{{ nothing }}"}}},
		{"env", "{{ $environment }}"},
		{"n", "{{ count }}"},
	}
	v, err := CompileValue(body)
	if err != nil {
		t.Fatal(err)
	}
	got := string(v.AppendJSON(nil, c))
	want := `{"goods_id":42,"status":"in_transit","note":"moved a \"b\" \\c\n to Shanghai","whole":"a \"b\" \\c\n","list":[1,2.5,3,null,true],"nested":{"z":{"city":"Accra"}},"env":"quick","n":7}`
	if got != want {
		t.Errorf("AppendJSON =\n%s\nwant\n%s", got, want)
	}
	if !json.Valid([]byte(got)) {
		t.Errorf("AppendJSON wrote invalid JSON: %s", got)
	}
	resolved := v.Resolve(c).(map[string]any)
	if resolved["goods_id"] != float64(42) || resolved["status"] != "in_transit" {
		t.Errorf("Resolve = %#v", resolved)
	}
	if got, want := v.Refs(), []string{"goodsId", "quote", "name", "user", "nothing", "count"}; !reflect.DeepEqual(got, want) {
		t.Errorf("Refs = %v, want %v", got, want)
	}
}

func TestCompileValueErrors(t *testing.T) {
	for _, v := range []any{struct{}{}, Pairs{{"a", []any{"{{ x"}}}} {
		if _, err := CompileValue(v); err == nil {
			t.Errorf("CompileValue(%#v) succeeded, want an error", v)
		}
	}
}

func TestJSONPathQuery(t *testing.T) {
	var doc any
	d := json.NewDecoder(strings.NewReader(`{"results":[{"id":7,"name":"a"},{"id":8}],"count":2}`))
	d.UseNumber()
	if err := d.Decode(&doc); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		expr string
		want any
		ok   bool
	}{
		{"$.results[0].id", json.Number("7"), true},
		{"$.results[*].id", json.Number("7"), true},
		{"$.count", json.Number("2"), true},
		{"$.results[5].id", nil, false},
		{"$.nope", nil, false},
	}
	for _, tt := range tests {
		p, err := CompileJSONPath(tt.expr)
		if err != nil {
			t.Fatalf("CompileJSONPath(%q): %v", tt.expr, err)
		}
		got, ok := p.Query(doc)
		if ok != tt.ok || !reflect.DeepEqual(got, tt.want) {
			t.Errorf("Query(%q) = %#v, %v; want %#v, %v", tt.expr, got, ok, tt.want, tt.ok)
		}
	}
	if _, err := CompileJSONPath("$.results[0"); err == nil {
		t.Error("CompileJSONPath accepted an unclosed bracket")
	}
}

func TestAppendToAllocations(t *testing.T) {
	tmpl := MustCompile("/api/goods-received/{{ goodsId }}/{{ name }}/")
	c := testContext()
	buf := make([]byte, 0, 128)
	allocs := testing.AllocsPerRun(100, func() { buf = tmpl.AppendTo(buf[:0], c) })
	if allocs != 0 {
		t.Errorf("AppendTo allocated %v times per run, want 0", allocs)
	}
	allocs = testing.AllocsPerRun(100, func() { _ = tmpl.Render(c) })
	if allocs > 1 {
		t.Errorf("Render allocated %v times per run, want at most the result string", allocs)
	}
}

func FuzzTemplate(f *testing.F) {
	for _, s := range []string{
		"/api/goods-received/{{ goodsId }}/",
		"{{ user.addresses[0].city }}",
		"{{ $randomNumber(1, 10) }}-{{ $randomString() }}",
		"{{ $processEnvironment.TOKEN }}",
		"{{ $loopElement['a'][1] }}",
		"{{ x",
		"}}{{",
		// Integer limits (issue 13 item 1): the panicking range, the
		// widest accepted one, int64's ends, lengths at and past the cap.
		"{{ $randomNumber(0, 9223372036854775807) }}",
		"{{ $randomNumber(-9223372036854775808, 9223372036854775807) }}",
		"{{ $randomNumber(-9007199254740991, 9007199254740991) }}",
		"{{ $randomNumber(9007199254740991, 9007199254740991) }}",
		"{{ $randomNumber(0, 99999999999999999999) }}",
		"{{ $randomString(65536) }}",
		"{{ $randomString(65537) }}",
		"{{ $randomString(-1) }}",
		"{{ $loopElement[9223372036854775807] }}",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, src string) {
		tmpl, err := Compile(src)
		if err != nil {
			return
		}
		c := testContext()
		c.LoopElement = []any{map[string]any{"a": []any{1, 2}}}
		_ = tmpl.Render(c)
		_ = tmpl.Value(c)
		v, err := CompileValue(Pairs{{"k", src}, {"l", []any{src}}})
		if err != nil {
			t.Fatalf("Compile accepted %q but CompileValue failed: %v", src, err)
		}
		if out := v.AppendJSON(nil, c); !json.Valid(out) {
			t.Fatalf("AppendJSON of %q wrote invalid JSON: %s", src, out)
		}
	})
}

func BenchmarkRender(b *testing.B) {
	tmpl := MustCompile("/api/goods-received/{{ goodsId }}/tracking/{{ name }}")
	c := testContext()
	b.Run("AppendTo", func(b *testing.B) {
		b.ReportAllocs()
		buf := make([]byte, 0, 128)
		for b.Loop() {
			buf = tmpl.AppendTo(buf[:0], c)
		}
	})
	b.Run("Render", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			_ = tmpl.Render(c)
		}
	})
	body, err := CompileValue(Pairs{{"goods_id", "{{ goodsId }}"}, {"status", "in_transit"}, {"location", "{{ name }}"}})
	if err != nil {
		b.Fatal(err)
	}
	b.Run("AppendJSON", func(b *testing.B) {
		b.ReportAllocs()
		buf := make([]byte, 0, 128)
		for b.Loop() {
			buf = body.AppendJSON(buf[:0], c)
		}
	})
}

func BenchmarkJSONPathCapture(b *testing.B) {
	p, err := CompileJSONPath("$.results[0].id")
	if err != nil {
		b.Fatal(err)
	}
	body := []byte(`{"count":3,"results":[{"id":41,"status":"received"},{"id":42},{"id":43}]}`)
	// DecodeAndQuery is what a capture costs per response; Query alone is the
	// compiled path's share of it.
	b.Run("DecodeAndQuery", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			var doc any
			if err := json.Unmarshal(body, &doc); err != nil {
				b.Fatal(err)
			}
			if _, ok := p.Query(doc); !ok {
				b.Fatal("no match")
			}
		}
	})
	var doc any
	if err := json.Unmarshal(body, &doc); err != nil {
		b.Fatal(err)
	}
	b.Run("Query", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, ok := p.Query(doc); !ok {
				b.Fatal("no match")
			}
		}
	})
}

// TestTemplateConcurrent renders one compiled template and body from many
// goroutines, each with its own Context, as virtual users do; run with -race.
func TestTemplateConcurrent(t *testing.T) {
	url := MustCompile("/api/{{ id }}/{{ $randomString(4) }}")
	body, err := CompileValue(Pairs{{"id", "{{ id }}"}, {"n", "{{ $randomNumber(1, 9) }}"}})
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	errs := make(chan string, 8)
	for g := range 8 {
		wg.Go(func() {
			c := &Context{Vars: map[string]any{"id": g}, Rand: rand.New(rand.NewPCG(uint64(g), 1))}
			want := fmt.Sprintf("/api/%d/", g)
			for range 200 {
				if got := url.Render(c); !strings.HasPrefix(got, want) {
					errs <- fmt.Sprintf("goroutine %d rendered %q", g, got)
					return
				}
				if !json.Valid(body.AppendJSON(nil, c)) {
					errs <- "invalid JSON"
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Error(e)
	}
}

// TestBuiltinsListsTheTable keeps the Builtins message equal to the table
// the parser uses, so a new template function shows up in every message.
func TestBuiltinsListsTheTable(t *testing.T) {
	var usages []string
	for _, b := range builtinTable {
		usages = append(usages, b.usage)
		for _, name := range b.names {
			if lookupBuiltin(name) != b {
				t.Errorf("lookupBuiltin(%q) does not find its entry", name)
			}
		}
	}
	if got := strings.Join(usages, ", "); got != Builtins {
		t.Errorf("builtin usages = %q, Builtins = %q", got, Builtins)
	}
}
