package cmd

import (
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	"go.yaml.in/yaml/v3"
)

// defaultSettingsFile is read from the current directory when neither
// --settings nor PRIMELOAD_SETTINGS names a file.
const defaultSettingsFile = "primeload.yaml"

// settingsFlag names primeload's own settings file. It is not --config:
// that is Artillery's flag for a config merged with the script.
const settingsFlag = "settings"

// envPrefix names the environment variables that set a command's flags:
// --with-target is PRIMELOAD_WITH_TARGET.
const envPrefix = "PRIMELOAD_"

// envName is the environment variable that sets flag name.
func envName(name string) string {
	return envPrefix + strings.ToUpper(strings.ReplaceAll(name, "-", "_"))
}

// settings resolves one command's settings in the order flag > PRIMELOAD_*
// environment > settings file > flag default, the same way for every
// command. Every value is text until a typed getter parses it, with one
// parser per type whichever layer it came from, so `period: 10` in the file,
// PRIMELOAD_PERIOD=10 and --period 10 mean the same (10 s), and a bad value
// gets the same message naming the flag, the variable or the file line.
//
// It replaces viper, which this needed little of: the file's lines (for
// messages and the unknown-key check) and strict, identical coercion across
// layers both had to be done by hand around it anyway.
type settings struct {
	flags *pflag.FlagSet
	file  string                // the settings file read, "" for none
	keys  map[string]*yaml.Node // its top-level key nodes (for lines)
	vals  map[string]*yaml.Node // its top-level values
	env   map[string]string
}

// addSettingsFlag gives a command the --settings flag.
func addSettingsFlag(c *cobra.Command) {
	c.Flags().String(settingsFlag, "", "read settings from `FILE` (default $PRIMELOAD_SETTINGS, else ./"+defaultSettingsFile+" when present)")
}

// loadSettings reads the settings file and the PRIMELOAD_* variables for
// every flag of c, and rejects keys of the file that no command has a flag
// for, each with its line.
func loadSettings(s *State, c *cobra.Command) (*settings, error) {
	st := &settings{flags: c.Flags(), keys: map[string]*yaml.Node{}, vals: map[string]*yaml.Node{}, env: map[string]string{}}
	path, src := "", ""
	if f := c.Flags().Lookup(settingsFlag); f != nil && f.Changed {
		path, src = f.Value.String(), "--"+settingsFlag
	} else if v, ok := s.LookupEnv(envName(settingsFlag)); ok && v != "" {
		path, src = v, envName(settingsFlag)
	}
	explicit := path != ""
	if !explicit {
		path = defaultSettingsFile
	}
	raw, err := os.ReadFile(path)
	switch {
	case err == nil:
		if err := st.read(path, raw); err != nil {
			return nil, err
		}
		if err := st.checkKeys(c.Root()); err != nil {
			return nil, err
		}
	case explicit:
		return nil, fmt.Errorf("%s: read settings: %w", src, err)
	case !errors.Is(err, fs.ErrNotExist):
		return nil, fmt.Errorf("read settings: %w", err)
	}
	st.flags.VisitAll(func(f *pflag.Flag) {
		if f.Name == settingsFlag || f.Name == "help" {
			return
		}
		if v, ok := s.LookupEnv(envName(f.Name)); ok {
			st.env[f.Name] = v
		}
	})
	return st, nil
}

// read parses the settings file: a mapping of long flag names to values.
func (st *settings) read(path string, raw []byte) error {
	st.file = path
	var doc yaml.Node
	if err := yaml.Unmarshal(raw, &doc); err != nil {
		return fmt.Errorf("read settings %s: %w", path, err)
	}
	if len(doc.Content) == 0 {
		return nil // an empty file sets nothing
	}
	m := doc.Content[0]
	if m.Kind != yaml.MappingNode {
		return fmt.Errorf("%s:%d: want a mapping of setting names to values", path, m.Line)
	}
	for i := 0; i+1 < len(m.Content); i += 2 {
		st.keys[m.Content[i].Value] = m.Content[i]
		st.vals[m.Content[i].Value] = m.Content[i+1]
	}
	return nil
}

