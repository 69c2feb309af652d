package control

import (
	"archive/tar"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"os"
	"path"
	"slices"
	"strings"
	"time"

	"github.com/compose-spec/compose-go/v2/dotenv"
	"github.com/compose-spec/compose-go/v2/types"

	"github.com/berth-dev/berth/internal/agent"
	"github.com/berth-dev/berth/internal/artifact"
	"github.com/berth-dev/berth/internal/compose"
	"github.com/berth-dev/berth/internal/store"
	"github.com/berth-dev/berth/internal/templates"
)

// composeKind labels the containers of a compose deployment's services.
const composeKind = "compose"

// composeRelease reports whether a release runs as a compose project:
// a release of a compose template without a Dockerfile of its own.
func (c *Control) composeRelease(rel *store.Release) bool {
	if rel == nil || rel.Build.Dockerfile != "" {
		return false
	}
	t, ok := c.cfg.Templates.Get(rel.Build.TemplateID)
	return ok && t.ComposeFile != ""
}

// composeNetwork is the bridge network of one compose deployment: its
// services reach each other there by service name, and nothing else joins.
func composeNetwork(d *store.Deployment) string {
	return "berth-" + strings.ReplaceAll(d.ID, "_", "-") + "-net"
}

// composeVolume names a compose volume after its deployment, so that a
// redeploy or a rollback mounts the same data.
func composeVolume(d *store.Deployment, volume string) string {
	return "berth-" + strings.ReplaceAll(d.ID, "_", "-") + "-" + volume
}

// composeContainer names a service's container after its deployment,
// release and service: a reconciler that runs again finds what it made.
func composeContainer(d *store.Deployment, releaseID, service string) string {
	return "berth-" + d.ID + "-" + releaseID + "-" + service
}

// composeImage is the image a service with build: is built into; images
// stay on the host so that a rollback needs no build.
func composeImage(releaseID, service string) string {
	return "apps/" + releaseID + "-" + strings.ToLower(service) + ":latest"
}

// reconcileCompose drives a deployment whose desired release is a compose
// project. handled is false when the release is no compose release.
func (c *Control) reconcileCompose(ctx context.Context, a *agent.Client, d *store.Deployment) (handled bool, err error) {
	rel, err := c.st.GetRelease(ctx, d.ReleaseID)
	if err != nil {
		return true, err
	}
	if !c.composeRelease(rel) {
		return false, nil
	}
	if d.ContainerID != "" && d.ServingReleaseID == d.ReleaseID && d.Status != store.DeploymentPending {
		return true, c.keepComposeServing(ctx, a, d, rel)
	}
	if d.Status == store.DeploymentFailed {
		return true, nil // a failed rollout waits for a new deploy or rollback
	}
	return true, c.rolloutCompose(ctx, a, d, rel)
}

// composeProject reads and parses a compose release's files with the
// deployment's environment: a value can change what the file asks for.
func (c *Control) composeProject(rel *store.Release, d *store.Deployment, env map[string]string) (*compose.Project, error) {
	var files []compose.File
	for _, names := range [][]string{compose.MainFiles, compose.OverrideFiles} {
		for _, name := range names {
			b, err := c.readReleaseFile(rel, name)
			if errors.Is(err, os.ErrNotExist) {
				continue
			}
			if err != nil {
				return nil, err
			}
			files = append(files, compose.File{Name: name, Content: b})
			break
		}
	}
	return compose.Parse(files, env)
}

func (c *Control) readReleaseFile(rel *store.Release, name string) ([]byte, error) {
	f, err := os.Open(c.cfg.Artifacts.Path(rel.Digest))
	if err != nil {
		return nil, fmt.Errorf("opening release %s: %w", rel.ID, err)
	}
	defer f.Close()
	return artifact.ReadFile(f, name, 1<<20)
}

// composeEnv is what ${VAR} references of the compose file see: the
// template's defaults, the linked data services' variables and the
// deployment's own env.
func (c *Control) composeEnv(ctx context.Context, rel *store.Release, d *store.Deployment) (map[string]string, error) {
	return c.containerEnv(ctx, d.ProjectID, d.ID, c.runShape(rel, d).Env, d.Env)
}

