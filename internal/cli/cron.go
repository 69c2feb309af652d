package cli

import "github.com/spf13/cobra"

func cronCmd() *cobra.Command { return nil }
