package cmd

import (
	"errors"

	"github.com/spf13/cobra"
)

// TODO(owner of this command): replace this placeholder.
func newValidateCmd(s *State) *cobra.Command {
	return &cobra.Command{
		Use: "validate",
		RunE: func(*cobra.Command, []string) error {
			return &ExitError{Code: ExitUsage, Err: errors.New("validate: not built yet")}
		},
	}
}