// rolloutCompose builds the services' images and starts the release
// beside the one that serves, then switches the route and retires the
// old one: the routed web service never stops answering.
//
// The new release's services get new containers on a network of their
// own (composeReleaseNetwork), so the two releases never reach each
// other's services during the overlap. A data service (one that mounts a
// named volume) must never run twice on its volume: when its definition
// is the one of the container that runs (same image, command, env,
// volumes: the berth.spec label), that container is kept in place and
// joins the new network under its service name; when it changed, the old
// container stops before the new one starts, and what uses it waits
// through that restart.
func (c *Control) rolloutCompose(ctx context.Context, a *agent.Client, d *store.Deployment, rel *store.Release) error {
	env, err := c.composeEnv(ctx, rel, d)
	if err != nil {
		return err
	}
	p, err := c.composeProject(rel, d, env)
	if err != nil {
		return c.fail(ctx, d, "the compose file cannot run: %v", err)
	}
	order, err := compose.Order(p)
	if err != nil {
		return c.fail(ctx, d, "the compose file cannot run: %v", err)
	}
	shape := c.runShape(rel, d)
	web, port := compose.Route(p, shape.Port)
	if web == "" {
		return c.fail(ctx, d, "no service of the compose file can be routed: name one web, mark one x-berth-route: true, or expose a port")
	}
	images, err := c.composeImages(ctx, a, d, rel, p, order)
	if err != nil || images == nil {
		return err
	}

	if err := c.setStatus(ctx, d, store.DeploymentStarting, ""); err != nil {
		return err
	}
	existing, err := a.ListContainers(ctx, c.labels("berth.kind", composeKind, "berth.deployment", d.ID))
	if err != nil {
		return err
	}
	network := composeReleaseNetwork(d, rel.ID)
	buckets, bucketHosts, err := c.linkedBuckets(ctx, d.ProjectID, d.ID)
	if err != nil {
		return err
	}
	linked := composeLinked{env: buckets, hosts: bucketHosts}
	c.event(ctx, d.ID, "deployment.starting", "starting the %d services of release %s", len(order), rel.ID)
	names := map[string]string{} // service → its container
	logins := map[string]*dbCredentials{}
	kept := map[string]bool{} // containers of an earlier release kept in place
	for _, name := range order {
		s := p.Services[name]
		if err := c.waitComposeDeps(ctx, a, names, p, s, logins); err != nil {
			return c.fail(ctx, d, "%v", err)
		}
		cs, err := c.composeService(d, rel, s, images[name], name == web, port, network, linked)
		if err != nil {
			return c.fail(ctx, d, "service %s: %s", name, c.reason(err))
		}
		if cs.stateful {
			if keep := keepable(existing, name, cs.hash); keep != nil {
				if err := a.ConnectNetwork(ctx, keep.ID, network, []string{name}); err != nil {
					return c.fail(ctx, d, "service %s: joining the release's network: %s", name, c.reason(err))
				}
				if !keep.Running {
					if err := a.StartContainer(ctx, keep.ID); err != nil {
						return c.fail(ctx, d, "service %s: starting it: %s", name, c.reason(err))
					}
				}
				names[name], logins[name] = keep.Name, cs.login
				if keep.Labels["berth.release"] != rel.ID {
					kept[keep.ID] = true
				}
				continue
			}
			// Its definition changed: the old server stops before the new
			// one mounts the volume.
			for _, ct := range existing {
				if ct.Labels["berth.service"] != name || ct.Name == cs.spec.Name {
					continue
				}
				c.event(ctx, d.ID, "deployment.restarting_service", "service %s changed: stopping the running one before the new one mounts its volumes", name)
				if err := c.dropContainer(ctx, a, ct.ID, 10*time.Second); err != nil {
					return err
				}
			}
		}
		if err := c.startComposeContainer(ctx, a, cs); err != nil {
			return c.fail(ctx, d, "service %s: %s", name, c.reason(err))
		}
		names[name], logins[name] = cs.spec.Name, cs.login
	}
	// Ready means every service that has a healthcheck passes it, as
	// `docker compose up --wait` has it, and then the web service answers.
	for _, name := range order {
		if hc := p.Services[name].HealthCheck; hc == nil || hc.Disable {
			continue
		}
		wait := types.ServiceConfig{Name: "the deployment"}
		wait.DependsOn = types.DependsOnConfig{name: {Condition: types.ServiceConditionHealthy}}
		if err := c.waitComposeDeps(ctx, a, names, p, wait, logins); err != nil {
			return c.fail(ctx, d, "%v", err)
		}
	}
	webName := names[web]
	if _, err := a.Probe(ctx, webName, agent.ProbeRequest{Port: port, Path: shape.HealthPath, Timeout: 2 * time.Minute}); err != nil {
		var ae *agent.Error
		if errors.As(err, &ae) {
			return c.fail(ctx, d, "service %s: %s", web, ae.Detail)
		}
		return c.fail(ctx, d, "health check of service %s: %s", web, c.reason(err))
	}
	info, err := a.InspectContainer(ctx, webName)
	if err != nil {
		return err
	}
	previous := d.ContainerID
	d.ServingReleaseID, d.ContainerID, d.Upstream = rel.ID, info.ID, info.Ports[port]
	if err := c.st.UpdateDeploymentRuntime(ctx, d); err != nil {
		return err
	}
	if err := c.routeChanged(ctx, d.ID); err != nil {
		return err
	}
	if err := c.confirm(ctx, d); err != nil {
		return err
	}
	return c.retireCompose(ctx, a, d, rel.ID, previous)
}

