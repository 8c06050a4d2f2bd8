package scenario

import (
	"net/url"
	"strings"
)

// EndpointOptions are the options of Artillery's metrics-by-endpoint plugin
// (config.plugins.metrics-by-endpoint), which decide how a request is named
// in per-endpoint metrics. primeload records those metrics whether or not
// the plugin is configured, as Artillery does.
type EndpointOptions struct {
	// UseOnlyRequestNames names a named request by its name alone.
	UseOnlyRequestNames bool
	// StripQueryString drops the query string from the URL path.
	StripQueryString bool
	// IgnoreUnnamedRequests records no per-endpoint metrics for requests
	// without a name.
	IgnoreUnnamedRequests bool
	// RenderURLs names a request by its rendered URL and name, one endpoint
	// per distinct value (groupDynamicURLs: false); by default a request is
	// named by its URL template, so /items/{{ id }} is one endpoint.
	RenderURLs bool
	// Namespace is metricsNamespace when it is not Artillery's default
	// (metric.DefaultNamespace): the report files and ensure expressions
	// name per-endpoint metrics under it; "" for the default.
	Namespace string
}

// EndpointName names a request as the plugin does: the URL's path, with its
// query unless StripQueryString, led by the host (and port) when they
// differ from target's, then " (name)" for a named request, or the name
// alone with UseOnlyRequestNames. rawURL is relative to target when it
// starts with "/". An unnamed request under IgnoreUnnamedRequests gives "":
// no per-endpoint metrics.
func (o EndpointOptions) EndpointName(target, rawURL, name string) string {
	if name != "" && o.UseOnlyRequestNames {
		return name
	}
	if name == "" && o.IgnoreUnnamedRequests {
		return ""
	}
	if strings.HasPrefix(rawURL, "/") {
		rawURL = target + rawURL
	}
	host, port, path, query := splitURL(rawURL)
	thost, tport, _, _ := splitURL(target)
	var b strings.Builder
	if host != "" && target != "" && host != thost {
		b.WriteString(host)
	}
	if port != "" && target != "" && port != tport {
		b.WriteString(":" + port)
	}
	b.WriteString(path)
	if !o.StripQueryString {
		b.WriteString(query)
	}
	base := b.String()
	// The plugin decodes %XX escapes (decodeURIComponent); a malformed one
	// stays as written.
	if d, err := url.PathUnescape(base); err == nil {
		base = d
	}
	if name == "" {
		return base
	}
	return base + " (" + name + ")"
}

// splitURL takes a URL apart as Node's url.parse does for naming: the
// lower-cased host name without brackets, the explicit port, the path ("/"
// for an absolute URL without one) and the query with its "?". The fragment
// is dropped. A URL without a scheme is all path.
func splitURL(s string) (host, port, path, query string) {
	if i := strings.IndexByte(s, '#'); i >= 0 {
		s = s[:i]
	}
	rest := s
	if i := strings.Index(s, "://"); i > 0 && isScheme(s[:i]) {
		auth := s[i+3:]
		rest = ""
		if j := strings.IndexAny(auth, "/?"); j >= 0 {
			auth, rest = auth[:j], auth[j:]
		}
		if j := strings.LastIndexByte(auth, '@'); j >= 0 {
			auth = auth[j+1:]
		}
		host = auth
		if strings.HasPrefix(auth, "[") {
			if j := strings.IndexByte(auth, ']'); j >= 0 {
				host = auth[1:j]
				port = strings.TrimPrefix(auth[j+1:], ":")
			}
		} else if j := strings.LastIndexByte(auth, ':'); j >= 0 {
			host, port = auth[:j], auth[j+1:]
		}
		host = strings.ToLower(host)
		if rest == "" || rest[0] == '?' {
			rest = "/" + rest
		}
	}
	path = rest
	if i := strings.IndexByte(rest, '?'); i >= 0 {
		path, query = rest[:i], rest[i:]
	}
	return host, port, path, query
}

func isScheme(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(isLetterByte(c) || i > 0 && (c >= '0' && c <= '9' || c == '+' || c == '-' || c == '.')) {
			return false
		}
	}
	return true
}

func isLetterByte(c byte) bool { return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' }

// endpointSet collects the endpoints a script names, in flow order.
type endpointSet struct {
	opts    EndpointOptions
	list    []string
	methods map[string][]string
}

func (s *endpointSet) add(name, method string) {
	if name == "" {
		return
	}
	if s.methods == nil {
		s.methods = map[string][]string{}
	}
	ms, seen := s.methods[name]
	if !seen {
		s.list = append(s.list, name)
	}
	if !containsString(ms, method) {
		s.methods[name] = append(ms, method)
	}
}
