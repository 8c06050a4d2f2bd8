package metric

import (
	"go/ast"
	"go/parser"
	"go/token"
	"slices"
	"strings"
	"testing"
)

// TestEveryNameListed fails when a metric name is declared in metric.go but
// missing from the list that the SLO catalogue reads, so adding a constant
// without listing it cannot leave the catalogue behind.
func TestEveryNameListed(t *testing.T) {
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, "metric.go", nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	// Prefixes and parts are matched as families, not listed.
	families := []string{"OtherEndpoint", "MaxEndpoints", "CodePrefix", "ErrorPrefix", "ErrExpectPrefix", "ExpectPrefix", "CreatedByNamePrefix", "EndpointPrefix", "EndpointResponseTime", "EndpointServerTiming", "EndpointCodes", "EndpointErrors", "DefaultNamespace"}
	listed := slices.Concat(Counters(), Rates(), Summaries(), ExtendedSummaries(), Errors())
	values := constValues()
	n := 0
	for _, d := range f.Decls {
		g, ok := d.(*ast.GenDecl)
		if !ok || g.Tok != token.CONST {
			continue
		}
		for _, s := range g.Specs {
			for _, id := range s.(*ast.ValueSpec).Names {
				if slices.Contains(families, id.Name) {
					continue
				}
				v, ok := values[id.Name]
				if !ok {
					t.Errorf("%s: constant %s is not in this test's table; add it", fset.Position(id.Pos()), id.Name)
					continue
				}
				n++
				if !slices.Contains(listed, v) {
					t.Errorf("%s: %s = %q is in no list (Counters, Rates, Summaries, ExtendedSummaries, Errors)", fset.Position(id.Pos()), id.Name, v)
				}
			}
		}
	}
	if n != len(listed) {
		t.Errorf("%d named constants, %d listed names: a list holds a name twice or one without a constant", n, len(listed))
	}
}

// constValues maps each constant's identifier to its value; the parser sees
// names, the compiler values, and this table ties the two.
func constValues() map[string]string {
	return map[string]string{
		"Requests": Requests, "Responses": Responses, "Downloaded": Downloaded,
		"VUsersCreated": VUsersCreated, "VUsersCompleted": VUsersCompleted, "VUsersFailed": VUsersFailed, "VUsersSkipped": VUsersSkipped,
		"ExpectOK": ExpectOK, "ExpectFailed": ExpectFailed, "Clamped": Clamped, "EndpointsFolded": EndpointsFolded,
		"RequestRate": RequestRate, "ResponseTime": ResponseTime, "ScheduleLag": ScheduleLag,
		"SessionLength": SessionLength, "ResponseTime2xx": ResponseTime2xx, "ResponseTime3xx": ResponseTime3xx,
		"ResponseTime4xx": ResponseTime4xx, "ResponseTime5xx": ResponseTime5xx,
		"HTTPDNS": HTTPDNS, "HTTPTCP": HTTPTCP, "HTTPTLS": HTTPTLS, "HTTPTotal": HTTPTotal,
		"ErrTimedOut": ErrTimedOut, "ErrConnRefused": ErrConnRefused, "ErrConnReset": ErrConnReset, "ErrPipe": ErrPipe,
		"ErrNotFound": ErrNotFound, "ErrHostUnreach": ErrHostUnreach, "ErrNetUnreach": ErrNetUnreach, "ErrProto": ErrProto,
		"ErrCert": ErrCert, "ErrRedirectLoop": ErrRedirectLoop, "ErrBodyTooLarge": ErrBodyTooLarge, "ErrDecodedTooLarge": ErrDecodedTooLarge, "ErrInvalidURL": ErrInvalidURL,
		"ErrUnknown": ErrUnknown, "ErrCaptureMiss": ErrCaptureMiss, "ErrProxy": ErrProxy, "ErrInvalidThink": ErrInvalidThink,
		"ErrNoEnt": ErrNoEnt,
	}
}

func TestErrorsArePrefixed(t *testing.T) {
	for _, e := range Errors() {
		if !strings.HasPrefix(e, ErrorPrefix) || e == ErrorPrefix {
			t.Errorf("%q: want %s<code>", e, ErrorPrefix)
		}
	}
}

func TestNames(t *testing.T) {
	tests := []struct{ got, want string }{
		{Code(200), "http.codes.200"},
		{EndpointLatency("GET /a"), "plugins.metrics-by-endpoint.response_time.GET /a"},
		{EndpointCode("GET /a.b", 503), "plugins.metrics-by-endpoint.GET /a.b.codes.503"},
	}
	for _, tt := range tests {
		if tt.got != tt.want {
			t.Errorf("got %q, want %q", tt.got, tt.want)
		}
	}
	for code, want := range map[string]bool{"200": true, "599": true, "099": false, "600": false, "20": false, "2x0": false} {
		if got := IsStatusCode(code); got != want {
			t.Errorf("IsStatusCode(%q) = %v, want %v", code, got, want)
		}
	}
}

// TestNamespace: only per-endpoint names move into a metricsNamespace, and
// FromNamespace undoes InNamespace; the default namespace changes nothing.
func TestNamespace(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct{ name, ns, want string }{
		{EndpointCode("/items", 200), "shop.api", "shop.api./items.codes.200"},
		{EndpointLatency("/a (one)"), "shop.api", "shop.api.response_time./a (one)"},
		{ResponseTime, "shop.api", ResponseTime},
		{Code(500), "shop.api", Code(500)},
		{EndpointCode("/items", 200), DefaultNamespace, EndpointCode("/items", 200)},
		{EndpointCode("/items", 200), "", EndpointCode("/items", 200)},
	} {
		got := InNamespace(tt.name, tt.ns)
		if got != tt.want {
			t.Errorf("InNamespace(%q, %q) = %q, want %q", tt.name, tt.ns, got, tt.want)
		}
		if back := FromNamespace(got, tt.ns); back != tt.name {
			t.Errorf("FromNamespace(%q, %q) = %q, want %q", got, tt.ns, back, tt.name)
		}
	}
}

// TestNamespaceClash: a namespace that built-in names start with, or that
// starts with a built-in family, is a clash; others are not.
func TestNamespaceClash(t *testing.T) {
	t.Parallel()
	for ns, clash := range map[string]bool{
		"http": true, "vusers": true, "errors": true, "plugins.expect": true, "http.codes.x": true,
		"http.response_time": true,
		"shop.api":           false, "plugins.mine": false, DefaultNamespace: false, "httpx": false,
	} {
		if got := NamespaceClash(ns) != ""; got != clash {
			t.Errorf("NamespaceClash(%q) = %q, want a clash: %v", ns, NamespaceClash(ns), clash)
		}
	}
}