// composeReleaseNetwork is the bridge network of one release of a
// compose deployment: its services reach each other there by service
// name, with the data services it kept from the release before.
func composeReleaseNetwork(d *store.Deployment, releaseID string) string {
	return "berth-" + strings.ReplaceAll(d.ID, "_", "-") + "-" + strings.ReplaceAll(releaseID, "_", "-") + "-net"
}

// keepable is the running data service of the deployment that a rollout
// keeps for service: its container has the same definition.
func keepable(existing []agent.ContainerInfo, service, hash string) *agent.ContainerInfo {
	for i, ct := range existing {
		if ct.Labels["berth.service"] == service && ct.Labels[composeStateful] == "true" && ct.Labels[composeSpecLabel] == hash {
			return &existing[i]
		}
	}
	return nil
}

// retireCompose lets the replaced release's containers finish what they
// serve, then stops and removes them, and takes the data services it
// kept off the old releases' networks (which go with their last
// container). previous is the container the deployment routed to before.
func (c *Control) retireCompose(ctx context.Context, a *agent.Client, d *store.Deployment, releaseID, previous string) error {
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-time.After(DrainTime):
	}
	list, err := a.ListContainers(ctx, c.labels("berth.kind", composeKind, "berth.deployment", d.ID))
	if err != nil {
		return err
	}
	current := composeReleaseNetwork(d, releaseID)
	old := map[string]bool{composeNetwork(d): true} // the one network of deployments made before releases had their own
	var keep []agent.ContainerInfo
	for _, ct := range list {
		r := ct.Labels["berth.release"]
		if r != releaseID {
			old[composeReleaseNetwork(d, r)] = true
		}
		if r == releaseID || ct.Labels[composeStateful] == "true" {
			keep = append(keep, ct)
			continue
		}
		if err := c.dropContainer(ctx, a, ct.ID, 10*time.Second); err != nil {
			return err
		}
	}
	if previous != "" && !slices.ContainsFunc(list, func(ct agent.ContainerInfo) bool { return ct.ID == previous }) {
		// The deployment served a single-container release before.
		if err := c.dropContainer(ctx, a, previous, 5*time.Second); err != nil {
			return err
		}
	}
	for _, ct := range keep {
		for n := range old {
			if n == current {
				continue
			}
			if err := a.DisconnectNetwork(ctx, ct.ID, n); err != nil && !errors.Is(err, agent.ErrNotFound) {
				return fmt.Errorf("taking %s off %s: %w", ct.Name, n, err)
			}
		}
	}
	return nil
}

