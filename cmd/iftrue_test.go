package cmd

import (
	"strings"
	"testing"
)

// TestRunIfTrue: a request's ifTrue, a filtrex expression over the user's
// variables ($loopCount among them, as in Artillery), decides whether it
// is sent (issue 18).
func TestRunIfTrue(t *testing.T) {
	t.Parallel()
	var h hits
	srv := itemsServer(t, &h)
	script := writeScript(t, `config:
  target: "`+srv.URL+`"
  phases: [{duration: 1, arrivalCount: 3}]
  variables: {limit: "2"}
scenarios:
  - flow:
      - get:
          url: /items
          capture: {json: "$.results[0].id", as: id}
      - get: {url: "/items/{{ id }}", ifTrue: "id == 7"}
      - get: {url: /items/never, ifTrue: "id > 7 or missing"}
      - loop:
          - get: {url: /items/loop, ifTrue: "$loopCount < limit"}
        count: 3
`)
	res := execRun(t, nil, nil, "", script)
	for path, want := range map[string]int{"GET /items": 3, "GET /items/7": 3, "GET /items/never": 0, "GET /items/loop": 6} {
		if got := h.count(path); got != want {
			t.Errorf("%s: %d, want %d\n%s%s", path, got, want, res.out, res.errOut)
		}
	}
	bad := writeScript(t, "config:\n  target: \""+srv.URL+"\"\nscenarios:\n  - flow:\n      - get: {url: /items, ifTrue: \"name == \\\"x\\\"\"}\n")
	res = execRun(t, nil, nil, "", bad)
	if res.code == 0 || !strings.Contains(res.out+res.errOut, "get.ifTrue: column 9: strings are not supported in ifTrue") {
		t.Errorf("exit %d:\n%s%s", res.code, res.out, res.errOut)
	}
}
