package runner_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/primeload/primeload/runner"
	"github.com/primeload/primeload/scenario"
)

// TestPayloadOnTheWire: what a server receives from CSV payloads, as
// Artillery sends it (issue 18): cast on by default, so id: "{{ id }}"
// is the JSON number 1; cast: false keeps "1"; loadAll binds the whole
// table, which a loop walks.
func TestPayloadOnTheWire(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, payload, flow string
		want                []string // distinct bodies received
	}{
		{"cast by default", "{path: rows.csv, fields: [id, sku], skipHeader: true, order: sequence}",
			`      - post: {url: /r, json: {id: "{{ id }}", sku: "{{ sku }}", tag: "n{{ id }}"}}`,
			[]string{`{"id":1,"sku":"A-1","tag":"n1"}`, `{"id":2,"sku":"B-2","tag":"n2"}`}},
		{"cast false", "{path: rows.csv, fields: [id, sku], skipHeader: true, cast: false}",
			`      - post: {url: /r, json: {id: "{{ id }}"}}`,
			[]string{`{"id":"1"}`, `{"id":"2"}`}},
		{"loadAll walked by a loop", "{path: rows.csv, fields: [id, sku], skipHeader: true, loadAll: true, name: rows}",
			"      - loop:\n          - post: {url: /r, json: {id: \"{{ $loopElement.id }}\"}}\n        over: rows",
			[]string{`{"id":1}`, `{"id":2}`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var bodies seen
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				b, _ := io.ReadAll(r.Body)
				bodies.add(string(b))
			}))
			t.Cleanup(srv.Close)
			dir := t.TempDir()
			if err := os.WriteFile(filepath.Join(dir, "rows.csv"), []byte("id,sku\n1,A-1\n2,B-2\n"), 0o600); err != nil {
				t.Fatal(err)
			}
			src := "config:\n  target: http://127.0.0.1:9\n  phases: [{duration: 0.2, arrivalCount: 6}]\n  payload: " + tt.payload +
				"\nscenarios:\n  - flow:\n" + tt.flow + "\n"
			script, err := scenario.Parse(filepath.Join(dir, "p.yml"), []byte(src), scenario.LoadOptions{})
			if err != nil {
				t.Fatal(err)
			}
			faultRun(t, script, srv.URL, runner.Options{})
			if got := bodies.distinct(); strings.Join(got, "\n") != strings.Join(tt.want, "\n") {
				t.Errorf("bodies:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(tt.want, "\n"))
			}
		})
	}
}