// dropContainer stops and removes a container; a missing one is gone.
func (c *Control) dropContainer(ctx context.Context, a *agent.Client, id string, timeout time.Duration) error {
	if err := a.StopContainer(ctx, id, timeout); err != nil && !errors.Is(err, agent.ErrNotFound) {
		return fmt.Errorf("stopping %s: %w", id, err)
	}
	if err := a.RemoveContainer(ctx, id); err != nil {
		return fmt.Errorf("removing %s: %w", id, err)
	}
	return nil
}

// composeImages returns the image of every service, building the ones
// with build: that are not on the host yet. A nil map with a nil error
// means the deployment failed (and says why).
func (c *Control) composeImages(ctx context.Context, a *agent.Client, d *store.Deployment, rel *store.Release, p *compose.Project, order []string) (map[string]string, error) {
	images := map[string]string{}
	pushed := false
	for _, name := range order {
		s := p.Services[name]
		if s.Build == nil {
			ref, err := c.composeServiceImage(ctx, a, s.Image)
			if err != nil {
				return nil, c.fail(ctx, d, "service %s: %v", name, err)
			}
			images[name] = ref
			continue
		}
		ref := composeImage(rel.ID, name)
		images[name] = ref
		ok, err := a.ImageExists(ctx, ref)
		if err != nil {
			return nil, err
		}
		if ok {
			continue
		}
		if err := c.setStatus(ctx, d, store.DeploymentBuilding, ""); err != nil {
			return nil, err
		}
		if !pushed {
			c.event(ctx, d.ID, "deployment.uploading", "sending release %s to the host", rel.ID)
			if err := a.PushBlob(ctx, rel.Digest, c.cfg.Artifacts.Path(rel.Digest)); err != nil {
				return nil, c.fail(ctx, d, "sending the release to the host: %s", c.reason(err))
			}
			pushed = true
		}
		req, err := c.composeBuild(rel, name, s, ref)
		if err != nil {
			return nil, c.fail(ctx, d, "service %s: %v", name, err)
		}
		c.event(ctx, d.ID, "deployment.building", "building the image of service %s of release %s", name, rel.ID)
		if err := a.Build(ctx, req); err != nil {
			return nil, c.fail(ctx, d, "the image build of service %s failed: %s", name, c.reason(err))
		}
	}
	return images, nil
}

// composeBuild is the build of one service: its context directory of the
// release, its Dockerfile with official images mapped to the platform's
// and, when the platform has one, the build CA bundle trusted.
func (c *Control) composeBuild(rel *store.Release, name string, s types.ServiceConfig, ref string) (agent.BuildRequest, error) {
	dir := path.Clean(strings.TrimPrefix(s.Build.Context, compose.ProjectDir+"/"))
	if s.Build.Context == compose.ProjectDir || dir == "." {
		dir = ""
	}
	dfPath := s.Build.Dockerfile
	if dfPath == "" {
		dfPath = "Dockerfile"
	}
	if s.Build.DockerfileInline != "" {
		return agent.BuildRequest{}, fmt.Errorf("dockerfile_inline is not supported: put the Dockerfile in the build context")
	}
	df, err := c.readReleaseFile(rel, path.Join(dir, dfPath))
	if err != nil {
		return agent.BuildRequest{}, fmt.Errorf("reading its Dockerfile %s: %w", path.Join(dir, dfPath), err)
	}
	files, err := c.buildFiles(func() bool { return true })
	if err != nil {
		return agent.BuildRequest{}, err
	}
	ca := ""
	if files != nil {
		ca = templates.BuildCAFile
	}
	rewritten := compose.RewriteDockerfile(string(df), c.composeLocalRef, ca)
	return agent.BuildRequest{Image: ref, Digest: rel.Digest, ContextDir: dir, Dockerfile: rewritten, Files: files,
		Labels: c.labels("berth.release", rel.ID, "berth.service", name)}, nil
}

