package cli

import "github.com/spf13/cobra"

func dbCmd() *cobra.Command { return nil }
