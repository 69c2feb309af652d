package deploy

import (
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
	"github.com/berth-dev/berth/internal/control/agents"
	"github.com/berth-dev/berth/internal/control/appenv"
	"github.com/berth-dev/berth/internal/store"
	"github.com/berth-dev/berth/internal/templates"
)

// composeKind labels the containers of a compose deployment's services.
const composeKind = "compose"

// composeRelease reports whether a release runs as a compose project:
// a release of a compose template without a Dockerfile of its own.
func (x *composer) composeRelease(rel *store.Release) bool {
	if rel == nil || rel.Build.Dockerfile != "" {
		return false
	}
	t, ok := x.s.cfg.Templates.Get(rel.Build.TemplateID)
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
func (x *composer) reconcileCompose(ctx context.Context, a *agent.Client, d *store.Deployment) (handled bool, err error) {
	rel, err := x.s.st.GetRelease(ctx, d.ReleaseID)
	if err != nil {
		return true, err
	}
	if !x.composeRelease(rel) {
		return false, nil
	}
	if d.ContainerID != "" && d.ServingReleaseID == d.ReleaseID && d.Status != store.DeploymentPending {
		return true, x.keepComposeServing(ctx, a, d, rel)
	}
	if d.Status == store.DeploymentFailed {
		return true, nil // a failed rollout waits for a new deploy or rollback
	}
	return true, x.rolloutCompose(ctx, a, d, rel)
}

// composeProject reads and parses a compose release's files with the
// deployment's environment: a value can change what the file asks for.
func (x *composer) composeProject(rel *store.Release, d *store.Deployment, env map[string]string) (*compose.Project, error) {
	var files []compose.File
	for _, names := range [][]string{compose.MainFiles, compose.OverrideFiles} {
		for _, name := range names {
			b, err := x.readReleaseFile(rel, name)
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

func (x *composer) readReleaseFile(rel *store.Release, name string) ([]byte, error) {
	f, err := os.Open(x.s.cfg.Artifacts.Path(rel.Digest))
	if err != nil {
		return nil, fmt.Errorf("opening release %s: %w", rel.ID, err)
	}
	defer f.Close()
	return artifact.ReadFile(f, name, 1<<20)
}

// composeEnv is what ${VAR} references of the compose file see: the
// template's defaults, the linked data services' variables and the
// deployment's own env.
func (x *composer) composeEnv(ctx context.Context, rel *store.Release, d *store.Deployment) (map[string]string, error) {
	return x.s.links.Container(ctx, d.ProjectID, d.ID, x.s.releases.RunShape(rel, d).Env, d.Env)
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
func (x *composer) rolloutCompose(ctx context.Context, a *agent.Client, d *store.Deployment, rel *store.Release) error {
	env, err := x.composeEnv(ctx, rel, d)
	if err != nil {
		return err
	}
	p, err := x.composeProject(rel, d, env)
	if err != nil {
		return x.s.fail(ctx, d, "the compose file cannot run: %v", err)
	}
	order, err := compose.Order(p)
	if err != nil {
		return x.s.fail(ctx, d, "the compose file cannot run: %v", err)
	}
	shape := x.s.releases.RunShape(rel, d)
	web, port := compose.Route(p, shape.Port)
	if web == "" {
		return x.s.fail(ctx, d, "no service of the compose file can be routed: name one web, mark one x-berth-route: true, or expose a port")
	}
	images, err := x.composeImages(ctx, a, d, rel, p, order)
	if err != nil || images == nil {
		return err
	}

	if err := x.s.setStatus(ctx, d, store.DeploymentStarting, ""); err != nil {
		return err
	}
	existing, err := a.ListContainers(ctx, x.s.labels.Of("berth.kind", composeKind, "berth.deployment", d.ID))
	if err != nil {
		return err
	}
	network := composeReleaseNetwork(d, rel.ID)
	buckets, bucketHosts, err := x.s.links.Buckets(ctx, d.ProjectID, d.ID)
	if err != nil {
		return err
	}
	linked := composeLinked{env: buckets, hosts: bucketHosts}
	x.s.events.Record(ctx, d.ID, "deployment.starting", "starting the %d services of release %s", len(order), rel.ID)
	names := map[string]string{} // service → its container
	logins := map[string]loginCheck{}
	kept := map[string]bool{} // containers of an earlier release kept in place
	for _, name := range order {
		s := p.Services[name]
		if err := x.waitComposeDeps(ctx, a, names, p, s, logins); err != nil {
			return x.s.fail(ctx, d, "%v", err)
		}
		cs, err := x.composeService(d, rel, s, images[name], name == web, port, network, linked)
		if err != nil {
			return x.s.fail(ctx, d, "service %s: %s", name, agents.Reason(x.s.log, err))
		}
		if cs.stateful {
			if keep := keepable(existing, name, cs.hash); keep != nil {
				if err := a.ConnectNetwork(ctx, keep.ID, network, []string{name}); err != nil {
					return x.s.fail(ctx, d, "service %s: joining the release's network: %s", name, agents.Reason(x.s.log, err))
				}
				if !keep.Running {
					if err := a.StartContainer(ctx, keep.ID); err != nil {
						return x.s.fail(ctx, d, "service %s: starting it: %s", name, agents.Reason(x.s.log, err))
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
				x.s.events.Record(ctx, d.ID, "deployment.restarting_service", "service %s changed: stopping the running one before the new one mounts its volumes", name)
				if err := x.dropContainer(ctx, a, ct.ID, 10*time.Second); err != nil {
					return err
				}
			}
		}
		if err := x.startComposeContainer(ctx, a, cs); err != nil {
			return x.s.fail(ctx, d, "service %s: %s", name, agents.Reason(x.s.log, err))
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
		if err := x.waitComposeDeps(ctx, a, names, p, wait, logins); err != nil {
			return x.s.fail(ctx, d, "%v", err)
		}
	}
	webName := names[web]
	if _, err := a.Probe(ctx, webName, agent.ProbeRequest{Port: port, Path: shape.HealthPath, Timeout: 2 * time.Minute}); err != nil {
		var ae *agent.Error
		if errors.As(err, &ae) {
			return x.s.fail(ctx, d, "service %s: %s", web, ae.Detail)
		}
		return x.s.fail(ctx, d, "health check of service %s: %s", web, agents.Reason(x.s.log, err))
	}
	info, err := a.InspectContainer(ctx, webName)
	if err != nil {
		return err
	}
	previous := d.ContainerID
	d.ServingReleaseID, d.ContainerID, d.Upstream = rel.ID, info.ID, info.Ports[port]
	if err := x.s.st.UpdateDeploymentRuntime(ctx, d); err != nil {
		return err
	}
	if err := x.s.routes.Changed(ctx, d.ID); err != nil {
		return err
	}
	if err := x.s.confirm(ctx, d); err != nil {
		return err
	}
	return x.retireCompose(ctx, a, d, rel.ID, previous)
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
func (x *composer) retireCompose(ctx context.Context, a *agent.Client, d *store.Deployment, releaseID, previous string) error {
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-time.After(DrainTime):
	}
	list, err := a.ListContainers(ctx, x.s.labels.Of("berth.kind", composeKind, "berth.deployment", d.ID))
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
		if err := x.dropContainer(ctx, a, ct.ID, 10*time.Second); err != nil {
			return err
		}
	}
	if previous != "" && !slices.ContainsFunc(list, func(ct agent.ContainerInfo) bool { return ct.ID == previous }) {
		// The deployment served a single-container release before.
		if err := x.dropContainer(ctx, a, previous, 5*time.Second); err != nil {
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
func (x *composer) dropContainer(ctx context.Context, a *agent.Client, id string, timeout time.Duration) error {
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
func (x *composer) composeImages(ctx context.Context, a *agent.Client, d *store.Deployment, rel *store.Release, p *compose.Project, order []string) (map[string]string, error) {
	images := map[string]string{}
	pushed := false
	for _, name := range order {
		s := p.Services[name]
		if s.Build == nil {
			ref, err := x.composeServiceImage(ctx, a, s.Image)
			if err != nil {
				return nil, x.s.fail(ctx, d, "service %s: %v", name, err)
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
		if err := x.s.setStatus(ctx, d, store.DeploymentBuilding, ""); err != nil {
			return nil, err
		}
		if !pushed {
			x.s.events.Record(ctx, d.ID, "deployment.uploading", "sending release %s to the host", rel.ID)
			if err := a.PushBlob(ctx, rel.Digest, x.s.cfg.Artifacts.Path(rel.Digest)); err != nil {
				return nil, x.s.fail(ctx, d, "sending the release to the host: %s", agents.Reason(x.s.log, err))
			}
			pushed = true
		}
		req, err := x.composeBuild(rel, name, s, ref)
		if err != nil {
			return nil, x.s.fail(ctx, d, "service %s: %v", name, err)
		}
		x.s.events.Record(ctx, d.ID, "deployment.building", "building the image of service %s of release %s", name, rel.ID)
		if err := a.Build(ctx, req); err != nil {
			return nil, x.s.fail(ctx, d, "the image build of service %s failed: %s", name, agents.Reason(x.s.log, err))
		}
	}
	return images, nil
}

// composeBuild is the build of one service: its context directory of the
// release, its Dockerfile with official images mapped to the platform's
// and, when the platform has one, the build CA bundle trusted.
func (x *composer) composeBuild(rel *store.Release, name string, s types.ServiceConfig, ref string) (agent.BuildRequest, error) {
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
	df, err := x.readReleaseFile(rel, path.Join(dir, dfPath))
	if err != nil {
		return agent.BuildRequest{}, fmt.Errorf("reading its Dockerfile %s: %w", path.Join(dir, dfPath), err)
	}
	files, err := x.s.releases.BuildFiles(func() bool { return true })
	if err != nil {
		return agent.BuildRequest{}, err
	}
	ca := ""
	if files != nil {
		ca = templates.BuildCAFile
	}
	rewritten := compose.RewriteDockerfile(string(df), x.composeLocalRef, ca)
	return agent.BuildRequest{Image: ref, Digest: rel.Digest, ContextDir: dir, Dockerfile: rewritten, Files: files,
		ModTime: rel.CreatedAt, Labels: x.s.labels.Of("berth.release", rel.ID, "berth.service", name)}, nil
}

// composeLocalRef is the platform's image for an official image a
// compose file names, or "" to keep the reference.
func (x *composer) composeLocalRef(ref string) string {
	logical := compose.LocalImage(ref)
	switch logical {
	case "":
		return ""
	case store.EnginePostgres, store.EngineRedis:
		return x.s.databases.DataImage(logical)
	}
	if x.s.cfg.Templates == nil {
		return ""
	}
	return x.s.cfg.Templates.ImageRef(&templates.Template{Image: logical})
}

// composeServiceImage resolves a service's image: one already on the
// host as named, else the platform's stand-in for an official image.
// Nothing is ever pulled.
func (x *composer) composeServiceImage(ctx context.Context, a *agent.Client, ref string) (string, error) {
	if ref == "" {
		return "", errors.New("it has neither image nor build")
	}
	if local := x.composeLocalRef(ref); local != "" {
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
	// login checks a login with the credentials a PostgreSQL service's
	// boot enforces: its readiness is a real login.
	login loginCheck
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
func (x *composer) composeService(d *store.Deployment, rel *store.Release, s types.ServiceConfig, image string, routed bool, port int, network string, linked composeLinked) (*composeService, error) {
	files, err := x.composeEnvFiles(rel, s)
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
		Name: composeContainer(d, rel.ID, s.Name), Image: image, Env: appenv.List(env), Cmd: compose.Command(s.Command), Entrypoint: compose.Command(s.Entrypoint),
		WorkDir: s.WorkingDir, User: s.User, Init: true, Restart: composeRestart(s.Restart),
		Network: network, Aliases: []string{s.Name}, ExtraHosts: extraHosts,
		MemoryBytes: x.s.cfg.Limits.MemoryBytes, NanoCPUs: x.s.cfg.Limits.NanoCPUs, PidsLimit: x.s.cfg.Limits.PidsLimit,
		Labels: x.s.labels.Of("berth.kind", composeKind, "berth.deployment", d.ID, "berth.release", rel.ID, "berth.service", s.Name),
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
	boot, cr, err := x.s.databases.ComposeBoot(image, &spec, env)
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
func (x *composer) startComposeContainer(ctx context.Context, a *agent.Client, cs *composeService) error {
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

// waitComposeDeps waits for what a service's depends_on asks: a healthy
// dependency's healthcheck passes (run in its container), a completed one
// exited 0. service_started needs nothing more than the order. A
// PostgreSQL dependency on the platform's image (logins) is healthy only
// once a login over TCP succeeds too: its boot runs a server without TCP
// before the real one, which a pg_isready alone takes for ready.
func (x *composer) waitComposeDeps(ctx context.Context, a *agent.Client, names map[string]string, p *compose.Project, s types.ServiceConfig, logins map[string]loginCheck) error {
	for _, dep := range slices.Sorted(maps.Keys(s.DependsOn)) {
		cond := s.DependsOn[dep].Condition
		name := names[dep]
		deadline := time.Now().Add(2 * time.Minute)
		for {
			ok, why := x.composeDepReady(ctx, a, name, cond, p.Services[dep], logins[dep])
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

func (x *composer) composeDepReady(ctx context.Context, a *agent.Client, name, cond string, dep types.ServiceConfig, login loginCheck) (bool, string) {
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
			if ok, why := login(ctx, a, name); !ok {
				return false, why
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
func (x *composer) keepComposeServing(ctx context.Context, a *agent.Client, d *store.Deployment, rel *store.Release) error {
	all, err := a.ListContainers(ctx, x.s.labels.Of("berth.kind", composeKind, "berth.deployment", d.ID))
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
		x.s.events.Record(ctx, d.ID, "deployment.container_lost", "the web service's container went missing; starting the services again")
		d.ContainerID, d.Upstream, d.ServingReleaseID = "", "", ""
		if err := x.s.setStatus(ctx, d, store.DeploymentPending, ""); err != nil {
			return err
		}
		x.s.queue.Kick(d.ID)
		return nil
	}
	if err != nil {
		return err
	}
	for _, ct := range list {
		if !ct.Running {
			if err := a.StartContainer(ctx, ct.ID); err != nil {
				return x.s.fail(ctx, d, "restarting service %s: %s", ct.Labels["berth.service"], agents.Reason(x.s.log, err))
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
			if err := x.s.st.UpdateDeploymentRuntime(ctx, d); err != nil {
				return err
			}
			if err := x.s.routes.Changed(ctx, d.ID); err != nil {
				return err
			}
		}
		break // the routed service publishes one port
	}
	if d.Status != store.DeploymentReady {
		return x.s.confirm(ctx, d)
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

// composeEnvFiles reads a service's env_file entries from the release's
// files, in order; environment: overrides them. A missing file is an
// error unless it is marked required: false.
func (x *composer) composeEnvFiles(rel *store.Release, s types.ServiceConfig) (map[string]string, error) {
	env := map[string]string{}
	for _, f := range s.EnvFiles {
		name := path.Clean(strings.TrimPrefix(f.Path, compose.ProjectDir+"/"))
		b, err := x.readReleaseFile(rel, name)
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

// commandSpec is the container of a compose release's routed service,
// as `docker compose run` makes it: that service's image, env, volumes
// and the release's network, where the other services answer by name.
func (x *composer) commandSpec(ctx context.Context, a *agent.Client, d *store.Deployment, rel *store.Release) (agent.ContainerSpec, error) {
	env, err := x.composeEnv(ctx, rel, d)
	if err != nil {
		return agent.ContainerSpec{}, err
	}
	p, err := x.composeProject(rel, d, env)
	if err != nil {
		return agent.ContainerSpec{}, fmt.Errorf("reading the compose file: %w", err)
	}
	web, port := compose.Route(p, x.s.releases.RunShape(rel, d).Port)
	s, ok := p.Services[web]
	if !ok {
		return agent.ContainerSpec{}, errors.New("the compose file routes no service to run the command in")
	}
	image := composeImage(rel.ID, web)
	if s.Build == nil {
		if image, err = x.composeServiceImage(ctx, a, s.Image); err != nil {
			return agent.ContainerSpec{}, fmt.Errorf("the image of service %s: %s", web, agents.Reason(x.s.log, err))
		}
	}
	buckets, bucketHosts, err := x.s.links.Buckets(ctx, d.ProjectID, d.ID)
	if err != nil {
		return agent.ContainerSpec{}, err
	}
	cs, err := x.composeService(d, rel, s, image, false, port, composeReleaseNetwork(d, rel.ID), composeLinked{env: buckets, hosts: bucketHosts})
	if err != nil {
		return agent.ContainerSpec{}, fmt.Errorf("service %s: %s", web, agents.Reason(x.s.log, err))
	}
	return cs.spec, nil
}