// composeLocalRef is the platform's image for an official image a
// compose file names, or "" to keep the reference.
func (c *Control) composeLocalRef(ref string) string {
	logical := compose.LocalImage(ref)
	switch logical {
	case "":
		return ""
	case store.EnginePostgres, store.EngineRedis:
		return c.dataImage(logical)
	}
	if c.cfg.Templates == nil {
		return ""
	}
	return c.cfg.Templates.ImageRef(&templates.Template{Image: logical})
}

// composeServiceImage resolves a service's image: one already on the
// host as named, else the platform's stand-in for an official image.
// Nothing is ever pulled.
func (c *Control) composeServiceImage(ctx context.Context, a *agent.Client, ref string) (string, error) {
	if ref == "" {
		return "", errors.New("it has neither image nor build")
	}
	if local := c.composeLocalRef(ref); local != "" {
		ok, err := a.ImageExists(ctx, local)
		if err != nil {
			return "", err
		}
		if ok {
			return local, nil
		}
	}
	ok, err := a.ImageExists(ctx, ref)
	if err != nil {
		return "", err
	}
	if !ok {
		return "", fmt.Errorf("the image %s is not on the host and images are not pulled: build it from the project (build:) or use one of the platform's images", ref)
	}
	return ref, nil
}

// Labels of compose containers: the digest of a service's definition,
// and whether it holds data (mounts a named volume).
const (
	composeSpecLabel = "berth.spec"
	composeStateful  = "berth.stateful"
)

// composeService is one service's container as a rollout makes it.
type composeService struct {
	spec agent.ContainerSpec
	boot []byte // files to copy in before it starts; nil: none
	// login is the credentials a PostgreSQL service's boot enforces, with
	// which its readiness is a real login.
	login *dbCredentials
	// stateful services mount a named volume: they never run twice.
	stateful bool
	// hash digests the definition (all but the container's name, network
	// and release), the berth.spec label.
	hash string
}

// composeLinked is what the buckets linked to a compose deployment give
// its services: variables, and the hosts entries their endpoint needs.
type composeLinked struct {
	env   map[string]string
	hosts []string
}

// composeDataService reports whether s is a data service: one that
// mounts a named volume (Postgres, Redis), which never runs twice.
func composeDataService(s types.ServiceConfig) bool {
	for _, v := range s.Volumes {
		if v.Type == types.VolumeTypeVolume && v.Source != "" {
			return true
		}
	}
	return false
}

// composeService makes the container of one service, on network under
// its service name. Every service but the data services gets the linked
// buckets' variables and hosts entries (the service's own env_file and
// environment override them): a link then never restarts a database.
func (c *Control) composeService(d *store.Deployment, rel *store.Release, s types.ServiceConfig, image string, routed bool, port int, network string, linked composeLinked) (*composeService, error) {
	files, err := c.composeEnvFiles(rel, s)
	if err != nil {
		return nil, err
	}
	env := map[string]string{}
	var extraHosts []string
	if !composeDataService(s) {
		maps.Copy(env, linked.env)
		extraHosts = linked.hosts
	}
	maps.Copy(env, files)
	for k, v := range s.Environment {
		if v != nil {
			env[k] = *v
		}
	}
	spec := agent.ContainerSpec{
		Name: composeContainer(d, rel.ID, s.Name), Image: image, Env: envList(env), Cmd: compose.Command(s.Command), Entrypoint: compose.Command(s.Entrypoint),
		WorkDir: s.WorkingDir, User: s.User, Init: true, Restart: composeRestart(s.Restart),
		Network: network, Aliases: []string{s.Name}, ExtraHosts: extraHosts,
		MemoryBytes: c.cfg.Limits.MemoryBytes, NanoCPUs: c.cfg.Limits.NanoCPUs, PidsLimit: c.cfg.Limits.PidsLimit,
		Labels: c.labels("berth.kind", composeKind, "berth.deployment", d.ID, "berth.release", rel.ID, "berth.service", s.Name),
	}
	if routed {
		spec.Ports = []int{port}
	}
	for _, v := range s.Volumes {
		switch {
		case v.Type == types.VolumeTypeVolume && v.Source != "":
			spec.Volumes = append(spec.Volumes, agent.Mount{Volume: composeVolume(d, v.Source), Target: v.Target})
		case v.Type == types.VolumeTypeVolume || v.Type == types.VolumeTypeTmpfs:
			// An anonymous volume or a tmpfs lives and dies with the
			// container: the image's own layer stands in for it.
		default:
			return nil, fmt.Errorf("mounts %s from the project's files, which the platform does not run yet: copy the files in its image or use a named volume", v.Source)
		}
	}
	boot, cr, err := c.composeBoot(image, &spec, env)
	if err != nil {
		return nil, err
	}
	cs := &composeService{spec: spec, login: cr, stateful: len(spec.Volumes) > 0}
	if boot != nil {
		cs.boot = boot.Bytes()
	}
	def := spec
	def.Name, def.Network, def.Aliases, def.Labels = "", "", nil, nil
	b, _ := json.Marshal(struct {
		Spec agent.ContainerSpec
		Boot []byte
	}{def, cs.boot})
	sum := sha256.Sum256(b)
	cs.hash = hex.EncodeToString(sum[:16])
	cs.spec.Labels[composeSpecLabel] = cs.hash
	if cs.stateful {
		cs.spec.Labels[composeStateful] = "true"
	}
	return cs, nil
}

