package cmd

import (
	"errors"

	"github.com/spf13/cobra"
)

// TODO(owner of this command): replace this placeholder.
func newRunCmd(s *State) *cobra.Command {
	return &cobra.Command{
		Use: "run",
		RunE: func(*cobra.Command, []string) error {
			return &ExitError{Code: ExitUsage, Err: errors.New("run: not built yet")}
		},
	}
}
