package scenario

import (
	"errors"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"
)

// script wraps a flow step and extra config lines in a minimal valid script.
func script(config, step string) string {
	return "config:\n  target: http://127.0.0.1:8080\n" + config +
		"scenarios:\n  - flow:\n" + step
}

const defaultPhases = "  phases: [{duration: 1, arrivalRate: 1}]\n"

// parseErr parses src and returns the ErrorList's text, failing the test
// when the script loads or fails some other way.
func parseErr(t *testing.T, name, src string) string {
	t.Helper()
	s, err := Parse(name, []byte(src), LoadOptions{})
	if err == nil {
		t.Fatalf("%s: Parse accepted the script (%d phases)", name, len(s.Config.Phases))
	}
	var list ErrorList
	if !errors.As(err, &list) {
		t.Fatalf("%s: error %T %v, want an ErrorList", name, err, err)
	}
	for _, e := range list {
		if e.Pos.File != name {
			t.Errorf("%s: error without the file: %v", name, e)
		}
	}
	return err.Error()
}

// TestRandomNumberLimits is issue 13 item 1: $randomNumber(0, 2^63-1)
// passed validation and then panicked mid-run in rand.Int64N.
func TestRandomNumberLimits(t *testing.T) {
	for _, src := range []string{
		"{{ $randomNumber(0, 9223372036854775807) }}",
		"{{ $randomNumber(-9223372036854775808, 0) }}",
		"{{ $randomNumber(0, 9007199254740992) }}",
	} {
		if _, err := Compile(src); err == nil || !strings.Contains(err.Error(), "from -9007199254740991 to 9007199254740991") {
			t.Errorf("Compile(%q) = %v, want the range in the error", src, err)
		}
	}
	if _, err := Compile("{{ $randomNumber(0, 99999999999999999999) }}"); err == nil || !strings.Contains(err.Error(), "out of range") {
		t.Errorf("an argument past int64: %v", err)
	}
	got := parseErr(t, "n.yml", script(defaultPhases, `      - get: {url: "/{{ $randomNumber(0, 9223372036854775807) }}"}`+"\n"))
	if want := "n.yml:6:22: scenarios[0].flow[0].get.url: {{ $randomNumber(0, 9223372036854775807) }}: $randomNumber arguments"; !strings.HasPrefix(got, want) {
		t.Errorf("Parse error = %q, want it to start %q", got, want)
	}
	// The widest accepted range still renders.
	wide := MustCompile("{{ $randomNumber(-9007199254740991, 9007199254740991) }}")
	c := &Context{Rand: rand.New(rand.NewPCG(3, 4))}
	for range 100 {
		if v := wide.Value(c).(int); v < -MaxTemplateInteger || v > MaxTemplateInteger {
			t.Fatalf("$randomNumber out of its range: %d", v)
		}
	}
	// At run time no pair of ends panics or leaves the range, whether the
	// template came from Compile or was built some other way.
	ends := [][2]int{
		{math.MinInt64, math.MaxInt64}, {0, math.MaxInt64}, {math.MinInt64, 0},
		{math.MaxInt64, math.MaxInt64}, {math.MinInt64, math.MinInt64}, {-1, 1}, {7, 3},
	}
	for _, rnd := range []*rand.Rand{nil, rand.New(rand.NewPCG(1, 2))} {
		c := &Context{Rand: rnd}
		for _, e := range ends {
			lo, hi := min(e[0], e[1]), max(e[0], e[1])
			for range 50 {
				if v := randomNumber(c, e[0], e[1]); v < lo || v > hi {
					t.Fatalf("randomNumber(%d, %d) = %d", e[0], e[1], v)
				}
			}
		}
	}
}

// TestTemplateExpansionLimit is issue 13 item 3: a short script whose
// aliases reuse one long template made validation compile gigabytes.
func TestTemplateExpansionLimit(t *testing.T) {
	long := strings.Repeat("{{ a }}", 10_000) // 70 KB, 10,000 expressions
	tests := []struct {
		name string
		step string
	}{
		{"headers", "      - get:\n          url: /\n          headers: {" + aliasList(2000, "h%d: *t") + "}\n"},
		{"json body", "      - post:\n          url: /\n          json: [" + aliasList(2000, "*t") + "]\n"},
		{"query and url", "      - get:\n          url: *t\n          qs: {" + aliasList(2000, "q%d: *t") + "}\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src := script(defaultPhases+"  variables: {a: 1, long: &t \""+long+"\"}\n", tt.step)
			if len(src) > 200_000 {
				t.Fatalf("the attack script is %d bytes; it should be small", len(src))
			}
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			got := parseErr(t, "x.yml", src)
			runtime.ReadMemStats(&after)
			if !strings.Contains(got, "more than 16 MiB of templates or 100000 {{ }} expressions") {
				t.Errorf("error = %.300s, want the template limit", got)
			}
			// Unbounded, this compiles 2000 × 10,000 expressions (GBs).
			if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 256<<20 {
				t.Errorf("refusing the script allocated %d MiB", alloc>>20)
			}
		})
	}
	// Under the limit, the same reuse is fine.
	src := script(defaultPhases+"  variables: {a: 1, long: &t \""+strings.Repeat("{{ a }}", 10)+"\"}\n",
		"      - get:\n          url: /\n          headers: {"+aliasList(100, "h%d: *t")+"}\n")
	if _, err := Parse("ok.yml", []byte(src), LoadOptions{}); err != nil {
		t.Errorf("100 uses of a short template: %v", err)
	}
}

