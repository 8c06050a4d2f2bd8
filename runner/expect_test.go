package runner

import (
	"net/http"
	"reflect"
	"strings"
	"testing"

	"github.com/primeload/primeload/report/metric"
	"github.com/primeload/primeload/scenario"
)

// expectServer answers /json with a JSON body and CDN hit headers, /text
// with plain text and a CDN miss.
func expectServer(t *testing.T) string {
	return serve(t, func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/json":
			w.Header().Set("Content-Type", "application/json; charset=utf-8")
			w.Header().Set("X-Cache", "Hit from cloudfront")
			w.Header().Add("X-Tag", "a")
			w.Header().Add("X-Tag", "b")
			w.Write([]byte(`{"data":{"items":[1,{"id":7}]},"a.b":true,"code":200}`))
		case "/text":
			w.Header().Set("Content-Type", "text/plain")
			w.Header().Set("Cf-Cache-Status", "MISS")
			w.Write([]byte(`{"not":"parsed"} order 42 shipped`))
		case "/missing":
			http.NotFound(w, r)
		}
	}).URL
}

// expectScript is one user getting path with the expect list under
// plugins.expect with opts, then /after.
func expectScript(t *testing.T, target, opts, path, expect string) *scenario.Script {
	t.Helper()
	src := `config:
  target: "` + target + `"
  variables: {want: 200, hdr: x-cache, num: "42"}
  plugins:
    expect: ` + opts + `
  phases: [{duration: 0.1, arrivalCount: 2}]
scenarios:
  - flow:
      - get:
          url: "` + path + `"
          name: checked
          expect:
` + expect + `
      - get: {url: /after}
`
	s, err := scenario.Parse("expect.yml", []byte(src), scenario.LoadOptions{})
	if err != nil {
		t.Fatalf("%v\n%s", err, src)
	}
	return s
}

// TestExpectChecks: each check of Artillery's expect plugin against a real
// response, with its per-type counter; a failure never stops the flow
// without reportFailuresAsErrors (issue 18).
func TestExpectChecks(t *testing.T) {
	t.Parallel()
	target := expectServer(t)
	tests := []struct {
		name, path, expect string
		typ                string
		ok                 bool
	}{
		{"status", "/json", "- statusCode: 200", "statusCode", true},
		{"status in a list", "/missing", "- statusCode: [200, 404]", "statusCode", true},
		{"status differs", "/missing", "- statusCode: 200", "statusCode", false},
		{"templated status", "/json", `- statusCode: "{{ want }}"`, "statusCode", true},
		{"templated status differs", "/missing", `- statusCode: ["{{ want }}", 201]`, "statusCode", false},
		{"not status", "/json", "- notStatusCode: 404", "notStatusCode", true},
		{"not status hit", "/missing", "- notStatusCode: [500, 404]", "notStatusCode", false},
		{"content type json", "/json", "- contentType: json", "contentType", true},
		{"json wanted, text sent", "/text", "- contentType: json", "contentType", false},
		{"content type is the whole header", "/json", "- contentType: application/json", "contentType", false},
		{"content type whole header, any case", "/json", "- contentType: Application/JSON; charset=utf-8", "contentType", true},
		{"content type text", "/text", "- contentType: text/plain", "contentType", true},
		{"nested property", "/json", "- hasProperty: data.items.1.id", "hasProperty", true},
		{"bracket property", "/json", "- hasProperty: 'data.items[1].id'", "hasProperty", true},
		{"dotted key", "/json", "- hasProperty: a.b", "hasProperty", true},
		{"missing property", "/json", "- hasProperty: data.nope", "hasProperty", false},
		{"property of a text body", "/text", "- hasProperty: not", "hasProperty", false},
		{"not has property", "/json", "- notHasProperty: data.nope", "notHasProperty", true},
		{"not has property, present", "/json", "- notHasProperty: data", "notHasProperty", false},
		{"not has property of text", "/text", "- notHasProperty: anything", "notHasProperty", false},
		{"has header", "/json", "- hasHeader: x-cache", "hasHeader", true},
		{"has header, any case", "/json", "- hasHeader: X-Cache", "hasHeader", true},
		{"lacks header", "/text", "- hasHeader: x-cache", "hasHeader", false},
		{"header equals", "/json", "- headerEquals: [x-cache, Hit from cloudfront]", "header x-cache values equals", true},
		{"repeated header joined", "/json", `- headerEquals: [x-tag, "a, b"]`, "header x-tag values equals", true},
		{"templated header name", "/json", `- headerEquals: ["{{ hdr }}", nope]`, "header x-cache values equals", false},
		{"equals", "/json", `- equals: ["{{ num }}", "42"]`, "equals", true},
		{"equals one value", "/json", `- equals: ["{{ num }}"]`, "equals", true},
		{"not equal", "/json", `- equals: ["{{ num }}", "41"]`, "equals", false},
		{"regexp on the body text", "/text", `- matchesRegexp: 'order \d+ shipped'`, "matchesRegexp", true},
		{"regexp on JSON text", "/json", `- matchesRegexp: '"id":7'`, "matchesRegexp", true},
		{"templated regexp", "/text", `- matchesRegexp: "order {{ num }}"`, "matchesRegexp", true},
		{"regexp misses", "/text", `- matchesRegexp: "^order"`, "matchesRegexp", false},
		{"cdn hit", "/json", "- cdnHit: true", "cdnHit", true},
		{"cdn miss wanted", "/text", "- cdnHit: false", "cdnHit", true},
		{"cdn hit wanted, miss sent", "/text", "- cdnHit: true", "cdnHit", false},
		{"no cache header", "/missing", "- cdnHit: false", "cdnHit", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			script := expectScript(t, target, "{}", tt.path, "            "+tt.expect)
			out, rec := run(t, script, Options{})
			wantOK, wantFail := int64(2), int64(0)
			if !tt.ok {
				wantOK, wantFail = 0, 2
			}
			got := [4]int64{rec.get(metric.ExpectOK), rec.get(metric.ExpectFailed), rec.get(metric.ExpectCheck(true, tt.typ)), rec.get(metric.ExpectCheck(false, tt.typ))}
			if want := [4]int64{wantOK, wantFail, wantOK, wantFail}; got != want {
				t.Errorf("ok, failed, ok.%[1]s, failed.%[1]s = %v, want %v (counters %v)", tt.typ, got, want, rec.snapshot())
			}
			if out.ExpectFailed != wantFail {
				t.Errorf("Outcome.ExpectFailed = %d, want %d", out.ExpectFailed, wantFail)
			}
			// Artillery reports a failed expectation and goes on.
			if rec.endpoints["/after"] != 2 || rec.get(metric.VUsersFailed) != 0 || out.Completed != 2 {
				t.Errorf("%d users reached /after, %d failed, %d completed; want 2, 0, 2", rec.endpoints["/after"], rec.get(metric.VUsersFailed), out.Completed)
			}
		})
	}
}

