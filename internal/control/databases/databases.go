// Package databases runs the managed data services (Postgres, MySQL,
// Redis): it places each on a host, boots it with its credentials,
// watches its health, rotates its credentials and restarts what is
// linked to it when they change.
package databases

import (
	"cmp"
	"context"
	"log/slog"

	"github.com/berth-dev/berth/internal/agent"
	"github.com/berth-dev/berth/internal/control/agents"
	"github.com/berth-dev/berth/internal/control/names"
	"github.com/berth-dev/berth/internal/store"
	"github.com/berth-dev/berth/internal/templates"
)

// Store is what the package reads and writes.
type Store interface {
	// InTx runs fn with a Store whose calls share one transaction; it
	// commits when fn returns nil and rolls back otherwise.
	InTx(ctx context.Context, fn func(tx store.Store) error) error
	// DeleteDatabase removes a database and its links.
	DeleteDatabase(ctx context.Context, id string) error
	// DeleteDatabaseLink removes the link of a database to a target, or
	// answers ErrNotFound.
	DeleteDatabaseLink(ctx context.Context, databaseID, targetID string) error
	GetDatabase(ctx context.Context, id string) (*store.Database, error)
	// GetWorkspaceHost returns the Docker Deploy host of a workspace, or
	// ErrNotFound.
	GetWorkspaceHost(ctx context.Context, workspaceID string) (*store.Host, error)
	// ListDatabaseLinks lists the links of a database, or to a target (a
	// sandbox or deployment), or both, oldest first.
	ListDatabaseLinks(ctx context.Context, f store.DatabaseLinkFilter) ([]*store.DatabaseLink, error)
	ListDatabases(ctx context.Context, f store.ListFilter) ([]*store.Database, error)
	// UpdateDatabaseLink writes l.Version.
	UpdateDatabaseLink(ctx context.Context, l *store.DatabaseLink) error
}

// Config is what data services are made with.
type Config struct {
	// Templates names the engines' images (nil: Berth's local ones).
	Templates *templates.Catalogue
	// Limits are the resources every container gets.
	Limits agents.Limits
}

// Agents hands out the agents of hosts.
type Agents interface {
	Agent(h *store.Host) *agent.Client
	ForHost(ctx context.Context, hostID string) (*agent.Client, error)
	PoolHost(ctx context.Context) (*store.Host, *agent.Client, error)
	WorkspaceHost(ctx context.Context, workspaceID string) (*store.Host, string, error)
}

// Events records what happened.
type Events interface {
	Record(ctx context.Context, resourceID, typ, format string, args ...any)
}

// Queue reconciles a resource soon.
type Queue interface {
	Kick(id string) <-chan struct{}
}

// Targets restarts a linked sandbox or deployment so that it boots with
// the variables of its links as they are now. done is false when it must
// be asked again later (a rollout already read them), unless force.
type Targets interface {
	Restart(ctx context.Context, targetID, why string, force bool) (done bool, err error)
}

// Service runs the data services.
type Service struct {
	cfg     Config
	st      Store
	agents  Agents
	events  Events
	queue   Queue
	targets Targets
	labels  names.Labels
	log     *slog.Logger
}

// Deps are the parts of the control plane the service asks.
type Deps struct {
	Store   Store
	Agents  Agents
	Events  Events
	Queue   Queue
	Targets Targets
	Labels  names.Labels
	Log     *slog.Logger
}

// New returns the data services' service.
func New(cfg Config, d Deps) *Service {
	return &Service{cfg: cfg, st: d.Store, agents: d.Agents, events: d.Events, queue: d.Queue,
		targets: d.Targets, labels: d.Labels, log: cmp.Or(d.Log, slog.New(slog.DiscardHandler))}
}
