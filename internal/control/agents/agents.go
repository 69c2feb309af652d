// Package agents hands the control plane the agent of a host: the pool
// host that takes new work, a workspace's Docker Deploy host, or any host
// by id. One client is kept per host and agent URL.
package agents

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/berth-dev/berth/internal/agent"
	"github.com/berth-dev/berth/internal/pki"
	"github.com/berth-dev/berth/internal/store"
)

// Store is what the pool reads.
type Store interface {
	GetHost(ctx context.Context, id string) (*store.Host, error)
	ListHosts(ctx context.Context) ([]*store.Host, error)
	GetWorkspaceHost(ctx context.Context, workspaceID string) (*store.Host, error)
}

// Pool keeps the clients of the hosts' agents.
type Pool struct {
	st Store
	// ca makes the control plane's client certificate for the agents of
	// Docker Deploy hosts (nil: plain bearer clients).
	ca *pki.CA

	mu      sync.Mutex
	clients map[string]*agent.Client
}

// New returns a pool reading hosts from st.
func New(st Store, ca *pki.CA) *Pool {
	return &Pool{st: st, ca: ca, clients: map[string]*agent.Client{}}
}

// Agent returns the client of h's agent.
func (p *Pool) Agent(h *store.Host) *agent.Client {
	p.mu.Lock()
	defer p.mu.Unlock()
	key := h.ID + "|" + h.AgentURL
	a, ok := p.clients[key]
	if !ok {
		a = p.client(h)
		p.clients[key] = a
	}
	return a
}

// client makes the client of a host's agent: mutual TLS for a Docker
// Deploy host, the loopback pool agent's bearer secret otherwise.
func (p *Pool) client(h *store.Host) *agent.Client {
	if h.Kind == store.HostDockerDeploy && p.ca != nil {
		return agent.NewTLSClient(h.AgentURL, h.AgentSecret, p.ca.ClientTLS(h.ID))
	}
	return agent.NewClient(h.AgentURL, h.AgentSecret)
}

// ForHost returns the agent of a host by id.
func (p *Pool) ForHost(ctx context.Context, hostID string) (*agent.Client, error) {
	h, err := p.st.GetHost(ctx, hostID)
	if err != nil {
		return nil, fmt.Errorf("getting host %s: %w", hostID, err)
	}
	return p.Agent(h), nil
}

// PoolHost returns the pool host that takes new work and its agent.
func (p *Pool) PoolHost(ctx context.Context) (*store.Host, *agent.Client, error) {
	hosts, err := p.st.ListHosts(ctx)
	if err != nil {
		return nil, nil, fmt.Errorf("listing hosts: %w", err)
	}
	for _, h := range hosts {
		if h.Kind == store.HostPool && h.State == "active" {
			return h, p.Agent(h), nil
		}
	}
	return nil, nil, errors.New("no active pool host")
}

// WorkspaceHost returns the workspace's Docker Deploy host when it is
// active, or why what runs there waits for it.
func (p *Pool) WorkspaceHost(ctx context.Context, workspaceID string) (*store.Host, string, error) {
	h, err := p.st.GetWorkspaceHost(ctx, workspaceID)
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

// Limits are per-container resource limits.
type Limits struct {
	MemoryBytes int64
	NanoCPUs    int64
	PidsLimit   int64
}
