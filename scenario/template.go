package scenario

import (
	"errors"
	"math/rand/v2"
)

// PLACEHOLDER: the scenario owner replaces the bodies below; the signatures
// are the contract the runner codes against.

// Context is what templates see while one virtual user renders a request.
// One Context belongs to one virtual user and is not shared.
type Context struct {
	Vars        map[string]any              // captured, declared, payload and before-flow variables
	Env         func(string) (string, bool) // $processEnvironment.NAME and $env.NAME
	Target      string                      // {{ target }}
	Environment string                      // {{ $environment }}
	LoopCount   int                         // {{ $loopCount }}, from 0
	LoopElement any                         // {{ $loopElement }}
	UUID        string                      // {{ $uuid }}: fresh per virtual user
	Rand        *rand.Rand                  // $randomString, $randomNumber
}

// Template is a compiled string with {{ }} expressions; safe for concurrent use.
type Template struct{ raw string }

// Compile parses src once.
func Compile(src string) (*Template, error) { return nil, errors.New("not built") }

// Raw returns the source text.
func (t *Template) Raw() string { return t.raw }

// Static reports the text when the template has no expressions.
func (t *Template) Static() (string, bool) { return "", false }

// Refs returns the root variable names the template reads (not $-builtins),
// so the loader can reject names that nothing defines.
func (t *Template) Refs() []string { return nil }

// AppendTo renders into dst and returns the extended slice.
func (t *Template) AppendTo(dst []byte, c *Context) []byte { return dst }

// Render renders to a string.
func (t *Template) Render(c *Context) string { return "" }

// Value renders keeping the value's type when the whole template is one
// expression ("{{ goodsId }}" gives the captured number), else a string.
func (t *Template) Value(c *Context) any { return nil }

// Value is a compiled JSON body: maps, lists and scalars whose strings are templates.
type Value struct{}

// CompileValue compiles a decoded YAML value.
func CompileValue(v any) (*Value, error) { return nil, errors.New("not built") }

// Resolve renders the tree into plain Go values.
func (v *Value) Resolve(c *Context) any { return nil }

// AppendJSON renders the tree as JSON into dst.
func (v *Value) AppendJSON(dst []byte, c *Context) []byte { return dst }

// JSONPath is a compiled RFC 9535 JSONPath expression.
type JSONPath struct{}

// CompileJSONPath compiles expr.
func CompileJSONPath(expr string) (*JSONPath, error) { return nil, errors.New("not built") }

// Query returns the first node selected in doc (a value decoded by
// encoding/json with UseNumber or plain), and whether there was one.
func (p *JSONPath) Query(doc any) (any, bool) { return nil, false }
