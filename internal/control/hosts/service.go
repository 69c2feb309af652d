package hosts

import (
	"context"
	"net/http"
	"time"

	"github.com/berth-dev/berth/internal/agent"
	"github.com/berth-dev/berth/internal/control/names"
	"github.com/berth-dev/berth/internal/store"
)

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
	st        store.Store
	agents    Agents
	events    Events
	queue     Queue
	routes    Routes
	databases Databases
	hostnames Hostnames
	logf      func(string, ...any)
	probe     *http.Client
	// hostLocks keep a host's reconciler and the API's writes to a host
	// record from overwriting each other.
	hostLocks keyedMutex
}

// Deps are the parts of the control plane the service asks.
type Deps struct {
	Store     store.Store
	Agents    Agents
	Events    Events
	Queue     Queue
	Routes    Routes
	Databases Databases
	Hostnames Hostnames
	Logf      func(string, ...any)
}

// New returns the hosts service.
func New(cfg Config, d Deps) *Service {
	return &Service{cfg: cfg, st: d.Store, agents: d.Agents, events: d.Events, queue: d.Queue, routes: d.Routes,
		databases: d.Databases, hostnames: d.Hostnames, logf: d.Logf,
		probe: &http.Client{
			Timeout:       3 * time.Second,
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		}}
}
