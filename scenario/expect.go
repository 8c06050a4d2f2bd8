package scenario

import (
	"regexp"
	"strings"

	"github.com/primeload/primeload/report/metric"

	"go.yaml.in/yaml/v3"
)

var (
	// expectKeys are the checks of Artillery's expect plugin (2.0.34).
	expectKeys        = metric.ExpectTypes()
	expectUnsupported = map[string]string{
		"jmespath": "jmespath expectations are not supported; use hasProperty, equals with a capture, or matchesRegexp",
		"jpath":    "jpath expectations are not supported; use hasProperty, equals with a capture, or matchesRegexp",
	}
	// The plugin's own options; formatter is outputFormat's older name.
	expectPluginKeys = []string{"outputFormat", "formatter", "reportFailuresAsErrors", "expectDefault200", "useOnlyRequestNames"}
	expectFormats    = []string{"pretty", "json", "prettyError", "silent"}
)

// expectPlugin reads config.plugins.expect's options.
func (l *loader) expectPlugin(n *yaml.Node, path string, o *ExpectOptions) {
	l.object(n, path, expectPluginKeys, nil, func(p pair, fp string) {
		switch p.key {
		case "reportFailuresAsErrors":
			o.ReportFailuresAsErrors, _ = l.boolean(p.v, fp)
		case "expectDefault200":
			o.ExpectDefault200, _ = l.boolean(p.v, fp)
		case "useOnlyRequestNames":
			o.UseOnlyRequestNames, _ = l.boolean(p.v, fp)
		case "outputFormat", "formatter":
			f, ok := l.str(p.v, fp)
			switch {
			case !ok:
			case !containsString(expectFormats, f):
				l.errorf(l.deref(p.v), fp, "must be one of %s, got %q", strings.Join(expectFormats, ", "), f)
			default:
				// Artillery prints every checked request in this format;
				// a load test would drown in it.
				l.warnf(p.k, fp, "has no effect: primeload prints no line per request; the summary lists each failed expectation "+
					"by endpoint with samples, and --trace N shows exchanges with each check's outcome")
			}
		}
	})
}

// expectsChecked reports whether a request's expectations are checked,
// noting once per script why they are not: Artillery checks them only
// with config.plugins.expect, and only in scenarios (the plugin does not
// run for before and after).
func (l *loader) expectsChecked(n *yaml.Node, path string) bool {
	switch {
	case !l.expectOn:
		if !l.expectOffNoted {
			l.expectOffNoted = true
			l.warnf(n, path, "not checked: config.plugins.expect is not configured, and Artillery checks expectations only with it; "+
				"add plugins: {expect: {}} to config, or to an environment chosen with -e, to check them")
		}
		return false
	case l.inSection != "":
		l.warnf(n, path, "not checked: Artillery's expect plugin checks the requests of scenarios, not of %s", l.inSection)
		return false
	}
	return true
}

// expects reads Artillery's expect list (- statusCode: 200), one check per
// item, or a mapping of several checks.
func (l *loader) expects(n *yaml.Node, path string, sc *scope) []Expect {
	v := l.deref(n)
	var entries []pair
	var paths []string
	if v.Kind == yaml.SequenceNode {
		for i, item := range v.Content {
			ps := l.pairs(item, index(path, i))
			if len(ps) > 1 {
				// Artillery reads only an item's first key; the others
				// would be ignored without a word.
				l.errorf(ps[1].k, join(index(path, i), ps[1].key), "one check per list item: Artillery checks only the first (%s); start a new item with -", ps[0].key)
				continue
			}
			for _, p := range ps {
				entries = append(entries, p)
				paths = append(paths, join(index(path, i), p.key))
			}
		}
	} else {
		for _, p := range l.pairs(v, path) {
			entries = append(entries, p)
			paths = append(paths, join(path, p.key))
		}
	}
	var out []Expect
	for i, p := range entries {
		fp := paths[i]
		if why, ok := expectUnsupported[p.key]; ok {
			l.errorf(p.k, fp, "%s", why)
			continue
		}
		if !containsString(expectKeys, p.key) {
			l.errorf(p.k, fp, "unknown expectation; valid: %s%s", strings.Join(expectKeys, ", "), didYouMean(p.key, expectKeys))
			continue
		}
		if e, ok := l.expect(p, fp, sc); ok {
			out = append(out, e)
		}
	}
	return out
}

