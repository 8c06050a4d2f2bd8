package runner_test

import (
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/primeload/primeload/runner"
)

// seen collects what a test server saw, from its handler goroutines.
type seen struct {
	mu   sync.Mutex
	list []string
}

func (s *seen) add(v string) {
	s.mu.Lock()
	s.list = append(s.list, v)
	s.mu.Unlock()
}

// distinct is what was seen, sorted, each once.
func (s *seen) distinct() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Compact(slices.Sorted(slices.Values(s.list)))
}

// captureServer answers the capture sources and records what each
// /echo request carried: the v query field, the p query field and the X-V
// header, "-" for one that was not sent.
type captureServer struct{ echoes seen }

func (s *captureServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	switch r.URL.Path {
	case "/json":
		w.Header().Set("Content-Type", "application/json")
		w.Write([]byte(`{"items":[{"id":1},{"id":2},{"id":3}],"result":[{"name":"alpha"}],"empty":"","some-key":"dash"}`))
	case "/html":
		w.Write([]byte(`<html><body><a class="p" href="/p/1">one</a><a class="p" href="/p/2">two</a></body></html>`))
	case "/xml":
		w.Header().Set("Content-Type", "application/xml")
		w.Write([]byte(`<r><item id="7">seven</item></r>`))
	case "/text":
		w.Header().Add("X-Multi", "a")
		w.Header().Add("X-Multi", "b")
		w.Header().Add("Set-Cookie", "a=1")
		w.Header().Add("Set-Cookie", "b=2; Path=/")
		w.Write([]byte(`token=abc123; user=bob`))
	case "/echo":
		field := func(vals []string, ok bool) string {
			if !ok {
				return "-"
			}
			return vals[0]
		}
		q := r.URL.Query()
		v, vok := q["v"]
		p, pok := q["p"]
		h, hok := r.Header["X-V"]
		s.echoes.add("v=" + field(v, vok) + " p=" + field(p, pok) + " h=" + field(h, hok))
	}
}

