package cli

import "github.com/spf13/cobra"

// extraCommands are the command groups of later features; each lives in
// its own file.
func extraCommands() []*cobra.Command {
	var cmds []*cobra.Command
	for _, mk := range []func() *cobra.Command{dockerDeployCmd, dbCmd, portalCmd, domainsCmd, brandingCmd, cronCmd, s3ServerCmd, bucketsCmd, routesCmd, pagesCmd, edgeCmd, deploymentsCmd, mcpCmd} {
		if c := mk(); c != nil {
			cmds = append(cmds, c)
		}
	}
	return cmds
}
