package cron

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/robfig/cron/v3"

	"github.com/berth-dev/berth/internal/agent"
	"github.com/berth-dev/berth/internal/control/agents"
	"github.com/berth-dev/berth/internal/control/names"
	"github.com/berth-dev/berth/internal/id"
	"github.com/berth-dev/berth/internal/problem"
	"github.com/berth-dev/berth/internal/store"
)

// Limits and defaults of jobs.
const (
	// OutputLimit is how much of a run's output is kept.
	OutputLimit = 64 << 10
	// DefaultTimeout is a job's timeout when none is given.
	DefaultTimeout = 60 * time.Second
	// MaxTimeout is the longest timeout a job may have.
	MaxTimeout = time.Hour
	// cronTick is how often the scheduler looks for due jobs and runs.
	cronTick = time.Second
	// cronRunPrefix prefixes the ids of cron runs.
	cronRunPrefix = "crun"
)

// cronParser reads exactly the five standard fields; no seconds, no
// descriptors (@daily), no TZ= prefix: the zone is a field of the job.
var cronParser = cron.NewParser(cron.Minute | cron.Hour | cron.Dom | cron.Month | cron.Dow)

// cronSpec is a parsed schedule in its zone.
type cronSpec struct {
	sched cron.Schedule
	loc   *time.Location
}

// parseCron checks a schedule and a zone, answering 422s that say which
// is wrong.
func parseCron(schedule, zone string) (cronSpec, error) {
	if n := len(strings.Fields(schedule)); n != 5 {
		return cronSpec{}, problem.Unprocessable("invalid_schedule",
			"schedule %q has %d fields; give 5: minute hour day-of-month month day-of-week, as in \"*/5 * * * *\"", schedule, n)
	}
	sched, err := cronParser.Parse(schedule)
	if err != nil {
		return cronSpec{}, problem.Unprocessable("invalid_schedule", "schedule %q: %v", schedule, err)
	}
	if zone == "" || zone == "Local" || strings.HasPrefix(zone, "/") {
		return cronSpec{}, problem.Unprocessable("unknown_time_zone", "timezone %q is not an IANA time zone name such as \"Europe/Berlin\" or \"UTC\"", zone)
	}
	loc, err := time.LoadLocation(zone)
	if err != nil {
		return cronSpec{}, problem.Unprocessable("unknown_time_zone", "timezone %q is not an IANA time zone name such as \"Europe/Berlin\" or \"UTC\"", zone)
	}
	if sched.Next(time.Date(2000, 1, 1, 0, 0, 0, 0, loc)).IsZero() {
		return cronSpec{}, problem.Unprocessable("invalid_schedule", "schedule %q never fires (no such date)", schedule)
	}
	return cronSpec{sched: sched, loc: loc}, nil
}

// next is the first fire time strictly after t, in UTC; zero when the
// schedule never fires again.
//
// Schedules are read on the zone's wall clock, so daylight saving time
// neither doubles nor drops a run: a wall time that happens twice (the
// clock goes back) fires once, at its first occurrence, and a wall time
// that does not happen (the clock jumps forward) fires at the jump.
func (s cronSpec) next(t time.Time) time.Time {
	w := wall(t.In(s.loc))
	for range 1000 {
		w = s.sched.Next(w)
		if w.IsZero() {
			return time.Time{}
		}
		r := time.Date(w.Year(), w.Month(), w.Day(), w.Hour(), w.Minute(), 0, 0, s.loc)
		// In a gap, time.Date lands on either side of the jump; the jump
		// itself is the bound of the zone it landed in.
		switch rw := wall(r); {
		case rw.Before(w):
			_, r = r.ZoneBounds()
		case rw.After(w):
			r, _ = r.ZoneBounds()
		}
		// A wall time that happens twice fires at its first occurrence,
		// or not at all when that one is already past.
		if first, ok := s.earlier(r); ok {
			if !first.After(t) {
				continue
			}
			r = first
		}
		if r.After(t) {
			return r.UTC()
		}
	}
	return time.Time{}
}

// earlier returns the earlier instant with r's wall clock, when the clock
// went back over it.
func (s cronSpec) earlier(r time.Time) (time.Time, bool) {
	for _, d := range []time.Duration{2 * time.Hour, time.Hour, 30 * time.Minute} {
		if e := r.Add(-d).In(s.loc); wall(e).Equal(wall(r)) {
			return e, true
		}
	}
	return time.Time{}, false
}