// startComposeContainer creates and starts a service's container. One
// of the same name from an interrupted attempt is replaced.
func (c *Control) startComposeContainer(ctx context.Context, a *agent.Client, cs *composeService) error {
	name := cs.spec.Name
	if err := a.RemoveContainer(ctx, name); err != nil {
		return fmt.Errorf("replacing the container of an interrupted attempt: %w", err)
	}
	if _, err := a.CreateContainer(ctx, cs.spec); err != nil {
		return fmt.Errorf("creating the container: %w", err)
	}
	if cs.boot != nil {
		if err := a.CopyTo(ctx, name, "/", bytes.NewReader(cs.boot)); err != nil {
			return fmt.Errorf("writing the boot files: %w", err)
		}
	}
	if err := a.StartContainer(ctx, name); err != nil {
		return fmt.Errorf("starting the container: %w", err)
	}
	return nil
}

// composeBoot adapts a service on the platform's local database images,
// which lack the official images' entrypoints: PostgreSQL boots through
// Berth's script with the credentials of POSTGRES_USER, POSTGRES_PASSWORD
// and POSTGRES_DB, as the official image's entrypoint would; Redis runs
// with protected mode off, as the official image is built. It returns
// the boot files to copy in and the credentials they enforce, or nils.
func (c *Control) composeBoot(image string, spec *agent.ContainerSpec, env map[string]string) (*bytes.Buffer, *dbCredentials, error) {
	switch image {
	case c.dataImage(store.EnginePostgres):
		if len(spec.Entrypoint) > 0 || (len(spec.Cmd) > 0 && spec.Cmd[0] != "postgres") {
			return nil, nil, nil
		}
		cr := dbCredentials{Username: env["POSTGRES_USER"], Password: env["POSTGRES_PASSWORD"], Database: env["POSTGRES_DB"]}
		if cr.Username == "" {
			cr.Username = "postgres"
		}
		if cr.Database == "" {
			cr.Database = cr.Username
		}
		if cr.Password == "" {
			return nil, nil, errors.New("POSTGRES_PASSWORD is not set: give the database a password")
		}
		if cr.Username == "postgres" {
			return nil, nil, errors.New("POSTGRES_USER is postgres, the superuser, which may not log in over the network here: name another user")
		}
		spec.User, spec.Entrypoint = "0", []string{"/bin/sh", bootDir + "/boot.sh"}
		spec.Cmd = slices.Clone(spec.Cmd)
		if len(spec.Cmd) > 0 {
			spec.Cmd = spec.Cmd[1:] // the boot script runs postgres itself, with these flags
		}
		b, err := bootTar(engines[store.EnginePostgres].bootFiles(cr))
		return b, &cr, err
	case c.dataImage(store.EngineRedis):
		if len(spec.Cmd) == 0 {
			spec.Cmd = []string{"redis-server"}
		}
		if spec.Cmd[0] == "redis-server" && !slices.Contains(spec.Cmd, "--protected-mode") {
			spec.Cmd = append(slices.Clone(spec.Cmd), "--protected-mode", "no")
		}
	}
	return nil, nil, nil
}

