// Package cron keeps cron jobs and runs them: an HTTP request to the
// deployment's URL through the edge, or a command in a one-off container
// made like the deployment's. Every step of a run is a claim in the
// store, so any number of schedulers share one store.
package cron

import (
	"context"
	"time"

	"github.com/berth-dev/berth/internal/agent"
	"github.com/berth-dev/berth/internal/control/names"
	"github.com/berth-dev/berth/internal/id"
	"github.com/berth-dev/berth/internal/store"
)

// Config is how jobs run.
type Config struct {
	Names names.Names
	// EdgeAddr is where the edge listens (host:port); HTTP targets are
	// requested through it.
	EdgeAddr string
	// Lease is how long a scheduler holds a run without renewing (0:
	// 30s).
	Lease time.Duration
	// Now is the scheduler's clock (nil: time.Now).
	Now func() time.Time
}

// Agents hands out the agents of hosts.
type Agents interface {
	ForHost(ctx context.Context, hostID string) (*agent.Client, error)
}

// Events records what happened.
type Events interface {
	Record(ctx context.Context, resourceID, typ, format string, args ...any)
}

// Deployments gives the container a command of a deployment runs in:
// made as the deployment's serving one is.
type Deployments interface {
	CommandSpec(ctx context.Context, a *agent.Client, d *store.Deployment, rel *store.Release) (agent.ContainerSpec, error)
}

// Scheduler keeps and runs cron jobs.
type Scheduler struct {
	cfg         Config
	st          store.Store
	agents      Agents
	events      Events
	deployments Deployments
	labels      names.Labels
	logf        func(string, ...any)

	owner string
	lease time.Duration
	now   func() time.Time
}

// Deps are the parts of the control plane the scheduler asks.
type Deps struct {
	Store       store.Store
	Agents      Agents
	Events      Events
	Deployments Deployments
	Labels      names.Labels
	Logf        func(string, ...any)
}

// New returns a scheduler with an owner id of its own for its leases.
func New(cfg Config, d Deps) *Scheduler {
	c := &Scheduler{cfg: cfg, st: d.Store, agents: d.Agents, events: d.Events, deployments: d.Deployments,
		labels: d.Labels, logf: d.Logf, owner: id.New("sched"), lease: cfg.Lease, now: cfg.Now}
	if c.lease == 0 {
		c.lease = cronLease
	}
	if c.now == nil {
		c.now = time.Now
	}
	return c
}
