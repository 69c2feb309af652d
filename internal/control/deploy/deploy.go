package deploy

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/berth-dev/berth/internal/agent"
	"github.com/berth-dev/berth/internal/control/agents"
	"github.com/berth-dev/berth/internal/control/appenv"
	"github.com/berth-dev/berth/internal/control/names"
	"github.com/berth-dev/berth/internal/control/releases"
	"github.com/berth-dev/berth/internal/id"
	"github.com/berth-dev/berth/internal/problem"
	"github.com/berth-dev/berth/internal/store"
)

// DrainTime is how long a replaced container keeps serving the requests
// it already has before it is stopped.
const DrainTime = 2 * time.Second

// DeployRequest asks for a release to run at the project's URL.
type DeployRequest struct {
	Project    *store.Project
	ReleaseID  string
	Product    string
	Env        map[string]string
	Metadata   map[string]string
	ExternalID string
}

// Deploy points the project's deployment of the product at a release,
// creating the deployment on first use, and starts the rollout.
func (c *Service) Deploy(ctx context.Context, req DeployRequest) (*store.Deployment, bool, error) {
	if req.Product == "" {
		req.Product = store.ProductStandard
	}
	if req.Product != store.ProductStandard && req.Product != store.ProductDockerDeploy {
		return nil, false, problem.Unprocessable("invalid_deployment_product", "deployment_product must be \"standard\" or \"docker_deploy\", not %q", req.Product)
	}
	if err := appenv.Validate(req.Env); err != nil {
		return nil, false, err
	}
	if req.ReleaseID == "" {
		return nil, false, problem.Unprocessable("missing_release_id", "give the release to deploy in \"release_id\"")
	}
	rel, err := c.st.GetRelease(ctx, req.ReleaseID)
	if errors.Is(err, store.ErrNotFound) {
		return nil, false, problem.Unprocessable("release_not_found", "release %q does not exist; publish one first", req.ReleaseID)
	}
	if err != nil {
		return nil, false, err
	}
	if rel.ProjectID != req.Project.ID {
		return nil, false, problem.Unprocessable("release_of_another_project", "release %s belongs to another project; deploy a release of project %s", rel.ID, req.Project.ID)
	}
	if tid := req.Metadata["docker_deploy_template_id"]; tid != "" {
		if _, ok := c.cfg.Templates.Get(tid); !ok {
			return nil, false, problem.Unprocessable("unknown_template", "docker_deploy_template_id %q does not exist; use one of: %s", tid, strings.Join(c.cfg.Templates.IDs(), ", "))
		}
	}
	var d *store.Deployment
	created := false
	now := time.Now().UTC()
	err = c.st.InTx(ctx, func(tx store.Store) error {
		existing, err := tx.ListDeployments(ctx, store.ListFilter{ProjectID: req.Project.ID})
		if err != nil {
			return err
		}
		for _, e := range existing {
			if e.Product == req.Product && e.Desired != store.DesiredDeleted {
				d = e
			}
		}
		if d == nil {
			created = true
			d = &store.Deployment{
				ID: id.New(id.Deployment), OrgID: req.Project.OrgID, WorkspaceID: req.Project.WorkspaceID,
				ProjectID: req.Project.ID, Product: req.Product, Env: map[string]string{}, Metadata: map[string]string{},
				ExternalID: req.ExternalID, CreatedAt: now, UpdatedAt: now,
			}
		}
		maps.Copy(d.Env, req.Env)
		maps.Copy(d.Metadata, req.Metadata)
		d.ReleaseID, d.Status, d.StatusReason = rel.ID, store.DeploymentPending, c.pendingReason(ctx, d)
		if created {
			err = tx.CreateDeployment(ctx, d)
		} else if err = tx.UpdateDeployment(ctx, d); err == nil && d.Desired == store.DesiredPaused {
			// A deploy is a request to run: it resumes a paused deployment.
			d.Desired, err = "", tx.SetDeploymentDesired(ctx, d.ID, "")
		}
		if err != nil {
			return err
		}
		return tx.AddDeploymentRelease(ctx, &store.DeploymentRelease{DeploymentID: d.ID, ReleaseID: rel.ID, Reason: "deploy", CreatedAt: now})
	})
	if errors.Is(err, store.ErrConflict) {
		return nil, false, problem.Conflict("external_id_taken", "a deployment with external_id %q already exists", req.ExternalID)
	}
	if err != nil {
		return nil, false, fmt.Errorf("recording deployment: %w", err)
	}
	c.events.Record(ctx, d.ID, "deployment.pending", "deploying release %s", rel.ID)
	if err := c.cron.SyncHolds(ctx, d); err != nil {
		c.log.Warn("releasing cron jobs failed", "deployment", d.ID, "err", err)
	}
	c.routes.Changed(ctx, d.ID)
	c.queue.Kick(d.ID)
	return d, created, nil
}

