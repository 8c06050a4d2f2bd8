package runner

import (
	"encoding/json"
	"strconv"

	"github.com/primeload/primeload/report/metric"
	"github.com/primeload/primeload/scenario"
	"github.com/valyala/fasthttp"
)

// match checks r's match entries as Artillery 2.0.34's captureOrMatch
// does: each expression is read as a capture, and its value must be
// identical (JavaScript's !==) to the rendered value. A strict mismatch
// counts "errors.Failed capture or match" and ends the flow (false); a
// non-strict one changes nothing.
func (v *vu) match(r *scenario.Request, resp *fasthttp.Response, body []byte, doc any) bool {
	docs := responseDocs{body: body, json: doc}
	for i := range r.Match {
		m := &r.Match[i]
		if v.matches(m, resp, &docs) || !m.Strict {
			continue
		}
		v.count(metric.ErrCaptureMiss, 1)
		v.e.samples.check(v.failureEndpoint(r), metric.ErrCaptureMiss, func() string {
			return "match " + captureLabel(&m.Capture) + " == " + m.Value.Render(&v.tc) + " failed: "
		}, resp, body)
		return false
	}
	return true
}

func (v *vu) matches(m *scenario.Match, resp *fasthttp.Response, docs *responseDocs) bool {
	c, err := m.Capture.Resolve(&v.tc)
	if err != nil {
		return false
	}
	got, ok := v.extract(c, resp, docs)
	if !ok {
		return false
	}
	want := m.Value.Value(&v.tc)
	switch m.ValueKind {
	case "number":
		want, _ = strconv.ParseFloat(m.Value.Render(&v.tc), 64)
	case "bool":
		want = m.Value.Render(&v.tc) == "true"
	}
	return jsIdentical(got, want)
}

// jsIdentical is JavaScript's === on decoded values: the same type and
// value; objects and arrays are never identical to a rendered value.
func jsIdentical(a, b any) bool {
	an, aNum := jsNumber(a)
	bn, bNum := jsNumber(b)
	switch {
	case aNum || bNum:
		return aNum && bNum && an == bn
	}
	switch x := a.(type) {
	case string:
		y, ok := b.(string)
		return ok && x == y
	case bool:
		y, ok := b.(bool)
		return ok && x == y
	case nil:
		return b == nil
	}
	return false
}

func jsNumber(v any) (float64, bool) {
	switch x := v.(type) {
	case json.Number:
		f, err := x.Float64()
		return f, err == nil
	case float64:
		return x, true
	case int:
		return float64(x), true
	case int64:
		return float64(x), true
	}
	return 0, false
}
