package docker

import (
	"context"
	"fmt"
	"regexp"
	"slices"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/network"
	"github.com/moby/moby/client"

	"github.com/berth-dev/berth/internal/agent"
)

// networkName is the engine's rule for names, minus the reserved ones
// below: no name can select another container's or the host's network
// stack ("container:…", "host").
var networkName = regexp.MustCompile(`^[a-zA-Z0-9][a-zA-Z0-9_.-]{0,127}$`)

// reservedNetworks are the engine's own networks; a spec names a
// user-defined bridge or nothing.
var reservedNetworks = map[string]bool{"bridge": true, "host": true, "none": true, "default": true}

// alias is a DNS name on a network: letters, digits, dots and dashes.
var alias = regexp.MustCompile(`^[a-zA-Z0-9]([a-zA-Z0-9.-]{0,61}[a-zA-Z0-9])?$`)

// networkLabel marks the networks the runtime created.
const networkLabel = "berth.network"

// IsolatedNetwork is where a container that names no network goes: a
// bridge on which containers cannot reach one another, unlike the
// engine's default bridge, so one tenant's app never reaches another's by
// its address. Published ports still work: they are on the host.
const IsolatedNetwork = "berth-isolated"

// networkMode is the engine's network mode for spec: the isolated bridge,
// or the user-defined bridge it names.
func networkMode(spec agent.ContainerSpec) (container.NetworkMode, error) {
	if spec.Network == "" {
		if len(spec.Aliases) > 0 {
			return "", fmt.Errorf("aliases %v need a network", spec.Aliases)
		}
		return IsolatedNetwork, nil
	}
	if !networkName.MatchString(spec.Network) || reservedNetworks[spec.Network] {
		return "", fmt.Errorf("invalid network name %q", spec.Network)
	}
	for _, a := range spec.Aliases {
		if !alias.MatchString(a) {
			return "", fmt.Errorf("invalid network alias %q", a)
		}
	}
	return container.NetworkMode(spec.Network), nil
}

// ensureNetwork creates the user-defined bridge network name unless it
// exists, labelled as Berth's (with the instance label of the container
// that asked first, so an installation finds its own). An existing
// network of another driver is refused: a spec never reaches beyond a
// local bridge.
// The caller holds r.netMu: engines before API 1.44 accept two networks
// of one name, after which the name is ambiguous, so networks are made one
// at a time.
func (r *Runtime) ensureNetwork(ctx context.Context, name string, labels map[string]string) error {
	res, err := r.c.NetworkInspect(ctx, name, client.NetworkInspectOptions{})
	if err == nil {
		if d := res.Network.Driver; d != "bridge" {
			return fmt.Errorf("network %s has driver %q; only bridge networks are joined", name, d)
		}
		return nil
	}
	if !cerrdefs.IsNotFound(err) {
		return fmt.Errorf("inspecting network %s: %w", name, err)
	}
	nl := map[string]string{networkLabel: "true"}
	for _, k := range []string{"berth.managed", "berth.instance"} {
		if v, ok := labels[k]; ok {
			nl[k] = v
		}
	}
	if _, err := r.c.NetworkCreate(ctx, name, client.NetworkCreateOptions{Driver: "bridge", Labels: nl}); err != nil {
		return fmt.Errorf("creating network %s: %w", name, err)
	}
	return nil
}

// ensureIsolated creates the isolated network unless it exists; it is
// shared by every installation on the engine and never pruned. An existing
// one that lets containers reach each other is refused.
func (r *Runtime) ensureIsolated(ctx context.Context) error {
	const icc = "com.docker.network.bridge.enable_icc"
	res, err := r.c.NetworkInspect(ctx, IsolatedNetwork, client.NetworkInspectOptions{})
	if err == nil {
		if res.Network.Driver != "bridge" || res.Network.Options[icc] != "false" {
			return fmt.Errorf("network %s exists but lets containers reach each other; remove it and Berth makes it again", IsolatedNetwork)
		}
		return nil
	}
	if !cerrdefs.IsNotFound(err) {
		return fmt.Errorf("inspecting network %s: %w", IsolatedNetwork, err)
	}
	_, err = r.c.NetworkCreate(ctx, IsolatedNetwork, client.NetworkCreateOptions{Driver: "bridge",
		Options: map[string]string{icc: "false"}, Labels: map[string]string{"berth.managed": "true"}})
	if err != nil {
		return fmt.Errorf("creating network %s: %w", IsolatedNetwork, err)
	}
	return nil
}

