package deploy

import (
	"context"

	"github.com/berth-dev/berth/internal/agent"
	"github.com/berth-dev/berth/internal/store"
)

// placeDeployment returns the agent of the host that runs d, choosing one
// (and recording it in d.HostID) on first use. When no host can take it
// yet, waiting says why and the deployment stays pending.
//
// A docker_deploy deployment runs on its workspace's Docker Deploy host
// and nowhere else: while that host is not active it waits, and the host
// reconciler kicks it when the host turns active. It never falls back to
// the pool.
func (c *Service) placeDeployment(ctx context.Context, d *store.Deployment) (a *agent.Client, waiting string, err error) {
	if d.Product == store.ProductDockerDeploy {
		h, waiting, err := c.agents.WorkspaceHost(ctx, d.WorkspaceID)
		if err != nil || waiting != "" {
			if waiting != "" && (d.Status != store.DeploymentPending || d.StatusReason != waiting) {
				c.events.Record(ctx, d.ID, "deployment.waiting", "%s", waiting)
			}
			return nil, waiting, err
		}
		d.HostID = h.ID
		return c.agents.Agent(h), "", nil
	}
	if d.HostID != "" {
		a, err := c.agents.ForHost(ctx, d.HostID)
		return a, "", err
	}
	h, a, err := c.agents.PoolHost(ctx)
	if err != nil {
		return nil, "waiting for a host with free capacity", nil
	}
	d.HostID = h.ID
	return a, "", nil
}

// pendingReason is why a deployment about to be (re)deployed starts out
// waiting, or "": a docker_deploy deployment whose host is not active
// says so in the answer to the deploy itself.
func (c *Service) pendingReason(ctx context.Context, d *store.Deployment) string {
	if d.Product != store.ProductDockerDeploy {
		return ""
	}
	_, waiting, _ := c.agents.WorkspaceHost(ctx, d.WorkspaceID)
	return waiting
}
