// Package docker is the agent's container runtime on a Docker Engine,
// spoken to over the Engine API.
//
// Every container it creates is hardened whatever its spec says: no new
// privileges, every capability dropped except a small set that ordinary
// images need (CHOWN, DAC_OVERRIDE, FOWNER, FSETID, KILL, SETGID, SETUID
// and NET_BIND_SERVICE: enough for an nginx master that starts as root
// and switches to a worker user, or an entrypoint that chowns its data
// directory), never privileged,
// only the default bridge network or a user-defined bridge the spec names
// (created when missing), no bind mounts (only the named volumes
// of the spec), memory, CPU and pids limits with floors when the spec
// leaves them at zero, and ports published on 127.0.0.1 only, at
// ephemeral host ports.
package docker

import (
	"context"
	"errors"
	"fmt"
	"sync"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/moby/moby/client"

	"github.com/berth-dev/berth/internal/agent"
)

// Runtime drives one Docker Engine. It is safe for concurrent use.
type Runtime struct {
	c     *client.Client
	netMu sync.Mutex // serializes network creation; see ensureNetwork
}

// New returns a Runtime for the engine at host, such as
// "unix:///var/run/docker.sock" or "tcp://10.0.0.2:2375". An empty host
// means the environment's DOCKER_HOST, else the default socket. The API
// version is negotiated with the engine on first use, so engines as old
// as API 1.41 work. New does not contact the engine; Ping does.
func New(host string) (*Runtime, error) {
	opts := []client.Opt{client.FromEnv}
	if host != "" {
		opts = append(opts, client.WithHost(host))
	}
	c, err := client.New(opts...)
	if err != nil {
		return nil, fmt.Errorf("creating docker client: %w", err)
	}
	return &Runtime{c: c}, nil
}

// Close releases the client's idle connections.
func (r *Runtime) Close() error {
	return r.c.Close()
}

// Ping checks that the engine answers.
func (r *Runtime) Ping(ctx context.Context) error {
	if _, err := r.c.Ping(ctx, client.PingOptions{NegotiateAPIVersion: true}); err != nil {
		return fmt.Errorf("pinging docker engine: %w", err)
	}
	return nil
}

// notFound marks err as agent.ErrNotFound when the engine said the object
// does not exist, keeping the engine's message.
func notFound(err error) error {
	if cerrdefs.IsNotFound(err) && !errors.Is(err, agent.ErrNotFound) {
		return fmt.Errorf("%w: %w", agent.ErrNotFound, err)
	}
	return err
}

var _ agent.Runtime = (*Runtime)(nil)
