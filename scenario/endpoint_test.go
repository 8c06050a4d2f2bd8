package scenario

import (
	"strings"
	"testing"
)

// TestEndpointName pins the names of Artillery's metrics-by-endpoint plugin;
// each want is what the plugin's naming (Node's url.parse, then
// decodeURIComponent) gives for the same input.
func TestEndpointName(t *testing.T) {
	t.Parallel()
	const target = "http://127.0.0.1:8080"
	var (
		none   = EndpointOptions{}
		strip  = EndpointOptions{StripQueryString: true}
		only   = EndpointOptions{UseOnlyRequestNames: true}
		ignore = EndpointOptions{IgnoreUnnamedRequests: true}
	)
	tests := []struct {
		o                 EndpointOptions
		target, url, name string
		want              string
	}{
		{none, target, "/items", "", "/items"},
		{none, target, "/items?page=2&q=a b", "", "/items?page=2&q=a b"},
		{strip, target, "/items?page=2", "", "/items"},
		{none, target, "/items/1", "one item", "/items/1 (one item)"},
		{only, target, "/items/1", "one item", "one item"},
		{ignore, target, "/items", "", ""},
		{ignore, target, "/items", "list", "/items (list)"},
		{none, target, "http://127.0.0.1:8080/abs", "", "/abs"},
		{none, target, "http://127.0.0.1:9090/abs?x=1", "", ":9090/abs?x=1"},
		{none, target, "http://LOCALHOST:8080/abs", "", "localhost/abs"},
		{none, target, "http://localhost/abs", "", "localhost/abs"},
		{none, target, "http://[::1]:8080/v6", "", "::1/v6"},
		{none, target, "https://user:pw@example.com:8443", "", "example.com:8443/"},
		{none, target, "/goods/{{ id }}/?x={{ $randomString() }}", "", "/goods/{{ id }}/?x={{ $randomString() }}"},
		{strip, target, "/dino/{{ $randomString() }}?potato=1&tomato=2", "GET /dino", "/dino/{{ $randomString() }} (GET /dino)"},
		{none, target, "/a%20b/%2F?q=%41", "", "/a b//?q=A"},
		{none, target, "/frag#x", "", "/frag"},
		{none, "http://127.0.0.1:8080/api", "/items", "", "/api/items"},
		{none, target, "http://127.0.0.1:8080?q=1", "", "/?q=1"},
		// The plugin throws on a malformed escape; primeload keeps it as written.
		{none, target, "/bad%zz", "", "/bad%zz"},
	}
	for _, tt := range tests {
		if got := tt.o.EndpointName(tt.target, tt.url, tt.name); got != tt.want {
			t.Errorf("%+v.EndpointName(%q, %q, %q) = %q, want %q", tt.o, tt.target, tt.url, tt.name, got, tt.want)
		}
	}
}

// TestEndpointOptionsLoad checks that the plugin's options are read and
// that metricsPrefix, which the plugin does not have, is refused with the
// option it most likely means.
func TestEndpointOptionsLoad(t *testing.T) {
	t.Parallel()
	script := func(opts string) string {
		return "config:\n  target: http://127.0.0.1:1\n  phases:\n    - duration: 1\n      arrivalRate: 1\n  plugins:\n    metrics-by-endpoint:\n" +
			opts + "scenarios:\n  - flow:\n      - get:\n          url: /items?x=1\n"
	}
	s, err := Parse("mbe.yml", []byte(script("      useOnlyRequestNames: true\n      stripQueryString: true\n      ignoreUnnamedRequests: true\n      groupDynamicURLs: false\n      metricsNamespace: plugins.metrics-by-endpoint\n")), LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	want := EndpointOptions{UseOnlyRequestNames: true, StripQueryString: true, IgnoreUnnamedRequests: true, RenderURLs: true}
	if got := s.Config.Plugins.Endpoints; got != want {
		t.Errorf("options %+v, want %+v", got, want)
	}
	if len(s.Endpoints) != 0 {
		t.Errorf("endpoints %q: an unnamed request under ignoreUnnamedRequests has none", s.Endpoints)
	}
	s, err = Parse("mbe.yml", []byte(script("      metricsNamespace: shop.api\n")), LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if got := s.Config.Plugins.Endpoints.Namespace; got != "shop.api" {
		t.Errorf("metricsNamespace: shop.api: Namespace %q, want shop.api", got)
	}
	_, err = Parse("mbe.yml", []byte(script("      metricsNamespace: http\n")), LoadOptions{})
	if err == nil || !strings.Contains(err.Error(), `metricsNamespace "http" would name endpoints like the built-in`) {
		t.Errorf("metricsNamespace: http: %v, want a refusal naming the clash", err)
	}
	_, err = Parse("mbe.yml", []byte(script("      metricsNamespace: \"  \"\n")), LoadOptions{})
	if err == nil || !strings.Contains(err.Error(), "mbe.yml:8:25: config.plugins.metrics-by-endpoint.metricsNamespace: metricsNamespace is empty") {
		t.Errorf("an empty metricsNamespace: %v, want a refusal naming its position", err)
	}
	_, err = Parse("mbe.yml", []byte(script("      metricsPrefix: shop\n")), LoadOptions{})
	if err == nil || !strings.Contains(err.Error(), "mbe.yml:8:7: config.plugins.metrics-by-endpoint.metricsPrefix:") || !strings.Contains(err.Error(), "did you mean metricsNamespace?") {
		t.Errorf("metricsPrefix: %v, want a refusal suggesting metricsNamespace", err)
	}
}
