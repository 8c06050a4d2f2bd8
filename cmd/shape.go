package cmd

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"

	"github.com/joho/godotenv"
	"github.com/spf13/pflag"

	"github.com/primeload/primeload/scenario"
)

// ScriptShape is what Artillery's run flags change in a script before it
// is read, shared by run and validate so that what one can run the other
// can check.
type ScriptShape struct {
	Layers  []scenario.Layer // --config FILE, then --overrides, then --variables
	Payload string           // -p FILE for a single config.payload
	Dotenv  map[string]string
	// ConfigFile and DotenvFile are the files --config and --dotenv
	// named, "" for none: inputs no output may overwrite.
	ConfigFile, DotenvFile string
}

// addShapeFlags declares Artillery's script-shaping flags, with its short
// names.
func addShapeFlags(f *pflag.FlagSet) {
	f.StringP("config", "c", "", "lay the Artillery config `FILE` over the script (as artillery run --config: the file's keys win, lists merge item by item)")
	f.String("overrides", "", "deep-merge this `JSON` object into the script after --config and -e (lists are replaced whole)")
	f.StringP("variables", "v", "", "set config.variables from this `JSON` object, e.g. '{\"user\": \"ann\"}'")
	f.String("dotenv", "", "read environment variables for $env and $processEnvironment from this dotenv `FILE` (the process environment wins)")
	f.StringP("payload", "p", "", "use the CSV `FILE` as the path of the script's single config.payload")
}

// scriptShape reads the flags addShapeFlags declared.
func scriptShape(st *settings) (ScriptShape, error) {
	var sh ScriptShape
	var errs []error
	if path := st.String("config"); path != "" {
		sh.ConfigFile = path
		data, err := os.ReadFile(path)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: read config file: %w", st.source("config"), err))
		} else {
			sh.Layers = append(sh.Layers, scenario.Layer{Name: path, Data: data, Merge: scenario.MergeDeep})
		}
	}
	for _, f := range []struct {
		key   string
		merge scenario.Merge
	}{{"overrides", scenario.MergeReplaceLists}, {"variables", scenario.MergeVariables}} {
		if raw := st.String(f.key); raw != "" {
			sh.Layers = append(sh.Layers, scenario.Layer{Name: "--" + f.key, Data: []byte(raw), Merge: f.merge})
		}
	}
	sh.Payload = st.String("payload")
	if path := st.String("dotenv"); path != "" {
		sh.DotenvFile = path
		env, err := godotenv.Read(path)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: read dotenv file: %w", st.source("dotenv"), err))
		}
		sh.Dotenv = env
	}
	return sh, errors.Join(errs...)
}

// env looks a name up in the process environment, then in --dotenv: as
// Artillery's dotenv, a file never overrides what is already set.
func (sh ScriptShape) env(lookup func(string) (string, bool)) func(string) (string, bool) {
	if len(sh.Dotenv) == 0 {
		return lookup
	}
	return func(name string) (string, bool) {
		if v, ok := lookup(name); ok {
			return v, true
		}
		v, ok := sh.Dotenv[name]
		return v, ok
	}
}

// targetLayer adds -t to the layers laid over the script: the target
// replaces whatever config.target was, the environment's too, as
// Artillery's --target does after merging -e. A script whose own target
// is empty (Artillery's test-calc-server.yml, always run with --target)
// then loads.
func targetLayer(layers []scenario.Layer, target string) ([]scenario.Layer, error) {
	if target == "" {
		return layers, nil
	}
	t, err := json.Marshal(map[string]any{"config": map[string]string{"target": target}})
	if err != nil {
		return nil, fmt.Errorf("lay --target over the script: %w", err)
	}
	return append(layers[:len(layers):len(layers)], scenario.Layer{Name: "--target", Data: t, Merge: scenario.MergeReplaceLists}), nil
}
