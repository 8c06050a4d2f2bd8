package scenario

import (
	"bufio"
	"errors"
	"os"
	"regexp"
	"strings"
	"testing"
)

// keyStatuses are the statuses of FORMAT.md's key table: Artillery's keys
// are supported (same meaning), supported with a documented difference, or
// refused with the reason; primeload's own keys are marked as such.
var keyStatuses = map[string]bool{"supported": true, "difference": true, "refused": true, "primeload": true}

// formatKeys reads FORMAT.md's "Every key" table: key -> status.
func formatKeys(t *testing.T) map[string]string {
	t.Helper()
	f, err := os.Open("FORMAT.md")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	row := regexp.MustCompile("^\\| `([^`]+)` \\| ([a-z]+) \\|")
	keys := map[string]string{}
	in := false
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		if strings.HasPrefix(line, "## ") {
			in = line == "## Every key"
			continue
		}
		if !in || !strings.HasPrefix(line, "| `") {
			continue
		}
		m := row.FindStringSubmatch(line)
		if m == nil || !keyStatuses[m[2]] {
			t.Errorf("FORMAT.md:%d: want | `key` | supported, difference, refused or primeload | why |, got %q", n, line)
			continue
		}
		if _, dup := keys[m[1]]; dup {
			t.Errorf("FORMAT.md:%d: %s is listed twice", n, m[1])
		}
		keys[m[1]] = m[2]
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if len(keys) == 0 {
		t.Fatal(`FORMAT.md has no "## Every key" table`)
	}
	return keys
}

// artilleryKey is one line of testdata/artillery/keys.txt.
type artilleryKey struct {
	key, example string
	line         int
}

func artilleryKeys(t *testing.T) []artilleryKey {
	t.Helper()
	data, err := os.ReadFile("testdata/artillery/keys.txt")
	if err != nil {
		t.Fatal(err)
	}
	var keys []artilleryKey
	for i, line := range strings.Split(string(data), "\n") {
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		f := strings.Split(line, "\t")
		if len(f) != 3 {
			t.Fatalf("keys.txt:%d: want key, source and example separated by tabs, got %q", i+1, line)
		}
		keys = append(keys, artilleryKey{key: f[0], example: f[2], line: i + 1})
	}
	return keys
}

// keyBase is the script each example is laid over.
const keyBase = `config:
  target: http://127.0.0.1:1
  phases: [{duration: 1, arrivalRate: 1}]
scenarios:
  - flow:
      - get: {url: /}
`

// anyPredicate holds always: the key test checks that ifTrue loads, not
// what it means.
type anyPredicate struct{}

func (anyPredicate) Holds(func(string) any) bool { return true }

var listIndex = regexp.MustCompile(`\[\d+\]`)

// TestFormatListsEveryArtilleryKey: every key Artillery 2.0.34 accepts
// (testdata/artillery/keys.txt, from its Joi check and its published
// schema) has a row in FORMAT.md's key table, and the loader agrees with
// the row: a supported key's example loads, a refused key's example is
// refused at that key (issue 18).
func TestFormatListsEveryArtilleryKey(t *testing.T) {
	rows := formatKeys(t)
	seen := map[string]bool{}
	for _, k := range artilleryKeys(t) {
		seen[k.key] = true
		status, ok := rows[k.key]
		if !ok {
			t.Errorf("keys.txt:%d: %s has no row in FORMAT.md's key table", k.line, k.key)
			continue
		}
		if status == "primeload" {
			t.Errorf("keys.txt:%d: %s is Artillery's, FORMAT.md marks it primeload's own", k.line, k.key)
		}
		_, err := Parse("testdata/artillery/keys.yml", []byte(keyBase), LoadOptions{
			Layers: []Layer{{Name: "example", Data: []byte(k.example), Merge: MergeReplaceLists}},
			// ifTrue's grammar is report/slo's (tested there), which this
			// package cannot import; any expression compiles here.
			Predicates: func(string) (Predicate, error) { return anyPredicate{}, nil },
		})
		refusedHere := false
		var list ErrorList
		if errors.As(err, &list) {
			for _, e := range list {
				f := listIndex.ReplaceAllString(e.Field, "[]")
				if f == k.key || strings.HasPrefix(f, k.key+".") || strings.HasPrefix(f, k.key+"[") {
					refusedHere = true
				}
			}
		}
		switch {
		case status == "refused" && !refusedHere:
			t.Errorf("keys.txt:%d: FORMAT.md says %s is refused, but the loader does not refuse it (error: %v)", k.line, k.key, err)
		case status != "refused" && err != nil:
			t.Errorf("keys.txt:%d: FORMAT.md says %s is %s, but its example %s is refused:\n%v", k.line, k.key, status, k.example, err)
		}
	}
	for key, status := range rows {
		if status != "primeload" && !seen[key] {
			t.Errorf("FORMAT.md lists %s as Artillery's (%s), but keys.txt does not: add it there with its source and an example", key, status)
		}
	}
}

// TestFormatListsEveryLoaderKey: every key the loader reads has a row in
// FORMAT.md's key table, so nothing it accepts goes undocumented.
func TestFormatListsEveryLoaderKey(t *testing.T) {
	rows := formatKeys(t)
	lists := []struct {
		prefix string
		keys   []string
	}{
		{"config.", configKeys},
		{"config.phases[].", phaseKeys},
		{"config.http.", httpKeys},
		{"config.http.defaults.", defaultsKeys},
		{"config.defaults.", defaultsKeys},
		{"config.payload.", payloadKeys},
		{"config.tls.", tlsKeys},
		{"config.ensure.", ensureKeys},
		{"config.plugins.", pluginKeys},
		{"config.plugins.expect.", expectPluginKeys},
		{"config.plugins.metrics-by-endpoint.", metricsPluginKeys},
		{"scenarios[].", scenarioKeys},
		{"scenarios[].flow[].", stepKeys},
		{"scenarios[].flow[].get.capture.", captureKeys},
		{"scenarios[].flow[].get.expect.", expectKeys},
	}
	for _, l := range lists {
		for _, k := range l.keys {
			if _, ok := rows[l.prefix+k]; !ok {
				t.Errorf("the loader reads %s%s, which FORMAT.md's key table does not list", l.prefix, k)
			}
		}
	}
	for _, k := range requestKeys {
		_, get := rows["scenarios[].flow[].get."+k]
		_, post := rows["scenarios[].flow[].post."+k]
		if !get && !post {
			t.Errorf("the loader reads request key %s, which FORMAT.md's key table does not list (as get.%s or post.%s)", k, k, k)
		}
	}
}
