package cmd

import (
	"bufio"
	"fmt"
	"os"

	"github.com/primeload/primeload/runner"
	"github.com/primeload/primeload/runner/trace"
)

// openTrace makes the tracer --trace and --trace-file ask for: text on
// stderr, or JSON Lines in a file. close flushes it and says on stderr
// when the trace could not be written whole; a broken trace does not fail
// the run. A nil tracer (no --trace) traces nothing.
func openTrace(s *State, o *RunOptions) (_ runner.Tracer, close func(), _ error) {
	if o.Trace == 0 {
		return nil, func() {}, nil
	}
	if o.TraceFile == "" {
		return trace.NewText(s.Err), func() {}, nil
	}
	f, err := os.Create(o.TraceFile)
	if err != nil {
		return nil, nil, fmt.Errorf("trace file: %w", err)
	}
	bw := bufio.NewWriter(f)
	t := trace.NewJSONLines(bw)
	return t, func() {
		err := t.Err()
		if err == nil {
			err = bw.Flush()
		}
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			fmt.Fprintf(s.Err, "primeload: %s: %v\n", o.TraceFile, err)
		}
	}, nil
}
