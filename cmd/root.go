// Package cmd holds primeload's cobra commands. It is the only package that
// reads flags, environment variables and config files (viper), turning them
// into typed options for the packages that do the work.
package cmd

import (
	"context"
	"errors"
	"fmt"

	"github.com/spf13/cobra"
)

// Exit codes. They are part of the CLI contract and documented in README.md.
const (
	ExitOK          = 0   // finished, all strict SLOs passed
	ExitSLO         = 1   // finished, a strict SLO failed
	ExitUsage       = 2   // invalid script, flags or arguments
	ExitUntrusted   = 3   // the generator fell behind its schedule: latencies understate the truth
	ExitExpect      = 21  // expectations failed (as Artillery)
	ExitInterrupted = 130 // stopped by Ctrl-C or SIGTERM
)

// Version is the primeload version, stamped into reports.
const Version = "0.1.0"

// ExitError carries an exit code out of a command. Main maps errors to codes
// in exactly one place.
type ExitError struct {
	Code int
	Err  error // may be nil when the command already printed what went wrong
}

func (e *ExitError) Error() string {
	if e.Err == nil {
		return fmt.Sprintf("exit %d", e.Code)
	}
	return e.Err.Error()
}

func (e *ExitError) Unwrap() error { return e.Err }

// Main runs primeload for the real process and returns its exit code.
func Main() int {
	s := SystemState()
	defer s.StopSignals()
	return Execute(context.Background(), s, nil)
}

// Execute runs the command line args (nil means os.Args) and returns the exit code.
func Execute(ctx context.Context, s *State, args []string) int {
	root := NewRootCmd(s)
	if args != nil {
		root.SetArgs(args)
	}
	root.SetOut(s.Out)
	root.SetErr(s.Err)
	err := root.ExecuteContext(withState(ctx, s))
	return exitCode(s, err)
}

func exitCode(s *State, err error) int {
	if err == nil {
		return ExitOK
	}
	var ee *ExitError
	if errors.As(err, &ee) {
		if ee.Err != nil {
			fmt.Fprintln(s.Err, "primeload:", ee.Err)
		}
		return ee.Code
	}
	// Anything else comes from cobra's argument and flag parsing.
	fmt.Fprintln(s.Err, "primeload:", err)
	return ExitUsage
}

// NewRootCmd builds the command tree.
func NewRootCmd(s *State) *cobra.Command {
	root := &cobra.Command{
		Use:           "primeload",
		Short:         "Open-model load testing for HTTP services, with Artillery's script format",
		SilenceUsage:  true,
		SilenceErrors: true,
		Version:       Version,
	}
	root.AddCommand(
		newValidateCmd(s),
		newRunCmd(s),
		newServeCmd(s),
		newReportCmd(s),
		newCompareCmd(s),
	)
	return root
}
