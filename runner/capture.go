package runner

import (
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