// wall is t's wall clock read as UTC: a time with no daylight saving.
func wall(t time.Time) time.Time {
	return time.Date(t.Year(), t.Month(), t.Day(), t.Hour(), t.Minute(), t.Second(), t.Nanosecond(), time.UTC)
}

// latest returns the last fire time at or before now, starting from
// first (a fire time at or before now), and how many fire times it
// passed over. It stops counting after a year of minutes.
func (s cronSpec) latest(first, now time.Time) (time.Time, int) {
	last, missed := first, 0
	for range 527040 {
		n := s.next(last)
		if n.IsZero() || n.After(now) {
			return last, missed
		}
		last, missed = n, missed+1
	}
	return last, missed
}

// CronJobRequest creates a cron job.
type CronJobRequest struct {
	Project      *store.Project
	DeploymentID string
	Name         string
	Schedule     string
	TimeZone     string // "": UTC
	Target       store.CronTarget
	Enabled      *bool // nil: true
	Concurrency  string
	Timeout      time.Duration
}

// CronJobPatch changes a cron job; nil fields stay as they are.
type CronJobPatch struct {
	DeploymentID *string
	Name         *string
	Schedule     *string
	TimeZone     *string
	Target       *store.CronTarget
	Enabled      *bool
	Concurrency  *string
	Timeout      *time.Duration
}

var cronNameRE = regexp.MustCompile(`^[a-z0-9]([a-z0-9-]{0,62}[a-z0-9])?$`)
var headerNameRE = regexp.MustCompile("^[!#$%&'*+.^_`|~0-9A-Za-z-]+$")

// checkCronJob validates j as it would be stored and sets its next run
// and hold. A new target (newTarget) may not be a deleted deployment. It
// writes nothing.
func (c *Scheduler) checkCronJob(ctx context.Context, j *store.CronJob, now time.Time, newTarget bool) error {
	if !cronNameRE.MatchString(j.Name) {
		return problem.Unprocessable("invalid_name", "name %q must be 1 to 64 lower-case letters, digits and dashes, starting and ending with a letter or digit", j.Name)
	}
	spec, err := parseCron(j.Schedule, j.TimeZone)
	if err != nil {
		return err
	}
	switch j.Concurrency {
	case store.CronForbid, store.CronAllow:
	default:
		return problem.Unprocessable("invalid_concurrency", "concurrency must be \"forbid\" or \"allow\", not %q", j.Concurrency)
	}
	if j.Timeout < time.Second || j.Timeout > MaxTimeout {
		return problem.Unprocessable("invalid_timeout", "timeout_s must be between 1 and %d", int(MaxTimeout/time.Second))
	}
	d, err := c.checkCronTarget(ctx, j.ProjectID, j.DeploymentID, &j.Target)
	if err != nil {
		return err
	}
	if newTarget && d.Desired == store.DesiredDeleted {
		return problem.Unprocessable("deployment_deleted", "deployment %s was deleted; target a deployment that runs", d.ID)
	}
	j.Held = cronHold(d)
	j.NextRunAt = time.Time{}
	if j.Enabled && j.Held == "" {
		j.NextRunAt = spec.next(now)
	}
	return nil
}

// cronHold says why a deployment's jobs do not run now, or "".
func cronHold(d *store.Deployment) string {
	switch d.Desired {
	case store.DesiredPaused:
		return fmt.Sprintf("its deployment %s is paused; the job runs again when the deployment resumes", d.ID)
	case store.DesiredDeleted:
		return fmt.Sprintf("its deployment %s was deleted; point the job at another deployment or delete it", d.ID)
	}
	return ""
}

// Command bounds: an argv of at most cronMaxArgs arguments and
// cronMaxArgvBytes bytes in all.
const (
	cronMaxArgs      = 256
	cronMaxArgvBytes = 8192
)