// pruneNetwork removes a network the runtime made once no container, in
// any state, is on it. Failing to is not an error: the network is tried
// again when its next container goes.
func (r *Runtime) pruneNetwork(ctx context.Context, name string) {
	r.netMu.Lock()
	defer r.netMu.Unlock()
	res, err := r.c.NetworkInspect(ctx, name, client.NetworkInspectOptions{})
	if err != nil || res.Network.Labels[networkLabel] != "true" {
		return
	}
	// A created container is on its network before it has an endpoint
	// there: ask the container list, which knows, not the network.
	list, err := r.c.ContainerList(ctx, client.ContainerListOptions{All: true, Filters: client.Filters{}.Add("network", name)})
	if err != nil || len(list.Items) > 0 {
		return
	}
	r.c.NetworkRemove(ctx, res.Network.ID, client.NetworkRemoveOptions{})
}

// RemoveNetwork removes a network the runtime created. A missing network
// is agent.ErrNotFound; one that containers still use is an error.
func (r *Runtime) RemoveNetwork(ctx context.Context, name string) error {
	res, err := r.c.NetworkInspect(ctx, name, client.NetworkInspectOptions{})
	if err != nil {
		return fmt.Errorf("removing network %s: %w", name, notFound(err))
	}
	if res.Network.Labels[networkLabel] != "true" {
		return fmt.Errorf("removing network %s: it was not created by Berth", name)
	}
	if _, err := r.c.NetworkRemove(ctx, res.Network.ID, client.NetworkRemoveOptions{}); err != nil {
		return fmt.Errorf("removing network %s: %w", name, notFound(err))
	}
	return nil
}

// ConnectNetwork joins a container to the user-defined bridge network
// name, made (with the container's labels) when missing, where other
// containers reach it by aliases. A container already on it stays as it
// is.
func (r *Runtime) ConnectNetwork(ctx context.Context, id, name string, aliases []string) error {
	if _, err := networkMode(agent.ContainerSpec{Network: name, Aliases: aliases}); err != nil {
		return fmt.Errorf("connecting container %s: %w", id, err)
	}
	res, err := r.c.ContainerInspect(ctx, id, client.ContainerInspectOptions{})
	if err != nil {
		return fmt.Errorf("connecting container %s: %w", id, notFound(err))
	}
	if ns := res.Container.NetworkSettings; ns != nil && ns.Networks[name] != nil {
		return nil
	}
	var labels map[string]string
	if res.Container.Config != nil {
		labels = res.Container.Config.Labels
	}
	r.netMu.Lock()
	defer r.netMu.Unlock()
	if err := r.ensureNetwork(ctx, name, labels); err != nil {
		return fmt.Errorf("connecting container %s: %w", id, err)
	}
	_, err = r.c.NetworkConnect(ctx, name, client.NetworkConnectOptions{Container: res.Container.ID,
		EndpointConfig: &network.EndpointSettings{Aliases: slices.Clone(aliases)}})
	if err != nil {
		return fmt.Errorf("connecting container %s to %s: %w", id, name, notFound(err))
	}
	return nil
}

// DisconnectNetwork takes a container off a network, and removes the
// network once no container is on it. A container that is not on it, or
// a network that does not exist, is not an error.
func (r *Runtime) DisconnectNetwork(ctx context.Context, id, name string) error {
	res, err := r.c.ContainerInspect(ctx, id, client.ContainerInspectOptions{})
	if err != nil {
		return fmt.Errorf("disconnecting container %s: %w", id, notFound(err))
	}
	if ns := res.Container.NetworkSettings; ns == nil || ns.Networks[name] == nil {
		return nil
	}
	_, err = r.c.NetworkDisconnect(ctx, name, client.NetworkDisconnectOptions{Container: res.Container.ID})
	if err != nil && !cerrdefs.IsNotFound(err) {
		return fmt.Errorf("disconnecting container %s from %s: %w", id, name, err)
	}
	r.pruneNetwork(ctx, name)
	return nil
}
