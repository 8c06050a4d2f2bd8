package scenario

import (
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"unicode/utf8"
)

// This file writes Go values as text and JSON the way Artillery (being
// JavaScript) prints them, without going through encoding/json on the
// render path.

// Pairs is a YAML or JSON object with its keys in the order written.
type Pairs []KeyValue

// KeyValue is one entry of Pairs.
type KeyValue struct {
	Key   string
	Value any
}

// MarshalJSON writes the object keeping key order.
func (p Pairs) MarshalJSON() ([]byte, error) {
	dst := []byte{'{'}
	for i, kv := range p {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = append(dst, '"')
		dst = appendJSONEscaped(dst, kv.Key)
		dst = append(dst, '"', ':')
		b, err := json.Marshal(kv.Value)
		if err != nil {
			return nil, err
		}
		dst = append(dst, b...)
	}
	return append(dst, '}'), nil
}

// appendAny writes a value as text: strings as they are, numbers as
// JavaScript would print them, objects and lists as JSON, nil as nothing.
func appendAny(dst []byte, v any, esc bool) []byte {
	switch x := v.(type) {
	case nil:
		return dst
	case string:
		return appendText(dst, x, esc)
	case json.Number:
		return append(dst, x...)
	case int:
		return strconv.AppendInt(dst, int64(x), 10)
	case int64:
		return strconv.AppendInt(dst, x, 10)
	case uint64:
		return strconv.AppendUint(dst, x, 10)
	case float64:
		return appendFloat(dst, x)
	case bool:
		return strconv.AppendBool(dst, x)
	default:
		b, err := json.Marshal(x)
		if err != nil {
			return appendText(dst, fmt.Sprint(x), esc)
		}
		return appendText(dst, string(b), esc)
	}
}

// appendJSONAny writes a value as a JSON value of its own type.
func appendJSONAny(dst []byte, v any) []byte {
	switch x := v.(type) {
	case nil:
		return append(dst, "null"...)
	case string:
		dst = append(dst, '"')
		dst = appendJSONEscaped(dst, x)
		return append(dst, '"')
	case json.Number:
		if json.Valid([]byte(x)) {
			return append(dst, x...)
		}
		return appendJSONAny(dst, string(x))
	case int, int64, uint64, float64, bool:
		return appendAny(dst, x, false)
	default:
		b, err := json.Marshal(x)
		if err != nil {
			return appendJSONAny(dst, fmt.Sprint(x))
		}
		return append(dst, b...)
	}
}

// appendFloat formats like JavaScript and encoding/json: no exponent for
// ordinary magnitudes, integers without a fraction.
func appendFloat(dst []byte, f float64) []byte {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return append(dst, "null"...)
	}
	abs := math.Abs(f)
	format := byte('f')
	if abs != 0 && (abs < 1e-6 || abs >= 1e21) {
		format = 'e'
	}
	start := len(dst)
	dst = strconv.AppendFloat(dst, f, format, -1, 64)
	if format == 'e' {
		// 1e-07 -> 1e-7, as JavaScript prints it.
		n := len(dst)
		if n-start >= 4 && dst[n-4] == 'e' && dst[n-3] == '-' && dst[n-2] == '0' {
			dst[n-2] = dst[n-1]
			dst = dst[:n-1]
		}
	}
	return dst
}

func appendText(dst []byte, s string, esc bool) []byte {
	if !esc {
		return append(dst, s...)
	}
	return appendJSONEscaped(dst, s)
}

// appendJSONEscaped writes s escaped for the inside of a JSON string.
func appendJSONEscaped(dst []byte, s string) []byte {
	const hex = "0123456789abcdef"
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c >= 0x20 && c != '"' && c != '\\' && c < 0x80 {
			i++
			continue
		}
		if c >= 0x80 {
			r, size := utf8.DecodeRuneInString(s[i:])
			if r != utf8.RuneError || size != 1 {
				i += size
				continue
			}
			dst = append(dst, s[start:i]...)
			dst = append(dst, `\ufffd`...)
			i++
			start = i
			continue
		}
		dst = append(dst, s[start:i]...)
		switch c {
		case '"', '\\':
			dst = append(dst, '\\', c)
		case '\n':
			dst = append(dst, '\\', 'n')
		case '\r':
			dst = append(dst, '\\', 'r')
		case '\t':
			dst = append(dst, '\\', 't')
		default:
			dst = append(dst, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
		}
		i++
		start = i
	}
	return append(dst, s[start:]...)
}