// checkKeys reports keys of the file that no command has a flag for. The
// file is shared by every command, so a key only another command reads is
// fine; a typo such as "perod" is not, since it would be ignored.
func (st *settings) checkKeys(root *cobra.Command) error {
	known, lists := map[string]bool{}, map[string]bool{}
	for _, c := range append(root.Commands(), root) {
		c.Flags().VisitAll(func(f *pflag.Flag) {
			known[f.Name] = true
			lists[f.Name] = lists[f.Name] || f.Value.Type() == "stringArray"
		})
	}
	delete(known, "help")
	delete(known, settingsFlag) // the file cannot name another file
	var errs []error
	for _, k := range slices.SortedFunc(maps.Values(st.keys), func(a, b *yaml.Node) int { return a.Line - b.Line }) {
		switch v := st.vals[k.Value]; {
		case !known[k.Value]:
			errs = append(errs, fmt.Errorf("%s:%d: %s: unknown setting; valid settings are the long flag names of primeload's commands: %s",
				st.file, k.Line, k.Value, strings.Join(slices.Sorted(maps.Keys(known)), ", ")))
		case v.Kind != yaml.ScalarNode && !lists[k.Value]:
			errs = append(errs, fmt.Errorf("%s:%d: %s: want a single value, not a list or a mapping", st.file, k.Line, k.Value))
		}
	}
	return errors.Join(errs...)
}

// source names where key's value comes from, for error messages.
func (st *settings) source(key string) string {
	if f := st.flags.Lookup(key); f != nil && f.Changed {
		return "--" + key
	}
	if _, ok := st.env[key]; ok {
		return envName(key)
	}
	if k, ok := st.keys[key]; ok {
		return fmt.Sprintf("%s:%d: %s", st.file, k.Line, key)
	}
	return "--" + key
}

// IsSet reports whether key was given in any layer rather than defaulted.
func (st *settings) IsSet(key string) bool {
	if f := st.flags.Lookup(key); f != nil && f.Changed {
		return true
	}
	_, env := st.env[key]
	_, file := st.vals[key]
	return env || file
}

// errorf reports a bad value for key, prefixed with where it came from.
func (st *settings) errorf(key, format string, args ...any) error {
	return fmt.Errorf("%s: %s", st.source(key), fmt.Sprintf(format, args...))
}

// text is key's value as text from the layer that wins. checkKeys made
// sure a file value of a single-valued flag is a scalar.
func (st *settings) text(key string) string {
	f := st.flags.Lookup(key)
	if f != nil && f.Changed {
		return f.Value.String()
	}
	if v, ok := st.env[key]; ok {
		return v
	}
	if n, ok := st.vals[key]; ok {
		if n.Tag == "!!null" {
			return ""
		}
		return n.Value
	}
	if f != nil {
		return f.DefValue
	}
	return ""
}

// String returns key's value.
func (st *settings) String(key string) string { return st.text(key) }

// Bool parses key strictly, so PRIMELOAD_QUIET=maybe is an error rather than false.
func (st *settings) Bool(key string) (bool, error) {
	v := st.text(key)
	b, ok := parseBool(v)
	if !ok {
		return false, st.errorf(key, "%q is not a boolean (use true or false)", v)
	}
	return b, nil
}

// parseBool is the one reading of a boolean setting.
func parseBool(v string) (b, ok bool) {
	switch strings.ToLower(strings.TrimSpace(v)) {
	case "1", "t", "true", "yes", "on":
		return true, true
	case "", "0", "f", "false", "no", "off":
		return false, true
	}
	return false, false
}

// Duration parses key: "10s", "1m30s", or a bare number of seconds as in scripts.
func (st *settings) Duration(key string) (time.Duration, error) {
	v := st.text(key)
	d, ok := parseDuration(v)
	if !ok {
		return 0, st.errorf(key, "%q is not a duration (use e.g. 10s, 500ms, 1m; a bare number is seconds)", v)
	}
	return d, nil
}

// parseDuration is the one reading of a duration setting.
func parseDuration(v string) (time.Duration, bool) {
	v = strings.TrimSpace(v)
	if f, err := strconv.ParseFloat(v, 64); err == nil {
		if f != f || f > float64(1<<62)/float64(time.Second) || f < -float64(1<<62)/float64(time.Second) {
			return 0, false
		}
		return time.Duration(f * float64(time.Second)), true
	}
	d, err := time.ParseDuration(v)
	return d, err == nil
}

// Int parses key as a whole number.
func (st *settings) Int(key string) (int, error) {
	v := st.text(key)
	n, err := strconv.Atoi(strings.TrimSpace(v))
	if err != nil {
		return 0, st.errorf(key, "%q is not a whole number", v)
	}
	return n, nil
}

