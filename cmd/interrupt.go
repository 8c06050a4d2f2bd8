package cmd

import (
	"context"
	"fmt"
	"io"
	"os"
	"time"
)

// watchInterrupts turns Ctrl-C and SIGTERM into the run's two ways to stop.
// The first signal calls stop (the runner starts no new arrivals and gives
// virtual users in flight the grace period); a second calls kill, which ends
// the grace period at once. The report is written either way. It returns
// when ctx ends, reporting whether a signal arrived.
func watchInterrupts(ctx context.Context, sigs <-chan os.Signal, errOut io.Writer, grace time.Duration, stop, kill func()) (interrupted bool) {
	for {
		select {
		case <-ctx.Done():
			return interrupted
		case sig := <-sigs:
			if interrupted {
				fmt.Fprintf(errOut, "\nprimeload: %s again: stopping now, writing what was measured\n", sig)
				kill()
				// Later signals change nothing: the run is already ending.
				sigs = nil
				continue
			}
			interrupted = true
			fmt.Fprintf(errOut, "\nprimeload: %s: no new arrivals; virtual users in flight get %s to finish (press Ctrl-C again to stop now)\n", sig, grace)
			stop()
		}
	}
}