func (c *Scheduler) checkCronTarget(ctx context.Context, projectID, deploymentID string, t *store.CronTarget) (*store.Deployment, error) {
	if deploymentID == "" {
		return nil, problem.Unprocessable("missing_deployment_id", "give the deployment the job targets in \"deployment_id\"")
	}
	switch t.Type {
	case store.CronTargetHTTP:
		if len(t.Command) > 0 {
			return nil, problem.Unprocessable("invalid_target", "give \"target.http\" or \"target.command\", not both")
		}
		if t.Method == "" {
			t.Method = http.MethodGet
		}
		if t.Method != http.MethodGet && t.Method != http.MethodPost {
			return nil, problem.Unprocessable("invalid_method", "target.http.method must be \"GET\" or \"POST\", not %q", t.Method)
		}
		if t.Path == "" {
			return nil, problem.Unprocessable("missing_path", "give the path to request in \"target.http.path\", as in \"/tasks/cleanup\"")
		}
		if !strings.HasPrefix(t.Path, "/") || strings.HasPrefix(t.Path, "//") || strings.ContainsAny(t.Path, " \t\r\n#") {
			return nil, problem.Unprocessable("invalid_path", "target.http.path %q must be an absolute path such as \"/tasks/cleanup\" (a query is allowed)", t.Path)
		}
		for k, v := range t.Headers {
			if !headerNameRE.MatchString(k) || strings.ContainsAny(v, "\r\n") {
				return nil, problem.Unprocessable("invalid_header", "target.http.headers has an invalid header %q", k)
			}
			if strings.EqualFold(k, "Host") {
				return nil, problem.Unprocessable("invalid_header", "target.http.headers cannot set Host: the request goes to the deployment's own URL")
			}
		}
		if t.Body != "" && t.Method != http.MethodPost {
			return nil, problem.Unprocessable("invalid_target", "target.http.body needs method POST")
		}
	case store.CronTargetCommand:
		if err := checkArgv(t.Command); err != nil {
			return nil, err
		}
		if t.Method != "" || t.Path != "" || len(t.Headers) > 0 || t.Body != "" {
			return nil, problem.Unprocessable("invalid_target", "give \"target.http\" or \"target.command\", not both")
		}
	default:
		return nil, problem.Unprocessable("missing_target", "give what the job runs in \"target\": {\"http\": {\"method\": \"GET\", \"path\": \"/…\"}} or {\"command\": [\"…\"]}")
	}
	d, err := c.st.GetDeployment(ctx, deploymentID)
	if errors.Is(err, store.ErrNotFound) {
		return nil, problem.Unprocessable("deployment_not_found", "deployment %q does not exist", deploymentID)
	}
	if err != nil {
		return nil, err
	}
	if d.ProjectID != projectID {
		return nil, problem.Unprocessable("deployment_of_another_project", "deployment %s belongs to another project; target a deployment of project %s", d.ID, projectID)
	}
	return d, nil
}

// checkArgv checks a command target's argv: it is run as it is, without a
// shell, so it needs a program and no NUL bytes.
func checkArgv(argv []string) error {
	if len(argv) == 0 {
		return problem.Unprocessable("missing_command", "give the command to run in \"target.command\" as an argv, as in [\"node\", \"report.js\"]; for a shell, [\"sh\", \"-c\", \"…\"]")
	}
	if strings.TrimSpace(argv[0]) == "" {
		return problem.Unprocessable("missing_command", "target.command[0] is the program to run; it is empty")
	}
	if len(argv) > cronMaxArgs {
		return problem.Unprocessable("invalid_command", "target.command has %d arguments; at most %d", len(argv), cronMaxArgs)
	}
	n := 0
	for i, a := range argv {
		n += len(a)
		if !utf8.ValidString(a) || strings.ContainsRune(a, 0) {
			return problem.Unprocessable("invalid_command", "target.command[%d] must be UTF-8 text without NUL bytes", i)
		}
	}
	if n > cronMaxArgvBytes {
		return problem.Unprocessable("invalid_command", "target.command has %d bytes in all; at most %d", n, cronMaxArgvBytes)
	}
	return nil
}

// CreateCronJob validates and records a cron job.
func (c *Scheduler) CreateCronJob(ctx context.Context, req CronJobRequest) (*store.CronJob, error) {
	now := c.now().UTC()
	j := &store.CronJob{
		ID: id.New(id.Cron), OrgID: req.Project.OrgID, WorkspaceID: req.Project.WorkspaceID, ProjectID: req.Project.ID,
		DeploymentID: req.DeploymentID, Name: req.Name, Schedule: req.Schedule, TimeZone: req.TimeZone, Target: req.Target, Enabled: true,
		Concurrency: req.Concurrency, Timeout: req.Timeout, CreatedAt: now, UpdatedAt: now,
	}
	if j.Name == "" {
		j.Name = strings.ReplaceAll(j.ID, "_", "-") // unique, and a valid name
	}
	if j.TimeZone == "" {
		j.TimeZone = "UTC"
	}
	if j.Concurrency == "" {
		j.Concurrency = store.CronForbid
	}
	if j.Timeout == 0 {
		j.Timeout = DefaultTimeout
	}
	if req.Enabled != nil {
		j.Enabled = *req.Enabled
	}
	if err := c.checkCronJob(ctx, j, now, true); err != nil {
		return nil, err
	}
	err := c.st.CreateCronJob(ctx, j)
	if errors.Is(err, store.ErrConflict) {
		return nil, problem.Conflict("name_taken", "project %s already has a cron job named %q", j.ProjectID, j.Name)
	}
	if err != nil {
		return nil, fmt.Errorf("recording cron job: %w", err)
	}
	return j, nil
}

