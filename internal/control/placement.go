package control

import (
	"context"
	"errors"

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
func (c *Control) placeDeployment(ctx context.Context, d *store.Deployment) (a *agent.Client, waiting string, err error) {
	if d.Product == store.ProductDockerDeploy {
		h, waiting, err := c.workspaceHost(ctx, d.WorkspaceID)
		if err != nil || waiting != "" {
			if waiting != "" && (d.Status != store.DeploymentPending || d.StatusReason != waiting) {
				c.event(ctx, d.ID, "deployment.waiting", "%s", waiting)
			}
			return nil, waiting, err
		}
		d.HostID = h.ID
		return c.agent(h), "", nil
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

// workspaceHost returns the workspace's Docker Deploy host when it is
// active, or why a deployment waits for it.
func (c *Control) workspaceHost(ctx context.Context, workspaceID string) (*store.Host, string, error) {
	h, err := c.st.GetWorkspaceHost(ctx, workspaceID)
	if errors.Is(err, store.ErrNotFound) {
		return nil, "waiting for the workspace's Docker Deploy host: the workspace has none; create it with POST /api/v1/docker-deploy/hosts/ensure (berth docker-deploy ensure)", nil
	}
	if err != nil {
		return nil, "", err
	}
	switch h.State {
	case store.HostActive:
		return h, "", nil
	case store.HostFailed:
		return nil, "waiting for the workspace's Docker Deploy host, which failed: " + h.StateReason + "; fix that and ensure the host again", nil
	}
	return nil, "waiting for the workspace's Docker Deploy host, which is " + h.State, nil
}

// pendingReason is why a deployment about to be (re)deployed starts out
// waiting, or "": a docker_deploy deployment whose host is not active
// says so in the answer to the deploy itself.
func (c *Control) pendingReason(ctx context.Context, d *store.Deployment) string {
	if d.Product != store.ProductDockerDeploy {
		return ""
	}
	_, waiting, _ := c.workspaceHost(ctx, d.WorkspaceID)
	return waiting
}
