package slo

import (
	"encoding/json"
	"math"
	"strconv"
	"strings"
	"unicode/utf16"
)

// value is a JavaScript value as filtrex 2.2's compiled code computes with
// it. Ensure expressions only ever hold numbers; ifTrue reads a user's
// variables, which may be text, booleans, lists or objects, or not set.
type value struct {
	k   jsKind
	n   float64 // kNum, kBool (0 or 1)
	s   string  // kStr
	raw any     // kList ([]any), kObj
}

type jsKind uint8

const (
	kUndef jsKind = iota // a variable not set
	kNull
	kBool
	kNum
	kStr
	kList
	kObj
)

func numValue(f float64) value { return value{k: kNum, n: f} }

func boolValue(b bool) value { return value{k: kNum, n: num(b)} }

// jsValue converts a variable as the runner holds it to what JavaScript
// would hold after Artillery's capture or payload. A JSON null is nil here
// too, so it reads as undefined (null == undefined, so == agrees).
func jsValue(v any) value {
	switch x := v.(type) {
	case nil:
		return value{k: kUndef}
	case float64:
		return numValue(x)
	case int:
		return numValue(float64(x))
	case int64:
		return numValue(float64(x))
	case json.Number:
		f, _ := x.Float64()
		return numValue(f)
	case bool:
		return value{k: kBool, n: num(x)}
	case string:
		return value{k: kStr, s: x}
	case []any:
		return value{k: kList, raw: x}
	case []string:
		l := make([]any, len(x))
		for i, s := range x {
			l[i] = s
		}
		return value{k: kList, raw: l}
	}
	return value{k: kObj, raw: v}
}

// number is JavaScript's Number(v).
func (v value) number() float64 {
	switch v.k {
	case kNum, kBool:
		return v.n
	case kNull:
		return 0
	case kStr:
		return strNumber(v.s)
	case kList, kObj:
		return strNumber(v.primitive().s)
	}
	return math.NaN()
}

// strNumber is Number(s) for a string: blank is 0, decimal or 0x, 0o, 0b
// integers and Infinity are read, anything else is NaN.
func strNumber(s string) float64 {
	s = strings.TrimSpace(s)
	if s == "" {
		return 0
	}
	switch strings.TrimLeft(s, "+-") {
	case "Infinity":
		if s[0] == '-' {
			return math.Inf(-1)
		}
		return math.Inf(1)
	}
	if len(s) > 2 && s[0] == '0' && strings.ContainsRune("xXoObB", rune(s[1])) {
		if n, err := strconv.ParseUint(s, 0, 64); err == nil {
			return float64(n)
		}
		return math.NaN()
	}
	// Go's ParseFloat also takes inf, nan, hex floats and underscores,
	// which JavaScript does not.
	if strings.ContainsAny(s, "iInN_xXpP") {
		return math.NaN()
	}
	if f, err := strconv.ParseFloat(s, 64); err == nil || errorsIsRange(err) {
		return f
	}
	return math.NaN()
}

func errorsIsRange(err error) bool {
	ne, ok := err.(*strconv.NumError)
	return ok && ne.Err == strconv.ErrRange
}

// str is JavaScript's String(v).
func (v value) str() string {
	switch v.k {
	case kUndef:
		return "undefined"
	case kNull:
		return "null"
	case kBool:
		return strconv.FormatBool(v.n == 1)
	case kNum:
		return jsNumberString(v.n)
	case kStr:
		return v.s
	}
	return v.primitive().s
}

// primitive is JavaScript's ToPrimitive for a list (its elements joined
// with commas, null and undefined as empty) or an object; other values are
// already primitive.
func (v value) primitive() value {
	switch v.k {
	case kList:
		l := v.raw.([]any)
		parts := make([]string, len(l))
		for i, e := range l {
			if e != nil {
				parts[i] = jsValue(e).str()
			}
		}
		return value{k: kStr, s: strings.Join(parts, ",")}
	case kObj:
		return value{k: kStr, s: "[object Object]"}
	}
	return v
}

// jsNumberString formats a number as JavaScript's String(n) does for the
// values people compare: integers without exponent below 1e21.
func jsNumberString(f float64) string {
	switch {
	case math.IsNaN(f):
		return "NaN"
	case math.IsInf(f, 1):
		return "Infinity"
	case math.IsInf(f, -1):
		return "-Infinity"
	case f == 0:
		return "0"
	}
	if a := math.Abs(f); a >= 1e21 || a < 1e-6 {
		s := strconv.FormatFloat(f, 'e', -1, 64)
		// Go writes 1e+21 and 1e-07; JavaScript 1e+21 and 1e-7.
		mant, exp, _ := strings.Cut(s, "e")
		sign := exp[0]
		exp = strings.TrimLeft(exp[1:], "0")
		return mant + "e" + string(sign) + exp
	}
	return strconv.FormatFloat(f, 'f', -1, 64)
}

