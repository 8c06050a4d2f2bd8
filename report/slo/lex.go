package slo

import (
	"fmt"
	"strconv"
	"strings"
)

// Ensure expressions are written in Artillery's language: Artillery puts
// every metric name of the run into the expression text and evaluates the
// result with filtrex 2.2. So a metric name is written bare whatever it
// holds (dots, dashes, slashes, spaces, parentheses):
//
//	plugins.metrics-by-endpoint.response_time./items/1 (one item).p95 < 300
//	vusers.created-vusers.completed < 5
//
// The lexer does the same with the names a run of the script could report:
// at each place a name may start it takes the longest name the catalogue
// knows (so http.response_time.p999 is not read as p99 followed by 9), and
// only then the shape of a word. Two more ways to name a metric are kept:
// filtrex's own quoted symbol 'name', and our metric("name").

// metricFunc is the function-like form that quotes any metric name.
const metricFunc = "metric"

// tokKind is the kind of one token.
type tokKind int

const (
	tEOF    tokKind = iota
	tNum            // a number literal
	tStr            // a "string" literal (ifTrue only); name holds its text
	tMetric         // a metric name, however it was written
	tFunc           // a function name, followed by "("
	tOp             // an operator or keyword: + - * / % ^ == != < <= > >= ? : and or not in, and in ifTrue ~= of
	tLParen
	tRParen
	tComma
)

// token is one lexeme; pos is its byte offset in the expression.
type token struct {
	kind tokKind
	text string  // as written
	num  float64 // tNum
	name string  // tMetric: the metric name
	pos  int
}

// lexer turns an expression into tokens, asking a catalogue where names end.
type lexer struct {
	src   string
	cat   *catalog
	toks  []token
	names []error // unknown metric names, all of them
}

// lex splits expression into tokens. A lexical problem (an unterminated
// quote, a character filtrex has no use for) is returned at once; unknown
// metric names are collected in lexer.names so that all are reported.
func lex(expression string, cat *catalog) (*lexer, error) {
	l := &lexer{src: expression, cat: cat}
	s := expression
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case c == ' ' || c == '\t' || c == '\r' || c == '\n':
			i++
		case isDigit(c):
			j, err := l.number(i)
			if err != nil {
				return nil, err
			}
			i = j
		case c == '\'':
			end, err := stringEnd(s, i)
			if err != nil {
				return nil, err
			}
			name, err := unquote(s[i:end])
			if err != nil {
				return nil, err
			}
			l.metric(name, s[i:end], i)
			i = end
		case c == '"' && cat.vars:
			end, err := stringEnd(s, i)
			if err != nil {
				return nil, err
			}
			text, err := filtrexString(s[i:end], i)
			if err != nil {
				return nil, err
			}
			l.emit(token{kind: tStr, text: s[i:end], name: text, pos: i})
			i = end
		case c == '`' && cat.vars:
			return nil, fmt.Errorf(`column %d: a string is written in double quotes ("ok"); single quotes name a variable ('name'), as in filtrex`, i+1)
		case c == '"' || c == '`':
			return nil, fmt.Errorf(`column %d: a string has no use in an ensure expression: metrics are numbers; write a metric name bare, or quote it as '%s' or %s("%s")`,
				i+1, "name", metricFunc, "name")
		case c == '{' && strings.HasPrefix(s[i:], "{{"):
			end := strings.Index(s[i:], "}}")
			t := s[i:]
			if end >= 0 {
				t = s[i : i+end+2]
			}
			return nil, fmt.Errorf("column %d: template %s was not rendered: an ensure expression can use --var names, $environment and $env.NAME/$processEnvironment.NAME that are set", i+1, t)
		case isNameStart(c):
			j, err := l.word(i)
			if err != nil {
				return nil, err
			}
			i = j
		default:
			j, err := l.punct(i)
			if err != nil {
				return nil, err
			}
			i = j
		}
	}
	l.toks = append(l.toks, token{kind: tEOF, pos: len(s)})
	return l, nil
}

func (l *lexer) emit(t token) { l.toks = append(l.toks, t) }

func (l *lexer) metric(name, text string, pos int) {
	if _, err := l.cat.classify(name); err != nil {
		l.names = append(l.names, err)
	}
	l.emit(token{kind: tMetric, text: text, name: name, pos: pos})
}

