package cli

import (
	"bufio"
	"errors"
	"fmt"
	"strings"

	"github.com/spf13/cobra"
)

// portalPasswordCmd sets or generates the sign-in password of a host's
// portal, for a workspace admin who needs a way in.
func portalPasswordCmd() *cobra.Command {
	var fromStdin bool
	cmd := &cobra.Command{
		Use:   "portal-password HOST_ID",
		Short: "Set or generate the sign-in password of a Docker Deploy host's portal",
		Long: "Generates a new password for the host's portal and prints it (shown only this once), or with\n" +
			"--stdin sets the first line of standard input. It works at the portal's next sign-in.",
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			api, err := apiClient()
			if err != nil {
				return err
			}
			pw := ""
			if fromStdin {
				line, err := bufio.NewReader(cmd.InOrStdin()).ReadString('\n')
				pw = strings.TrimRight(line, "\r\n")
				if pw == "" && err != nil {
					return errors.New("--stdin: give the password on the first line of standard input")
				}
			}
			got, err := api.SetPortalPassword(cmd.Context(), args[0], pw)
			if err != nil {
				return err
			}
			if !fromStdin {
				fmt.Fprintln(cmd.OutOrStdout(), got)
			}
			return nil
		},
	}
	cmd.Flags().BoolVar(&fromStdin, "stdin", false, "read the password to set from standard input instead of generating one")
	return cmd
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