// truthy is JavaScript's Boolean(v).
func (v value) truthy() bool {
	switch v.k {
	case kUndef, kNull:
		return false
	case kNum, kBool:
		return truthy(v.n)
	case kStr:
		return v.s != ""
	}
	return true
}

// looseEqual is JavaScript's a == b (filtrex compiles == to it).
func looseEqual(a, b value) bool {
	an, bn := a.k == kUndef || a.k == kNull, b.k == kUndef || b.k == kNull
	switch {
	case an || bn:
		return an && bn
	case a.k == kBool:
		return looseEqual(numValue(a.n), b)
	case b.k == kBool:
		return looseEqual(a, numValue(b.n))
	case a.k == kList || a.k == kObj:
		if b.k == kList || b.k == kObj {
			return false // distinct objects; a variable is never the same object twice here
		}
		return looseEqual(a.primitive(), b)
	case b.k == kList || b.k == kObj:
		return looseEqual(a, b.primitive())
	case a.k == kStr && b.k == kStr:
		return a.s == b.s
	}
	return a.number() == b.number()
}

// sameValueZero is Array.prototype.includes's equality, which in and not
// in use: no conversion, NaN equals NaN.
func sameValueZero(a, b value) bool {
	if a.k != b.k {
		return false
	}
	switch a.k {
	case kUndef, kNull:
		return true
	case kNum, kBool:
		return a.n == b.n || math.IsNaN(a.n) && math.IsNaN(b.n)
	case kStr:
		return a.s == b.s
	}
	return false
}

// compare is JavaScript's relational operators: two strings compare as
// text, anything else as numbers (NaN makes every comparison false).
func compare(op string, a, b value) bool {
	a, b = a.primitive(), b.primitive()
	if a.k == kStr && b.k == kStr {
		switch op {
		case "<":
			return a.s < b.s
		case "<=":
			return a.s <= b.s
		case ">":
			return a.s > b.s
		}
		return a.s >= b.s
	}
	x, y := a.number(), b.number()
	switch op {
	case "<":
		return x < y
	case "<=":
		return x <= y
	case ">":
		return x > y
	}
	return x >= y
}

// plus is JavaScript's +: text when either side is text, else a sum.
func plus(a, b value) value {
	a, b = a.primitive(), b.primitive()
	if a.k == kStr || b.k == kStr {
		return value{k: kStr, s: a.str() + b.str()}
	}
	return numValue(a.number() + b.number())
}

// elements is filtrex's coerceArray: a list's elements, or the value alone.
func (v value) elements() []value {
	if v.k != kList {
		return []value{v}
	}
	l := v.raw.([]any)
	out := make([]value, len(l))
	for i, e := range l {
		out[i] = jsValue(e)
	}
	return out
}

// prop is filtrex's prop(name, v), what "name of v" reads: v's own
// property name, else undefined. Lists own their indexes and length, text
// its length and indexes in UTF-16 code units (as JavaScript counts), an
// object its keys; nothing else owns a property.
func (v value) prop(name string) value {
	switch v.k {
	case kObj:
		if m, ok := v.raw.(map[string]any); ok {
			if x, ok := m[name]; ok {
				return jsValue(x)
			}
		}
	case kList:
		l := v.raw.([]any)
		if name == "length" {
			return numValue(float64(len(l)))
		}
		if i, ok := arrayIndex(name, len(l)); ok {
			return jsValue(l[i])
		}
	case kStr:
		if v.s == "" {
			break // filtrex reads obj||{}: empty text owns nothing
		}
		units := utf16.Encode([]rune(v.s))
		if name == "length" {
			return numValue(float64(len(units)))
		}
		if i, ok := arrayIndex(name, len(units)); ok {
			return value{k: kStr, s: string(utf16.Decode(units[i : i+1]))}
		}
	}
	return value{k: kUndef}
}

// arrayIndex reads name as JavaScript reads an array index: digits
// without a leading zero, below n.
func arrayIndex(name string, n int) (int, bool) {
	i, err := strconv.Atoi(name)
	if err != nil || i < 0 || i >= n || strconv.Itoa(i) != name {
		return 0, false
	}
	return i, true
}
