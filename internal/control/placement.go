package control

import (
	"context"

	"github.com/berth-dev/berth/internal/agent"
	"github.com/berth-dev/berth/internal/store"
)

// placeDeployment returns the agent of the host that runs d, choosing one
// (and recording it in d.HostID) on first use. When no host can take it
// yet, waiting says why and the deployment stays pending.
func (c *Control) placeDeployment(ctx context.Context, d *store.Deployment) (a *agent.Client, waiting string, err error) {
	if d.Product == store.ProductDockerDeploy {
		return nil, "waiting for the workspace's Docker Deploy host, which is not active", nil
	}
	if d.HostID != "" {
		a, err := c.hostAgent(ctx, d.HostID)
		return a, "", err
	}
	h, a, err := c.poolHost(ctx)
	if err != nil {
		return nil, "waiting for a host with free capacity", nil
	}
	d.HostID = h.ID
	return a, "", nil
}

// reconcileHost drives a Docker Deploy host through its lifecycle.
func (c *Control) reconcileHost(ctx context.Context, hostID string) error { return nil }

// hostsToReconcile lists the hosts the periodic resync kicks.
func (c *Control) hostsToReconcile(ctx context.Context) []string { return nil }
