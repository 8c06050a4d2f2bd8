package scenario

import (
	"encoding/binary"
	"fmt"
	"strconv"
	"strings"

	"github.com/google/uuid"
)

// Builtins lists the $-names templates understand, for messages. A test
// keeps it equal to the usages in builtinTable.
const Builtins = "$processEnvironment.NAME, $env.NAME, $environment, target, $uuid, $randomString(len), $randomNumber(min, max), $loopCount, $loopElement"

// jsonForm is how a template that is one expression is written as a JSON
// value, so "{{ $loopCount }}" sends 3 and "{{ $uuid }}" sends a string.
type jsonForm int

const (
	jsonString jsonForm = iota // the rendered text, quoted
	jsonNumber                 // the rendered text as it is: always a number
	jsonTyped                  // the value's own JSON type (variables)
)

// builtin is one $-name of the template language. Adding a template
// function is one entry in builtinTable (how it parses) and one case in
// render (how it renders), both below.
type builtin struct {
	op    builtinOp
	names []string // the spellings; the first is the one messages use
	usage string   // for Builtins: "$randomNumber(min, max)"
	call  string   // the call form when it takes arguments, "" when it cannot
	loop  bool     // only has a value inside a loop's steps
	// takesDefault marks a value that may be missing at load time (an
	// environment variable): it accepts | default("text").
	takesDefault bool
	json         jsonForm
	// parse checks the arguments (nil when none were written) and e.path,
	// and keeps what rendering needs in e.
	parse func(e *expr, args []int) error
}

// builtinOp selects a builtin's render case. Rendering switches on it
// instead of calling a function value, so a buffer on the caller's stack
// does not escape (Render stays at one allocation).
type builtinOp int

const (
	opEnv builtinOp = iota
	opEnvironment
	opTarget
	opUUID
	opRandomString
	opRandomNumber
	opLoopCount
	opLoopElement
)

// builtinTable is every $-name, in the order Builtins lists them.
var builtinTable = []*builtin{
	{op: opEnv, names: []string{"$processEnvironment", "$env"}, usage: "$processEnvironment.NAME, $env.NAME", takesDefault: true, parse: parseEnv},
	{op: opEnvironment, names: []string{"$environment"}, usage: "$environment", parse: noFields},
	{op: opTarget, names: []string{"target", "$target"}, usage: "target", parse: noFields},
	{op: opUUID, names: []string{"$uuid"}, usage: "$uuid", call: "$uuid()", parse: parseUUID},
	{op: opRandomString, names: []string{"$randomString"}, usage: "$randomString(len)", call: "$randomString(len)", parse: parseRandomString},
	{op: opRandomNumber, names: []string{"$randomNumber"}, usage: "$randomNumber(min, max)", call: "$randomNumber(min, max)", json: jsonNumber, parse: parseRandomNumber},
	{op: opLoopCount, names: []string{"$loopCount"}, usage: "$loopCount", loop: true, json: jsonNumber, parse: noFields},
	{op: opLoopElement, names: []string{"$loopElement"}, usage: "$loopElement", loop: true, json: jsonTyped, parse: anyFields},
}

// appendTo renders e as text, JSON-string-escaped when esc is set.
func (b *builtin) appendTo(dst []byte, e *expr, c *Context, esc bool) []byte {
	switch b.op {
	case opEnv:
		return appendText(dst, envValue(e, c), esc)
	case opEnvironment:
		return appendText(dst, c.Environment, esc)
	case opTarget:
		return appendText(dst, c.Target, esc)
	case opUUID:
		if c.UUID == "" && c.UUIDSeed != [2]uint64{} {
			c.UUID = UUIDFrom(c.UUIDSeed)
		}
		if c.UUID == "" {
			// A Context built without one still gets a valid, fresh UUID.
			return append(dst, uuid.NewString()...)
		}
		return appendText(dst, c.UUID, esc)
	case opRandomString:
		return appendRandomString(dst, c, e.a)
	case opRandomNumber:
		return strconv.AppendInt(dst, int64(randomNumber(c, e.a, e.b)), 10)
	case opLoopCount:
		return strconv.AppendInt(dst, int64(c.LoopCount), 10)
	case opLoopElement:
		v, found := lookup(c.LoopElement, e.path)
		return appendVar(dst, v, found, esc)
	}
	return dst
}

