package cmd

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	"github.com/spf13/viper"
	"go.yaml.in/yaml/v3"
)

// defaultConfigFile is read from the current directory when --config is not given.
const defaultConfigFile = "primeload.yaml"

// envPrefix names the environment variables that set a command's flags:
// --with-target is PRIMELOAD_WITH_TARGET.
const envPrefix = "PRIMELOAD_"

// settings resolves a command's settings with one viper instance per
// execution, in the order flag > PRIMELOAD_* environment > config file >
// flag default. It remembers where each value came from so an error can name
// the flag, the variable or the file and line that has to change.
type settings struct {
	v       *viper.Viper
	flags   *pflag.FlagSet
	file    string // the config file read, "" for none
	raw     []byte // its contents, to find lines for messages
	env     map[string]string
	skipEnv map[string]bool
}

// envName is the environment variable that sets flag name.
func envName(name string) string {
	return envPrefix + strings.ToUpper(strings.ReplaceAll(name, "-", "_"))
}

// loadSettings reads the config file (configPath, or primeload.yaml in the
// current directory when it exists) and the PRIMELOAD_* variables for every
// flag in flags except those in skip.
func loadSettings(s *State, flags *pflag.FlagSet, configPath string, skip ...string) (*settings, error) {
	st := &settings{v: viper.New(), flags: flags, env: map[string]string{}, skipEnv: map[string]bool{}}
	for _, k := range skip {
		st.skipEnv[k] = true
	}
	path, explicit := configPath, configPath != ""
	if !explicit {
		path = defaultConfigFile
	}
	raw, err := os.ReadFile(path)
	switch {
	case err == nil:
		st.file, st.raw = path, raw
		st.v.SetConfigType("yaml")
		if err := st.v.ReadConfig(bytes.NewReader(raw)); err != nil {
			return nil, fmt.Errorf("read config %s: %w", path, err)
		}
	case explicit || !errors.Is(err, fs.ErrNotExist):
		return nil, fmt.Errorf("read config: %w", err)
	}

	fromEnv := map[string]any{}
	flags.VisitAll(func(f *pflag.Flag) {
		if st.skipEnv[f.Name] {
			return
		}
		if val, ok := s.LookupEnv(envName(f.Name)); ok {
			st.env[f.Name] = val
			fromEnv[f.Name] = val
		}
	})
	// The environment overrides the file but not the flags, which is where
	// viper's config layer sits once the file is merged under it.
	if err := st.v.MergeConfigMap(fromEnv); err != nil {
		return nil, fmt.Errorf("merge environment: %w", err)
	}
	if err := st.v.BindPFlags(flags); err != nil {
		return nil, fmt.Errorf("bind flags: %w", err)
	}
	return st, nil
}

// source names where key's value comes from, for error messages.
func (st *settings) source(key string) string {
	if f := st.flags.Lookup(key); f != nil && f.Changed {
		return "--" + key
	}
	if _, ok := st.env[key]; ok {
		return envName(key)
	}
	if st.file != "" && st.v.InConfig(key) {
		if line := yamlKeyLine(st.raw, key); line > 0 {
			return fmt.Sprintf("%s:%d: %s", st.file, line, key)
		}
		return fmt.Sprintf("%s: %s", st.file, key)
	}
	return "--" + key
}

// errorf reports a bad value for key, prefixed with where it came from.
func (st *settings) errorf(key, format string, args ...any) error {
	return fmt.Errorf("%s: %s", st.source(key), fmt.Sprintf(format, args...))
}

func (st *settings) String(key string) string { return st.v.GetString(key) }

// Bool parses key strictly, so PRIMELOAD_QUIET=yes is an error rather than false.
func (st *settings) Bool(key string) (bool, error) {
	switch b := st.v.Get(key).(type) {
	case bool:
		return b, nil
	case string:
		switch strings.ToLower(strings.TrimSpace(b)) {
		case "1", "t", "true", "yes", "on":
			return true, nil
		case "", "0", "f", "false", "no", "off":
			return false, nil
		}
	}
	return false, st.errorf(key, "%q is not a boolean (use true or false)", fmt.Sprint(st.v.Get(key)))
}

