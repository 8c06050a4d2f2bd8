// Package cmd holds primeload's cobra commands. It is the only package that
// reads flags, environment variables and config files (viper), turning them
// into typed options for the packages that do the work.
package cmd

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/primeload/primeload/report"
	"github.com/primeload/primeload/runner/loadtest"
)

// Exit codes. They are part of the CLI contract and documented in README.md;
// this file is the only place that chooses one.
const (
	ExitOK        = 0 // finished, all strict SLOs passed
	ExitSLO       = 1 // finished, a strict SLO failed
	ExitUsage     = 2 // invalid script, flags or arguments: nothing was sent
	ExitUntrusted = 3 // the generator fell behind its schedule or missed arrivals (a start after --start-at): results untrusted
	// ExitRuntime: the input was valid but the command failed while doing its
	// work: a report could not be written after the load was sent, serve's
	// database is unreachable.
	ExitRuntime     = 4
	ExitExpect      = 21  // expectations failed (as Artillery)
	ExitInterrupted = 130 // stopped by Ctrl-C or SIGTERM; or the report judged is of a run that was
)

// verdictCode is the exit code of a judged run.
func verdictCode(v report.Verdict) int {
	switch v {
	case report.Interrupted:
		return ExitInterrupted
	case report.Untrusted:
		return ExitUntrusted
	case report.SLOFailed:
		return ExitSLO
	case report.ExpectFailed:
		return ExitExpect
	}
	return ExitOK
}

// exitError ends a command whose work is done with code, unless outputs
// could not be written (failed != nil): a missing artefact must fail CI even
// when the load went well, so ExitRuntime replaces every code but an
// interrupt's.
func exitError(code int, failed error) error {
	if failed != nil {
		if code != ExitInterrupted {
			code = ExitRuntime
		}
		return &ExitError{Code: code, Err: failed}
	}
	if code == ExitOK {
		return nil
	}
	return &ExitError{Code: code}
}

// Version is the primeload version, stamped into reports.
const Version = loadtest.Version

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
// Ctrl-C and SIGTERM cancel the context every command runs under; run also
// watches State.Signals for a second one, which stops it at once.
func Main() int {
	s := SystemState()
	defer s.StopSignals()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	return Execute(ctx, s, nil)
}

// interrupted is the error of a command stopped by Ctrl-C or SIGTERM
// before its work was done.
func interrupted(ctx context.Context, doing string) error {
	if ctx.Err() == nil {
		return nil
	}
	return &ExitError{Code: ExitInterrupted, Err: fmt.Errorf("interrupted while %s", doing)}
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
		newQuickCmd(s),
		newServeCmd(s),
		newReportCmd(s),
		newCompareCmd(s),
		newCapacityCmd(s),
	)
	return root
}