// expect reads one check.
func (l *loader) expect(p pair, fp string, sc *scope) (Expect, bool) {
	e := Expect{Type: p.key, Pos: l.pos(p.k)}
	before := len(l.errs)
	switch p.key {
	case "statusCode", "notStatusCode":
		e.Kind = ExpectStatusCode
		if p.key == "notStatusCode" {
			e.Kind = ExpectNotStatusCode
		}
		codes := []*yaml.Node{p.v}
		if cv := l.deref(p.v); cv.Kind == yaml.SequenceNode {
			codes = cv.Content
		}
		for _, cn := range codes {
			if c := l.deref(cn); c.Kind == yaml.ScalarNode && strings.Contains(c.Value, "{{") {
				// Artillery renders the code, then compares it as a number.
				if t := l.template(c, fp, sc); t != nil {
					e.Codes = append(e.Codes, t)
				}
				continue
			}
			c, ok := l.count(cn, fp, 100)
			if ok && c > 599 {
				l.errorf(l.deref(cn), fp, "must be an HTTP status code from 100 to 599, got %d", c)
			}
			e.StatusCode = append(e.StatusCode, c)
		}
	case "contentType", "hasProperty", "notHasProperty", "hasHeader", "matchesRegexp":
		e.Kind = map[string]ExpectKind{"contentType": ExpectContentType, "hasProperty": ExpectHasProperty,
			"notHasProperty": ExpectNotHasProperty, "hasHeader": ExpectHasHeader, "matchesRegexp": ExpectMatchesRegexp}[p.key]
		e.Value = l.template(p.v, fp, sc)
		if s, ok := e.Value.static(); ok && e.Kind == ExpectMatchesRegexp {
			re, err := regexp.Compile(s)
			if err != nil {
				l.errorf(l.deref(p.v), fp, "invalid regular expression (Go's RE2 syntax, which has no lookaround or backreferences): %v", err)
			}
			e.Regexp = re
		}
	case "headerEquals":
		e.Kind = ExpectHeaderEquals
		items := l.list(p.v, fp, false)
		if len(items) != 2 && l.deref(p.v).Kind == yaml.SequenceNode {
			l.errorf(l.deref(p.v), fp, "must be a list of two: the header name and the value it must equal, such as [x-cache, HIT]")
			break
		}
		for j, it := range items {
			e.Equals = append(e.Equals, l.template(it, index(fp, j), sc))
		}
		if len(items) == 2 {
			e.Type = ""
			if name, ok := e.Equals[0].static(); ok {
				e.Type = HeaderEqualsType(name)
			}
		}
	case "equals":
		e.Kind = ExpectEquals
		items := l.list(p.v, fp, false)
		if len(items) == 0 && l.deref(p.v).Kind == yaml.SequenceNode {
			l.errorf(l.deref(p.v), fp, "needs at least one value")
		}
		for j, it := range items {
			e.Equals = append(e.Equals, l.template(it, index(fp, j), sc))
		}
	case "cdnHit":
		e.Kind = ExpectCdnHit
		e.CdnHit, _ = l.boolean(p.v, fp)
	}
	return e, len(l.errs) == before
}

// HeaderEqualsType is headerEquals' name in counters, as the expect plugin
// names it: "header x-cache values equals".
func HeaderEqualsType(name string) string { return metric.ExpectHeaderType(name) }

// static is Static for a template that may be nil (one that failed to load).
func (t *Template) static() (string, bool) {
	if t == nil {
		return "", false
	}
	return t.Static()
}
