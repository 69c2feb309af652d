// Package cron keeps cron jobs and runs them: an HTTP request to the
// deployment's URL through the edge, or a command in a one-off container
// made like the deployment's. Every step of a run is a claim in the
// store, so any number of schedulers share one store.
package cron

import (
	"cmp"
	"context"
	"log/slog"
	"time"

	"github.com/berth-dev/berth/internal/agent"
	"github.com/berth-dev/berth/internal/control/names"
	"github.com/berth-dev/berth/internal/id"
	"github.com/berth-dev/berth/internal/store"
)

// Store is what the package reads and writes.
type Store interface {
	// InTx runs fn with a Store whose calls share one transaction; it
	// commits when fn returns nil and rolls back otherwise.
	InTx(ctx context.Context, fn func(tx store.Store) error) error
	// CreateCronJob records j. A name taken in the project is ErrConflict.
	CreateCronJob(ctx context.Context, j *store.CronJob) error
	CreateCronRun(ctx context.Context, r *store.CronRun) error
	// DeleteCronJob removes a job and its runs.
	DeleteCronJob(ctx context.Context, id string) error
	// ExpireCronLeases records every running run whose lease ended
	// before now as failed with reason, finished at now, and returns
	// them.
	ExpireCronLeases(ctx context.Context, now time.Time, reason string) ([]*store.CronRun, error)
	// FinishCronRun writes how a run owner holds ended (status, finished
	// time, result, output, reason) and ends the lease, or fails with
	// ErrLeaseLost and writes nothing.
	FinishCronRun(ctx context.Context, r *store.CronRun, owner string) error
	GetCronJob(ctx context.Context, id string) (*store.CronJob, error)
	GetCronRun(ctx context.Context, id string) (*store.CronRun, error)
	GetDeployment(ctx context.Context, id string) (*store.Deployment, error)
	GetOrg(ctx context.Context, id string) (*store.Org, error)
	GetProject(ctx context.Context, id string) (*store.Project, error)
	GetRelease(ctx context.Context, id string) (*store.Release, error)
	// ListCronJobsOfDeployment returns the jobs whose target is the
	// deployment, in id order.
	ListCronJobsOfDeployment(ctx context.Context, deploymentID string) ([]*store.CronJob, error)
	// ListCronRuns returns runs in id (creation) order.
	ListCronRuns(ctx context.Context, f store.CronRunFilter) ([]*store.CronRun, error)
	// ListDueCronJobs returns enabled jobs whose next run is at or before
	// now, earliest first, at most limit.
	ListDueCronJobs(ctx context.Context, now time.Time, limit int) ([]*store.CronJob, error)
	// RenewCronLease extends the lease owner holds on a running run, or
	// fails with ErrLeaseLost.
	RenewCronLease(ctx context.Context, runID, owner string, expires time.Time) error
}

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
	st          Store
	agents      Agents
	events      Events
	deployments Deployments
	labels      names.Labels
	log         *slog.Logger

	owner string
	lease time.Duration
	now   func() time.Time
}

// Deps are the parts of the control plane the scheduler asks.
type Deps struct {
	Store       Store
	Agents      Agents
	Events      Events
	Deployments Deployments
	Labels      names.Labels
	Log         *slog.Logger
}

// New returns a scheduler with an owner id of its own for its leases.
func New(cfg Config, d Deps) *Scheduler {
	c := &Scheduler{cfg: cfg, st: d.Store, agents: d.Agents, events: d.Events, deployments: d.Deployments,
		labels: d.Labels, log: cmp.Or(d.Log, slog.New(slog.DiscardHandler)), owner: id.New("sched"), lease: cfg.Lease, now: cfg.Now}
	if c.lease == 0 {
		c.lease = cronLease
	}
	if c.now == nil {
		c.now = time.Now
	}
	return c
}