// Duration parses key strictly: "10s", "1m30s"; a bare number is seconds as in scripts.
func (st *settings) Duration(key string) (time.Duration, error) {
	switch d := st.v.Get(key).(type) {
	case time.Duration:
		return d, nil
	case int:
		return time.Duration(d) * time.Second, nil
	case float64:
		return time.Duration(d * float64(time.Second)), nil
	case string:
		if p, err := time.ParseDuration(strings.TrimSpace(d)); err == nil {
			return p, nil
		}
	}
	return 0, st.errorf(key, "%q is not a duration (use e.g. 10s, 500ms, 1m)", fmt.Sprint(st.v.Get(key)))
}

// Int parses key strictly.
func (st *settings) Int(key string) (int, error) {
	switch n := st.v.Get(key).(type) {
	case int:
		return n, nil
	case string:
		var i int
		if _, err := fmt.Sscan(strings.TrimSpace(n), &i); err == nil && fmt.Sprint(i) == strings.TrimSpace(n) {
			return i, nil
		}
	}
	return 0, st.errorf(key, "%q is not a whole number", fmt.Sprint(st.v.Get(key)))
}

// Pairs merges NAME=VALUE settings from every layer, file first, then the
// environment, then flags, so a flag overrides one variable without dropping
// the others. The file may also hold a map (var: {NAME: VALUE}); the
// environment variable holds pairs separated by newlines or commas.
func (st *settings) Pairs(key string) (map[string]string, error) {
	out := map[string]string{}
	add := func(src, pair string) error {
		name, val, ok := strings.Cut(pair, "=")
		name = strings.TrimSpace(name)
		if !ok || name == "" {
			return fmt.Errorf("%s: %q is not NAME=VALUE", src, pair)
		}
		out[name] = val
		return nil
	}
	if st.file != "" {
		var doc map[string]any
		if err := yaml.Unmarshal(st.raw, &doc); err != nil {
			return nil, fmt.Errorf("read config %s: %w", st.file, err)
		}
		src := fmt.Sprintf("%s:%d: %s", st.file, yamlKeyLine(st.raw, key), key)
		switch vars := doc[key].(type) {
		case nil:
		case map[string]any:
			for k, v := range vars {
				out[k] = fmt.Sprint(v)
			}
		case []any:
			for _, p := range vars {
				if err := add(src, fmt.Sprint(p)); err != nil {
					return nil, err
				}
			}
		default:
			return nil, fmt.Errorf("%s: want a list of NAME=VALUE or a map of names to values", src)
		}
	}
	if env, ok := st.env[key]; ok {
		for _, p := range strings.FieldsFunc(env, func(r rune) bool { return r == '\n' || r == ',' }) {
			if err := add(envName(key), p); err != nil {
				return nil, err
			}
		}
	}
	if f := st.flags.Lookup(key); f != nil && f.Changed {
		vals, err := st.flags.GetStringArray(key)
		if err != nil {
			return nil, err
		}
		for _, p := range vals {
			if err := add("--"+key, p); err != nil {
				return nil, err
			}
		}
	}
	return out, nil
}

// checkKeys reports keys of the config file that no command has a flag
// for. The file is shared by every command, so a key only another command
// reads is fine; a typo such as "perod" is not, since it would be ignored.
func (st *settings) checkKeys(root *cobra.Command) error {
	if st.file == "" {
		return nil
	}
	known := map[string]bool{}
	for _, c := range append(root.Commands(), root) {
		c.Flags().VisitAll(func(f *pflag.Flag) { known[f.Name] = true })
	}
	delete(known, "help")
	var doc yaml.Node
	if yaml.Unmarshal(st.raw, &doc) != nil || len(doc.Content) == 0 || doc.Content[0].Kind != yaml.MappingNode {
		return fmt.Errorf("%s: want a mapping of setting names to values", st.file)
	}
	var errs []error
	m := doc.Content[0]
	for i := 0; i+1 < len(m.Content); i += 2 {
		k := m.Content[i]
		if !known[k.Value] {
			errs = append(errs, fmt.Errorf("%s:%d: %s: unknown setting; valid settings are the long flag names of primeload's commands: %s",
				st.file, k.Line, k.Value, strings.Join(slices.Sorted(maps.Keys(known)), ", ")))
		}
	}
	return errors.Join(errs...)
}

// yamlKeyLine finds the line of a top-level key in a YAML document, 0 if absent.
func yamlKeyLine(raw []byte, key string) int {
	var doc yaml.Node
	if yaml.Unmarshal(raw, &doc) != nil || len(doc.Content) == 0 {
		return 0
	}
	m := doc.Content[0]
	if m.Kind != yaml.MappingNode {
		return 0
	}
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			return m.Content[i].Line
		}
	}
	return 0
}
