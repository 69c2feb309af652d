package cli

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/berth-dev/berth/client"
)

func domainsCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "domains", Short: "Manage custom domains"}
	var in client.CreateDomain
	add := &cobra.Command{
		Use: "add HOSTNAME", Short: "Add a custom domain to an org, a workspace or a deployment", Args: cobra.ExactArgs(1),
		Long: "Add a custom domain. The answer lists the DNS records to create; then run `berth domains verify`.",
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := apiClient()
			if err != nil {
				return err
			}
			in.Hostname = args[0]
			d, err := c.CreateDomain(cmd.Context(), in)
			if err != nil {
				return err
			}
			return printJSON(cmd.OutOrStdout(), d)
		},
	}
	add.Flags().StringVar(&in.OrgID, "org", "", "org id: the org's apps' domain")
	add.Flags().StringVar(&in.WorkspaceID, "workspace", "", "workspace id: the workspace's apps' domain")
	add.Flags().StringVar(&in.DeploymentID, "deployment", "", "deployment id: one exact name for one app")

	var orgID, wsID string
	list := &cobra.Command{
		Use: "list", Short: "List custom domains", Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := apiClient()
			if err != nil {
				return err
			}
			ds, err := c.ListDomains(cmd.Context(), orgID, wsID)
			if err != nil {
				return err
			}
			return printJSON(cmd.OutOrStdout(), ds)
		},
	}
	list.Flags().StringVar(&orgID, "org", "", "only this org's")
	list.Flags().StringVar(&wsID, "workspace", "", "only this workspace's")

	verify := &cobra.Command{
		Use: "verify DOMAIN_ID", Short: "Check a domain's TXT record now", Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := apiClient()
			if err != nil {
				return err
			}
			d, err := c.VerifyDomain(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			if err := printJSON(cmd.OutOrStdout(), d); err != nil {
				return err
			}
			if d.Status != "verified" {
				return fmt.Errorf("%s is %s: %s", d.Hostname, d.Status, d.StatusReason)
			}
			return nil
		},
	}
	remove := &cobra.Command{
		Use: "remove DOMAIN_ID", Short: "Remove a custom domain", Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := apiClient()
			if err != nil {
				return err
			}
			return c.DeleteDomain(cmd.Context(), args[0])
		},
	}
	cmd.AddCommand(add, list, verify, remove)
	return cmd
}

func brandingCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "branding", Short: "Set and show the branding of an org or workspace"}
	var orgID, wsID string
	owner := func(c *cobra.Command) {
		c.Flags().StringVar(&orgID, "org", "", "org id")
		c.Flags().StringVar(&wsID, "workspace", "", "workspace id (inherits its org's fields it does not set)")
	}
	pick := func() error {
		if (orgID == "") == (wsID == "") {
			return usagef("give one of --org and --workspace")
		}
		return nil
	}
	var in client.Branding
	set := &cobra.Command{
		Use: "set", Short: "Replace the branding an org or workspace sets", Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := pick(); err != nil {
				return err
			}
			c, err := apiClient()
			if err != nil {
				return err
			}
			var b *client.OwnerBranding
			if orgID != "" {
				b, err = c.SetOrgBranding(cmd.Context(), orgID, in)
			} else {
				b, err = c.SetWorkspaceBranding(cmd.Context(), wsID, in)
			}
			if err != nil {
				return err
			}
			return printJSON(cmd.OutOrStdout(), b)
		},
	}
	owner(set)
	set.Flags().StringVar(&in.ProductName, "product-name", "", "product name shown on pages")
	set.Flags().StringVar(&in.LogoURL, "logo-url", "", "http(s) URL of the logo")
	set.Flags().StringVar(&in.PrimaryColor, "primary-color", "", "#rrggbb or a CSS colour keyword")
	set.Flags().StringVar(&in.AccentColor, "accent-color", "", "#rrggbb or a CSS colour keyword")
	set.Flags().StringVar(&in.SupportURL, "support-url", "", "http(s) URL for help")
	set.Flags().StringVar(&in.SupportEmail, "support-email", "", "email address for help")
	show := &cobra.Command{
		Use: "show", Short: "Show the branding of an org or workspace", Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := pick(); err != nil {
				return err
			}
			c, err := apiClient()
			if err != nil {
				return err
			}
			var b *client.OwnerBranding
			if orgID != "" {
				b, err = c.OrgBranding(cmd.Context(), orgID)
			} else {
				b, err = c.WorkspaceBranding(cmd.Context(), wsID)
			}
			if err != nil {
				return err
			}
			return printJSON(cmd.OutOrStdout(), b)
		},
	}
	owner(show)
	cmd.AddCommand(set, show)
	return cmd
}