// number reads [0-9]+(.[0-9]+)?, as filtrex does, and an exponent, which
// filtrex lacks but a limit such as 1e-3 reads naturally.
func (l *lexer) number(i int) (int, error) {
	s := l.src
	j := digitsEnd(s, i)
	if j+1 < len(s) && s[j] == '.' && isDigit(s[j+1]) {
		j = digitsEnd(s, j+1)
	}
	if j < len(s) && (s[j] == 'e' || s[j] == 'E') {
		k := j + 1
		if k < len(s) && (s[k] == '+' || s[k] == '-') {
			k++
		}
		if k < len(s) && isDigit(s[k]) {
			j = digitsEnd(s, k)
		}
	}
	if j < len(s) && (isNameByte(s[j]) || s[j] == '.') {
		return 0, fmt.Errorf("column %d: %q is not a number (numbers are written like 250, 0.5 or 1e-3, without units)", i+1, s[i:wordEnd(s, i)])
	}
	v, err := strconv.ParseFloat(s[i:j], 64)
	if err != nil {
		return 0, fmt.Errorf("column %d: bad number %q", i+1, s[i:j])
	}
	l.emit(token{kind: tNum, text: s[i:j], num: v, pos: i})
	return j, nil
}

// word reads a metric name, a keyword, a function name or metric("...").
func (l *lexer) word(i int) (int, error) {
	s := l.src
	if end := l.cat.matchName(s, i); end > i {
		l.metric(s[i:end], s[i:end], i)
		return end, nil
	}
	j := nameEnd(s, i)
	w := s[i:j]
	call := !strings.Contains(w, ".") && strings.HasPrefix(s[skipSpace(s, j):], "(")
	switch {
	case w == metricFunc && call:
		name, end, err := metricCall(s, j)
		if err != nil {
			return 0, err
		}
		l.metric(name, s[i:end], i)
		return end, nil
	case w == "and" || w == "or" || w == "not" || w == "in":
		l.emit(token{kind: tOp, text: w, pos: i})
	case w == "of" && l.cat.vars:
		l.emit(token{kind: tOp, text: w, pos: i})
	case w == "of":
		return 0, fmt.Errorf("column %d: filtrex's \"of\" reads a property of an object; metrics are plain numbers", i+1)
	case call:
		l.emit(token{kind: tFunc, text: w, pos: i})
	case l.cat.vars:
		// filtrex's symbol: letters, digits, _, $ and dots.
		j = wordEnd(s, i)
		l.metric(s[i:j], s[i:j], i)
	default:
		// Not a name any run of the script reports: find how far the
		// writer meant it to go, for one useful message.
		end, err := l.unknownName(i, j)
		l.names = append(l.names, err)
		l.emit(token{kind: tMetric, text: s[i:end], name: s[i:end], pos: i})
		return end, nil
	}
	return j, nil
}

// unknownName explains an unknown word at s[i:j]. A per-endpoint name may
// hold spaces and operators, so for those the message takes the text up to
// the next comparison, where the writer most likely meant the name to end.
func (l *lexer) unknownName(i, j int) (int, error) {
	s := l.src
	w := s[i:j]
	switch strings.ToLower(w) {
	case "true", "false":
		return j, fmt.Errorf("unknown metric %q: ensure expressions have no booleans; a comparison is 1 when true and 0 when false", w)
	case "and", "or", "not", "in":
		return j, fmt.Errorf("unknown metric %q: keywords are lower case: %s", w, strings.ToLower(w))
	}
	if l.cat.isEndpointName(w) {
		end := len(s)
		if k := strings.IndexAny(s[j:], "<>=!,?:"); k >= 0 {
			end = j + k
		}
		if cand := strings.TrimRight(s[i:end], " \t\r\n)"); len(cand) > len(w) {
			w, j = cand, i+len(cand)
		}
	}
	if _, err := l.cat.classify(w); err != nil {
		return j, err
	}
	// A known name with more text glued to it.
	return j, fmt.Errorf("unknown metric %q", w)
}

// punct reads an operator or bracket.
func (l *lexer) punct(i int) (int, error) {
	s := l.src
	two := ""
	if i+2 <= len(s) {
		two = s[i : i+2]
	}
	switch two {
	case "==", "!=", "<=", ">=":
		l.emit(token{kind: tOp, text: two, pos: i})
		return i + 2, nil
	case "&&", "||":
		// Earlier primeload versions accepted them; recorded reports hold them.
		l.emit(token{kind: tOp, text: map[string]string{"&&": "and", "||": "or"}[two], pos: i})
		return i + 2, nil
	case "~=":
		if l.cat.vars {
			l.emit(token{kind: tOp, text: two, pos: i})
			return i + 2, nil
		}
		return 0, fmt.Errorf("column %d: filtrex's ~= matches text against a regular expression; metrics are numbers", i+1)
	}
	switch c := s[i]; c {
	case '+', '-', '*', '/', '%', '^', '<', '>', '?', ':':
		l.emit(token{kind: tOp, text: string(c), pos: i})
	case '(':
		l.emit(token{kind: tLParen, text: "(", pos: i})
	case ')':
		l.emit(token{kind: tRParen, text: ")", pos: i})
	case ',':
		l.emit(token{kind: tComma, text: ",", pos: i})
	case '=':
		return 0, fmt.Errorf("column %d: write == to compare", i+1)
	case '!':
		return 0, fmt.Errorf("column %d: write \"not\" instead of !", i+1)
	default:
		return 0, fmt.Errorf("column %d: unexpected %q (expressions use metric names, numbers, ( ), and, or, not, in, + - * / %% ^, comparisons and ? :)", i+1, string(rune(c)))
	}
	return i + 1, nil
}