// aliasList writes n comma-separated entries from format (which may use %d).
func aliasList(n int, format string) string {
	parts := make([]string, n)
	for i := range parts {
		if strings.Contains(format, "%d") {
			parts[i] = fmt.Sprintf(format, i)
		} else {
			parts[i] = format
		}
	}
	return strings.Join(parts, ", ")
}

// TestPhaseLimits is issue 13 item 7: limits that one form of a value
// respected and another bypassed, and sums that overflowed.
func TestPhaseLimits(t *testing.T) {
	many := func(n int, phase string) string {
		var b strings.Builder
		b.WriteString("  phases:\n")
		for range n {
			b.WriteString("    - " + phase + "\n")
		}
		return b.String()
	}
	step := "      - get: {url: /}\n"
	tests := []struct {
		name   string
		config string
		want   string
	}{
		{"count over 1ns beats the rate cap", "  phases: [{duration: \"1ns\", arrivalCount: 1000000000}]\n",
			`config.phases[0].arrivalCount: 1000000000 arrivals in 1ns is 1000000000000000000 per second, more than 1000000 (MaxArrivalRate)`},
		{"duration string past the numeric cap", "  phases: [{duration: \"2562047h\", arrivalRate: 1}]\n",
			`config.phases[0].duration: must be at most 8760h (365 days) (MaxDuration), got "2562047h"`},
		{"duration string past int64", "  phases: [{duration: \"99999999999h\", arrivalRate: 1}]\n",
			`config.phases[0].duration: must be at most 8760h (365 days) (MaxDuration), got "99999999999h"`},
		{"numeric duration past the cap", "  phases: [{duration: 1e9, arrivalRate: 1}]\n",
			`config.phases[0].duration: must be at most 8760h (365 days) (MaxDuration), got 1e9`},
		{"timeout past the cap in Artillery days", defaultPhases + "  http: {timeout: 400d}\n", `config.http.timeout: must be at most 8760h (365 days) (MaxDuration), got "400d"`},
		{"rate times duration", "  phases: [{duration: 3600, arrivalRate: 1000000}]\n",
			`config.phases[0]: schedules 3600000000 arrivals, more than 1000000000 (MaxPhaseArrivals)`},
		{"ramp times duration", "  phases: [{duration: 3600, arrivalRate: 0, rampTo: 1000000}]\n",
			`config.phases[0]: schedules 1800000000 arrivals`},
		{"too many phases", many(MaxPhases+1, "{duration: 1, arrivalRate: 1}"),
			`config.phases: must hold at most 1000 phases (MaxPhases), got 1001`},
		{"phases together too long", many(3, "{duration: 15000000, arrivalRate: 0.001}"),
			`config.phases: the phases together last 12500h, more than 8760h (365 days) (MaxDuration)`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := parseErr(t, "p.yml", script(tt.config, step)); !strings.Contains(got, tt.want) {
				t.Errorf("error = %.400s\nwant it to contain %s", got, tt.want)
			}
		})
	}
	// At the limits, scripts load.
	for _, config := range []string{
		many(MaxPhases, "{duration: 1, arrivalRate: 1}"),
		"  phases: [{duration: \"8760h\", arrivalRate: 0.01}]\n",
		"  phases: [{duration: 1000, arrivalRate: 1000000}]\n",
		"  phases: [{duration: 1000, arrivalCount: 1000000000}]\n",
		"  phases: [{duration: 60, vusers: 1000000}]\n", // the whole run; the runner splits it by process
	} {
		if _, err := Parse("ok.yml", []byte(script(config, step)), LoadOptions{}); err != nil {
			t.Errorf("%.60s: %v", config, err)
		}
	}
}

