package cmd

import (
	"strings"
	"testing"
)

// TestRunIfTrue: a request's ifTrue, a filtrex expression over the user's
// variables ($loopCount among them, as in Artillery), decides whether it
// is sent, with Artillery's verdicts on text and unset variables (issue 18).
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
          capture: [{json: "$.results[0].id", as: id}, {json: "$.results[0]", as: first}]
      - get:
          url: "/items/{{ id }}"
          ifTrue: "id == 7"
          capture: {json: "$.name", as: name}
      - get: {url: /items/is-crate, ifTrue: 'name == "crate"'}
      - get: {url: /items/not-crate, ifTrue: 'name != "crate"'}
      - get: {url: /items/named, ifTrue: "name"}
      - get: {url: /items/unset-differs, ifTrue: 'nothing != "x"'}
      - get: {url: /items/unset-equals, ifTrue: 'nothing == "x"'}
      - get: {url: /items/one-of, ifTrue: 'name in ("box", "crate") and id > 2'}
      - get: {url: /items/never, ifTrue: "id > 7 or missing"}
      - get: {url: /items/matches, ifTrue: 'name ~= "^cr.te$"'}
      - get: {url: /items/no-match, ifTrue: 'name ~= "^box"'}
      - get: {url: /items/of, ifTrue: "id of first == 7"}
      - get: {url: /items/not-of, ifTrue: "id of first == 8 or name of first"}
      - loop:
          - get: {url: /items/loop, ifTrue: "$loopCount < limit"}
        count: 3
`)
	res := execRun(t, nil, nil, "", script)
	for path, want := range map[string]int{"GET /items": 3, "GET /items/7": 3, "GET /items/never": 0,
		"GET /items/is-crate": 3, "GET /items/not-crate": 0, "GET /items/named": 3, "GET /items/unset-differs": 3,
		"GET /items/unset-equals": 0, "GET /items/one-of": 3, "GET /items/loop": 6,
		"GET /items/matches": 3, "GET /items/no-match": 0, "GET /items/of": 3, "GET /items/not-of": 0} {
		if got := h.count(path); got != want {
			t.Errorf("%s: %d, want %d\n%s%s", path, got, want, res.out, res.errOut)
		}
	}
	bad := writeScript(t, "config:\n  target: \""+srv.URL+"\"\nscenarios:\n  - flow:\n      - get: {url: /items, ifTrue: \"name == `x`\"}\n")
	res = execRun(t, nil, nil, "", bad)
	if res.code == 0 || !strings.Contains(res.out+res.errOut, "get.ifTrue: column 9: a string is written in double quotes") {
		t.Errorf("exit %d:\n%s%s", res.code, res.out, res.errOut)
	}
}
