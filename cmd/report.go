package cmd

import (
	"errors"

	"github.com/spf13/cobra"
)

// TODO(owner of this command): replace this placeholder.
func newReportCmd(s *State) *cobra.Command {
	return &cobra.Command{
		Use: "report",
		RunE: func(*cobra.Command, []string) error {
			return &ExitError{Code: ExitUsage, Err: errors.New("report: not built yet")}
		},
	}
}