// TestScriptInputLimits is issue 13 item 8: no size cap on the script, and
// later YAML documents silently ignored.
func TestScriptInputLimits(t *testing.T) {
	big := []byte("config: {target: \"" + strings.Repeat("x", MaxScriptBytes) + "\"}\n")
	got := parseErr(t, "big.yml", string(big))
	if want := "big.yml: script too large: more than 4 MiB (MaxScriptBytes)"; !strings.HasPrefix(got, want) {
		t.Errorf("error = %q, want %q", got, want)
	}
	if _, err := os.Stat("/dev/zero"); err == nil {
		done := make(chan error, 1)
		go func() { _, err := Load("/dev/zero", LoadOptions{}); done <- err }()
		select {
		case err := <-done:
			if err == nil || !strings.Contains(err.Error(), "script too large") {
				t.Errorf("Load(/dev/zero) = %v", err)
			}
		case <-time.After(20 * time.Second):
			t.Fatal("Load(/dev/zero) still reading after 20 s")
		}
	}
	two := script(defaultPhases, "      - get: {url: /}\n") + "---\n" + script(defaultPhases, "      - get: {url: /x}\n")
	if got, want := parseErr(t, "two.yml", two), "two.yml:7:1: a script is one YAML document; a second one starts here (---)"; !strings.HasPrefix(got, want) {
		t.Errorf("error = %q, want it to start %q", got, want)
	}
	bad := script(defaultPhases, "      - get: {url: /}\n") + "---\n: [\n"
	if got := parseErr(t, "bad.yml", bad); !strings.Contains(got, "invalid YAML") {
		t.Errorf("a broken second document: %q", got)
	}
	// A trailing --- with nothing after it is harmless.
	if _, err := Parse("end.yml", []byte(script(defaultPhases, "      - get: {url: /}\n")+"---\n"), LoadOptions{}); err != nil {
		t.Errorf("trailing ---: %v", err)
	}
}