// UpdateCronJob applies a patch; the next run is computed again.
func (c *Scheduler) UpdateCronJob(ctx context.Context, jobID string, p CronJobPatch) (*store.CronJob, error) {
	var j *store.CronJob
	err := c.st.InTx(ctx, func(tx store.Store) error {
		var err error
		if j, err = tx.GetCronJob(ctx, jobID); err != nil {
			return err
		}
		set(&j.DeploymentID, p.DeploymentID)
		set(&j.Name, p.Name)
		set(&j.Schedule, p.Schedule)
		set(&j.TimeZone, p.TimeZone)
		set(&j.Target, p.Target)
		set(&j.Enabled, p.Enabled)
		set(&j.Concurrency, p.Concurrency)
		set(&j.Timeout, p.Timeout)
		if err := c.checkCronJob(ctx, j, c.now().UTC(), p.DeploymentID != nil); err != nil {
			return err
		}
		return tx.UpdateCronJob(ctx, j)
	})
	if errors.Is(err, store.ErrConflict) {
		return nil, problem.Conflict("name_taken", "the project already has a cron job named %q", j.Name)
	}
	return j, err
}

func set[T any](dst *T, v *T) {
	if v != nil {
		*dst = *v
	}
}

// DeleteCronJob removes a job and its run history. A run in flight
// finishes, but its result is not recorded.
func (c *Scheduler) DeleteCronJob(ctx context.Context, jobID string) error {
	return c.st.DeleteCronJob(ctx, jobID)
}

// RunCronJob records a run of the job for now; the scheduler starts it
// within a tick, subject to the job's concurrency policy. A job held by
// its paused or deleted deployment does not run.
func (c *Scheduler) RunCronJob(ctx context.Context, j *store.CronJob) (*store.CronRun, error) {
	if j.Held != "" {
		return nil, problem.Conflict("job_held", "the job does not run now: %s", j.Held)
	}
	r := &store.CronRun{ID: id.New(cronRunPrefix), JobID: j.ID, ProjectID: j.ProjectID, Trigger: "manual",
		Status: store.CronScheduled, ScheduledAt: c.now().UTC()}
	if err := c.st.CreateCronRun(ctx, r); err != nil {
		return nil, fmt.Errorf("recording cron run: %w", err)
	}
	return r, nil
}

// cronLease is how long a scheduler holds a run it started without
// renewing; it renews every third of that. A scheduler that dies holding
// runs loses them this long after its last renewal.
const cronLease = 30 * time.Second

// cronLeaseExpired is the reason of a run whose scheduler stopped
// renewing its lease.
const cronLeaseExpired = "the scheduler running this run stopped (its lease expired); its outcome is unknown and it is not run again"

// Run starts due cron runs until ctx ends. Every step is a claim
// in the store (see store.CronStore), so any number of control planes can
// run it on one store: a fire time is recorded once, a run is started
// once, and a run whose scheduler died is recorded as failed when its
// lease expires, not lost and not run twice.
func (c *Scheduler) Run(ctx context.Context) {
	var wg sync.WaitGroup
	defer wg.Wait()
	for {
		c.cronTick(ctx, c.now().UTC(), func(j *store.CronJob, r *store.CronRun) {
			wg.Go(func() { c.execCronRun(ctx, j, r) })
		})
		select {
		case <-ctx.Done():
			return
		case <-time.After(untilNextTick(time.Now())):
		}
	}
}

// untilNextTick is how long from now to the next tick: just past the next
// whole second, where fire times fall (on whole minutes), so a run starts
// within milliseconds of its time rather than up to a tick late.
func untilNextTick(now time.Time) time.Duration {
	return now.Truncate(cronTick).Add(cronTick + 2*time.Millisecond).Sub(now)
}