// waitComposeDeps waits for what a service's depends_on asks: a healthy
// dependency's healthcheck passes (run in its container), a completed one
// exited 0. service_started needs nothing more than the order. A
// PostgreSQL dependency on the platform's image (logins) is healthy only
// once a login over TCP succeeds too: its boot runs a server without TCP
// before the real one, which a pg_isready alone takes for ready.
func (c *Control) waitComposeDeps(ctx context.Context, a *agent.Client, names map[string]string, p *compose.Project, s types.ServiceConfig, logins map[string]*dbCredentials) error {
	for _, dep := range slices.Sorted(maps.Keys(s.DependsOn)) {
		cond := s.DependsOn[dep].Condition
		name := names[dep]
		deadline := time.Now().Add(2 * time.Minute)
		for {
			ok, why := c.composeDepReady(ctx, a, name, cond, p.Services[dep], logins[dep])
			if ok {
				break
			}
			if time.Now().After(deadline) {
				return fmt.Errorf("service %s waited 2m for %s (%s): %s", s.Name, dep, cond, why)
			}
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-time.After(500 * time.Millisecond):
			}
		}
	}
	return nil
}

func (c *Control) composeDepReady(ctx context.Context, a *agent.Client, name, cond string, dep types.ServiceConfig, login *dbCredentials) (bool, string) {
	info, err := a.InspectContainer(ctx, name)
	if err != nil {
		return false, err.Error()
	}
	switch cond {
	case types.ServiceConditionCompletedSuccessfully:
		return !info.Running && info.State == "exited" && info.ExitCode == 0, "it has not exited 0"
	case types.ServiceConditionHealthy:
		if !info.Running {
			return false, "it is not running"
		}
		if login != nil {
			eng := engines[store.EnginePostgres]
			res, err := a.Exec(ctx, name, eng.check(*login))
			if err != nil {
				return false, err.Error()
			}
			if _, err := eng.version(res); err != nil {
				return false, redact(err.Error(), login.Password)
			}
		}
		hc := dep.HealthCheck
		if hc == nil || hc.Disable || len(hc.Test) == 0 || hc.Test[0] == "NONE" {
			return true, ""
		}
		var cmd []string
		switch hc.Test[0] {
		case "CMD":
			cmd = hc.Test[1:]
		case "CMD-SHELL":
			cmd = []string{"sh", "-c", strings.Join(hc.Test[1:], " ")}
		default:
			cmd = []string{"sh", "-c", strings.Join(hc.Test, " ")}
		}
		res, err := a.Exec(ctx, name, agent.ExecRequest{Cmd: cmd})
		if err != nil {
			return false, err.Error()
		}
		if res.ExitCode != 0 {
			return false, "its healthcheck fails: " + strings.TrimSpace(res.Stdout+res.Stderr)
		}
		return true, ""
	}
	return info.Running, "it is not running"
}

