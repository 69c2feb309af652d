package cli

import "github.com/spf13/cobra"

func dockerDeployCmd() *cobra.Command { return nil }