// cronTick is the scheduler's whole decision at now: it fails the runs
// whose leases expired, records and starts the runs of the jobs due, then
// starts the other scheduled runs (manual ones, and any a scheduler
// recorded but did not start); each run it wins goes to start.
func (c *Scheduler) cronTick(ctx context.Context, now time.Time, start func(*store.CronJob, *store.CronRun)) {
	expired, err := c.st.ExpireCronLeases(ctx, now, cronLeaseExpired)
	if err != nil {
		c.log.Warn("expiring cron leases failed", "err", err)
	}
	for _, r := range expired {
		c.events.Record(ctx, r.JobID, "cron.failed", "run %s failed: %s", r.ID, cronLeaseExpired)
		c.removeCronContainer(ctx, r)
	}
	due, err := c.st.ListDueCronJobs(ctx, now, 1000)
	if err != nil {
		c.log.Warn("listing due cron jobs failed", "err", err)
	}
	for _, d := range due {
		// Claimed and started in one go rather than after every claim of
		// the tick, so that the first of many due jobs does not wait for
		// the last.
		if j, r, err := c.claimAndStart(ctx, d, now); err != nil {
			c.log.Warn("scheduling cron job failed", "job", d.ID, "err", err)
		} else if j != nil {
			start(j, r)
		}
	}
	pending, err := c.st.ListCronRuns(ctx, store.CronRunFilter{Status: store.CronScheduled, Limit: 1000})
	if err != nil {
		c.log.Warn("listing scheduled cron runs failed", "err", err)
	}
	for _, p := range pending {
		j, r, err := c.startCronRun(ctx, p.JobID, p.ID)
		if err != nil {
			c.log.Warn("starting cron run failed", "run", p.ID, "err", err)
			continue
		}
		if j != nil {
			start(j, r)
		}
	}
}

// claimCronJob records a scheduled run of a due job and moves its next
// run past now, if no other scheduler did first, and returns the run (nil
// when another scheduler won): one run per fire time,
// however many schedulers try. Fire times missed while nothing ran
// collapse into the latest of them.
func (c *Scheduler) claimCronJob(ctx context.Context, tx store.Store, j *store.CronJob, now time.Time) (*store.CronRun, error) {
	spec, err := parseCron(j.Schedule, j.TimeZone)
	if err != nil {
		return nil, err
	}
	at, missed := spec.latest(j.NextRunAt, now)
	r := &store.CronRun{ID: id.New(cronRunPrefix), JobID: j.ID, ProjectID: j.ProjectID, Trigger: "schedule",
		Status: store.CronScheduled, ScheduledAt: at}
	if missed > 0 {
		r.Reason = fmt.Sprintf("%d earlier scheduled time(s) passed while no scheduler was running; only this latest one runs", missed)
	}
	claimed, err := tx.ClaimCronFire(ctx, j.ID, j.NextRunAt, spec.next(now), r)
	if err != nil || !claimed {
		return nil, err
	}
	return r, nil
}

// startCronRun starts a scheduled run under this scheduler's lease, now,
// or records it skipped when its job forbids overlap and another run of
// it is running, or when the job is held. It returns the job when the
// run is this scheduler's to run; nothing when another scheduler took it.
func (c *Scheduler) startCronRun(ctx context.Context, jobID, runID string) (*store.CronJob, *store.CronRun, error) {
	var j *store.CronJob
	var r *store.CronRun
	err := c.st.InTx(ctx, func(tx store.Store) error {
		var err error
		j, r, err = c.startCronRunIn(ctx, tx, jobID, runID)
		return err
	})
	return c.started(ctx, j, r, err)
}

// claimAndStart claims a due job's fire time and starts its run in one
// transaction; it returns nothing when another scheduler claimed it.
func (c *Scheduler) claimAndStart(ctx context.Context, due *store.CronJob, now time.Time) (*store.CronJob, *store.CronRun, error) {
	var j *store.CronJob
	var r *store.CronRun
	err := c.st.InTx(ctx, func(tx store.Store) error {
		claimed, err := c.claimCronJob(ctx, tx, due, now)
		if err != nil || claimed == nil {
			return err
		}
		j, r, err = c.startCronRunIn(ctx, tx, claimed.JobID, claimed.ID)
		return err
	})
	return c.started(ctx, j, r, err)
}

