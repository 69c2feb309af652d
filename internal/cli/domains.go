package cli

import "github.com/spf13/cobra"

func domainsCmd() *cobra.Command { return nil }
