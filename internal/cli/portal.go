package cli

import "github.com/spf13/cobra"

func portalCmd() *cobra.Command { return nil }
