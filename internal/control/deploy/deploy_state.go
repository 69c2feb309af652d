package deploy

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/berth-dev/berth/internal/agent"
	"github.com/berth-dev/berth/internal/problem"
	"github.com/berth-dev/berth/internal/store"
)

// PauseDeployment asks for a deployment's containers to stop and its URL
// to answer the edge's unavailable page; its cron jobs are held. The
// containers are kept, so ResumeDeployment starts them again without a
// build.
func (c *Service) PauseDeployment(ctx context.Context, did string) (*store.Deployment, error) {
	return c.setDesired(ctx, did, store.DesiredPaused)
}

// ResumeDeployment asks for a paused deployment to serve its release
// again, and releases its cron jobs.
func (c *Service) ResumeDeployment(ctx context.Context, did string) (*store.Deployment, error) {
	return c.setDesired(ctx, did, "")
}

// DeleteDeployment asks for a deployment's containers to be removed and
// its URL unrouted; its cron jobs are held, and its links to data
// services and its own custom domains removed. The record stays, with its release history, and the releases
// stay deployable; a later deploy to the project makes a new deployment.
func (c *Service) DeleteDeployment(ctx context.Context, did string) (*store.Deployment, error) {
	return c.setDesired(ctx, did, store.DesiredDeleted)
}

// setDesired records a deployment's desired state and hands the work to
// its reconciler. Asking for the state it is already in changes nothing.
func (c *Service) setDesired(ctx context.Context, did, desired string) (*store.Deployment, error) {
	d, err := c.st.GetDeployment(ctx, did)
	if err != nil {
		return nil, err
	}
	if d.Desired == store.DesiredDeleted && desired != store.DesiredDeleted {
		return nil, problem.Conflict("deployment_deleted", "deployment %s was deleted; deploy a release to the project to make a new one", d.ID)
	}
	if d.Desired != desired {
		if err := c.st.SetDeploymentDesired(ctx, d.ID, desired); err != nil {
			return nil, fmt.Errorf("recording the deployment's desired state: %w", err)
		}
		d.Desired = desired
		verb := map[string]string{"": "resuming", store.DesiredPaused: "pausing", store.DesiredDeleted: "deleting"}[desired]
		c.events.Record(ctx, d.ID, "deployment."+verb, "%s the deployment", verb)
	}
	// The reconciler does all this again; doing it now means no cron run
	// starts and no request is proxied after the answer.
	if err := c.cron.SyncHolds(ctx, d); err != nil {
		c.log.Warn("holding cron jobs failed", "deployment", d.ID, "err", err)
	}
	c.routes.Changed(ctx, d.ID)
	c.queue.Kick(d.ID)
	return d, nil
}

// reconcileDesired makes a paused or deleted deployment so, and holds or
// releases its cron jobs to match its desired state. handled is false for
// a deployment that should run: the rollout reconciler takes it from
// there, restarting what a pause stopped.
func (c *Service) reconcileDesired(ctx context.Context, d *store.Deployment) (handled bool, err error) {
	if err := c.cron.SyncHolds(ctx, d); err != nil {
		return true, err
	}
	switch d.Desired {
	case store.DesiredPaused:
		return true, c.reconcilePaused(ctx, d)
	case store.DesiredDeleted:
		return true, c.reconcileDeleted(ctx, d)
	}
	return false, nil
}

// deploymentContainers lists the containers of every release and service
// of a deployment on its host, with the agent that runs them; none before
// it was placed.
func (c *Service) deploymentContainers(ctx context.Context, d *store.Deployment) (*agent.Client, []agent.ContainerInfo, error) {
	if d.HostID == "" {
		return nil, nil, nil
	}
	a, err := c.agents.ForHost(ctx, d.HostID)
	if err != nil {
		return nil, nil, err
	}
	list, err := a.ListContainers(ctx, c.labels.Of("berth.deployment", d.ID))
	if err != nil {
		return nil, nil, fmt.Errorf("listing the deployment's containers: %w", err)
	}
	return a, list, nil
}

func (c *Service) reconcilePaused(ctx context.Context, d *store.Deployment) error {
	a, list, err := c.deploymentContainers(ctx, d)
	if err != nil {
		return err
	}
	for _, ct := range list {
		if !ct.Running {
			continue
		}
		if err := a.StopContainer(ctx, ct.ID, 10*time.Second); err != nil && !errors.Is(err, agent.ErrNotFound) {
			return fmt.Errorf("stopping %s: %w", ct.Name, err)
		}
	}
	if d.Status == store.DeploymentPaused && d.Upstream == "" {
		return nil
	}
	d.Upstream = ""
	d.Status, d.StatusReason = store.DeploymentPaused, "paused: its containers are stopped; resume it to serve release "+d.ReleaseID+" again"
	if err := c.st.UpdateDeploymentRuntime(ctx, d); err != nil {
		return err
	}
	c.events.Record(ctx, d.ID, "deployment.paused", "the deployment is paused")
	return c.routes.Changed(ctx, d.ID)
}

func (c *Service) reconcileDeleted(ctx context.Context, d *store.Deployment) error {
	if d.Status == store.DeploymentDeleted && d.ContainerID == "" && d.Upstream == "" {
		return nil // written only once everything below was done
	}
	a, list, err := c.deploymentContainers(ctx, d)
	if err != nil {
		return err
	}
	for _, ct := range list {
		if err := a.StopContainer(ctx, ct.ID, 10*time.Second); err != nil && !errors.Is(err, agent.ErrNotFound) {
			return fmt.Errorf("stopping %s: %w", ct.Name, err)
		}
		if err := a.RemoveContainer(ctx, ct.ID); err != nil && !errors.Is(err, agent.ErrNotFound) {
			return fmt.Errorf("removing %s: %w", ct.Name, err)
		}
	}
	links, err := c.st.ListDatabaseLinks(ctx, store.DatabaseLinkFilter{TargetID: d.ID})
	if err != nil {
		return err
	}
	for _, l := range links {
		if err := c.st.DeleteDatabaseLink(ctx, l.DatabaseID, d.ID); err != nil && !errors.Is(err, store.ErrNotFound) {
			return err
		}
	}
	domains, err := store.ListAll(ctx, func(ctx context.Context, f store.ListFilter) ([]*store.Domain, error) {
		f.OrgID = d.OrgID
		return c.st.ListDomains(ctx, f)
	})
	if err != nil {
		return err
	}
	for _, dom := range domains {
		if dom.DeploymentID != d.ID {
			continue
		}
		if err := c.st.DeleteDomain(ctx, dom.ID); err != nil && !errors.Is(err, store.ErrNotFound) {
			return err
		}
		c.events.Record(ctx, d.ID, "deployment.domain_removed", "custom domain %s was removed with the deployment", dom.Hostname)
		c.routes.DomainChanged(dom.Hostname)
	}
	d.ContainerID, d.Upstream, d.StandbyContainerID, d.StandbyReleaseID = "", "", "", ""
	d.Status, d.StatusReason = store.DeploymentDeleted, "deleted: its containers are removed; its releases and history are kept"
	if err := c.st.UpdateDeploymentRuntime(ctx, d); err != nil {
		return err
	}
	c.events.Record(ctx, d.ID, "deployment.deleted", "the deployment is deleted")
	return c.routes.Changed(ctx, d.ID)
}