// value keeps the value's type for a template that is only this
// expression; ok is false when the rendered text is the value.
func (b *builtin) value(e *expr, c *Context) (any, bool) {
	switch b.op {
	case opEnv:
		return envValue(e, c), true
	case opRandomNumber:
		return randomNumber(c, e.a, e.b), true
	case opLoopCount:
		return c.LoopCount, true
	case opLoopElement:
		v, _ := lookup(c.LoopElement, e.path)
		return v, true
	}
	return nil, false
}

// lookupBuiltin finds the builtin spelled name; nil for a variable name.
func lookupBuiltin(name string) *builtin {
	for _, b := range builtinTable {
		if containsString(b.names, name) {
			return b
		}
	}
	return nil
}

// functionList names the builtins that take arguments, for messages.
func functionList() string {
	var calls []string
	for _, b := range builtinTable {
		if b.call != "" {
			calls = append(calls, b.call)
		}
	}
	return strings.Join(calls, ", ")
}

// noFields refuses a path after a builtin whose value has no fields.
func noFields(e *expr, _ []int) error {
	if len(e.path) > 0 {
		return fmt.Errorf("%s has no fields", e.name)
	}
	return nil
}

// anyFields accepts any path: the value is an object the user supplies.
func anyFields(*expr, []int) error { return nil }

func parseUUID(e *expr, args []int) error {
	if len(args) > 0 {
		return fmt.Errorf("$uuid takes no arguments")
	}
	return noFields(e, nil)
}

// parseEnv turns $env.NAME into the environment variable's name.
func parseEnv(e *expr, _ []int) error {
	if len(e.path) != 1 || e.path[0].index >= 0 || e.path[0].key == "" {
		return fmt.Errorf("%s needs one variable name: %s.NAME", e.name, e.name)
	}
	e.name = e.path[0].key
	e.path = nil
	return nil
}

// envValue is the variable's value, or the default when it is not set.
func envValue(e *expr, c *Context) string {
	var v string
	ok := false
	if c.Env != nil {
		v, ok = c.Env(e.name)
	}
	if !ok {
		return e.def
	}
	return v
}

func parseRandomString(e *expr, args []int) error {
	e.a = 10
	switch {
	case len(args) == 1 && args[0] >= 0 && args[0] <= MaxRandomStringLength:
		e.a = args[0]
	case len(args) > 1:
		return fmt.Errorf("$randomString takes one length, got %d arguments", len(args))
	case len(args) == 1:
		return fmt.Errorf("$randomString length must be between 0 and %d, got %d", MaxRandomStringLength, args[0])
	}
	return noFields(e, nil)
}

func parseRandomNumber(e *expr, args []int) error {
	if len(args) != 2 {
		return fmt.Errorf("$randomNumber needs two arguments (min, max), got %d", len(args))
	}
	for _, a := range args {
		if a < -MaxTemplateInteger || a > MaxTemplateInteger {
			return fmt.Errorf("$randomNumber arguments must be whole numbers from %d to %d, got %d", -MaxTemplateInteger, MaxTemplateInteger, a)
		}
	}
	if args[0] > args[1] {
		return fmt.Errorf("$randomNumber min %d is greater than max %d", args[0], args[1])
	}
	e.a, e.b = args[0], args[1]
	return noFields(e, nil)
}

// UUIDFrom is the version 4 UUID made of seed's random bits.
func UUIDFrom(seed [2]uint64) string {
	var b uuid.UUID
	binary.LittleEndian.PutUint64(b[:8], seed[0])
	binary.LittleEndian.PutUint64(b[8:], seed[1])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return b.String()
}