// keepComposeServing restarts what stopped and keeps the route on the
// web container; a missing service container means a new rollout.
func (c *Control) keepComposeServing(ctx context.Context, a *agent.Client, d *store.Deployment, rel *store.Release) error {
	all, err := a.ListContainers(ctx, c.labels("berth.kind", composeKind, "berth.deployment", d.ID))
	if err != nil {
		return err
	}
	// The release's services, and the data services it kept from an
	// earlier one.
	var list []agent.ContainerInfo
	for _, ct := range all {
		if ct.Labels["berth.release"] == rel.ID || ct.Labels[composeStateful] == "true" {
			list = append(list, ct)
		}
	}
	webInfo, err := a.InspectContainer(ctx, d.ContainerID)
	if errors.Is(err, agent.ErrNotFound) {
		c.event(ctx, d.ID, "deployment.container_lost", "the web service's container went missing; starting the services again")
		d.ContainerID, d.Upstream, d.ServingReleaseID = "", "", ""
		if err := c.setStatus(ctx, d, store.DeploymentPending, ""); err != nil {
			return err
		}
		c.queue.kick(d.ID)
		return nil
	}
	if err != nil {
		return err
	}
	for _, ct := range list {
		if !ct.Running {
			if err := a.StartContainer(ctx, ct.ID); err != nil {
				return c.fail(ctx, d, "restarting service %s: %s", ct.Labels["berth.service"], c.reason(err))
			}
		}
	}
	if !webInfo.Running {
		if webInfo, err = a.InspectContainer(ctx, webInfo.ID); err != nil {
			return err
		}
	}
	for _, up := range webInfo.Ports {
		if up != d.Upstream {
			d.Upstream = up
			if err := c.st.UpdateDeploymentRuntime(ctx, d); err != nil {
				return err
			}
			if err := c.routeChanged(ctx, d.ID); err != nil {
				return err
			}
		}
		break // the routed service publishes one port
	}
	if d.Status != store.DeploymentReady {
		return c.confirm(ctx, d)
	}
	return nil
}

// composeKeeps reports whether the sweep must keep a container: a
// service of a compose deployment's serving or desired release, or one
// of its data services.
func composeKeeps(deps []*store.Deployment, ct agent.ContainerInfo) bool {
	if ct.Labels["berth.kind"] != composeKind {
		return false
	}
	for _, d := range deps {
		if d.ID == ct.Labels["berth.deployment"] {
			r := ct.Labels["berth.release"]
			// A data service is kept across releases: at most one runs
			// per service, and its volume is the deployment's.
			return r == d.ReleaseID || r == d.ServingReleaseID || ct.Labels[composeStateful] == "true"
		}
	}
	return false
}

func composeRestart(policy string) string {
	switch policy {
	case "always", "unless-stopped", "on-failure", "no":
		return policy
	case "":
		return "unless-stopped"
	}
	if strings.HasPrefix(policy, "on-failure") {
		return "on-failure"
	}
	return "unless-stopped"
}

// bootTar is a tar of bootDir holding files, readable by root only.
func bootTar(files map[string]string) (*bytes.Buffer, error) {
	var b bytes.Buffer
	tw := tar.NewWriter(&b)
	dir := strings.TrimPrefix(bootDir, "/")
	if err := tw.WriteHeader(&tar.Header{Name: dir + "/", Typeflag: tar.TypeDir, Mode: 0o700}); err != nil {
		return nil, err
	}
	for _, n := range slices.Sorted(maps.Keys(files)) {
		if err := tw.WriteHeader(&tar.Header{Name: dir + "/" + n, Typeflag: tar.TypeReg, Mode: 0o600, Size: int64(len(files[n]))}); err != nil {
			return nil, err
		}
		if _, err := tw.Write([]byte(files[n])); err != nil {
			return nil, err
		}
	}
	return &b, tw.Close()
}

// composeEnvFiles reads a service's env_file entries from the release's
// files, in order; environment: overrides them. A missing file is an
// error unless it is marked required: false.
func (c *Control) composeEnvFiles(rel *store.Release, s types.ServiceConfig) (map[string]string, error) {
	env := map[string]string{}
	for _, f := range s.EnvFiles {
		name := path.Clean(strings.TrimPrefix(f.Path, compose.ProjectDir+"/"))
		b, err := c.readReleaseFile(rel, name)
		if errors.Is(err, os.ErrNotExist) && !bool(f.Required) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("reading env_file %s: %w", name, err)
		}
		vars, err := dotenv.ParseWithLookup(bytes.NewReader(b), func(k string) (string, bool) {
			v, ok := env[k]
			return v, ok
		})
		if err != nil {
			return nil, fmt.Errorf("env_file %s: %w", name, err)
		}
		maps.Copy(env, vars)
	}
	return env, nil
}
