package runner

import (
	"bytes"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/primeload/primeload/report/metric"
	"github.com/primeload/primeload/scenario"
	"github.com/valyala/fasthttp"
)

// expect checks every expectation as Artillery's expect plugin does,
// counting plugins.expect.ok or .failed, and .ok.<type> or .failed.<type>,
// for each. A failure is reported and the flow goes on (true) unless the
// plugin's reportFailuresAsErrors is set: then the user ends with
// errors.Failed expectations for request <name> (false).
func (v *vu) expect(r *scenario.Request, resp *fasthttp.Response, body []byte, doc any) bool {
	if len(r.Expect) == 0 {
		return true
	}
	doc = expectDoc(resp, doc)
	okCount, failCount := 0, 0
	for i := range r.Expect {
		x := &r.Expect[i]
		ok := v.check(x, resp, body, doc)
		v.sink.Count(metric.ExpectCheck(ok, v.expectType(x)), 1)
		if ok {
			okCount++
			continue
		}
		failCount++
		code := metric.ExpectCheck(false, v.expectType(x))
		v.e.samples.check(v.failureEndpoint(r), code, func() string { return "expect " + v.expectExpr(x) + " failed: " }, resp, body)
	}
	if okCount > 0 {
		v.sink.Count(metric.ExpectOK, int64(okCount))
	}
	if failCount == 0 {
		return true
	}
	v.sink.Count(metric.ExpectFailed, int64(failCount))
	v.e.expectFailed.Add(int64(failCount))
	opts := &v.e.script.Config.Plugins.ExpectOptions
	if !opts.ReportFailuresAsErrors {
		return true
	}
	name := r.URL.Raw()
	if opts.UseOnlyRequestNames && r.Name != "" {
		name = r.Name
	}
	code := metric.ErrExpectPrefix + name
	v.sink.Count(code, 1)
	if v.endpoint != "" {
		v.sink.Count(metric.EndpointError(v.endpoint, code), 1)
	}
	return false
}

// expectDoc is the JSON body the expect plugin checks: parsed only when the
// response says it is JSON (application/json, problem+json or ld+json).
func expectDoc(resp *fasthttp.Response, doc any) any {
	if !jsonContentType(resp.Header.ContentType()) {
		return nil
	}
	return doc
}

func jsonContentType(ct []byte) bool {
	return bytes.Contains(ct, []byte("application/json")) || bytes.Contains(ct, []byte("application/problem+json")) ||
		bytes.Contains(ct, []byte("application/ld+json"))
}

// expectType is x's type in counters; a templated headerEquals name is
// rendered.
func (v *vu) expectType(x *scenario.Expect) string {
	if x.Type == "" && x.Kind == scenario.ExpectHeaderEquals && len(x.Equals) == 2 {
		return scenario.HeaderEqualsType(x.Equals[0].Render(&v.tc))
	}
	return x.Type
}

// check is one expectation on a response; doc is the JSON body or nil
// (expectDoc).
func (v *vu) check(x *scenario.Expect, resp *fasthttp.Response, body []byte, doc any) bool {
	tc := &v.tc
	switch x.Kind {
	case scenario.ExpectStatusCode:
		return v.statusIn(x, resp.StatusCode())
	case scenario.ExpectNotStatusCode:
		return !v.statusIn(x, resp.StatusCode())
	case scenario.ExpectContentType:
		ct := string(resp.Header.ContentType())
		want := x.Value.Render(tc)
		if want == "json" {
			return isObject(doc)
		}
		// The whole header, parameters included, as the plugin compares it.
		return ct != "" && strings.EqualFold(ct, want)
	case scenario.ExpectHasProperty:
		return isObject(doc) && hasProperty(doc, x.Value.Render(tc))
	case scenario.ExpectNotHasProperty:
		return isObject(doc) && !hasProperty(doc, x.Value.Render(tc))
	case scenario.ExpectHasHeader:
		return len(resp.Header.Peek(x.Value.Render(tc))) > 0
	case scenario.ExpectHeaderEquals:
		if len(x.Equals) != 2 {
			return false
		}
		vals := resp.Header.PeekAll(x.Equals[0].Render(tc))
		if len(vals) == 0 {
			return false
		}
		// Node joins a repeated header's values with ", ".
		return string(bytes.Join(vals, []byte(", "))) == x.Equals[1].Render(tc)
	case scenario.ExpectEquals:
		if len(x.Equals) == 0 {
			return true
		}
		first := x.Equals[0].Render(tc)
		for _, t := range x.Equals[1:] {
			if t.Render(tc) != first {
				return false
			}
		}
		return true
	case scenario.ExpectMatchesRegexp:
		re := x.Regexp
		if re == nil {
			var err error
			if re, err = regexp.Compile(x.Value.Render(tc)); err != nil {
				return false
			}
		}
		return re.Match(body)
	case scenario.ExpectCdnHit:
		return cdnHit(resp, x.CdnHit)
	}
	return false
}