// Rollback re-points a deployment at an earlier release of its history:
// the previous one when releaseID is empty.
func (c *Service) Rollback(ctx context.Context, did, releaseID string) (*store.Deployment, error) {
	var d *store.Deployment
	err := c.st.InTx(ctx, func(tx store.Store) error {
		var err error
		if d, err = tx.GetDeployment(ctx, did); err != nil {
			return err
		}
		if d.Desired == store.DesiredDeleted {
			return problem.Conflict("deployment_deleted", "deployment %s was deleted; deploy a release to the project to make a new one", d.ID)
		}
		hist, err := tx.ListDeploymentReleases(ctx, did)
		if err != nil {
			return err
		}
		target := ""
		for i := len(hist) - 1; i >= 0 && target == ""; i-- {
			h := hist[i]
			if releaseID == "" && h.ReleaseID != d.ReleaseID {
				target = h.ReleaseID
			}
			if releaseID != "" && h.ReleaseID == releaseID {
				target = releaseID
			}
		}
		if target == "" && releaseID == "" {
			return problem.Unprocessable("no_previous_release", "this deployment has run only one release; deploy another before rolling back")
		}
		if target == "" {
			return problem.Unprocessable("release_not_in_history", "release %q never ran on this deployment; roll back to one of its history", releaseID)
		}
		now := time.Now().UTC()
		d.ReleaseID, d.Status, d.StatusReason = target, store.DeploymentPending, ""
		if err := tx.UpdateDeployment(ctx, d); err != nil {
			return err
		}
		return tx.AddDeploymentRelease(ctx, &store.DeploymentRelease{DeploymentID: d.ID, ReleaseID: target, Reason: "rollback", CreatedAt: now})
	})
	if err != nil {
		return nil, err
	}
	c.events.Record(ctx, d.ID, "deployment.rollback", "rolling back to release %s", d.ReleaseID)
	c.queue.Kick(d.ID)
	return d, nil
}

