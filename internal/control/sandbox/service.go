// Package sandbox runs sandboxes: a container per sandbox with its files
// on a volume, its dev server as a process, its preview routed at the
// edge, and the file, exec and publish calls an agent builds an app with.
package sandbox

import (
	"cmp"
	"context"
	"io"
	"log/slog"

	"github.com/berth-dev/berth/internal/agent"
	"github.com/berth-dev/berth/internal/control/agents"
	"github.com/berth-dev/berth/internal/control/names"
	"github.com/berth-dev/berth/internal/control/releases"
	"github.com/berth-dev/berth/internal/control/work"
	"github.com/berth-dev/berth/internal/store"
	"github.com/berth-dev/berth/internal/templates"
)

// Store is what the package reads and writes.
type Store interface {
	// InTx runs fn with a Store whose calls share one transaction; it
	// commits when fn returns nil and rolls back otherwise.
	InTx(ctx context.Context, fn func(tx store.Store) error) error
	CreateProcess(ctx context.Context, p *store.Process) error
	GetOrg(ctx context.Context, id string) (*store.Org, error)
	GetProject(ctx context.Context, id string) (*store.Project, error)
	GetSandbox(ctx context.Context, id string) (*store.Sandbox, error)
	ListProcesses(ctx context.Context, sandboxID string) ([]*store.Process, error)
	ListSandboxes(ctx context.Context, f store.ListFilter) ([]*store.Sandbox, error)
	// UpdateSandbox writes every mutable field of s (all but id, ids of
	// owners, slug and created_at) and bumps updated_at.
	UpdateSandbox(ctx context.Context, s *store.Sandbox) error
}

// Config is what sandboxes are made with.
type Config struct {
	Templates *templates.Catalogue
	Names     names.Names
	// Limits are the resources every container gets.
	Limits agents.Limits
}

// Agents hands out the agents of hosts.
type Agents interface {
	ForHost(ctx context.Context, hostID string) (*agent.Client, error)
	PoolHost(ctx context.Context) (*store.Host, *agent.Client, error)
}

// Events records what happened.
type Events interface {
	Record(ctx context.Context, resourceID, typ, format string, args ...any)
}

// Queue reconciles a resource soon.
type Queue interface {
	Kick(id string) <-chan struct{}
}

// Routes are told when a sandbox's route changes, and say whether the
// edge reaches its preview.
type Routes interface {
	Changed(ctx context.Context, resourceID string) error
	Reachable(ctx context.Context, host string) bool
}

// Links says what a sandbox's container gets from what is linked to it.
type Links interface {
	Container(ctx context.Context, projectID, targetID string, defaults, own map[string]string) (map[string]string, error)
	Network(ctx context.Context, projectID, targetID string) string
	ExtraHosts(ctx context.Context, projectID, targetID string) []string
}

// Hostnames makes a sandbox's preview hostname.
type Hostnames interface {
	Sandbox(ctx context.Context, s *store.Sandbox) string
}

// Releases freezes files into a release.
type Releases interface {
	Freeze(ctx context.Context, in io.Reader, strip string, req releases.Request, prov store.Provenance, envNames []string) (*store.Release, error)
}

// Service runs sandboxes.
type Service struct {
	cfg       Config
	st        Store
	agents    Agents
	events    Events
	queue     Queue
	routes    Routes
	links     Links
	hostnames Hostnames
	releases  Releases
	labels    names.Labels
	log       *slog.Logger
	// locks serialize the reconciler and the lifecycle calls of a sandbox,
	// so a resync that began before a stop cannot start the container
	// again after it.
	locks work.Locks
}

// Deps are the parts of the control plane the service asks.
type Deps struct {
	Store     Store
	Agents    Agents
	Events    Events
	Queue     Queue
	Routes    Routes
	Links     Links
	Hostnames Hostnames
	Releases  Releases
	Labels    names.Labels
	Log       *slog.Logger
}

// New returns the sandbox service.
func New(cfg Config, d Deps) *Service {
	return &Service{cfg: cfg, st: d.Store, agents: d.Agents, events: d.Events, queue: d.Queue, routes: d.Routes,
		links: d.Links, hostnames: d.Hostnames, releases: d.Releases, labels: d.Labels, log: cmp.Or(d.Log, slog.New(slog.DiscardHandler))}
}
