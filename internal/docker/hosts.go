package docker

import (
	"context"
	"fmt"
	"net"
	"strings"

	"github.com/moby/moby/client"
)

// extraHosts checks hosts entries: a DNS name and an IP address each, so
// a spec adds names and nothing else to a container's /etc/hosts.
func extraHosts(entries []string) ([]string, error) {
	out := make([]string, 0, len(entries))
	for _, e := range entries {
		name, ip, ok := strings.Cut(e, ":")
		if !ok || !alias.MatchString(name) || net.ParseIP(ip) == nil {
			return nil, fmt.Errorf("invalid hosts entry %q: write name:ip", e)
		}
		out = append(out, e)
	}
	return out, nil
}

// BridgeGateway is the host's address on the engine's default bridge:
// containers on any of the engine's bridge networks reach the host there,
// and nothing outside the machine routes to it.
func (r *Runtime) BridgeGateway(ctx context.Context) (string, error) {
	res, err := r.c.NetworkInspect(ctx, "bridge", client.NetworkInspectOptions{})
	if err != nil {
		return "", fmt.Errorf("inspecting the default bridge: %w", err)
	}
	for _, c := range res.Network.IPAM.Config {
		if c.Gateway.IsValid() && c.Gateway.Is4() {
			return c.Gateway.String(), nil
		}
	}
	// Engines that leave the gateway out of the default bridge's IPAM
	// config have it on the bridge's interface, on this machine.
	name := res.Network.Options["com.docker.network.bridge.name"]
	if name == "" {
		name = "docker0"
	}
	ifc, err := net.InterfaceByName(name)
	if err != nil {
		return "", fmt.Errorf("the default bridge names no gateway, and its interface %s is not on this machine: %w", name, err)
	}
	addrs, err := ifc.Addrs()
	if err != nil {
		return "", fmt.Errorf("reading the addresses of %s: %w", name, err)
	}
	for _, a := range addrs {
		if n, ok := a.(*net.IPNet); ok && n.IP.To4() != nil {
			return n.IP.String(), nil
		}
	}
	return "", fmt.Errorf("the default bridge's interface %s has no IPv4 address", name)
}
