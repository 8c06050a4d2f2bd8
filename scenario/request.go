package scenario

import (
	"strings"

	"go.yaml.in/yaml/v3"
)

// requestField is one key of a request step and how to read it. Adding a
// request key is one entry in requestFields and its read function.
type requestField struct {
	key string
	// body marks json, body and form: a request has at most one of them.
	body bool
	read func(l *loader, b *requestBuild, v *yaml.Node, path string)
}

// requestFields is every key a request step may have, in the order
// messages list them.
var requestFields = []requestField{
	{key: "url", read: (*loader).requestURL},
	{key: "name", read: (*loader).requestName},
	{key: "headers", read: func(l *loader, b *requestBuild, v *yaml.Node, path string) {
		b.r.Headers = l.headers(v, path, b.sc)
	}},
	{key: "qs", read: func(l *loader, b *requestBuild, v *yaml.Node, path string) {
		b.r.QS = l.params(v, path, b.sc)
	}},
	{key: "json", body: true, read: (*loader).requestJSON},
	{key: "body", body: true, read: func(l *loader, b *requestBuild, v *yaml.Node, path string) {
		b.r.Body = l.template(v, path, b.sc)
	}},
	{key: "form", body: true, read: func(l *loader, b *requestBuild, v *yaml.Node, path string) {
		b.r.Form = l.params(v, path, b.sc)
	}},
	{key: "formData", body: true, read: (*loader).requestFormData},
	{key: "setContentLengthHeader", read: func(l *loader, _ *requestBuild, v *yaml.Node, path string) {
		// primeload always sends a multipart body's Content-Length.
		l.boolean(v, path)
	}},
	{key: "auth", read: (*loader).requestAuth},
	{key: "cookie", read: func(l *loader, b *requestBuild, v *yaml.Node, path string) {
		b.r.Cookie = l.params(v, path, b.sc)
	}},
	{key: "followRedirect", read: func(l *loader, b *requestBuild, v *yaml.Node, path string) {
		b.r.FollowRedirect, _ = l.boolean(v, path)
	}},
	{key: "maxRedirects", read: func(l *loader, b *requestBuild, v *yaml.Node, path string) {
		// got takes any number; a fraction or a negative limit is a slip
		// (got reads -1 as 0 and 2.5 as 3).
		if c, ok := l.count(v, path, 0); ok {
			b.r.MaxRedirects = &c
		}
	}},
	{key: "gzip", read: func(l *loader, b *requestBuild, v *yaml.Node, path string) {
		b.r.Gzip, _ = l.boolean(v, path)
	}},
	{key: "capture", read: func(l *loader, b *requestBuild, v *yaml.Node, path string) {
		// Read in finish: captures are defined after the request, so its
		// own templates cannot read them.
		b.captureList = l.deref(v).Kind == yaml.SequenceNode
		b.captures = l.list(v, path, true)
	}},
	{key: "match", read: func(l *loader, b *requestBuild, v *yaml.Node, path string) {
		b.matchList = l.deref(v).Kind == yaml.SequenceNode
		b.matches = l.list(v, path, true)
		b.matchPath = path
	}},
	{key: "expect", read: func(_ *loader, b *requestBuild, v *yaml.Node, path string) {
		// Read in finish, after the captures: expectations see this
		// response's captures.
		b.expectN, b.expectPath = v, path
	}},
	{key: "think", read: func(l *loader, b *requestBuild, v *yaml.Node, path string) {
		b.r.Think, _ = l.duration(v, path)
	}},
	{key: "ifTrue", read: func(l *loader, b *requestBuild, v *yaml.Node, path string) {
		expr, ok := l.str(v, path)
		if !ok {
			return
		}
		if l.opts.Predicates == nil {
			l.errorf(l.deref(v), path, "ifTrue needs an expression compiler; this loader was given none")
			return
		}
		c, err := l.opts.Predicates(expr)
		if err != nil {
			l.errorf(l.deref(v), path, "%v (ifTrue is a filtrex expression over the user's variables, such as \"page < 3 and count > 0\")", err)
			return
		}
		b.r.IfTrue = c
	}},
	{key: "probability", read: func(l *loader, b *requestBuild, v *yaml.Node, path string) {
		p, ok := l.number(v, path, "a percentage from 0 to 100")
		if ok && (p < 0 || p > 100) {
			l.errorf(l.deref(v), path, "must be a percentage from 0 to 100, got %s", describe(l.deref(v)))
		}
		b.r.Probability, b.r.HasProbability = p, ok
	}},
}

// requestKeys are the keys of requestFields, for l.object.
var requestKeys = fieldKeys(requestFields)

func fieldKeys(fields []requestField) []string {
	keys := make([]string, len(fields))
	for i, f := range fields {
		keys[i] = f.key
	}
	return keys
}

// requestBuild is one request step while its keys are read; what depends on
// several keys is settled in finish.
type requestBuild struct {
	r           *Request
	sc          *scope
	urlN        *yaml.Node // the url scalar, for the default endpoint label
	bodies      []string   // the body keys written, in order
	captures    []*yaml.Node
	captureList bool
	matches     []*yaml.Node
	matchList   bool
	matchPath   string
	expectN     *yaml.Node
	expectPath  string
}

