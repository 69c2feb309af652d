package docker

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"maps"
	"math"
	"net"
	"net/netip"
	"path"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/moby/moby/api/pkg/stdcopy"
	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/mount"
	"github.com/moby/moby/api/types/network"
	"github.com/moby/moby/client"

	"github.com/berth-dev/berth/internal/agent"
)

// Floors applied when a ContainerSpec leaves a limit at zero.
const (
	DefaultMemoryBytes = 512 << 20
	DefaultNanoCPUs    = 1_000_000_000
	DefaultPidsLimit   = 512
)

// capabilities is the set every container keeps; all others are dropped.
// It is what typical images need to start as root and then drop to
// their own user (nginx's master process, entrypoints that chown a data
// directory) and to bind ports below 1024.
var capabilities = []string{
	"CHOWN", "DAC_OVERRIDE", "FOWNER", "FSETID", "KILL",
	"SETGID", "SETUID", "NET_BIND_SERVICE",
}

// loopback is the only host address ports are published on.
var loopback = netip.MustParseAddr("127.0.0.1")

// volumeName is the engine's own rule for volume names; checking it here
// keeps anything that looks like a host path out of a mount's source.
var volumeName = regexp.MustCompile(`^[a-zA-Z0-9][a-zA-Z0-9_.-]+$`)

// containerConfig turns spec into the engine's create request, hardened.
func containerConfig(spec agent.ContainerSpec) (*container.Config, *container.HostConfig, error) {
	if spec.Image == "" {
		return nil, nil, errors.New("image is required")
	}
	cfg := &container.Config{
		Image:      spec.Image,
		Env:        spec.Env,
		WorkingDir: spec.WorkDir,
		User:       spec.User,
		Labels:     spec.Labels,
	}
	if len(spec.Cmd) > 0 {
		cfg.Cmd = spec.Cmd
	}
	if len(spec.Entrypoint) > 0 {
		cfg.Entrypoint = spec.Entrypoint
	}

	restart, err := restartPolicy(spec.Restart)
	if err != nil {
		return nil, nil, err
	}
	useInit := spec.Init
	pids := positiveOr(spec.PidsLimit, DefaultPidsLimit)
	memory := positiveOr(spec.MemoryBytes, DefaultMemoryBytes)
	mode, err := networkMode(spec)
	if err != nil {
		return nil, nil, err
	}
	extraHosts, err := extraHosts(spec.ExtraHosts)
	if err != nil {
		return nil, nil, err
	}
	hc := &container.HostConfig{
		ExtraHosts:    extraHosts,
		NetworkMode:   mode,
		RestartPolicy: restart,
		Init:          &useInit,
		Privileged:    false,
		CapDrop:       []string{"ALL"},
		CapAdd:        slices.Clone(capabilities),
		SecurityOpt:   []string{"no-new-privileges:true"},
		// Set explicitly so Logs works whatever the daemon's default
		// driver, and so a chatty app cannot fill the disk.
		LogConfig: container.LogConfig{
			Type:   "json-file",
			Config: map[string]string{"max-size": "10m", "max-file": "3"},
		},
		Resources: container.Resources{
			Memory:     memory,
			MemorySwap: memory, // no swap beyond the memory limit
			NanoCPUs:   positiveOr(spec.NanoCPUs, DefaultNanoCPUs),
			PidsLimit:  &pids,
		},
	}

	if len(spec.Ports) > 0 {
		cfg.ExposedPorts = network.PortSet{}
		hc.PortBindings = network.PortMap{}
		for _, p := range spec.Ports {
			if p < 1 || p > math.MaxUint16 {
				return nil, nil, fmt.Errorf("invalid port %d", p)
			}
			port, _ := network.PortFrom(uint16(p), network.TCP)
			cfg.ExposedPorts[port] = struct{}{}
			hc.PortBindings[port] = []network.PortBinding{{HostIP: loopback, HostPort: ""}}
		}
	}

	for _, m := range spec.Volumes {
		if !volumeName.MatchString(m.Volume) {
			return nil, nil, fmt.Errorf("invalid volume name %q", m.Volume)
		}
		if !path.IsAbs(m.Target) || path.Clean(m.Target) == "/" {
			return nil, nil, fmt.Errorf("invalid mount target %q for volume %s", m.Target, m.Volume)
		}
		hc.Mounts = append(hc.Mounts, mount.Mount{
			Type:   mount.TypeVolume,
			Source: m.Volume,
			Target: path.Clean(m.Target),
		})
	}
	return cfg, hc, nil
}

func positiveOr(v, floor int64) int64 {
	if v <= 0 {
		return floor
	}
	return v
}

