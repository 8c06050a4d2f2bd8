package runner

import (
	"bytes"
	"strconv"
	"strings"

	"github.com/PuerkitoBio/goquery"
	"github.com/antchfx/xmlquery"
	"github.com/antchfx/xpath"
	"github.com/primeload/primeload/scenario"
	"github.com/valyala/fasthttp"
)

// This file reads capture values out of a response, with the semantics of
// Artillery 2.0.34's engine_util (extractJSONPath, extractRegExp,
// extractHeader, extractCheerio).

// captureOutcome is what one capture read from a response.
type captureOutcome struct {
	c *scenario.Capture // the capture, its expression resolved
	// val is the value when defined; defined false is JavaScript's
	// undefined: nothing was found.
	val     any
	defined bool
	err     error // the templated expression did not compile
}

// failed reports a miss that fails the user: as Artillery's
// isCaptureFailed, nothing or an empty string under a strict capture.
func (o *captureOutcome) failed() bool {
	if !o.c.Strict {
		return false
	}
	return o.err != nil || !o.defined || o.val == ""
}

// responseDocs parses the body once per response, for whichever captures
// need it.
type responseDocs struct {
	body      []byte
	json      any // decoded by the caller when a capture or expect needs it
	xml       *xmlquery.Node
	xmlParsed bool
	html      *goquery.Document
	htmlRead  bool
}

// extractAll reads every capture of r from the response, in order; the
// flow's failure and the trace both use the outcomes, so a random pick is
// drawn once.
func (v *vu) extractAll(r *scenario.Request, resp *fasthttp.Response, body []byte, doc any) []captureOutcome {
	if len(r.Capture) == 0 {
		return nil
	}
	outs := make([]captureOutcome, len(r.Capture))
	docs := responseDocs{body: body, json: doc}
	for i := range r.Capture {
		c, err := r.Capture[i].Resolve(&v.tc)
		if err != nil {
			outs[i] = captureOutcome{c: &r.Capture[i], err: err}
			continue
		}
		val, ok := v.extract(c, resp, &docs)
		outs[i] = captureOutcome{c: c, val: val, defined: ok}
	}
	return outs
}

func (v *vu) extract(c *scenario.Capture, resp *fasthttp.Response, d *responseDocs) (any, bool) {
	switch c.Kind {
	case scenario.CaptureJSON:
		switch d.json.(type) {
		case map[string]any, []any:
			return c.JSON.Pick(d.json, v.tc.Rand)
		case nil:
			// Not JSON: Artillery's parse fails, the value is undefined.
			return nil, false
		}
		// A bare scalar document: extractJSONPath gives "".
		return "", true
	case scenario.CaptureHeader:
		return headerValue(resp, c.Expr), true
	case scenario.CaptureRegexp:
		return regexpValue(c, d.body)
	case scenario.CaptureXPath:
		if !d.xmlParsed {
			d.xmlParsed = true
			d.xml, _ = xmlquery.Parse(bytes.NewReader(d.body))
		}
		if d.xml == nil {
			return nil, false
		}
		return xpathValue(c.XPath, d.xml)
	case scenario.CaptureSelector:
		if !d.htmlRead {
			d.htmlRead = true
			d.html, _ = goquery.NewDocumentFromReader(bytes.NewReader(d.body))
		}
		if d.html == nil {
			return nil, false
		}
		return v.selectorValue(c, d.html)
	}
	return nil, false
}

// regexpValue is the first match: the whole match without group, else the
// group by number or name. No match gives "" (Artillery's extractRegExp);
// a group that took no part in the match is undefined.
func regexpValue(c *scenario.Capture, body []byte) (any, bool) {
	m := c.Regexp.FindSubmatchIndex(body)
	if m == nil {
		return "", true
	}
	g := 0
	if c.Group != "" {
		if n, err := strconv.Atoi(c.Group); err == nil {
			g = n
		} else {
			g = c.Regexp.SubexpIndex(c.Group)
		}
	}
	if g < 0 || 2*g+1 >= len(m) || m[2*g] < 0 {
		return nil, false
	}
	return string(body[m[2*g]:m[2*g+1]]), true
}

// headerValue is the header as Node.js gives it in response.headers,
// which Artillery reads: repeated headers joined with ", " ("; " for
// Cookie), Set-Cookie always a list, and for the headers Node keeps once
// the first value. The name matches in any case (Artillery's lookup of a
// mixed-case name finds nothing: a difference FORMAT.md states). A missing
// header gives "".
func headerValue(resp *fasthttp.Response, name string) any {
	if strings.EqualFold(name, "set-cookie") {
		var list []any
		// PeekAll folds cookies into one value; each is its own here.
		for _, c := range resp.Header.Cookies() {
			list = append(list, string(c))
		}
		if list == nil {
			return ""
		}
		return list
	}
	vals := resp.Header.PeekAll(name)
	switch {
	case len(vals) == 0:
		return ""
	case len(vals) == 1 || nodeSingleHeaders[strings.ToLower(name)]:
		return string(vals[0])
	}
	sep := ", "
	if strings.EqualFold(name, "cookie") {
		sep = "; "
	}
	parts := make([]string, len(vals))
	for i, b := range vals {
		parts[i] = string(b)
	}
	return strings.Join(parts, sep)
}

// nodeSingleHeaders are the headers whose repeats Node.js discards.
var nodeSingleHeaders = map[string]bool{
	"age": true, "authorization": true, "content-length": true, "content-type": true, "etag": true,
	"expires": true, "from": true, "host": true, "if-modified-since": true, "if-unmodified-since": true,
	"last-modified": true, "location": true, "max-forwards": true, "proxy-authorization": true,
	"referer": true, "retry-after": true, "server": true, "user-agent": true,
}

// xpathValue is the text of the first node selected (an attribute's value
// for an attribute), or the value of an expression that computes one
// (count(//item), string(//a/@href)). Nothing selected is undefined.
func xpathValue(e *xpath.Expr, doc *xmlquery.Node) (any, bool) {
	switch res := e.Evaluate(xmlquery.CreateXPathNavigator(doc)).(type) {
	case *xpath.NodeIterator:
		if res.MoveNext() {
			return res.Current().Value(), true
		}
		return nil, false
	case string, float64, bool:
		return res, true
	}
	return nil, false
}

// selectorValue picks one element as cheerio's $(selector) in Artillery
// does, by index (first, "last", "random" or a number), and reads its attr;
// without attr, all its attributes as an object. No element, or no such
// attribute, is undefined.
func (v *vu) selectorValue(c *scenario.Capture, doc *goquery.Document) (any, bool) {
	els := doc.FindMatcher(c.Selector)
	n := els.Length()
	i := 0
	switch c.Index {
	case "":
	case "random":
		if n > 0 {
			i = v.tc.Rand.IntN(n)
		}
	case "last":
		i = n - 1
	default:
		i, _ = strconv.Atoi(c.Index)
	}
	if i < 0 || i >= n {
		return nil, false
	}
	el := els.Get(i)
	if c.Attr == "" {
		attrs := make(map[string]any, len(el.Attr))
		for _, a := range el.Attr {
			if _, dup := attrs[a.Key]; !dup {
				attrs[a.Key] = a.Val
			}
		}
		return attrs, true
	}
	for _, a := range el.Attr {
		if strings.EqualFold(a.Key, c.Attr) {
			return a.Val, true
		}
	}
	return nil, false
}
