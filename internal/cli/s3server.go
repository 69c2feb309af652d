package cli

import (
	"github.com/spf13/cobra"

	"github.com/berth-dev/berth/internal/s3server"
)

// s3ServerCmd is the embedded S3 server's role: `berth up` starts it as a
// child process with its options in the environment.
func s3ServerCmd() *cobra.Command {
	return &cobra.Command{
		Use:    "s3-server",
		Short:  "Run the embedded S3 server (started by berth up)",
		Hidden: true,
		Args:   cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return s3server.ServeFromEnv(cmd.Context())
		},
	}
}