// statusIn reports whether status is one of x's codes, literal or rendered.
func (v *vu) statusIn(x *scenario.Expect, status int) bool {
	if slices.Contains(x.StatusCode, status) {
		return true
	}
	for _, t := range x.Codes {
		if f, err := strconv.ParseFloat(strings.TrimSpace(t.Render(&v.tc)), 64); err == nil && f == float64(status) {
			return true
		}
	}
	return false
}

// cdnHit reads the cache headers of CloudFlare, CloudFront/Fastly and
// Vercel: a hit is a value starting with "hit" or "stale", a miss "miss".
func cdnHit(resp *fasthttp.Response, hit bool) bool {
	for _, h := range []string{"cf-cache-status", "x-cache", "x-vercel-cache"} {
		val := strings.ToLower(string(resp.Header.Peek(h)))
		if val == "" {
			continue
		}
		if hit && (strings.HasPrefix(val, "hit") || strings.HasPrefix(val, "stale")) || !hit && strings.HasPrefix(val, "miss") {
			return true
		}
	}
	return false
}

// isObject reports whether doc is a JSON object or array, what the
// plugin's property checks need.
func isObject(doc any) bool {
	switch doc.(type) {
	case map[string]any, []any:
		return true
	}
	return false
}

// hasProperty follows lodash's _.has, which the plugin uses: the whole
// path as one key first, then a path of keys and indexes ("data.items.0",
// "data.items[0]", "a['b c']").
func hasProperty(doc any, path string) bool {
	if m, ok := doc.(map[string]any); ok {
		if _, ok := m[path]; ok {
			return true
		}
	}
	cur := doc
	for _, part := range propertyPath(path) {
		switch x := cur.(type) {
		case map[string]any:
			next, ok := x[part]
			if !ok {
				return false
			}
			cur = next
		case []any:
			i, err := strconv.Atoi(part)
			if err != nil || i < 0 || i >= len(x) {
				return false
			}
			cur = x[i]
		default:
			return false
		}
	}
	return true
}

// propertyPath splits a lodash property path into its keys.
func propertyPath(path string) []string {
	var parts []string
	var cur strings.Builder
	for i := 0; i < len(path); i++ {
		switch c := path[i]; c {
		case '.':
			parts = append(parts, cur.String())
			cur.Reset()
		case '[':
			if cur.Len() > 0 || (i > 0 && path[i-1] != ']' && path[i-1] != '.') {
				parts = append(parts, cur.String())
				cur.Reset()
			}
			end := strings.IndexByte(path[i:], ']')
			if end < 0 {
				cur.WriteString(path[i:])
				i = len(path)
				continue
			}
			key := path[i+1 : i+end]
			if len(key) >= 2 && (key[0] == '\'' || key[0] == '"') && key[len(key)-1] == key[0] {
				key = key[1 : len(key)-1]
			}
			parts = append(parts, key)
			i += end
			if i+1 < len(path) && path[i+1] == '.' {
				i++
			}
		default:
			cur.WriteByte(c)
		}
	}
	if cur.Len() > 0 || len(parts) == 0 || path[len(path)-1] == '.' {
		parts = append(parts, cur.String())
	}
	return parts
}

// expectExpr names an expectation in a sentence: "statusCode 200, 201".
func (v *vu) expectExpr(x *scenario.Expect) string {
	tc := &v.tc
	var vals []string
	for _, c := range x.StatusCode {
		vals = append(vals, strconv.Itoa(c))
	}
	for _, t := range x.Codes {
		vals = append(vals, t.Render(tc))
	}
	if x.Value != nil {
		vals = append(vals, x.Value.Render(tc))
	}
	for _, t := range x.Equals {
		vals = append(vals, t.Render(tc))
	}
	switch x.Kind {
	case scenario.ExpectCdnHit:
		vals = append(vals, strconv.FormatBool(x.CdnHit))
	case scenario.ExpectHeaderEquals:
		return v.expectType(x) + " " + strings.Join(vals[min(1, len(vals)):], ", ")
	}
	return x.Type + " " + strings.Join(vals, ", ")
}