// TestPayloadLimits is issue 13 item 8: the CSV cap counted bytes only, so
// a file of tiny rows took gigabytes.
func TestPayloadLimits(t *testing.T) {
	dir := t.TempDir()
	write := func(name, data string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	rows := write("rows.csv", strings.Repeat("a\n", MaxPayloadRows+1))
	src := script(defaultPhases+"  payload: {path: rows.csv, fields: [f]}\n", "      - get: {url: \"/{{ f }}\"}\n")
	name := filepath.Join(dir, "s.yml")
	got := parseErr(t, name, src)
	if want := "payload " + rows + " has more than 1000000 rows (MaxPayloadRows)"; !strings.Contains(got, want) {
		t.Errorf("error = %q, want it to contain %q", got, want)
	}
	// With skipHeader, the header does not count as a row.
	src = script(defaultPhases+"  payload: {path: rows.csv, fields: [f], skipHeader: true}\n", "      - get: {url: \"/{{ f }}\"}\n")
	if s, err := Parse(name, []byte(src), LoadOptions{}); err != nil || len(s.Config.Payloads[0].Rows) != MaxPayloadRows {
		t.Errorf("exactly MaxPayloadRows rows after the header: %v", err)
	}
	// The byte cap, at a size a test can afford.
	small := csvLimits{bytes: 1 << 20, rows: MaxPayloadRows}
	long := write("long.csv", strings.Repeat("abcdefgh,", 200_000)+"\n")
	if _, err := readCSV(long, csvOptions{delim: ',', fromLine: 1}, small); err == nil || !strings.Contains(err.Error(), "is larger than 1 MiB (MaxPayloadBytes)") {
		t.Errorf("a 1.8 MB CSV under a 1 MiB cap: %v", err)
	}
	exact := write("exact.csv", strings.Repeat("abcdefg\n", (1<<20)/8))
	if got, err := readCSV(exact, csvOptions{delim: ',', fromLine: 1}, small); err != nil || len(got) != (1<<20)/8 {
		t.Errorf("a CSV of exactly the cap: %d rows, %v", len(got), err)
	}
}

// TestFormatLimitsTable keeps FORMAT.md's limits table equal to the
// constants: each row names its constant and shows its value.
func TestFormatLimitsTable(t *testing.T) {
	doc, err := os.ReadFile("FORMAT.md")
	if err != nil {
		t.Fatal(err)
	}
	mib := func(n int) string { return fmt.Sprintf("%d MiB", n>>20) }
	want := map[string]string{
		"MaxScriptBytes":         mib(MaxScriptBytes),
		"MaxYAMLNodes":           fmt.Sprint(MaxYAMLNodes),
		"MaxTemplateBytes":       mib(MaxTemplateBytes),
		"MaxTemplateExpressions": fmt.Sprint(MaxTemplateExpressions),
		"MaxNesting":             fmt.Sprint(MaxNesting),
		"MaxPhases":              fmt.Sprint(MaxPhases),
		"MaxDuration":            formatLimitDuration(MaxDuration),
		"MaxArrivalRate":         fmt.Sprintf("%d per second", MaxArrivalRate),
		"MaxPhaseArrivals":       fmt.Sprint(MaxPhaseArrivals),
		"MaxVUsers":              fmt.Sprint(MaxVUsers),
		"MaxProcessVUsers":       fmt.Sprint(MaxProcessVUsers),
		"MaxPayloadBytes":        mib(MaxPayloadBytes),
		"MaxPayloadRows":         fmt.Sprint(MaxPayloadRows),
		"MaxPool":                fmt.Sprint(MaxPool),
		"MaxRandomStringLength":  fmt.Sprint(MaxRandomStringLength),
		"MaxTemplateInteger":     fmt.Sprintf("±%d", MaxTemplateInteger),
	}
	seen := map[string]bool{}
	for _, line := range strings.Split(string(doc), "\n") {
		cells := strings.Split(line, "|")
		if len(cells) != 6 || !strings.HasPrefix(strings.TrimSpace(cells[3]), "`Max") {
			continue
		}
		name := strings.Trim(strings.TrimSpace(cells[3]), "`")
		value := strings.TrimSpace(cells[2])
		w, ok := want[name]
		switch {
		case !ok:
			t.Errorf("FORMAT.md lists %s, which this test does not know", name)
		case value != w:
			t.Errorf("FORMAT.md says %s is %q, the code says %q", name, value, w)
		}
		seen[name] = true
	}
	for name := range want {
		if !seen[name] {
			t.Errorf("FORMAT.md's limits table has no row for %s", name)
		}
	}
	// And every constant of limits.go is in the table.
	f, err := parser.ParseFile(token.NewFileSet(), "limits.go", nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range f.Decls {
		g, ok := d.(*ast.GenDecl)
		if !ok || g.Tok != token.CONST {
			continue
		}
		for _, spec := range g.Specs {
			for _, n := range spec.(*ast.ValueSpec).Names {
				if _, ok := want[n.Name]; !ok {
					t.Errorf("limits.go defines %s, which FORMAT.md's table does not list", n.Name)
				}
			}
		}
	}
}

// TestLayerAliasLimit: with -e, a layer's config is copied into the chosen
// environment, aliases resolved; a billion-laughs layer must stop at
// MaxYAMLNodes there too, as it does without -e, not expand in memory.
func TestLayerAliasLimit(t *testing.T) {
	var bomb strings.Builder
	bomb.WriteString("a: &a [lol,lol,lol,lol,lol,lol,lol,lol,lol]\n")
	prev := "a"
	for _, n := range []string{"b", "c", "d", "e", "f", "g", "h"} {
		bomb.WriteString(n + ": &" + n + " [" + strings.TrimSuffix(strings.Repeat("*"+prev+",", 9), ",") + "]\n")
		prev = n
	}
	indent := func(s, pad string) string {
		return pad + strings.ReplaceAll(strings.TrimSuffix(s, "\n"), "\n", "\n"+pad) + "\n"
	}
	src := "config:\n  target: http://127.0.0.1:8080\n" + defaultPhases +
		"  environments:\n    ci: {timeout: 1}\nscenarios:\n  - flow:\n      - get: {url: /}\n"
	for _, tc := range []struct {
		name string
		ly   Layer
	}{
		{"overrides", Layer{Name: "--overrides", Merge: MergeReplaceLists, Data: []byte("config:\n  variables:\n" + indent(bomb.String(), "    "))}},
		{"variables", Layer{Name: "--variables", Merge: MergeVariables, Data: []byte(bomb.String())}},
	} {
		for _, env := range []string{"", "ci"} {
			t.Run(tc.name+"/-e="+env, func(t *testing.T) {
				done := make(chan error, 1)
				go func() {
					_, err := Parse("s.yml", []byte(src), LoadOptions{Environment: env, Layers: []Layer{tc.ly}})
					done <- err
				}()
				select {
				case err := <-done:
					if err == nil || !strings.Contains(err.Error(), "MaxYAMLNodes") {
						t.Errorf("Parse = %v, want the MaxYAMLNodes error", err)
					}
				case <-time.After(20 * time.Second):
					t.Fatal("Parse still running after 20 s: the layer's aliases are being expanded")
				}
			})
		}
	}
}
