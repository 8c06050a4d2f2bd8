package slo

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// Metric names are full of dots, and some hold dashes, spaces and slashes,
// so they cannot be expr identifiers. Before compiling, bindNames replaces
// each metric reference with a plain variable (_m0, _m1, ...):
//
//   - a bare dotted name: http.response_time.p99, http.codes.500,
//     plugins.metrics-by-endpoint.response_time.login.p95 (a dash between two
//     letters belongs to the name, so subtraction needs spaces: a - b);
//   - a bare undotted word that is not an expr keyword or function, so that
//     p95 gets a "did you mean" instead of expr's "unknown name";
//   - metric("any name"), for names with spaces or other characters, such as
//     metric("plugins.metrics-by-endpoint.response_time.GET /api/goods-received/.p95").

// metricFunc is the function-like form that quotes any metric name.
const metricFunc = "metric"

// exprWords are identifiers that keep their expr meaning.
func exprWords() []string {
	return []string{
		"and", "or", "not", "in", "matches", "contains", "startsWith", "endsWith",
		"true", "false", "nil", "let", "if", "else",
	}
}

// binding is an expression with its metric names replaced by variables.
type binding struct {
	src   string   // the rewritten expression
	names []string // names[i] is bound to variable varName(i)
}

func varName(i int) string { return "_m" + strconv.Itoa(i) }

// bindNames rewrites expression into a binding, or reports a lexical problem
// such as an unterminated string.
func bindNames(expression string) (binding, error) {
	var b binding
	var out strings.Builder
	index := map[string]int{}
	bind := func(name string) {
		i, ok := index[name]
		if !ok {
			i = len(b.names)
			index[name] = i
			b.names = append(b.names, name)
		}
		out.WriteString(varName(i))
	}
	s := expression
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case c == '\'' || c == '"' || c == '`':
			end, err := stringEnd(s, i)
			if err != nil {
				return binding{}, err
			}
			out.WriteString(s[i:end])
			i = end
		case isDigit(c):
			j := numberEnd(s, i)
			out.WriteString(s[i:j])
			i = j
		case isNameStart(c):
			j := nameEnd(s, i)
			name := s[i:j]
			call := strings.HasPrefix(strings.TrimLeft(s[j:], " \t\r\n"), "(")
			switch {
			case name == metricFunc && call:
				quoted, end, err := metricCall(s, j)
				if err != nil {
					return binding{}, err
				}
				bind(quoted)
				j = end
			case !strings.Contains(name, ".") && (call || slices.Contains(exprWords(), name)):
				out.WriteString(name)
			case i > 0 && s[i-1] == '.':
				// A member after a call or index, e.g. foo().bar: not a metric.
				out.WriteString(name)
			default:
				bind(name)
			}
			i = j
		default:
			out.WriteByte(c)
			i++
		}
	}
	b.src = out.String()
	return b, nil
}

func isNameStart(c byte) bool {
	return c == '_' || c == '$' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z'
}

func isNameByte(c byte) bool { return isNameStart(c) || isDigit(c) }

func isLetter(c byte) bool { return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' }

// nameEnd returns the end of the dotted name starting at i. Segments after a
// dot may start with a digit (http.codes.500); a dash joins two letters.
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

// numberEnd returns the end of the number literal starting at i.
func numberEnd(s string, i int) int {
	j := i
	for j < len(s) {
		c := s[j]
		switch {
		case isDigit(c) || c == '_' || c == 'x' || c == 'X' || isHex(c):
			j++
		case c == '.' && j+1 < len(s) && isDigit(s[j+1]):
			j++
		case (c == '+' || c == '-') && (s[j-1] == 'e' || s[j-1] == 'E') && !strings.HasPrefix(s[i:], "0x"):
			j++
		default:
			return j
		}
	}
	return j
}

func isHex(c byte) bool { return 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F' }

// stringEnd returns the index just past the string literal opening at i.
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
	return 0, fmt.Errorf("unterminated string starting at column %d", i+1)
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

func skipSpace(s string, i int) int {
	for i < len(s) && strings.IndexByte(" \t\r\n", s[i]) >= 0 {
		i++
	}
	return i
}

// unquote reads a Go-style quoted string; single quotes may hold any text.
func unquote(lit string) (string, error) {
	if lit[0] == '\'' {
		lit = `"` + strings.ReplaceAll(strings.ReplaceAll(lit[1:len(lit)-1], `\'`, `'`), `"`, `\"`) + `"`
	}
	s, err := strconv.Unquote(lit)
	if err != nil {
		return "", fmt.Errorf("bad quoted name %s", lit)
	}
	return s, nil
}

// quoteName writes a metric name so that bindNames reads it back: bare when
// it lexes as one name, else in metric("...").
func quoteName(name string) string {
	if name != "" && isNameStart(name[0]) && nameEnd(name, 0) == len(name) &&
		strings.Contains(name, ".") && name != metricFunc {
		return name
	}
	return metricFunc + "(" + strconv.Quote(name) + ")"
}