// Float parses key as a number.
func (st *settings) Float(key string) (float64, error) {
	v := st.text(key)
	f, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
	if err != nil {
		return 0, st.errorf(key, "%q is not a number", v)
	}
	return f, nil
}

// List merges a repeatable setting from every layer, file first, then the
// environment, then flags. The file holds a list or a single value; the
// environment variable holds one item per line, or also per comma when
// commas is set.
func (st *settings) List(key string, commas bool) ([]item, error) {
	var out []item
	if n, ok := st.vals[key]; ok {
		src := st.source(key)
		if k := st.keys[key]; k != nil {
			src = fmt.Sprintf("%s:%d: %s", st.file, k.Line, key)
		}
		switch n.Kind {
		case yaml.ScalarNode:
			out = append(out, item{src, n.Value})
		case yaml.SequenceNode:
			for _, c := range n.Content {
				if c.Kind != yaml.ScalarNode {
					return nil, fmt.Errorf("%s:%d: %s: want a list of values", st.file, c.Line, key)
				}
				out = append(out, item{src, c.Value})
			}
		case yaml.MappingNode:
			// var: {NAME: VALUE} reads as NAME=VALUE pairs.
			for i := 0; i+1 < len(n.Content); i += 2 {
				out = append(out, item{src, n.Content[i].Value + "=" + n.Content[i+1].Value})
			}
		}
	}
	if env, ok := st.env[key]; ok {
		for _, p := range strings.FieldsFunc(env, func(r rune) bool { return r == '\n' || (commas && r == ',') }) {
			out = append(out, item{envName(key), p})
		}
	}
	if f := st.flags.Lookup(key); f != nil && f.Changed {
		vals, err := st.flags.GetStringArray(key)
		if err != nil {
			return nil, err
		}
		for _, v := range vals {
			out = append(out, item{"--" + key, v})
		}
	}
	return out, nil
}

// item is one value of a repeatable setting and where it came from.
type item struct{ src, value string }

// Pairs reads NAME=VALUE settings (--var) from every layer; a later layer
// overrides one name without dropping the others.
func (st *settings) Pairs(key string) (map[string]string, error) {
	items, err := st.List(key, true)
	if err != nil {
		return nil, err
	}
	out := map[string]string{}
	for _, it := range items {
		name, val, ok := strings.Cut(it.value, "=")
		name = strings.TrimSpace(name)
		if !ok || name == "" {
			return nil, fmt.Errorf("%s: %q is not NAME=VALUE", it.src, it.value)
		}
		out[name] = val
	}
	return out, nil
}

// Strings reads a repeatable setting's values from the winning layer only:
// --slo replaces the SLOs of the file rather than adding to them.
func (st *settings) Strings(key string) ([]string, error) {
	items, err := st.List(key, false)
	if err != nil || len(items) == 0 {
		return nil, err
	}
	// Items come file, environment, flags; each layer's share one src.
	win := items[len(items)-1].src
	var out []string
	for _, it := range items {
		if it.src == win {
			out = append(out, it.value)
		}
	}
	return out, nil
}

// rawValue is a flag whose text is parsed by settings' getters, not by
// pflag, so a flag, a variable and a file line share one parser and one
// message. typ is what help shows.
type rawValue struct{ s, typ string }

func (v *rawValue) String() string     { return v.s }
func (v *rawValue) Set(s string) error { v.s = s; return nil }
func (v *rawValue) Type() string       { return v.typ }

// durationFlag, boolFlag, intFlag and floatFlag define typed flags that
// settings parse.
func durationFlag(f *pflag.FlagSet, name string, def time.Duration, usage string) {
	f.Var(&rawValue{s: def.String(), typ: "duration"}, name, usage)
}

func boolFlag(f *pflag.FlagSet, name, short, usage string) {
	fl := f.VarPF(&rawValue{s: "false", typ: "bool"}, name, short, usage)
	fl.NoOptDefVal = "true"
}

func intFlag(f *pflag.FlagSet, name string, def int, usage string) {
	f.Var(&rawValue{s: strconv.Itoa(def), typ: "int"}, name, usage)
}

func floatFlag(f *pflag.FlagSet, name string, def float64, usage string) {
	f.Var(&rawValue{s: strconv.FormatFloat(def, 'f', -1, 64), typ: "float"}, name, usage)
}