// started passes on a run this scheduler started, and records the event
// of one it skipped.
func (c *Scheduler) started(ctx context.Context, j *store.CronJob, r *store.CronRun, err error) (*store.CronJob, *store.CronRun, error) {
	if err != nil || r == nil || r.Status != store.CronRunning || r.LeaseOwner != c.owner {
		if err == nil && r != nil && r.Status == store.CronSkipped {
			c.events.Record(ctx, r.JobID, "cron.skipped", "run %s skipped: %s", r.ID, r.Reason)
		}
		return nil, r, err
	}
	return j, r, nil
}

// startCronRunIn is startCronRun inside tx.
func (c *Scheduler) startCronRunIn(ctx context.Context, tx store.Store, jobID, runID string) (*store.CronJob, *store.CronRun, error) {
	if err := tx.LockCronJob(ctx, jobID); err != nil {
		return nil, nil, err
	}
	// The clock is read once the lock is held: the recorded start is when
	// this run started, not when the tick began.
	now := c.now().UTC()
	r, err := tx.GetCronRun(ctx, runID)
	if err != nil || r.Status != store.CronScheduled {
		return nil, r, err
	}
	j, err := tx.GetCronJob(ctx, r.JobID)
	if err != nil {
		return nil, nil, err
	}
	skip := ""
	if j.Held != "" {
		skip = "the job is held: " + j.Held
	} else if j.Concurrency == store.CronForbid {
		running, err := tx.ListCronRuns(ctx, store.CronRunFilter{JobID: j.ID, Status: store.CronRunning, Limit: 1})
		if err != nil {
			return nil, nil, err
		}
		if len(running) > 0 {
			skip = fmt.Sprintf("run %s was still running and the job's concurrency is forbid", running[0].ID)
		}
	}
	if skip != "" {
		r.Status, r.StartedAt, r.FinishedAt, r.Reason = store.CronSkipped, now, now, skip
		return nil, r, tx.UpdateCronRun(ctx, r)
	}
	expires := now.Add(c.lease)
	ok, err := tx.StartCronRun(ctx, r.ID, c.owner, now, expires)
	if err != nil || !ok {
		return nil, r, err
	}
	r.Status, r.StartedAt, r.LeaseOwner, r.LeaseExpiresAt = store.CronRunning, now, c.owner, expires
	return j, r, nil
}

// execCronRun runs a started run, renewing its lease meanwhile, and
// records how it ended. A run whose lease is lost (this scheduler was too
// slow to renew, and another recorded it failed) is cancelled, and its
// end is not recorded over what the other wrote.
func (c *Scheduler) execCronRun(ctx context.Context, j *store.CronJob, r *store.CronRun) {
	lctx, lost := context.WithCancelCause(ctx)
	defer lost(nil)
	rctx, cancel := context.WithTimeout(lctx, j.Timeout)
	defer cancel()
	renewed := make(chan struct{})
	go func() {
		defer close(renewed)
		c.renewCronLease(rctx, r, lost)
	}()
	var err error
	switch j.Target.Type {
	case store.CronTargetHTTP:
		err = c.cronHTTP(rctx, j, r)
	case store.CronTargetCommand:
		err = c.cronCommand(rctx, j, r)
	default:
		err = fmt.Errorf("unknown target type %q", j.Target.Type)
	}
	timedOut := errors.Is(rctx.Err(), context.DeadlineExceeded)
	cancel()
	<-renewed
	r.FinishedAt = c.now().UTC()
	switch {
	case errors.Is(context.Cause(lctx), store.ErrLeaseLost):
		c.log.Warn("cron run lost its lease; its end is not recorded", "run", r.ID)
		return
	case ctx.Err() != nil:
		r.Status, r.Reason = store.CronFailed, "the control plane stopped during this run"
	case timedOut && err != nil:
		r.Status, r.Reason = store.CronTimedOut, fmt.Sprintf("the run took longer than its timeout of %s", j.Timeout)
	case err != nil:
		r.Status, r.Reason = store.CronFailed, err.Error()
	default:
		r.Status = store.CronSucceeded
	}
	wctx, wcancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer wcancel()
	if err := c.st.FinishCronRun(wctx, r, c.owner); err != nil {
		c.log.Warn("recording cron run failed", "run", r.ID, "err", err)
		return
	}
	c.events.Record(wctx, j.ID, "cron."+r.Status, "run %s %s%s", r.ID, r.Status, reasonSuffix(r.Reason))
}

