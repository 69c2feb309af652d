package cli

import (
	"context"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/berth-dev/berth/client"
)

func deploymentsCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "deployments", Aliases: []string{"deployment"}, Short: "List, show, pause, resume or delete deployments"}
	cmd.AddCommand(deploymentReadCmds()...)
	change := func(use, short, done string, call func(*client.Client, context.Context, string) (*client.Deployment, error)) *cobra.Command {
		var wait time.Duration
		c := &cobra.Command{
			Use:   use + " DEPLOYMENT_ID",
			Short: short,
			Args:  cobra.ExactArgs(1),
			RunE: func(cmd *cobra.Command, args []string) error {
				c, err := apiClient()
				if err != nil {
					return err
				}
				d, err := call(c, cmd.Context(), args[0])
				if err != nil {
					return err
				}
				deadline := time.Now().Add(wait)
				for d.Status != done && d.Status != "failed" && time.Now().Before(deadline) {
					time.Sleep(250 * time.Millisecond)
					if d, err = c.GetDeployment(cmd.Context(), d.ID); err != nil {
						return err
					}
				}
				if err := printJSON(cmd.OutOrStdout(), d); err != nil {
					return err
				}
				if wait > 0 && d.Status != done {
					return fmt.Errorf("the deployment is %s, not yet %s: %s", d.Status, done, d.StatusReason)
				}
				return nil
			},
		}
		c.Flags().DurationVar(&wait, "wait", 2*time.Minute, "wait this long for it to be "+done+" (0: do not wait)")
		return c
	}
	cmd.AddCommand(
		change("pause", "Stop a deployment's containers; its URL shows an unavailable page and its cron jobs are held", "paused", (*client.Client).PauseDeployment),
		change("resume", "Start a paused deployment again from its release, without a build, and release its cron jobs", "ready", (*client.Client).ResumeDeployment),
		change("delete", "Remove a deployment's containers and route (its releases are kept; its cron jobs are held)", "deleted", (*client.Client).DeleteDeployment),
	)
	return cmd
}
