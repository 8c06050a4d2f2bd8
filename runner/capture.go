package runner

import (
	"mime"
	"slices"
	"strconv"
	"strings"

	"github.com/primeload/primeload/report/metric"
	"github.com/primeload/primeload/scenario"
	"github.com/valyala/fasthttp"
)

// capture stores the response's captured values under their names, all
// together as Artillery does. A strict miss (nothing, or ""; see
// captureOutcome) counts "errors.Failed capture or match", stores none of
// them and ends the flow (false). A non-strict miss stores what Artillery
// stores: "" for regexp and header, undefined (the variable removed) for
// the others.
func (v *vu) capture(r *scenario.Request, outs []captureOutcome, resp *fasthttp.Response, body []byte) bool {
	for i := range outs {
		o := &outs[i]
		if o.failed() {
			v.count(metric.ErrCaptureMiss, 1)
			v.e.samples.check(v.failureEndpoint(r), metric.ErrCaptureMiss, func() string {
				why := ""
				if o.err != nil {
					why = o.err.Error() + ": "
				}
				return "capture " + captureLabel(o.c) + " failed: " + why
			}, resp, body)
			return false
		}
	}
	for i := range outs {
		o := &outs[i]
		if !o.defined {
			delete(v.tc.Vars, o.c.As)
			if v.captured != nil {
				delete(v.captured, o.c.As)
			}
			continue
		}
		v.tc.Vars[o.c.As] = o.val
		if v.captured != nil {
			v.captured[o.c.As] = o.val
		}
	}
	return true
}

// expect checks every expectation, counting plugins.expect.ok or
// plugins.expect.failed for each; any failure ends the flow (false).
func (v *vu) expect(r *scenario.Request, resp *fasthttp.Response, body []byte, doc any) bool {
	if len(r.Expect) == 0 {
		return true
	}
	okCount, failCount := 0, 0
	for i := range r.Expect {
		x := &r.Expect[i]
		if v.check(x, resp, doc) {
			okCount++
		} else {
			failCount++
			v.e.samples.check(v.failureEndpoint(r), metric.ExpectFailed, func() string { return "expect " + v.expectExpr(x) + " failed: " }, resp, body)
		}
	}
	if okCount > 0 {
		v.sink.Count(metric.ExpectOK, int64(okCount))
	}
	if failCount > 0 {
		v.sink.Count(metric.ExpectFailed, int64(failCount))
	}
	if failCount > 0 {
		v.e.expectFailed.Add(int64(failCount))
		return false
	}
	return true
}

func (v *vu) check(x *scenario.Expect, resp *fasthttp.Response, doc any) bool {
	switch x.Kind {
	case scenario.ExpectStatusCode:
		return slices.Contains(x.StatusCode, resp.StatusCode())
	case scenario.ExpectContentType:
		return contentTypeMatches(string(resp.Header.ContentType()), x.Value.Render(&v.tc))
	case scenario.ExpectHasProperty:
		return hasProperty(doc, x.Value.Render(&v.tc))
	case scenario.ExpectEquals:
		if len(x.Equals) == 0 {
			return true
		}
		first := x.Equals[0].Render(&v.tc)
		for _, t := range x.Equals[1:] {
			if t.Render(&v.tc) != first {
				return false
			}
		}
		return true
	}
	return false
}

// contentTypeMatches follows Artillery's expect plugin: "json" accepts any
// JSON media type (application/json, application/problem+json); anything
// else must equal the media type, parameters ignored.
func contentTypeMatches(header, want string) bool {
	mt, _, err := mime.ParseMediaType(header)
	if err != nil {
		mt = strings.TrimSpace(strings.ToLower(header))
	}
	if strings.EqualFold(want, "json") {
		return mt == "application/json" || strings.HasSuffix(mt, "+json")
	}
	wantMT, _, err := mime.ParseMediaType(want)
	if err != nil {
		wantMT = strings.ToLower(want)
	}
	return mt == wantMT
}

// hasProperty reports whether a dotted path ("data.items.0") exists in doc.
func hasProperty(doc any, path string) bool {
	if doc == nil {
		return false
	}
	cur := doc
	for part := range strings.SplitSeq(path, ".") {
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
