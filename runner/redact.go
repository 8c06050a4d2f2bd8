package runner

import (
	"regexp"
	"strconv"
	"strings"
)

// A trace is written to files and terminals people paste into issues, so
// credentials are taken out before an Exchange leaves the runner. What is
// kept says enough to debug with: a scheme, a cookie's name, a length ("0
// bytes" is the unset API_TOKEN that renders as "Bearer ").

// secretName matches a header, field or parameter name that holds a
// credential.
var secretName = regexp.MustCompile(`(?i)(authorization|password|passwd|secret|token|api[_-]?key|session|cookie|credential|signature)`)

// jwt matches a JSON Web Token anywhere in a text, one cut short after
// its payload too.
var jwt = regexp.MustCompile(`eyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{4,}(?:\.[A-Za-z0-9_-]*)?`)

// schemeToken matches an authorization scheme and what follows it: a
// credential (RFC 9110's token68, '=' only as padding at its end), or the
// name of an auth-param (realm="x"), which redactSchemeTokens tells apart.
var schemeToken = regexp.MustCompile(`(?i)\b(bearer|basic|token|digest|apikey)(\s+)[A-Za-z0-9._~+/-]+=*`)

// jsonSecret matches a JSON string member whose name holds a credential,
// its value cut short too: a traced body ends after TraceBodyBytes.
var jsonSecret = regexp.MustCompile(`(?i)("[A-Za-z0-9_.-]*(?:password|passwd|secret|token|api[_-]?key|session|credential)[A-Za-z0-9_.-]*"\s*:\s*)"(?:[^"\\]|\\.?)*(?:"|$)`)

// formSecret matches a query or form parameter whose name holds a
// credential, or such an auth-param with a quoted value (Token token="…"),
// its closing quote kept when there is one.
var formSecret = regexp.MustCompile(`(?i)((?:^|[?&;,\s])[A-Za-z0-9_.-]*(?:password|passwd|secret|token|api[_-]?key|session|credential)[A-Za-z0-9_.-]*=)(?:"[^"]*("?)|[^&\s"]*)`)

// redacted stands for a credential of n bytes.
func redacted(n int) string {
	return "[redacted, " + strconv.Itoa(n) + " bytes]"
}

// redactHeader returns a header with its credentials replaced: the whole
// value of a header named like one (keeping an authorization scheme and
// cookie names and attributes), and token-looking values in any header.
func redactHeader(name, value string) TraceHeader {
	switch {
	case strings.EqualFold(name, "Cookie"):
		value = redactCookies(value, -1)
	case strings.EqualFold(name, "Set-Cookie"):
		value = redactCookies(value, 1) // the attributes after the first are not secret
	case strings.EqualFold(name, "WWW-Authenticate") || strings.EqualFold(name, "Proxy-Authenticate"):
		// A challenge is a scheme and the server's parameters (realm,
		// scope, error, a Digest nonce), no credential of the user's;
		// only a token pasted into it is taken out.
		value = jwt.ReplaceAllLiteralString(value, "[redacted jwt]")
	case secretName.MatchString(name):
		if scheme, cred, ok := strings.Cut(value, " "); ok && !strings.ContainsAny(scheme, "=:") {
			value = scheme + " " + redacted(len(cred))
		} else {
			value = redacted(len(value))
		}
	default:
		value = redactText(value)
	}
	return TraceHeader{Name: name, Value: value}
}

// redactCookies replaces the values of the first n name=value pairs of a
// cookie header (all of them for n < 0).
func redactCookies(value string, n int) string {
	parts := strings.Split(value, ";")
	for i, p := range parts {
		if n >= 0 && i >= n {
			break
		}
		if name, val, ok := strings.Cut(p, "="); ok {
			parts[i] = name + "=" + redacted(len(val))
		}
	}
	return strings.Join(parts, ";")
}

// redactText replaces token-looking values in a URL, a body or a captured
// value: JSON Web Tokens, credentials after an authorization scheme, and
// JSON members and query or form parameters named like a credential.
func redactText(s string) string {
	s = jwt.ReplaceAllLiteralString(s, "[redacted jwt]")
	s = redactSchemeTokens(s)
	s = redactJSONSecrets(s)
	return formSecret.ReplaceAllStringFunc(s, func(m string) string {
		sub := formSecret.FindStringSubmatch(m)
		if strings.HasPrefix(m[len(sub[1]):], `"`) {
			return sub[1] + `"[redacted]` + sub[2]
		}
		return sub[1] + "[redacted]"
	})
}

// redactSchemeTokens replaces the credential after an authorization
// scheme. What ends in '=' followed by a value (a quote or a token
// character) is an auth-param's name, as in Bearer realm="example" or
// Bearer error=invalid_token, and is kept.
func redactSchemeTokens(s string) string {
	var b strings.Builder
	last := 0
	for _, m := range schemeToken.FindAllStringSubmatchIndex(s, -1) {
		end := m[1]
		if s[end-1] == '=' && end < len(s) && (s[end] == '"' || isTokenChar(s[end])) {
			continue
		}
		b.WriteString(s[last:m[5]]) // up to the credential, after the spaces
		b.WriteString("[redacted]")
		last = end
	}
	if last == 0 { // nothing replaced
		return s
	}
	b.WriteString(s[last:])
	return b.String()
}

// isTokenChar is RFC 9110's tchar.
func isTokenChar(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0
}

// redactJSONSecrets replaces the values of credential members. A match
// ends on its closing quote, which in a cut or garbled body
// (`"pw":""password":"x"`) is also the opening quote of the next member,
// so each search starts again at that quote rather than after it.
func redactJSONSecrets(s string) string {
	var b strings.Builder
	written, pos := 0, 0 // s[:written] is in b (0: no match yet); the next search starts at pos
	for pos < len(s) {
		loc := jsonSecret.FindStringSubmatchIndex(s[pos:])
		if loc == nil {
			break
		}
		end, nameEnd := pos+loc[1], pos+loc[3]
		b.WriteString(s[written:nameEnd]) // a quote shared with the last value is already out
		b.WriteString(`"[redacted]"`)
		written = end
		pos = end
		if s[end-1] == '"' && end-1 > nameEnd {
			pos = end - 1
		}
	}
	if written == 0 { // a match is never empty, so nothing matched
		return s
	}
	b.WriteString(s[written:])
	return b.String()
}