// TestCaptureSemantics drives each capture form against a real server and
// asserts what the next request carried, as Artillery 2.0.34 sends it
// (issue 18): the whole regexp match without group, a random pick among
// several JSONPath matches, jsonpath-plus's dotted index, templated
// expressions, Node's header joining, cheerio's selector and index, XPath,
// and a non-strict miss left undefined (member and header left out,
// "undefined" in text) or "" as Artillery stores it.
func TestCaptureSemantics(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		from    string // the path captured from
		capture string // the capture entry's keys, one flow-style mapping
		users   int
		want    []string // distinct echoes
		misses  int64    // errors.Failed capture or match
	}{
		{"regexp without group is the whole match", "/text", `{regexp: "token=\\w+", as: v}`, 3, []string{"v=token=abc123 p=[token=abc123] h=token=abc123"}, 0},
		{"regexp group by number", "/text", `{regexp: "token=(\\w+)", group: 1, as: v}`, 3, []string{"v=abc123 p=[abc123] h=abc123"}, 0},
		{"regexp group by name", "/text", `{regexp: "user=(?<u>\\w+)", group: u, as: v}`, 3, []string{"v=bob p=[bob] h=bob"}, 0},
		{"regexp flags", "/text", `{regexp: "TOKEN=(\\w+)", flags: i, group: 1, as: v}`, 3, []string{"v=abc123 p=[abc123] h=abc123"}, 0},
		{"regexp non-strict miss stores empty text", "/text", `{regexp: "zzz", strict: false, as: v}`, 3, []string{"v= p=[] h="}, 0},
		{"regexp strict miss", "/text", `{regexp: "zzz", as: v}`, 3, nil, 3},
		{"jsonpath random pick", "/json", `{json: "$.items[*].id", as: v}`, 30, []string{"v=1 p=[1] h=1", "v=2 p=[2] h=2", "v=3 p=[3] h=3"}, 0},
		{"jsonpath-plus dotted index", "/json", `{json: "$.result.0.name", as: v}`, 3, []string{"v=alpha p=[alpha] h=alpha"}, 0},
		{"jsonpath-plus dashed name without $", "/json", `{json: "some-key", as: v}`, 3, []string{"v=dash p=[dash] h=dash"}, 0},
		{"templated jsonpath", "/json", `{json: "$.items[{{ idx }}].id", as: v}`, 3, []string{"v=2 p=[2] h=2"}, 0},
		{"json non-strict miss is undefined", "/json", `{json: "$.nope", strict: false, as: v}`, 3, []string{"v=- p=[undefined] h=-"}, 0},
		{"json strict miss", "/json", `{json: "$.nope", as: v}`, 3, nil, 3},
		{"json empty string is a strict miss", "/json", `{json: "$.empty", as: v}`, 3, nil, 3},
		{"json from a body that is not JSON", "/text", `{json: "$.id", as: v}`, 3, nil, 3},
		{"header non-strict miss stores empty text", "/text", `{header: x-nope, strict: false, as: v}`, 3, []string{"v= p=[] h="}, 0}, // extractHeader's ''
		{"header strict miss", "/text", `{header: x-nope, as: v}`, 3, nil, 3},
		{"header repeats joined as Node joins them", "/text", `{header: x-multi, as: v}`, 3, []string{"v=a, b p=[a, b] h=a, b"}, 0},
		{"set-cookie is a list", "/text", `{header: Set-Cookie, as: v}`, 3, []string{`v=["a=1","b=2; Path=/"] p=[["a=1","b=2; Path=/"]] h=["a=1","b=2; Path=/"]`}, 0},
		{"selector attr and last", "/html", `{selector: "a.p", index: last, attr: href, as: v}`, 3, []string{"v=/p/2 p=[/p/2] h=/p/2"}, 0},
		{"selector without attr gives the attributes", "/html", `{selector: "a.p", as: v}`, 3, []string{`v={"class":"p","href":"/p/1"} p=[{"class":"p","href":"/p/1"}] h={"class":"p","href":"/p/1"}`}, 0},
		{"selector random", "/html", `{selector: "a.p", index: random, attr: href, as: v}`, 30, []string{"v=/p/1 p=[/p/1] h=/p/1", "v=/p/2 p=[/p/2] h=/p/2"}, 0},
		{"selector non-strict miss", "/html", `{selector: "a.p", attr: title, strict: false, as: v}`, 3, []string{"v=- p=[undefined] h=-"}, 0},
		{"xpath attribute", "/xml", `{xpath: "//item/@id", as: v}`, 3, []string{"v=7 p=[7] h=7"}, 0},
		{"xpath element text", "/xml", `{xpath: "//item", as: v}`, 3, []string{"v=seven p=[seven] h=seven"}, 0},
		{"xpath computed value", "/xml", `{xpath: "count(//item)", as: v}`, 3, []string{"v=1 p=[1] h=1"}, 0},
		{"xpath strict miss", "/xml", `{xpath: "//nope", as: v}`, 3, nil, 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			cs := &captureServer{}
			srv := httptest.NewServer(cs)
			t.Cleanup(srv.Close)
			script := parseScript(t, `config:
  target: "http://127.0.0.1:9"
  phases:
    - duration: 0.2
      arrivalCount: `+strconv.Itoa(tt.users)+`
  variables:
    idx: 1
scenarios:
  - flow:
      - get:
          url: "`+tt.from+`"
          capture:
            - `+tt.capture+`
      - get:
          url: "/echo"
          qs:
            v: "{{ v }}"
            p: "[{{ v }}]"
          headers:
            X-V: "{{ v }}"
`)
			_, rep := faultRun(t, script, srv.URL, runner.Options{})
			if got := cs.echoes.distinct(); strings.Join(got, "\n") != strings.Join(tt.want, "\n") {
				t.Errorf("echoes:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(tt.want, "\n"))
			}
			if got := rep.Aggregate.Counters["errors.Failed capture or match"]; got != tt.misses {
				t.Errorf("capture misses = %d, want %d", got, tt.misses)
			}
		})
	}
}
