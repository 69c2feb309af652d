// Package deploy rolls releases out as deployments: it places each on a
// host, builds its image, starts a container (or a compose release's
// services), switches the route once the app answers through the edge,
// keeps the replaced container frozen as the standby a rollback wakes,
// and pauses, resumes and deletes deployments.
package deploy

import (
	"bytes"
	"cmp"
	"context"
	"log/slog"
	"sync"

	"github.com/berth-dev/berth/internal/agent"
	"github.com/berth-dev/berth/internal/blob"
	"github.com/berth-dev/berth/internal/control/agents"
	"github.com/berth-dev/berth/internal/control/names"
	"github.com/berth-dev/berth/internal/control/releases"
	"github.com/berth-dev/berth/internal/store"
	"github.com/berth-dev/berth/internal/templates"
)

// Store is what the package reads and writes.
type Store interface {
	// InTx runs fn with a Store whose calls share one transaction; it
	// commits when fn returns nil and rolls back otherwise.
	InTx(ctx context.Context, fn func(tx store.Store) error) error
	// DeleteDatabaseLink removes the link of a database to a target, or
	// answers ErrNotFound.
	DeleteDatabaseLink(ctx context.Context, databaseID, targetID string) error
	DeleteDomain(ctx context.Context, id string) error
	GetDeployment(ctx context.Context, id string) (*store.Deployment, error)
	GetOrg(ctx context.Context, id string) (*store.Org, error)
	GetProject(ctx context.Context, id string) (*store.Project, error)
	GetRelease(ctx context.Context, id string) (*store.Release, error)
	// ListDatabaseLinks lists the links of a database, or to a target (a
	// sandbox or deployment), or both, oldest first.
	ListDatabaseLinks(ctx context.Context, f store.DatabaseLinkFilter) ([]*store.DatabaseLink, error)
	ListDeployments(ctx context.Context, f store.ListFilter) ([]*store.Deployment, error)
	// ListDomains lists domains in id order; OrgID, WorkspaceID and
	// After/Limit of f apply.
	ListDomains(ctx context.Context, f store.ListFilter) ([]*store.Domain, error)
	ListHosts(ctx context.Context) ([]*store.Host, error)
	ListSandboxes(ctx context.Context, f store.ListFilter) ([]*store.Sandbox, error)
	// SetDeploymentDesired sets the deployment's desired state: "" (run),
	// DesiredPaused or DesiredDeleted.
	SetDeploymentDesired(ctx context.Context, id, desired string) error
	// UpdateDeploymentRuntime records what the reconciler made of a
	// deployment: its host, the serving and standby containers and the
	// upstream, always; its status only while its generation is still
	// d.Generation, so a status computed for an older request never
	// overwrites a newer one. It bumps updated_at.
	UpdateDeploymentRuntime(ctx context.Context, d *store.Deployment) error
}

// Config is how deployments run.
type Config struct {
	Templates *templates.Catalogue
	Artifacts *blob.Store
	Names     names.Names
	// Limits are the resources every container gets.
	Limits agents.Limits
	// NoStandby removes the container a deploy replaces, instead of
	// keeping it frozen so that a rollback to its release starts nothing.
	// A standby keeps its memory (not its CPU) until the next deploy.
	NoStandby bool
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

// Routes are told when a deployment's routes change, and say whether the
// edge reaches its app.
type Routes interface {
	Changed(ctx context.Context, resourceID string) error
	DomainChanged(hostname string)
	Reachable(ctx context.Context, host string) bool
}

// Links says what a deployment's containers get from what is linked to
// it.
type Links interface {
	Container(ctx context.Context, projectID, targetID string, defaults, own map[string]string) (map[string]string, error)
	Network(ctx context.Context, projectID, targetID string) string
	ExtraHosts(ctx context.Context, projectID, targetID string) []string
	Buckets(ctx context.Context, projectID, targetID string) (map[string]string, []string, error)
}

// Hostnames makes a deployment's hostname.
type Hostnames interface {
	Deployment(ctx context.Context, d *store.Deployment, projectSlug string) string
}

// Releases says how a release is built and run.
type Releases interface {
	RunShape(rel *store.Release, d *store.Deployment) releases.Shape
	DockerfileFor(r *store.Release, d *store.Deployment) (string, map[string]string, error)
	BuildFiles(uses func() bool) (map[string]string, error)
}

// Databases says how a compose release's data services run on the
// platform's images.
type Databases interface {
	DataImage(engine string) string
	ComposeBoot(image string, spec *agent.ContainerSpec, env map[string]string) (*bytes.Buffer, loginCheck, error)
}

// Cron holds a deployment's jobs while it does not run, and keeps the
// containers of running command runs from the sweep.
type Cron interface {
	SyncHolds(ctx context.Context, d *store.Deployment) error
	Keeps(ctx context.Context, ct agent.ContainerInfo) bool
}

// Service rolls out deployments.
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
	databases Databases
	cron      Cron
	labels    names.Labels
	log       *slog.Logger

	compose  *composer
	retiring sync.WaitGroup
	// draining holds the replaced containers still finishing their
	// requests: none is frozen before it is done.
	draining drainSet
}

// composer rolls out compose releases: a container per service on the
// release's own network.
type composer struct{ s *Service }

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
	Databases Databases
	Cron      Cron
	Labels    names.Labels
	Log       *slog.Logger
}

// New returns the deployments' service.
func New(cfg Config, d Deps) *Service {
	s := &Service{cfg: cfg, st: d.Store, agents: d.Agents, events: d.Events, queue: d.Queue, routes: d.Routes,
		links: d.Links, hostnames: d.Hostnames, releases: d.Releases, databases: d.Databases, cron: d.Cron,
		labels: d.Labels, log: cmp.Or(d.Log, slog.New(slog.DiscardHandler))}
	s.compose = &composer{s: s}
	return s
}

// Wait returns once the replaced containers being retired are gone.
func (c *Service) Wait() { c.retiring.Wait() }

// CommandSpec is the container a command of deployment d runs in, made
// as its serving container is: a compose release's routed service, as
// `docker compose run` makes it, else the release's own container.
func (c *Service) CommandSpec(ctx context.Context, a *agent.Client, d *store.Deployment, rel *store.Release) (agent.ContainerSpec, error) {
	if c.compose.composeRelease(rel) {
		return c.compose.commandSpec(ctx, a, d, rel)
	}
	spec, _, err := c.deploymentSpec(ctx, d, rel)
	return spec, err
}

// loginCheck reports whether a login to the data service in a container
// works, or why not.
type loginCheck = func(ctx context.Context, a *agent.Client, container string) (bool, string)