// TestExpectFailureModes: reportFailuresAsErrors ends the user with
// Artillery's error counter; expectDefault200 checks requests without
// expectations; without the plugin nothing is checked (issue 18).
func TestExpectFailureModes(t *testing.T) {
	t.Parallel()
	target := expectServer(t)
	tests := []struct {
		name, opts, path, expect string
		want                     map[string]int64
		after                    int
	}{
		{"failure goes on", "{}", "/missing", "            - statusCode: 200",
			map[string]int64{"plugins.expect.failed": 2, "vusers.completed": 2}, 2},
		{"reportFailuresAsErrors", "{reportFailuresAsErrors: true}", "/missing", "            - statusCode: 200",
			map[string]int64{"plugins.expect.failed": 2, "errors.Failed expectations for request /missing": 2, "vusers.failed": 2}, 0},
		{"reportFailuresAsErrors with request names", "{reportFailuresAsErrors: true, useOnlyRequestNames: true}", "/missing", "            - statusCode: 200",
			map[string]int64{"errors.Failed expectations for request checked": 2, "vusers.failed": 2}, 0},
		{"reportFailuresAsErrors, all held", "{reportFailuresAsErrors: true}", "/json", "            - statusCode: 200",
			map[string]int64{"plugins.expect.ok": 2, "vusers.completed": 2}, 2},
		{"expectDefault200 on a request without checks", "{expectDefault200: true}", "/missing", "            []",
			map[string]int64{"plugins.expect.failed.statusCode": 2, "plugins.expect.ok.statusCode": 2}, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, rec := run(t, expectScript(t, target, tt.opts, tt.path, tt.expect), Options{})
			got := map[string]int64{}
			for k := range tt.want {
				got[k] = rec.get(k)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("counters %v, want %v (all: %v)", got, tt.want, rec.snapshot())
			}
			if rec.endpoints["/after"] != tt.after {
				t.Errorf("%d users reached /after, want %d", rec.endpoints["/after"], tt.after)
			}
		})
	}
}

// TestExpectWithoutPlugin: expect without config.plugins.expect loads with
// a note and checks nothing, as Artillery ignores it (issue 18).
func TestExpectWithoutPlugin(t *testing.T) {
	t.Parallel()
	target := expectServer(t)
	src := "config:\n  target: \"" + target + "\"\n  phases: [{duration: 0.1, arrivalCount: 2}]\nscenarios:\n  - flow:\n" +
		"      - get: {url: /missing, expect: [{statusCode: 200}]}\n"
	s, err := scenario.Parse("off.yml", []byte(src), scenario.LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(s.Warnings) != 1 || !strings.Contains(s.Warnings[0].Error(), "off.yml:6:38: scenarios[0].flow[0].get.expect: not checked: config.plugins.expect is not configured") {
		t.Errorf("warnings = %v", s.Warnings)
	}
	out, rec := run(t, s, Options{})
	if rec.get(metric.ExpectFailed)+rec.get(metric.ExpectOK) != 0 || out.Completed != 2 {
		t.Errorf("ok %d, failed %d, completed %d; want nothing checked and 2 completed", rec.get(metric.ExpectOK), rec.get(metric.ExpectFailed), out.Completed)
	}
}

func TestPropertyPath(t *testing.T) {
	tests := []struct {
		in   string
		want []string
	}{
		{"a", []string{"a"}},
		{"a.b.0", []string{"a", "b", "0"}},
		{"a[0].b", []string{"a", "0", "b"}},
		{"a['b c'][2]", []string{"a", "b c", "2"}},
		{`["x"].y`, []string{"x", "y"}},
		{"a.", []string{"a", ""}},
	}
	for _, tt := range tests {
		if got := propertyPath(tt.in); !reflect.DeepEqual(got, tt.want) {
			t.Errorf("propertyPath(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}