// request parses one get/post/... step. sc gains the step's captures.
func (l *loader) request(n *yaml.Node, path, method string, sc *scope) *Request {
	n = l.deref(n)
	b := &requestBuild{r: &Request{Method: method, FollowRedirect: true}, sc: sc}
	l.object(n, path, requestKeys, requestUnsupported, func(p pair, fp string) {
		for _, f := range requestFields {
			if f.key == p.key {
				if f.body {
					b.bodies = append(b.bodies, p.key)
				}
				f.read(l, b, p.v, fp)
				return
			}
		}
	})
	if n.Kind == yaml.MappingNode {
		l.finishRequest(n, path, b)
	}
	return b.r
}

// finishRequest checks what involves several keys, labels the endpoint and
// reads the captures and expectations.
func (l *loader) finishRequest(n *yaml.Node, path string, b *requestBuild) {
	r := b.r
	if b.urlN == nil {
		l.required(n, join(path, "url"), "is required: a path relative to config.target, or an absolute URL")
	}
	if len(b.bodies) > 1 {
		l.errorf(n, path, "a request has one body; this one has %s", strings.Join(b.bodies, " and "))
	}
	if b.urlN != nil {
		r.Endpoint = l.endpoints.opts.EndpointName(l.baseURL, b.urlN.Value, r.Name)
	}
	l.endpoints.add(r.Endpoint, r.Method)
	var captured []string
	for i, cn := range b.captures {
		cp := join(path, "capture")
		if b.captureList {
			cp = index(cp, i)
		}
		c, ok := l.capture(cn, cp, b.sc)
		if ok {
			r.Capture = append(r.Capture, c)
		}
		if c.As != "" {
			captured = append(captured, c.As)
		}
	}
	// Defined after all of them, as Artillery stores a response's captures
	// together; and even when a capture is wrong, so its one mistake is not
	// reported again at every use.
	for _, name := range captured {
		b.sc.define(name)
		l.captures = append(l.captures, name)
	}
	for i, mn := range b.matches {
		mp := b.matchPath
		if b.matchList {
			mp = index(mp, i)
		}
		if m, ok := l.match(mn, mp, b.sc); ok {
			r.Match = append(r.Match, m)
		}
	}
	if b.expectN != nil {
		// Checked either way, so a mistake shows before the plugin is on.
		r.Expect = l.expects(b.expectN, b.expectPath, b.sc)
		if !l.expectsChecked(b.expectN, b.expectPath) {
			r.Expect = nil
		}
	}
	if len(r.Expect) == 0 && l.expectOn && l.expectDefault200 && l.inSection == "" {
		// expectDefault200: a request without checks expects 200.
		r.Expect = []Expect{{Kind: ExpectStatusCode, Type: "statusCode", StatusCode: []int{200}, Pos: l.pos(n)}}
	}
}

func (l *loader) requestURL(b *requestBuild, v *yaml.Node, path string) {
	b.urlN = l.deref(v)
	b.r.URL = l.template(v, path, b.sc)
}

func (l *loader) requestName(b *requestBuild, v *yaml.Node, path string) {
	if name, ok := l.str(v, path); ok && strings.TrimSpace(name) == "" {
		l.errorf(l.deref(v), path, "must not be empty: it labels the endpoint in metrics")
	} else {
		b.r.Name = name
	}
}

// requestJSON compiles a json body, pointing an undefined name at the
// string that reads it.
func (l *loader) requestJSON(b *requestBuild, v *yaml.Node, path string) {
	plain := l.value(v, true, 0)
	if !l.chargeValue(l.deref(v), plain) {
		return
	}
	body, err := CompileValue(plain)
	if err != nil {
		l.errorf(l.deref(v), path, "%v", err)
		return
	}
	for _, ref := range body.Refs() {
		if !b.sc.has(ref) {
			rn, rp := l.findRef(v, ref, path)
			l.checkRefs(MustCompile("{{ "+ref+" }}"), rn, rp, b.sc)
		}
	}
	if l.opts.Env != nil {
		unset := false
		body.Templates(func(t *Template) { unset = unset || len(t.unsetEnv(l.opts.Env)) > 0 })
		if unset {
			l.eachTemplate(v, path, func(t *Template, n *yaml.Node, p string) bool {
				l.checkEnv(t, n, p)
				return true
			})
		}
	}
	if !b.sc.loopValues() {
		reported := false
		body.Templates(func(t *Template) {
			if _, ok := t.loopOffset(); ok && !reported {
				reported = true
				l.errorf(l.deref(v), path, "$loopCount and $loopElement only have a value inside a loop's steps, or after a loop")
			}
		})
	}
	b.r.JSON = body
}

func (l *loader) requestAuth(b *requestBuild, v *yaml.Node, path string) {
	auth := &Auth{}
	b.r.Auth = auth
	l.object(v, path, []string{"user", "pass"}, nil, func(p pair, fp string) {
		t := l.template(p.v, fp, b.sc)
		if p.key == "user" {
			auth.User = t
		} else {
			auth.Pass = t
		}
	})
	if auth.User == nil {
		auth.User = MustCompile("")
	}
	if auth.Pass == nil {
		auth.Pass = MustCompile("")
	}
}
