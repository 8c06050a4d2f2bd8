package cmd

import (
	"errors"

	"github.com/spf13/cobra"
)

// TODO(owner of this command): replace this placeholder.
func newServeCmd(s *State) *cobra.Command {
	return &cobra.Command{
		Use: "serve",
		RunE: func(*cobra.Command, []string) error {
			return &ExitError{Code: ExitUsage, Err: errors.New("serve: not built yet")}
		},
	}
}