// WaitDeployment waits until the deployment is ready or failed, or timeout.
func (c *Service) WaitDeployment(ctx context.Context, did string, timeout time.Duration) (*store.Deployment, error) {
	deadline := time.Now().Add(timeout)
	for {
		d, err := c.st.GetDeployment(ctx, did)
		if err != nil {
			return nil, err
		}
		if d.Status == store.DeploymentReady || d.Status == store.DeploymentFailed || time.Now().After(deadline) {
			return d, nil
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// DeploymentURL is the URL the platform assigned to a deployment.
func (c *Service) DeploymentURL(ctx context.Context, d *store.Deployment) string {
	p, err := c.st.GetProject(ctx, d.ProjectID)
	if err != nil {
		return ""
	}
	return c.cfg.Names.URL(c.hostnames.Deployment(ctx, d, p.Slug))
}

func imageRef(releaseID string) string { return "apps/" + releaseID + ":latest" }

// containerName is unique per rollout, so a rollout never collides with a
// container of the same release that is still draining.
func containerName(d *store.Deployment, releaseID string) string {
	return "berth-" + d.ID + "-" + releaseID + "-" + id.Random(6)
}

// Reconcile drives one deployment toward its desired release.
// Every step checks what exists first, so running it again after a crash
// at any point finishes the work.
func (c *Service) Reconcile(ctx context.Context, did string) error {
	d, err := c.st.GetDeployment(ctx, did)
	if err != nil {
		return err
	}
	if handled, err := c.reconcileDesired(ctx, d); handled {
		return err
	}
	a, waiting, err := c.placeDeployment(ctx, d)
	if err != nil {
		return err
	}
	if waiting != "" {
		return c.setStatus(ctx, d, store.DeploymentPending, waiting)
	}
	if handled, err := c.compose.reconcileCompose(ctx, a, d); handled {
		return err
	}
	if d.ContainerID != "" && ((d.ServingReleaseID == d.ReleaseID && d.Status != store.DeploymentPending) || d.Status == store.DeploymentFailed) {
		return c.keepServing(ctx, a, d)
	}
	if d.Status == store.DeploymentFailed {
		return nil // a failed rollout waits for a new deploy or rollback
	}
	rel, err := c.st.GetRelease(ctx, d.ReleaseID)
	if err != nil {
		return err
	}
	if woke, err := c.wakeStandby(ctx, a, d, rel); woke || err != nil {
		return err
	}
	image := imageRef(rel.ID)
	ok, err := a.ImageExists(ctx, image)
	if err != nil {
		return err
	}
	if !ok {
		if err := c.setStatus(ctx, d, store.DeploymentBuilding, ""); err != nil {
			return err
		}
		c.events.Record(ctx, d.ID, "deployment.uploading", "sending release %s to the host", rel.ID)
		if err := a.PushBlob(ctx, rel.Digest, c.cfg.Artifacts.Path(rel.Digest)); err != nil {
			return c.fail(ctx, d, "sending the release to the host: %s", agents.Reason(c.log, err))
		}
		dockerfile, files, err := c.releases.DockerfileFor(rel, d)
		if err != nil {
			return c.fail(ctx, d, "%v", err)
		}
		c.events.Record(ctx, d.ID, "deployment.building", "building the image of release %s", rel.ID)
		err = a.Build(ctx, agent.BuildRequest{Image: image, Digest: rel.Digest, Dockerfile: dockerfile,
			DockerfilePath: rel.Build.Dockerfile, Files: files, ModTime: rel.CreatedAt, Labels: c.labels.Of("berth.release", rel.ID)})
		if err != nil {
			return c.fail(ctx, d, "the image build failed: %s", agents.Reason(c.log, err))
		}
	}
	if err := c.setStatus(ctx, d, store.DeploymentStarting, ""); err != nil {
		return err
	}
	c.events.Record(ctx, d.ID, "deployment.starting", "starting release %s", rel.ID)
	// The variables are read now, once starting: a link made while the
	// image built is in them (restartTarget counts on it).
	spec, run, err := c.deploymentSpec(ctx, d, rel)
	if err != nil {
		return err
	}
	spec.Name = containerName(d, rel.ID)
	if _, err := a.CreateContainer(ctx, spec); err != nil {
		return c.fail(ctx, d, "creating the container: %s", agents.Reason(c.log, err))
	}
	if err := a.StartContainer(ctx, spec.Name); err != nil {
		a.RemoveContainer(ctx, spec.Name)
		return c.fail(ctx, d, "starting the container: %s", agents.Reason(c.log, err))
	}
	if _, err := a.Probe(ctx, spec.Name, agent.ProbeRequest{Port: run.Port, Path: run.HealthPath, Timeout: 2 * time.Minute}); err != nil {
		a.RemoveContainer(ctx, spec.Name)
		var ae *agent.Error
		if errors.As(err, &ae) {
			return c.fail(ctx, d, "%s", ae.Detail)
		}
		return c.fail(ctx, d, "health check: %s", agents.Reason(c.log, err))
	}
	info, err := a.InspectContainer(ctx, spec.Name)
	if err != nil {
		return err
	}
	return c.switchTo(ctx, a, d, rel.ID, info.ID, info.Ports[run.Port])
}

// specLabel carries the digest of what a deployment's container was made
// from (image, command, env, network, limits), so a standby is woken only
// when a new container would be the same.
const specLabel = "berth.spec"

// deploymentSpec is the container a release runs in as deployment d,
// without its name, which is new for every rollout (a cron command's
// container is made from it too).
func (c *Service) deploymentSpec(ctx context.Context, d *store.Deployment, rel *store.Release) (agent.ContainerSpec, releases.Shape, error) {
	run := c.releases.RunShape(rel, d)
	env, err := c.links.Container(ctx, d.ProjectID, d.ID, run.Env, d.Env)
	if err != nil {
		return agent.ContainerSpec{}, run, err
	}
	env["PORT"] = strconv.Itoa(run.Port)
	spec := agent.ContainerSpec{
		Image: imageRef(rel.ID), Env: appenv.List(env), Ports: []int{run.Port}, Cmd: run.Cmd, Restart: "unless-stopped", Init: true,
		Network: c.links.Network(ctx, d.ProjectID, d.ID), ExtraHosts: c.links.ExtraHosts(ctx, d.ProjectID, d.ID),
		MemoryBytes: c.cfg.Limits.MemoryBytes, NanoCPUs: c.cfg.Limits.NanoCPUs, PidsLimit: c.cfg.Limits.PidsLimit,
	}
	b, err := json.Marshal(spec)
	if err != nil {
		return agent.ContainerSpec{}, run, fmt.Errorf("digesting the container spec: %w", err)
	}
	sum := sha256.Sum256(b)
	spec.Labels = c.labels.Of("berth.kind", "deployment", "berth.deployment", d.ID, "berth.release", rel.ID,
		specLabel, hex.EncodeToString(sum[:]))
	return spec, run, nil
}

// wakeStandby serves d's release from its standby container when that is
// the release asked for and the container was made the way a new one
// would be: it is thawed (or started, after a pause of the deployment),
// checked and switched to, with no container created. A standby that is
// gone, differs or fails its check is removed, and woke is false: a new
// container is made as usual.
func (c *Service) wakeStandby(ctx context.Context, a *agent.Client, d *store.Deployment, release *store.Release) (woke bool, err error) {
	if d.StandbyContainerID == "" || d.StandbyReleaseID != release.ID {
		return false, nil
	}
	standby, rel := d.StandbyContainerID, release.ID
	if err := c.setStatus(ctx, d, store.DeploymentStarting, ""); err != nil {
		return false, err
	}
	spec, run, err := c.deploymentSpec(ctx, d, release)
	if err != nil {
		return false, err
	}
	info, err := a.InspectContainer(ctx, standby)
	if err != nil && !errors.Is(err, agent.ErrNotFound) {
		return false, err
	}
	if err == nil && info.Labels[specLabel] == spec.Labels[specLabel] {
		c.events.Record(ctx, d.ID, "deployment.starting", "waking the standby container of release %s", rel)
		// A thawed app answers at once, or is broken; a stopped one boots.
		err := a.UnpauseContainer(ctx, standby)
		timeout := 30 * time.Second
		if err == nil && !info.Running {
			err, timeout = a.StartContainer(ctx, standby), 2*time.Minute
		}
		if err == nil {
			_, err = a.Probe(ctx, standby, agent.ProbeRequest{Port: run.Port, Path: run.HealthPath, Timeout: timeout})
		}
		if err == nil {
			info, err = a.InspectContainer(ctx, standby)
		}
		if err == nil {
			return true, c.switchTo(ctx, a, d, rel, info.ID, info.Ports[run.Port])
		}
		c.events.Record(ctx, d.ID, "deployment.standby_failed", "the standby container of release %s did not answer (%s); starting a new one", rel, agents.Reason(c.log, err))
	}
	if err := a.RemoveContainer(ctx, standby); err != nil {
		return false, err
	}
	d.StandbyContainerID, d.StandbyReleaseID = "", ""
	return false, c.st.UpdateDeploymentRuntime(ctx, d)
}

// switchTo routes d to a healthy container of release rel at upstream,
// marks d ready once the edge reaches it, and retires what served before:
// kept frozen as the standby (unless the platform keeps none, or it ran
// the same release), or removed, as is a standby this switch replaces.
func (c *Service) switchTo(ctx context.Context, a *agent.Client, d *store.Deployment, rel, containerID, upstream string) error {
	old, oldRel := d.ContainerID, d.ServingReleaseID
	prevStandby := d.StandbyContainerID
	switch {
	case c.cfg.NoStandby:
		d.StandbyContainerID, d.StandbyReleaseID = "", ""
	case old != "" && old != containerID && oldRel != rel:
		d.StandbyContainerID, d.StandbyReleaseID = old, oldRel
	case prevStandby == containerID:
		d.StandbyContainerID, d.StandbyReleaseID = "", ""
	}
	d.ServingReleaseID, d.ContainerID, d.Upstream = rel, containerID, upstream
	if err := c.st.UpdateDeploymentRuntime(ctx, d); err != nil {
		return err
	}
	if err := c.routes.Changed(ctx, d.ID); err != nil {
		return err
	}
	if err := c.confirm(ctx, d); err != nil {
		return err
	}
	for _, ct := range []string{old, prevStandby} {
		if ct != "" && ct != containerID {
			c.retire(ctx, a, d.ID, ct, ct == d.StandbyContainerID)
		}
	}
	return nil
}

// retire lets a replaced container finish the requests it has, then
// stops and removes it, without holding up the deployment's next change.
// A standby is left running instead: the deployment's reconciler freezes
// it once it has drained (settleStandby). A crash before it is done
// leaves a container no record points at, which the sweep at the next
// start removes, or a standby not yet frozen, which the reconciler
// freezes.
func (c *Service) retire(ctx context.Context, a *agent.Client, did, containerID string, standby bool) {
	c.draining.add(containerID)
	c.retiring.Add(1)
	go func() {
		defer c.retiring.Done()
		select {
		case <-ctx.Done():
			c.draining.remove(containerID)
			return
		case <-time.After(DrainTime):
		}
		c.draining.remove(containerID)
		if standby {
			c.queue.Kick(did)
			return
		}
		if err := a.StopContainer(ctx, containerID, 5*time.Second); err != nil && !errors.Is(err, agent.ErrNotFound) {
			c.log.Warn("stopping replaced container failed", "container", containerID, "err", err)
		}
		if err := a.RemoveContainer(ctx, containerID); err != nil {
			c.log.Warn("removing replaced container failed", "container", containerID, "err", err)
		}
	}()
}

// drainSet counts the retirements under way of each container.
type drainSet struct {
	mu sync.Mutex
	n  map[string]int
}

func (s *drainSet) add(id string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.n == nil {
		s.n = map[string]int{}
	}
	s.n[id]++
}

func (s *drainSet) remove(id string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.n[id]--; s.n[id] <= 0 {
		delete(s.n, id)
	}
}

func (s *drainSet) has(id string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.n[id] > 0
}

// settleStandby freezes d's standby once it has drained, and forgets one
// that is gone. A stopped standby (after a pause of the deployment) stays
// stopped; waking it starts it.
func (c *Service) settleStandby(ctx context.Context, a *agent.Client, d *store.Deployment) error {
	if d.StandbyContainerID == "" || c.draining.has(d.StandbyContainerID) {
		return nil
	}
	// Pausing leaves a paused or stopped container as it is.
	err := a.PauseContainer(ctx, d.StandbyContainerID)
	if errors.Is(err, agent.ErrNotFound) {
		d.StandbyContainerID, d.StandbyReleaseID = "", ""
		return c.st.UpdateDeploymentRuntime(ctx, d)
	}
	return err
}

// keepServing makes sure the serving container runs and the route points
// at its current address.
func (c *Service) keepServing(ctx context.Context, a *agent.Client, d *store.Deployment) error {
	info, err := a.InspectContainer(ctx, d.ContainerID)
	if errors.Is(err, agent.ErrNotFound) {
		c.events.Record(ctx, d.ID, "deployment.container_lost", "the container went missing; starting a new one")
		d.ContainerID, d.Upstream, d.ServingReleaseID = "", "", ""
		if err := c.setStatus(ctx, d, store.DeploymentPending, ""); err != nil {
			return err
		}
		c.queue.Kick(d.ID)
		return nil
	}
	if err != nil {
		return err
	}
	if info.State == "paused" {
		if err := a.UnpauseContainer(ctx, info.ID); err != nil {
			return err
		}
	}
	if !info.Running {
		if err := a.StartContainer(ctx, info.ID); err != nil {
			return c.fail(ctx, d, "restarting the stopped container: %s", agents.Reason(c.log, err))
		}
		if info, err = a.InspectContainer(ctx, info.ID); err != nil {
			return err
		}
	}
	if err := c.settleStandby(ctx, a, d); err != nil {
		return err
	}
	rel, err := c.st.GetRelease(ctx, d.ServingReleaseID)
	if err != nil {
		return err
	}
	if up := info.Ports[c.releases.RunShape(rel, d).Port]; up != d.Upstream {
		d.Upstream = up
		if err := c.st.UpdateDeploymentRuntime(ctx, d); err != nil {
			return err
		}
		if err := c.routes.Changed(ctx, d.ID); err != nil {
			return err
		}
	}
	if d.Status != store.DeploymentReady && d.ServingReleaseID == d.ReleaseID {
		return c.confirm(ctx, d)
	}
	return nil
}

// confirm marks a deployment ready once a request through the edge
// reaches the app.
func (c *Service) confirm(ctx context.Context, d *store.Deployment) error {
	p, err := c.st.GetProject(ctx, d.ProjectID)
	if err != nil {
		return err
	}
	host := c.cfg.Names.DeploymentHost(names.OrgSlug(ctx, c.st, d.OrgID), p.Slug)
	deadline := time.Now().Add(30 * time.Second)
	for !c.routes.Reachable(ctx, host) {
		if time.Now().After(deadline) {
			return c.fail(ctx, d, "the app answered its health check but not through the edge")
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err := c.setStatus(ctx, d, store.DeploymentReady, ""); err != nil {
		return err
	}
	c.events.Record(ctx, d.ID, "deployment.ready", "release %s is serving", d.ServingReleaseID)
	return nil
}

func (c *Service) setStatus(ctx context.Context, d *store.Deployment, status, reason string) error {
	if d.Status == status && d.StatusReason == reason {
		return c.st.UpdateDeploymentRuntime(ctx, d)
	}
	d.Status, d.StatusReason = status, reason
	if err := c.st.UpdateDeploymentRuntime(ctx, d); err != nil {
		return err
	}
	if d.Upstream == "" {
		return c.routes.Changed(ctx, d.ID)
	}
	return nil
}

func (c *Service) fail(ctx context.Context, d *store.Deployment, format string, args ...any) error {
	reason := fmt.Sprintf(format, args...)
	c.events.Record(ctx, d.ID, "deployment.failed", "%s", reason)
	return c.setStatus(ctx, d, store.DeploymentFailed, reason)
}

// Sweep removes containers Berth made that no record points at: what a
// crash between creating a container and recording it leaves behind.
func (c *Service) Sweep(ctx context.Context) error {
	hosts, err := c.st.ListHosts(ctx)
	if err != nil {
		return err
	}
	deps, err := store.ListAll(ctx, c.st.ListDeployments)
	if err != nil {
		return err
	}
	sbxs, err := store.ListAll(ctx, c.st.ListSandboxes)
	if err != nil {
		return err
	}
	keep := map[string]bool{}
	for _, d := range deps {
		keep[d.ContainerID], keep[d.StandbyContainerID] = true, true
	}
	for _, s := range sbxs {
		keep["berth-"+s.ID] = true
	}
	for _, h := range hosts {
		if h.State != "active" {
			continue
		}
		a := c.agents.Agent(h)
		list, err := a.ListContainers(ctx, c.labels.Of())
		if err != nil {
			c.log.Warn("listing containers failed", "host", h.ID, "err", err)
			continue
		}
		for _, ct := range list {
			if keep[ct.ID] || keep[ct.Name] || ct.Labels["berth.kind"] == "database" || composeKeeps(deps, ct) || c.cron.Keeps(ctx, ct) { // reconcileDatabase owns those
				continue
			}
			c.log.Info("removing orphan container", "container", ct.Name)
			if err := a.RemoveContainer(ctx, ct.ID); err != nil {
				c.log.Warn("removing orphan container failed", "container", ct.Name, "err", err)
			}
		}
	}
	return nil
}

// Pending lists the deployments the periodic resync reconciles: all.
func (c *Service) Pending(ctx context.Context) []string {
	deps, err := store.ListAll(ctx, c.st.ListDeployments)
	if err != nil {
		c.log.Warn("listing deployments failed", "err", err)
	}
	ids := make([]string, len(deps))
	for i, d := range deps {
		ids[i] = d.ID
	}
	return ids
}