func isNameStart(c byte) bool {
	return c == '_' || c == '$' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z'
}

func isNameByte(c byte) bool { return isNameStart(c) || isDigit(c) }

func isLetter(c byte) bool { return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' }

func digitsEnd(s string, i int) int {
	for i < len(s) && isDigit(s[i]) {
		i++
	}
	return i
}

func wordEnd(s string, i int) int {
	for i < len(s) && (isNameByte(s[i]) || s[i] == '.') {
		i++
	}
	return i
}

// nameEnd returns the end of the dotted word starting at i, the shape of a
// name the catalogue does not know. Segments after a dot may start with a
// digit (http.codes.500); a dash joins two letters (metrics-by-endpoint).
func nameEnd(s string, i int) int {
	j := i
	for j < len(s) {
		c := s[j]
		switch {
		case isNameByte(c):
			j++
		case c == '-' && j > i && isLetter(s[j-1]) && j+1 < len(s) && isLetter(s[j+1]):
			j++
		case c == '.' && j+1 < len(s) && isNameByte(s[j+1]):
			j++
		default:
			return j
		}
	}
	return j
}

// stringEnd returns the index just past the quoted text opening at i.
func stringEnd(s string, i int) (int, error) {
	q := s[i]
	for j := i + 1; j < len(s); j++ {
		switch {
		case s[j] == '\\' && q != '`':
			j++
		case s[j] == q:
			return j + 1, nil
		}
	}
	return 0, fmt.Errorf("column %d: unterminated quote", i+1)
}

// metricCall parses `("name")` at s[i:] (after the word metric) and returns
// the name and the index just past the closing parenthesis.
func metricCall(s string, i int) (string, int, error) {
	bad := fmt.Errorf(`%s(...) takes one quoted metric name, e.g. %s("http.codes.500")`, metricFunc, metricFunc)
	j := skipSpace(s, i)
	if j >= len(s) || s[j] != '(' {
		return "", 0, bad
	}
	j = skipSpace(s, j+1)
	if j >= len(s) || (s[j] != '"' && s[j] != '\'' && s[j] != '`') {
		return "", 0, bad
	}
	end, err := stringEnd(s, j)
	if err != nil {
		return "", 0, err
	}
	name, err := unquote(s[j:end])
	if err != nil {
		return "", 0, fmt.Errorf("%s: %w", metricFunc, err)
	}
	k := skipSpace(s, end)
	if k >= len(s) || s[k] != ')' {
		return "", 0, bad
	}
	return name, k + 1, nil
}

// filtrexString reads a double-quoted string: \" and \\ are its only
// escapes, as in filtrex, which rejects any other.
func filtrexString(lit string, pos int) (string, error) {
	var b strings.Builder
	for i := 1; i < len(lit)-1; i++ {
		if lit[i] == '\\' {
			i++
			if lit[i] != '"' && lit[i] != '\\' {
				return "", fmt.Errorf(`column %d: \%c is not an escape filtrex knows; a string may only escape \" and \\`, pos+i, lit[i])
			}
		}
		b.WriteByte(lit[i])
	}
	return b.String(), nil
}

func skipSpace(s string, i int) int {
	for i < len(s) && strings.IndexByte(" \t\r\n", s[i]) >= 0 {
		i++
	}
	return i
}

// unquote reads a quoted name. Single quotes follow filtrex (\' and \\ are
// the escapes); double quotes and backquotes follow Go.
func unquote(lit string) (string, error) {
	if lit[0] == '\'' {
		var b strings.Builder
		for i := 1; i < len(lit)-1; i++ {
			if lit[i] == '\\' && i+1 < len(lit)-1 && (lit[i+1] == '\'' || lit[i+1] == '\\') {
				i++
			}
			b.WriteByte(lit[i])
		}
		return b.String(), nil
	}
	s, err := strconv.Unquote(lit)
	if err != nil {
		return "", fmt.Errorf("bad quoted name %s", lit)
	}
	return s, nil
}
