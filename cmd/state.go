package cmd

import (
	"context"
	"io"
	"os"
	"os/signal"
	"syscall"

	"golang.org/x/term"
)

// State is everything a command takes from the operating system, so tests can
// swap in buffers and a fake environment.
type State struct {
	In         io.Reader
	Out        io.Writer
	Err        io.Writer
	IsTerminal bool // Out is an interactive terminal (live progress bars)
	Getenv     func(string) string
	LookupEnv  func(string) (string, bool)
	Environ    func() []string
	// Signals delivers interrupts (Ctrl-C, SIGTERM); nil in tests that do not need it.
	Signals <-chan os.Signal
	// StopSignals releases the signal channel.
	StopSignals func()
}

// SystemState is the State of the real process.
func SystemState() *State {
	sig := make(chan os.Signal, 2)
	signal.Notify(sig, os.Interrupt, syscall.SIGTERM)
	return &State{
		In:          os.Stdin,
		Out:         os.Stdout,
		Err:         os.Stderr,
		IsTerminal:  term.IsTerminal(int(os.Stdout.Fd())),
		Getenv:      os.Getenv,
		LookupEnv:   os.LookupEnv,
		Environ:     os.Environ,
		Signals:     sig,
		StopSignals: func() { signal.Stop(sig) },
	}
}

// TestState returns a State writing into the given buffers with the given environment.
func TestState(out, errOut io.Writer, env map[string]string) *State {
	lookup := func(k string) (string, bool) { v, ok := env[k]; return v, ok }
	return &State{
		In:        eofReader{},
		Out:       out,
		Err:       errOut,
		Getenv:    func(k string) string { v, _ := lookup(k); return v },
		LookupEnv: lookup,
		Environ: func() []string {
			var kv []string
			for k, v := range env {
				kv = append(kv, k+"="+v)
			}
			return kv
		},
		StopSignals: func() {},
	}
}

type eofReader struct{}

func (eofReader) Read([]byte) (int, error) { return 0, io.EOF }

// contextKey keeps State out of globals while letting subcommands find it.
type contextKey struct{}

func withState(ctx context.Context, s *State) context.Context {
	return context.WithValue(ctx, contextKey{}, s)
}