// renewCronLease renews r's lease every third of its length until ctx
// ends; when the lease is lost it cancels the run with ErrLeaseLost.
func (c *Scheduler) renewCronLease(ctx context.Context, r *store.CronRun, lost context.CancelCauseFunc) {
	t := time.NewTicker(c.lease / 3)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		err := c.st.RenewCronLease(ctx, r.ID, c.owner, c.now().UTC().Add(c.lease))
		switch {
		case errors.Is(err, store.ErrLeaseLost):
			lost(store.ErrLeaseLost)
			return
		case err != nil && ctx.Err() == nil:
			c.log.Warn("renewing cron run lease failed", "run", r.ID, "err", err)
		}
	}
}

// removeCronContainer removes the one-off container of a command run
// whose scheduler died, if it made one.
func (c *Scheduler) removeCronContainer(ctx context.Context, r *store.CronRun) {
	j, err := c.st.GetCronJob(ctx, r.JobID)
	if err != nil || j.Target.Type != store.CronTargetCommand {
		return
	}
	d, err := c.st.GetDeployment(ctx, j.DeploymentID)
	if err != nil || d.HostID == "" {
		return
	}
	a, err := c.agents.ForHost(ctx, d.HostID)
	if err != nil {
		return
	}
	if err := a.RemoveContainer(ctx, cronContainer(r)); err != nil && !errors.Is(err, agent.ErrNotFound) {
		c.log.Warn("removing cron run container failed", "run", r.ID, "err", err)
	}
}

// cronContainer names a command run's one-off container.
func cronContainer(r *store.CronRun) string { return "berth-cron-" + r.ID }

// Keeps reports whether the sweep must keep a container: the
// container of a command run still running, perhaps under another
// scheduler's lease. Once its lease expires the run is failed and the
// next sweep removes it.
func (c *Scheduler) Keeps(ctx context.Context, ct agent.ContainerInfo) bool {
	if ct.Labels["berth.kind"] != "cron" {
		return false
	}
	r, err := c.st.GetCronRun(ctx, ct.Labels["berth.cron_run"])
	return err == nil && r.Status == store.CronRunning
}

// cronOutput is the first OutputLimit bytes of out as UTF-8 text:
// invalid bytes become U+FFFD, and the cut falls between characters.
func cronOutput(out string) string {
	if len(out) > OutputLimit+3 {
		out = out[:OutputLimit+3]
	}
	out = strings.ToValidUTF8(out, "\uFFFD")
	if len(out) <= OutputLimit {
		return out
	}
	cut := OutputLimit
	for cut > 0 && !utf8.RuneStart(out[cut]) {
		cut--
	}
	return out[:cut]
}

func reasonSuffix(reason string) string {
	if reason == "" {
		return ""
	}
	return ": " + reason
}

// cronHTTP sends the job's request to its deployment through the edge,
// as a user's browser would, and keeps the answer.
func (c *Scheduler) cronHTTP(ctx context.Context, j *store.CronJob, r *store.CronRun) error {
	d, err := c.st.GetDeployment(ctx, j.DeploymentID)
	if err != nil {
		return fmt.Errorf("getting deployment %s: %w", j.DeploymentID, err)
	}
	p, err := c.st.GetProject(ctx, d.ProjectID)
	if err != nil {
		return fmt.Errorf("getting project: %w", err)
	}
	host := c.cfg.Names.DeploymentHost(names.OrgSlug(ctx, c.st, d.OrgID), p.Slug)
	var body io.Reader
	if j.Target.Body != "" {
		body = strings.NewReader(j.Target.Body)
	}
	req, err := http.NewRequestWithContext(ctx, j.Target.Method, "http://"+c.cfg.EdgeAddr+j.Target.Path, body)
	if err != nil {
		return fmt.Errorf("making the request: %w", err)
	}
	req.Host = host
	req.Header.Set("User-Agent", "berth-cron")
	req.Header.Set("X-Berth-Cron-Job", j.ID)
	req.Header.Set("X-Berth-Cron-Run", r.ID)
	for k, v := range j.Target.Headers {
		req.Header.Set(k, v)
	}
	hc := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := hc.Do(req)
	if err != nil {
		return fmt.Errorf("requesting %s %s: %s", j.Target.Method, j.Target.Path, agents.Reason(c.log, err))
	}
	defer resp.Body.Close()
	out, _ := io.ReadAll(io.LimitReader(resp.Body, OutputLimit))
	r.HTTPStatus, r.Output = resp.StatusCode, cronOutput(string(out))
	if page := resp.Header.Get("X-Edge-Page"); page != "" {
		return fmt.Errorf("the app did not answer: the edge served its %q page", page)
	}
	if resp.StatusCode >= 400 {
		return fmt.Errorf("the app answered %d", resp.StatusCode)
	}
	return nil
}

