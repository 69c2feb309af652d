// Package hosts keeps the workspaces' Docker Deploy hosts: it provisions
// each with a provisioner (this engine, or a server over SSH), bootstraps
// its agent and portal, watches their health, reaches a remote host's
// apps and portal through its agent's tunnel, and counts what it runs.
package hosts

import (
	"cmp"
	"context"
	"log/slog"
	"net/http"
	"time"

	"github.com/berth-dev/berth/internal/agent"
	"github.com/berth-dev/berth/internal/control/names"
	"github.com/berth-dev/berth/internal/control/work"
	"github.com/berth-dev/berth/internal/store"
)

// Store is what the package reads and writes.
type Store interface {
	// InTx runs fn with a Store whose calls share one transaction; it
	// commits when fn returns nil and rolls back otherwise.
	InTx(ctx context.Context, fn func(tx store.Store) error) error
	// CreateHost records h. A second Docker Deploy host for one
	// workspace is ErrConflict.
	CreateHost(ctx context.Context, h *store.Host) error
	GetHost(ctx context.Context, id string) (*store.Host, error)
	GetOrg(ctx context.Context, id string) (*store.Org, error)
	GetWorkspace(ctx context.Context, id string) (*store.Workspace, error)
	// GetWorkspaceHost returns the Docker Deploy host of a workspace, or
	// ErrNotFound.
	GetWorkspaceHost(ctx context.Context, workspaceID string) (*store.Host, error)
	ListDeployments(ctx context.Context, f store.ListFilter) ([]*store.Deployment, error)
	// ListWorkspaceHosts lists Docker Deploy hosts in id order, narrowed
	// by f's OrgID, WorkspaceID and ProjectID (the workspace holding the
	// project), paged by After and Limit.
	ListWorkspaceHosts(ctx context.Context, f store.ListFilter) ([]*store.Host, error)
	// UpdateHost writes every mutable field of h (all but id, kind,
	// workspace and created_at) and bumps updated_at.
	UpdateHost(ctx context.Context, h *store.Host) error
}

// Agents hands out the agents of hosts.
type Agents interface {
	Agent(h *store.Host) *agent.Client
}

// Events records what happened.
type Events interface {
	Record(ctx context.Context, resourceID, typ, format string, args ...any)
}

// Queue reconciles a resource soon.
type Queue interface {
	Kick(id string) <-chan struct{}
}

// Routes are told when a host's routes change.
type Routes interface {
	AllChanged() uint64
}

// Databases are told when a workspace's host turns active, so that the
// data services waiting for it proceed.
type Databases interface {
	KickWorkspace(ctx context.Context, workspaceID string)
}

// Hostnames reads an org's verified custom domains.
type Hostnames interface {
	Verified(ctx context.Context, orgID string) (names.Custom, error)
}

// Service keeps the workspaces' Docker Deploy hosts.
type Service struct {
	cfg       Config
	st        Store
	agents    Agents
	events    Events
	queue     Queue
	routes    Routes
	databases Databases
	hostnames Hostnames
	log       *slog.Logger
	probe     *http.Client
	// hostLocks keep a host's reconciler and the API's writes to a host
	// record from overwriting each other.
	hostLocks work.Locks
}

// Deps are the parts of the control plane the service asks.
type Deps struct {
	Store     Store
	Agents    Agents
	Events    Events
	Queue     Queue
	Routes    Routes
	Databases Databases
	Hostnames Hostnames
	Log       *slog.Logger
}

// New returns the hosts service.
func New(cfg Config, d Deps) *Service {
	return &Service{cfg: cfg, st: d.Store, agents: d.Agents, events: d.Events, queue: d.Queue, routes: d.Routes,
		databases: d.Databases, hostnames: d.Hostnames, log: cmp.Or(d.Log, slog.New(slog.DiscardHandler)),
		probe: &http.Client{
			Timeout:       3 * time.Second,
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		}}
}