func restartPolicy(name string) (container.RestartPolicy, error) {
	switch mode := container.RestartPolicyMode(name); mode {
	case "", container.RestartPolicyDisabled:
		return container.RestartPolicy{Name: container.RestartPolicyDisabled}, nil
	case container.RestartPolicyAlways, container.RestartPolicyUnlessStopped, container.RestartPolicyOnFailure:
		return container.RestartPolicy{Name: mode}, nil
	default:
		return container.RestartPolicy{}, fmt.Errorf("invalid restart policy %q", name)
	}
}

// CreateContainer creates a hardened container from spec, and the named
// volumes it mounts when missing. A taken name is agent.ErrConflict; a
// missing image is agent.ErrNotFound.
func (r *Runtime) CreateContainer(ctx context.Context, spec agent.ContainerSpec) (string, error) {
	cfg, hc, err := containerConfig(spec)
	if err != nil {
		return "", fmt.Errorf("creating container %s: %w", spec.Name, err)
	}
	for _, m := range hc.Mounts {
		// Creating a volume that exists returns the existing one. A new
		// one carries the container's labels, so its owner can be found.
		res, err := r.c.VolumeCreate(ctx, client.VolumeCreateOptions{Name: m.Source, Driver: "local", Labels: spec.Labels})
		if err != nil {
			return "", fmt.Errorf("creating volume %s: %w", m.Source, err)
		}
		// A local volume with options can be a bind mount of any host
		// path (type=none, o=bind, device=/var/run): refuse one made
		// outside Berth.
		if v := res.Volume; v.Driver != "local" || len(v.Options) > 0 {
			return "", fmt.Errorf("creating container %s: volume %s has driver %q and options %v; only plain local volumes are mounted", spec.Name, m.Source, v.Driver, v.Options)
		}
	}
	var nc *network.NetworkingConfig
	// Held until the container exists, so that pruning cannot remove the
	// network between its creation and the container's.
	r.netMu.Lock()
	defer r.netMu.Unlock()
	if spec.Network == "" {
		if err := r.ensureIsolated(ctx); err != nil {
			return "", fmt.Errorf("creating container %s: %w", spec.Name, err)
		}
	} else {
		if err := r.ensureNetwork(ctx, spec.Network, spec.Labels); err != nil {
			return "", fmt.Errorf("creating container %s: %w", spec.Name, err)
		}
		nc = &network.NetworkingConfig{EndpointsConfig: map[string]*network.EndpointSettings{
			spec.Network: {Aliases: slices.Clone(spec.Aliases)},
		}}
	}
	res, err := r.c.ContainerCreate(ctx, client.ContainerCreateOptions{
		Name:             spec.Name,
		Config:           cfg,
		HostConfig:       hc,
		NetworkingConfig: nc,
	})
	if err != nil {
		if cerrdefs.IsConflict(err) {
			err = fmt.Errorf("%w: %w", agent.ErrConflict, err)
		}
		return "", fmt.Errorf("creating container %s: %w", spec.Name, notFound(err))
	}
	return res.ID, nil
}

// StartContainer starts a created or stopped container; starting a
// running one is not an error.
func (r *Runtime) StartContainer(ctx context.Context, id string) error {
	if _, err := r.c.ContainerStart(ctx, id, client.ContainerStartOptions{}); err != nil {
		return fmt.Errorf("starting container %s: %w", id, notFound(err))
	}
	return nil
}

// StopContainer sends SIGTERM, then SIGKILL after timeout (rounded up to
// whole seconds, which is what the engine takes).
func (r *Runtime) StopContainer(ctx context.Context, id string, timeout time.Duration) error {
	secs := int(math.Ceil(max(timeout, 0).Seconds()))
	if _, err := r.c.ContainerStop(ctx, id, client.ContainerStopOptions{Timeout: &secs}); err != nil {
		return fmt.Errorf("stopping container %s: %w", id, notFound(err))
	}
	return nil
}

// PauseContainer freezes a running container (the cgroup freezer); a
// paused or stopped one is left as it is.
func (r *Runtime) PauseContainer(ctx context.Context, id string) error {
	return r.setPaused(ctx, id, "running", "pausing", func() error {
		_, err := r.c.ContainerPause(ctx, id, client.ContainerPauseOptions{})
		return err
	})
}

// UnpauseContainer thaws a paused container; one not paused is left as
// it is.
func (r *Runtime) UnpauseContainer(ctx context.Context, id string) error {
	return r.setPaused(ctx, id, "paused", "unpausing", func() error {
		_, err := r.c.ContainerUnpause(ctx, id, client.ContainerUnpauseOptions{})
		return err
	})
}

// setPaused runs change when the container is in state from, and leaves
// it alone otherwise.
func (r *Runtime) setPaused(ctx context.Context, id, from, verb string, change func() error) error {
	info, err := r.InspectContainer(ctx, id)
	if err != nil || info.State != from {
		return err
	}
	if err := change(); err != nil {
		return fmt.Errorf("%s container %s: %w", verb, id, notFound(err))
	}
	return nil
}