// cronCommand runs the job's command in a one-off container of the
// deployment's serving release, with the deployment's env, limits and
// network, and removes the container afterwards.
func (c *Scheduler) cronCommand(ctx context.Context, j *store.CronJob, r *store.CronRun) error {
	d, err := c.st.GetDeployment(ctx, j.DeploymentID)
	if err != nil {
		return fmt.Errorf("getting deployment %s: %w", j.DeploymentID, err)
	}
	if d.ServingReleaseID == "" || d.HostID == "" {
		return errors.New("the deployment serves no release yet")
	}
	rel, err := c.st.GetRelease(ctx, d.ServingReleaseID)
	if err != nil {
		return fmt.Errorf("getting release: %w", err)
	}
	a, err := c.agents.ForHost(ctx, d.HostID)
	if err != nil {
		return err
	}
	name := cronContainer(r)
	spec, err := c.deployments.CommandSpec(ctx, a, d, rel)
	if err != nil {
		return err
	}
	// The container idles; the command runs in it by exec, which reports
	// its exit code and output separately from the idler.
	spec.Name, spec.Entrypoint, spec.Cmd, spec.Restart, spec.Init = name, []string{"sleep"}, []string{"infinity"}, "no", true
	spec.Ports, spec.Aliases = nil, nil
	spec.Labels = c.labels.Of("berth.kind", "cron", "berth.cron", j.ID, "berth.cron_run", r.ID, "berth.release", rel.ID)
	defer func() {
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
		defer cancel()
		if err := a.RemoveContainer(rctx, name); err != nil && !errors.Is(err, agent.ErrNotFound) {
			c.log.Warn("removing cron container failed", "container", name, "err", err)
		}
	}()
	if _, err := a.CreateContainer(ctx, spec); err != nil {
		return fmt.Errorf("creating the container: %s", agents.Reason(c.log, err))
	}
	if err := a.StartContainer(ctx, name); err != nil {
		return fmt.Errorf("starting the container: %s", agents.Reason(c.log, err))
	}
	res, err := a.Exec(ctx, name, agent.ExecRequest{Cmd: j.Target.Command})
	if err != nil {
		return fmt.Errorf("running the command: %s", agents.Reason(c.log, err))
	}
	code := res.ExitCode
	r.ExitCode, r.Output = &code, cronOutput(res.Stdout+res.Stderr)
	if code != 0 && strings.Contains(r.Output, "executable file not found") {
		return fmt.Errorf("the image has no program %q (the command runs without a shell: for a shell line, give [\"sh\", \"-c\", \"…\"])", j.Target.Command[0])
	}
	if code != 0 {
		return fmt.Errorf("the command exited with code %d", code)
	}
	return nil
}

// SyncHolds holds the deployment's cron jobs while it is paused or
// deleted, saying why, and releases them when it runs again: a released
// job's next run is its next fire time after now (times passed while it
// was held are not made up).
func (c *Scheduler) SyncHolds(ctx context.Context, d *store.Deployment) error {
	jobs, err := c.st.ListCronJobsOfDeployment(ctx, d.ID)
	if err != nil {
		return err
	}
	want := cronHold(d)
	for _, j := range jobs {
		if j.Held == want {
			continue
		}
		err := c.st.InTx(ctx, func(tx store.Store) error {
			j, err := tx.GetCronJob(ctx, j.ID)
			if err != nil || j.DeploymentID != d.ID || j.Held == want {
				return err
			}
			j.Held, j.NextRunAt = want, time.Time{}
			if j.Enabled && want == "" {
				spec, err := parseCron(j.Schedule, j.TimeZone)
				if err != nil {
					return err
				}
				j.NextRunAt = spec.next(c.now().UTC())
			}
			return tx.UpdateCronJob(ctx, j)
		})
		if errors.Is(err, store.ErrNotFound) {
			continue // deleted meanwhile
		}
		if err != nil {
			return fmt.Errorf("updating cron job %s: %w", j.ID, err)
		}
		if want != "" {
			c.events.Record(ctx, j.ID, "cron.held", "the job is held: %s", want)
		} else {
			c.events.Record(ctx, j.ID, "cron.released", "deployment %s runs again; so does the job", d.ID)
		}
	}
	return nil
}
