package cmd

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/primeload/primeload/runner"
	"github.com/primeload/primeload/runner/loadtest"
	"github.com/primeload/primeload/scenario"
)

// ValidateOptions are the resolved arguments of primeload validate.
type ValidateOptions struct {
	Files               []string
	Environment         string            // -e: the config.environments entry to merge
	Vars                map[string]string // --var NAME=VALUE
	AllowOutsidePayload bool
	Target              string      // -t: overrides config.target
	Shape               ScriptShape // --config, --overrides, --variables, --dotenv, -p
}

func newValidateCmd(s *State) *cobra.Command {
	return newValidateCmdF(s, runValidate)
}

// newValidateCmdF takes the run function as a seam so flag parsing is tested
// apart from validation.
func newValidateCmdF(s *State, runF func(context.Context, *State, *ValidateOptions) error) *cobra.Command {
	c := &cobra.Command{
		Use:   "validate FILE...",
		Short: "Check scripts without sending any load",
		Long: `Validate loads each script as run would: it checks every field, template,
capture and payload file, and prints all problems at once as
file:line:col: field: message. It exits 2 when any script is invalid, and
otherwise prints one line per script: phases, total duration, expected
arrivals and scenarios with their weights.

-e, --var and --allow-outside-payload also come from PRIMELOAD_* variables
and the settings file (--settings, PRIMELOAD_SETTINGS, ./primeload.yaml),
as for run.`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			st, err := loadSettings(s, c)
			if err != nil {
				return &ExitError{Code: ExitUsage, Err: err}
			}
			o := &ValidateOptions{Files: args, Environment: st.String("environment")}
			var errs []error
			if o.Vars, err = st.Pairs("var"); err != nil {
				errs = append(errs, err)
			}
			if o.AllowOutsidePayload, err = st.Bool("allow-outside-payload"); err != nil {
				errs = append(errs, err)
			}
			if o.Shape, err = scriptShape(st); err != nil {
				errs = append(errs, err)
			}
			o.Target = st.String("target")
			if len(errs) > 0 {
				return &ExitError{Code: ExitUsage, Err: errors.Join(errs...)}
			}
			return runF(c.Context(), s, o)
		},
	}
	addSettingsFlag(c)
	f := c.Flags()
	f.StringP("environment", "e", "", "merge config.environments.`NAME` into the config")
	f.StringArray("var", nil, "set a script variable, `NAME=VALUE` (repeatable)")
	boolFlag(f, "allow-outside-payload", "", "let payload.path point outside the script's folder")
	f.StringP("target", "t", "", "base `URL`, overrides config.target")
	addShapeFlags(f)
	return c
}

// runValidate checks every file, printing every problem to stderr and one
// summary line per valid file to stdout.
func runValidate(ctx context.Context, s *State, o *ValidateOptions) error {
	layers, err := targetLayer(o.Shape.Layers, o.Target)
	if err != nil {
		return err
	}
	opts := scenario.LoadOptions{Environment: o.Environment, Vars: o.Vars, AllowOutsidePayload: o.AllowOutsidePayload,
		Env: o.Shape.env(s.LookupEnv), Layers: layers, Payload: o.Shape.Payload, Predicates: ifTrue}
	bad := 0
	for _, file := range o.Files {
		if err := interrupted(ctx, "validating "+file); err != nil {
			return err
		}
		line, errs := validateFile(file, opts, s.Err)
		if len(errs) == 0 {
			fmt.Fprintln(s.Out, line)
			continue
		}
		bad++
		for _, err := range errs {
			fmt.Fprintln(s.Err, err)
		}
	}
	if bad > 0 {
		return &ExitError{Code: ExitUsage, Err: fmt.Errorf("%d of %d %s invalid", bad, len(o.Files), plural(len(o.Files), "script is", "scripts are"))}
	}
	return nil
}

// validateFile checks what run checks before sending anything: the script,
// its SLOs against its endpoints, and its schedule. It returns the summary
// line, or every problem found.
func validateFile(file string, opts scenario.LoadOptions, notes io.Writer) (string, []error) {
	script, err := scenario.Load(file, opts)
	var list scenario.ErrorList
	switch {
	case errors.As(err, &list):
		errs := make([]error, len(list))
		for i, e := range list {
			errs[i] = e
		}
		return "", errs
	case err != nil:
		return "", []error{err}
	}
	printNotes(notes, script)
	// What run checks before its first request, from the one place run asks.
	if err := loadtest.Validate(script, runner.Segment{}); err != nil {
		return "", []error{err}
	}
	line, err := summary(script)
	if err != nil {
		return "", []error{err}
	}
	return line, nil
}

// printNotes prints the script's warnings (keys that change nothing here),
// one line each, so nothing accepted is silently ignored.
func printNotes(w io.Writer, sc *scenario.Script) {
	for _, n := range sc.Warnings {
		fmt.Fprintln(w, "note:", n)
	}
}

// summary is the one line printed for a valid script.
func summary(sc *scenario.Script) (string, error) {
	plan, err := runner.NewSchedule(sc.Config.Phases, runner.Segment{})
	if err != nil {
		return "", fmt.Errorf("%s: %w", sc.Path, err)
	}
	var b strings.Builder
	b.WriteString(sc.Path)
	if sc.Environment != "" {
		fmt.Fprintf(&b, " (-e %s)", sc.Environment)
	}
	n := len(sc.Config.Phases)
	fmt.Fprintf(&b, ": %d %s, %s, %d expected %s", n, plural(n, "phase", "phases"), plan.Duration(),
		plan.Expected(), plural(plan.Expected(), "arrival", "arrivals"))
	closed := 0
	for _, p := range sc.Config.Phases {
		if p.Kind == scenario.PhaseClosed {
			closed += p.VUsers
		}
	}
	if closed > 0 {
		fmt.Fprintf(&b, " + %d closed-model %s", closed, plural(closed, "vuser", "vusers"))
	}
	fmt.Fprintf(&b, "; %d %s: ", len(sc.Scenarios), plural(len(sc.Scenarios), "scenario", "scenarios"))
	for i, scn := range sc.Scenarios {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(strconv.Quote(scn.Name))
		fmt.Fprintf(&b, " weight %d", scn.Weight)
	}
	return b.String(), nil
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}
