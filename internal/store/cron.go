package store

import (
	"context"
	"errors"
	"time"
)

// ErrLeaseLost is returned when a scheduler writes to a run it no longer
// holds: its lease expired and the run was recorded as failed, or it
// ended otherwise.
var ErrLeaseLost = errors.New("lease lost")

// CronStore holds cron jobs and their runs.
type CronStore interface {
	// CreateCronJob records j. A name taken in the project is ErrConflict.
	CreateCronJob(ctx context.Context, j *CronJob) error
	GetCronJob(ctx context.Context, id string) (*CronJob, error)
	// UpdateCronJob writes every mutable field of j (all but id, owners
	// and created_at) and bumps updated_at.
	UpdateCronJob(ctx context.Context, j *CronJob) error
	ListCronJobs(ctx context.Context, f ListFilter) ([]*CronJob, error)
	// ListDueCronJobs returns enabled jobs whose next run is at or before
	// now, earliest first, at most limit.
	ListDueCronJobs(ctx context.Context, now time.Time, limit int) ([]*CronJob, error)
	// DeleteCronJob removes a job and its runs.
	DeleteCronJob(ctx context.Context, id string) error

	CreateCronRun(ctx context.Context, r *CronRun) error
	GetCronRun(ctx context.Context, id string) (*CronRun, error)
	// UpdateCronRun writes every mutable field of r (status, times,
	// result, output, reason).
	UpdateCronRun(ctx context.Context, r *CronRun) error
	// ListCronRuns returns runs in id (creation) order.
	ListCronRuns(ctx context.Context, f CronRunFilter) ([]*CronRun, error)

	// ListCronJobsOfDeployment returns the jobs whose target is the
	// deployment, in id order.
	ListCronJobsOfDeployment(ctx context.Context, deploymentID string) ([]*CronJob, error)

	// The scheduler's claims. Each is one conditional write, so any
	// number of schedulers may share a store: of two that claim the same
	// thing, one wins and the other is told it lost.

	// ClaimCronFire records r, a scheduled run of the job's fire time at,
	// and moves the job's next run to next, if the job is still enabled,
	// not held and its next run is still at. It reports whether it did.
	ClaimCronFire(ctx context.Context, jobID string, at, next time.Time, r *CronRun) (bool, error)
	// LockCronJob takes the job's row lock until the transaction ends,
	// so that checks of its runs and a start that depends on them are
	// not interleaved with another scheduler's. Call it first in InTx.
	LockCronJob(ctx context.Context, jobID string) error
	// StartCronRun moves a scheduled run to running, at start, under a
	// lease held by owner until expires. It reports false when the run
	// is no longer scheduled.
	StartCronRun(ctx context.Context, runID, owner string, start, expires time.Time) (bool, error)
	// RenewCronLease extends the lease owner holds on a running run, or
	// fails with ErrLeaseLost.
	RenewCronLease(ctx context.Context, runID, owner string, expires time.Time) error
	// FinishCronRun writes how a run owner holds ended (status, finished
	// time, result, output, reason) and ends the lease, or fails with
	// ErrLeaseLost and writes nothing.
	FinishCronRun(ctx context.Context, r *CronRun, owner string) error
	// ExpireCronLeases records every running run whose lease ended
	// before now as failed with reason, finished at now, and returns
	// them.
	ExpireCronLeases(ctx context.Context, now time.Time, reason string) ([]*CronRun, error)
}

// Cron job concurrency policies.
const (
	// CronForbid skips (and records) a run while another of the job runs.
	CronForbid = "forbid"
	CronAllow  = "allow"
)

// Cron target types.
const (
	CronTargetHTTP    = "http"
	CronTargetCommand = "command"
)

// Cron run statuses.
const (
	CronScheduled = "scheduled"
	CronRunning   = "running"
	CronSucceeded = "succeeded"
	CronFailed    = "failed"
	CronTimedOut  = "timed_out"
	CronSkipped   = "skipped"
)

// CronJob runs a target of a project on a 5-field schedule in a time zone.
type CronJob struct {
	ID          string
	OrgID       string
	WorkspaceID string
	ProjectID   string
	// DeploymentID is the deployment the job targets, of its project.
	DeploymentID string
	Name         string // unique within the project
	Schedule     string
	TimeZone     string // IANA name
	// Target is sealed at rest: headers and bodies may carry tokens.
	Target      CronTarget
	Enabled     bool
	Concurrency string
	Timeout     time.Duration
	// Held says why the job does not run although enabled: its
	// deployment is paused or deleted. Empty when it is not held.
	Held string
	// NextRunAt is the next scheduled time; zero while disabled or held.
	NextRunAt time.Time
	CreatedAt time.Time
	UpdatedAt time.Time
}

// GetID returns the job's id.
func (j *CronJob) GetID() string { return j.ID }

// CronTarget is what a run does: an HTTP request to the job's deployment
// through the edge, or a command in a one-off container of its serving
// release.
type CronTarget struct {
	Type    string            `json:"type"`
	Method  string            `json:"method,omitempty"`
	Path    string            `json:"path,omitempty"`
	Headers map[string]string `json:"headers,omitempty"`
	Body    string            `json:"body,omitempty"`
	// Command is an argv, executed without a shell.
	Command []string `json:"command,omitempty"`
}

// CronRun is one run of a job, recorded before it starts.
type CronRun struct {
	ID          string
	JobID       string
	ProjectID   string
	Trigger     string // "schedule" | "manual"
	Status      string
	ScheduledAt time.Time
	StartedAt   time.Time // zero until it starts
	FinishedAt  time.Time // zero until it ends
	// HTTPStatus is the app's answer to an HTTP target (0: none).
	HTTPStatus int
	// ExitCode is a command target's exit code (nil: none).
	ExitCode *int
	// Output is the first 64 KiB of the answer's body or the command's
	// output.
	Output string
	// Reason says why a run failed or was skipped.
	Reason string
	// LeaseOwner is the scheduler running the run, and LeaseExpiresAt
	// when its lease ends unless renewed; both empty outside a lease.
	LeaseOwner     string
	LeaseExpiresAt time.Time
}

// GetID returns the run's id.
func (r *CronRun) GetID() string { return r.ID }

// CronRunFilter narrows ListCronRuns; empty fields do not filter.
type CronRunFilter struct {
	JobID  string
	Status string
	After  string
	Limit  int // 100 when 0, at most 1000
}
