package cli

import (
	"context"
	"fmt"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/berth-dev/berth/client"
)

func dockerDeployCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "docker-deploy", Short: "Docker Deploy: one dedicated host per workspace for its apps"}
	cmd.AddCommand(ensureHostCmd(), hostsCmd(), portalPasswordCmd())
	return cmd
}

func ensureHostCmd() *cobra.Command {
	var in client.EnsureHost
	var keyFile string
	var noWait bool
	var timeout time.Duration
	cmd := &cobra.Command{
		Use:   "ensure",
		Short: "Make the workspace's Docker Deploy host (or retry a failed one) and wait until it is active",
		Long: "Make the workspace's Docker Deploy host, or return it when it exists (retrying it when it failed),\n" +
			"and show its progress until it is active or failed. Without --ssh the platform's default provisioner\n" +
			"makes it; with --ssh ADDRESS --ssh-user USER --ssh-key FILE Berth installs it on a server you own.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if in.WorkspaceID == "" {
				return usagef("give the workspace with --workspace ID")
			}
			if in.SSH.Address != "" || keyFile != "" {
				if in.SSH.Address == "" || in.SSH.User == "" || keyFile == "" {
					return usagef("an SSH server needs --ssh ADDRESS, --ssh-user USER and --ssh-key FILE")
				}
				b, err := os.ReadFile(keyFile)
				if err != nil {
					return fmt.Errorf("reading the SSH key: %w", err)
				}
				in.SSH.PrivateKey = string(b)
			}
			c, err := apiClient()
			if err != nil {
				return err
			}
			ctx, cancel := context.WithTimeout(cmd.Context(), timeout)
			defer cancel()
			h, err := c.EnsureHost(ctx, in)
			if err != nil {
				return err
			}
			if !noWait {
				if h, err = followHost(ctx, c, h, newProgress(cmd.ErrOrStderr())); err != nil {
					return err
				}
			}
			return printJSON(cmd.OutOrStdout(), h)
		},
	}
	cmd.Flags().StringVar(&in.WorkspaceID, "workspace", "", "workspace id")
	cmd.Flags().BoolVar(&noWait, "no-wait", false, "return at once instead of waiting for the host to be active")
	cmd.Flags().DurationVar(&timeout, "timeout", 15*time.Minute, "how long to wait for the host")
	cmd.Flags().StringVar(&in.SSH.Address, "ssh", "", "a server you own to make the host on, as host or host:port")
	cmd.Flags().StringVar(&in.SSH.User, "ssh-user", "", "the user to log in as")
	cmd.Flags().StringVar(&keyFile, "ssh-key", "", "file of the private key the server accepts")
	cmd.Flags().StringVar(&in.SSH.HostKey, "ssh-host-key", "", "the server's host key to pin (authorized_keys format; default: the one seen first)")
	return cmd
}

// followHost shows a host's events until it is active or failed.
func followHost(ctx context.Context, c *client.Client, h *client.Host, p *progress) (*client.Host, error) {
	var after int64
	if evs, err := c.Events(ctx, h.ID, 0); err == nil && len(evs) > 0 {
		after = evs[len(evs)-1].Seq - 1 // show the step the host is at now
	}
	for {
		evs, err := c.Events(ctx, h.ID, after)
		if err != nil {
			return nil, err
		}
		for _, e := range evs {
			if e.Type != "host.failed" {
				p.step("%s", e.Message)
			}
			after = e.Seq
		}
		if h, err = c.GetHost(ctx, h.ID); err != nil {
			return nil, err
		}
		switch h.State {
		case "active":
			p.done("ready")
			return h, nil
		case "failed":
			p.done("failed")
			return nil, fmt.Errorf("the host failed: %s", h.StateReason)
		}
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("waiting for host %s (still %s): %w", h.ID, h.State, ctx.Err())
		case <-time.After(150 * time.Millisecond):
		}
		p.tick()
	}
}

func hostsCmd() *cobra.Command {
	var workspaceID string
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "hosts",
		Short: "List Docker Deploy hosts: state, health of agent and portal, containers",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := apiClient()
			if err != nil {
				return err
			}
			hosts, err := c.ListHosts(cmd.Context(), workspaceID)
			if err != nil {
				return err
			}
			if done, err := jsonList(cmd, hosts); done || err != nil {
				return err
			}
			if asJSON {
				return printJSON(cmd.OutOrStdout(), hosts)
			}
			tw := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "ID\tWORKSPACE\tSTATE\tAGENT\tPORTAL\tPORTAL URL\tCONTAINERS\tSINCE\tREASON")
			for _, h := range hosts {
				since := h.UpdatedAt
				if n := len(h.Transitions); n > 0 {
					since = h.Transitions[n-1].At
				}
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%d\t%s\t%s\n", h.ID, h.WorkspaceID, h.State, h.Agent.Status, h.Portal.Status,
					orDash(h.PortalURL), h.Usage.Containers, since.Local().Format(time.DateTime), strings.ReplaceAll(h.StateReason, "\n", " "))
			}
			return tw.Flush()
		},
	}
	cmd.Flags().StringVar(&workspaceID, "workspace", "", "only this workspace's host")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}