// RemoveContainer removes a container, running or not, with its anonymous
// volumes; named volumes stay, and so do the networks it joined that other
// containers use (the others, which the runtime made, go). A missing
// container is not an error.
func (r *Runtime) RemoveContainer(ctx context.Context, id string) error {
	var nets []string
	if res, err := r.c.ContainerInspect(ctx, id, client.ContainerInspectOptions{}); err == nil && res.Container.NetworkSettings != nil {
		for name := range res.Container.NetworkSettings.Networks {
			if !reservedNetworks[name] {
				nets = append(nets, name)
			}
		}
	}
	_, err := r.c.ContainerRemove(ctx, id, client.ContainerRemoveOptions{Force: true, RemoveVolumes: true})
	if err != nil && !cerrdefs.IsNotFound(err) {
		return fmt.Errorf("removing container %s: %w", id, err)
	}
	for _, name := range nets {
		r.pruneNetwork(ctx, name)
	}
	return nil
}

// InspectContainer reports on a container by id or name.
func (r *Runtime) InspectContainer(ctx context.Context, id string) (agent.ContainerInfo, error) {
	res, err := r.c.ContainerInspect(ctx, id, client.ContainerInspectOptions{})
	if err != nil {
		return agent.ContainerInfo{}, fmt.Errorf("inspecting container %s: %w", id, notFound(err))
	}
	return containerInfo(res.Container), nil
}

func containerInfo(c container.InspectResponse) agent.ContainerInfo {
	info := agent.ContainerInfo{
		ID:    c.ID,
		Name:  strings.TrimPrefix(c.Name, "/"),
		Image: c.Image,
	}
	if c.Config != nil {
		info.Image = c.Config.Image
		info.Labels = c.Config.Labels
	}
	if s := c.State; s != nil {
		info.State = string(s.Status)
		info.Running = s.Running
		info.ExitCode = s.ExitCode
		if t, err := time.Parse(time.RFC3339Nano, s.StartedAt); err == nil && t.Year() > 1 {
			info.StartedAt = t
		}
	}
	if ns := c.NetworkSettings; ns != nil {
		for port, bindings := range ns.Ports {
			if port.Proto() != network.TCP {
				continue
			}
			for _, b := range bindings {
				// Ports are published on 127.0.0.1 only; an IPv6
				// binding added by a newer engine is the same port.
				if b.HostPort == "" || (b.HostIP.IsValid() && !b.HostIP.Is4()) {
					continue
				}
				if info.Ports == nil {
					info.Ports = map[int]string{}
				}
				info.Ports[int(port.Num())] = "127.0.0.1:" + b.HostPort
				break
			}
		}
		// The container's own address on its network, for each published
		// port: an agent that does not share the engine's network
		// namespace reaches the app there.
		for _, name := range slices.Sorted(maps.Keys(ns.Networks)) {
			ep := ns.Networks[name]
			if ep == nil || !ep.IPAddress.IsValid() || !ep.IPAddress.Is4() {
				continue
			}
			for port := range info.Ports {
				if info.Endpoints == nil {
					info.Endpoints = map[int]string{}
				}
				info.Endpoints[port] = net.JoinHostPort(ep.IPAddress.String(), strconv.Itoa(port))
			}
			break
		}
	}
	return info
}

// ListContainers lists containers in any state that carry all labels.
func (r *Runtime) ListContainers(ctx context.Context, labels map[string]string) ([]agent.ContainerInfo, error) {
	f := client.Filters{}
	for k, v := range labels {
		f.Add("label", k+"="+v)
	}
	res, err := r.c.ContainerList(ctx, client.ContainerListOptions{All: true, Filters: f})
	if err != nil {
		return nil, fmt.Errorf("listing containers: %w", err)
	}
	// The list's summaries lack exit codes and start times: inspect each.
	var out []agent.ContainerInfo
	for _, s := range res.Items {
		info, err := r.InspectContainer(ctx, s.ID)
		if errors.Is(err, agent.ErrNotFound) {
			continue // removed since the list was made
		}
		if err != nil {
			return nil, fmt.Errorf("listing containers: %w", err)
		}
		out = append(out, info)
	}
	return out, nil
}

// Logs returns the last tail lines of a container's stdout and stderr,
// interleaved as the engine recorded them; tail <= 0 returns everything.
func (r *Runtime) Logs(ctx context.Context, id string, tail int) (string, error) {
	t := "all"
	if tail > 0 {
		t = strconv.Itoa(tail)
	}
	rc, err := r.c.ContainerLogs(ctx, id, client.ContainerLogsOptions{ShowStdout: true, ShowStderr: true, Tail: t})
	if err != nil {
		return "", fmt.Errorf("reading logs of %s: %w", id, notFound(err))
	}
	defer rc.Close()
	var buf bytes.Buffer
	if _, err := stdcopy.StdCopy(&buf, &buf, rc); err != nil {
		return "", fmt.Errorf("reading logs of %s: %w", id, err)
	}
	return buf.String(), nil
}
