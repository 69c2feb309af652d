package control

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/robfig/cron/v3"

	"github.com/berth-dev/berth/internal/agent"
	"github.com/berth-dev/berth/internal/id"
	"github.com/berth-dev/berth/internal/problem"
	"github.com/berth-dev/berth/internal/store"
)

// Cron limits and defaults.
const (
	// CronOutputLimit is how much of a run's output is kept.
	CronOutputLimit = 64 << 10
	// CronDefaultTimeout is a job's timeout when none is given.
	CronDefaultTimeout = 60 * time.Second
	// CronMaxTimeout is the longest timeout a job may have.
	CronMaxTimeout = time.Hour
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
		return cronSpec{}, problem.Unprocessable("unknown_time_zone", "time_zone %q is not an IANA time zone name such as \"Europe/Berlin\" or \"UTC\"", zone)
	}
	loc, err := time.LoadLocation(zone)
	if err != nil {
		return cronSpec{}, problem.Unprocessable("unknown_time_zone", "time_zone %q is not an IANA time zone name such as \"Europe/Berlin\" or \"UTC\"", zone)
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
	Project     *store.Project
	Name        string
	Schedule    string
	TimeZone    string // "": UTC
	Target      store.CronTarget
	Enabled     *bool // nil: true
	Concurrency string
	Timeout     time.Duration
}

// CronJobPatch changes a cron job; nil fields stay as they are.
type CronJobPatch struct {
	Name        *string
	Schedule    *string
	TimeZone    *string
	Target      *store.CronTarget
	Enabled     *bool
	Concurrency *string
	Timeout     *time.Duration
}

var cronNameRE = regexp.MustCompile(`^[a-z0-9]([a-z0-9-]{0,62}[a-z0-9])?$`)
var headerNameRE = regexp.MustCompile("^[!#$%&'*+.^_`|~0-9A-Za-z-]+$")

// checkCronJob validates j as it would be stored and sets its next run.
// It writes nothing.
func (c *Control) checkCronJob(ctx context.Context, j *store.CronJob, now time.Time) error {
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
	if j.Timeout < time.Second || j.Timeout > CronMaxTimeout {
		return problem.Unprocessable("invalid_timeout", "timeout_seconds must be between 1 and %d", int(CronMaxTimeout/time.Second))
	}
	if err := c.checkCronTarget(ctx, j.ProjectID, &j.Target); err != nil {
		return err
	}
	j.NextRunAt = time.Time{}
	if j.Enabled {
		j.NextRunAt = spec.next(now)
	}
	return nil
}

func (c *Control) checkCronTarget(ctx context.Context, projectID string, t *store.CronTarget) error {
	if t.DeploymentID == "" {
		return problem.Unprocessable("missing_deployment_id", "give the deployment the job targets in \"target.deployment_id\"")
	}
	switch t.Type {
	case store.CronTargetHTTP:
		if t.Command != "" {
			return problem.Unprocessable("invalid_target", "an http target takes no \"command\"")
		}
		if t.Method == "" {
			t.Method = http.MethodGet
		}
		if t.Method != http.MethodGet && t.Method != http.MethodPost {
			return problem.Unprocessable("invalid_method", "target.method must be \"GET\" or \"POST\", not %q", t.Method)
		}
		if t.Path == "" {
			return problem.Unprocessable("missing_path", "give the path to request in \"target.path\", as in \"/tasks/cleanup\"")
		}
		if !strings.HasPrefix(t.Path, "/") || strings.HasPrefix(t.Path, "//") || strings.ContainsAny(t.Path, " \t\r\n#") {
			return problem.Unprocessable("invalid_path", "target.path %q must be an absolute path such as \"/tasks/cleanup\" (a query is allowed)", t.Path)
		}
		for k, v := range t.Headers {
			if !headerNameRE.MatchString(k) || strings.ContainsAny(v, "\r\n") {
				return problem.Unprocessable("invalid_header", "target.headers has an invalid header %q", k)
			}
			if strings.EqualFold(k, "Host") {
				return problem.Unprocessable("invalid_header", "target.headers cannot set Host: the request goes to the deployment's own URL")
			}
		}
		if t.Body != "" && t.Method != http.MethodPost {
			return problem.Unprocessable("invalid_target", "target.body needs method POST")
		}
	case store.CronTargetCommand:
		if strings.TrimSpace(t.Command) == "" {
			return problem.Unprocessable("missing_command", "give the command to run in \"target.command\"")
		}
		if len(t.Command) > 8192 || !utf8.ValidString(t.Command) {
			return problem.Unprocessable("invalid_command", "target.command must be UTF-8 text of at most 8192 bytes")
		}
		if t.Method != "" || t.Path != "" || len(t.Headers) > 0 || t.Body != "" {
			return problem.Unprocessable("invalid_target", "a command target takes no method, path, headers or body")
		}
	case "":
		return problem.Unprocessable("missing_target_type", "give the target's \"type\": \"http\" or \"command\"")
	default:
		return problem.Unprocessable("invalid_target_type", "target.type must be \"http\" or \"command\", not %q", t.Type)
	}
	d, err := c.st.GetDeployment(ctx, t.DeploymentID)
	if errors.Is(err, store.ErrNotFound) {
		return problem.Unprocessable("deployment_not_found", "deployment %q does not exist", t.DeploymentID)
	}
	if err != nil {
		return err
	}
	if d.ProjectID != projectID {
		return problem.Unprocessable("deployment_of_another_project", "deployment %s belongs to another project; target a deployment of project %s", d.ID, projectID)
	}
	return nil
}

// CreateCronJob validates and records a cron job.
func (c *Control) CreateCronJob(ctx context.Context, req CronJobRequest) (*store.CronJob, error) {
	now := time.Now().UTC()
	j := &store.CronJob{
		ID: id.New(id.Cron), OrgID: req.Project.OrgID, WorkspaceID: req.Project.WorkspaceID, ProjectID: req.Project.ID,
		Name: req.Name, Schedule: req.Schedule, TimeZone: req.TimeZone, Target: req.Target, Enabled: true,
		Concurrency: req.Concurrency, Timeout: req.Timeout, CreatedAt: now, UpdatedAt: now,
	}
	if j.TimeZone == "" {
		j.TimeZone = "UTC"
	}
	if j.Concurrency == "" {
		j.Concurrency = store.CronForbid
	}
	if j.Timeout == 0 {
		j.Timeout = CronDefaultTimeout
	}
	if req.Enabled != nil {
		j.Enabled = *req.Enabled
	}
	if err := c.checkCronJob(ctx, j, now); err != nil {
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
func (c *Control) UpdateCronJob(ctx context.Context, jobID string, p CronJobPatch) (*store.CronJob, error) {
	var j *store.CronJob
	err := c.st.InTx(ctx, func(tx store.Store) error {
		var err error
		if j, err = tx.GetCronJob(ctx, jobID); err != nil {
			return err
		}
		set(&j.Name, p.Name)
		set(&j.Schedule, p.Schedule)
		set(&j.TimeZone, p.TimeZone)
		set(&j.Target, p.Target)
		set(&j.Enabled, p.Enabled)
		set(&j.Concurrency, p.Concurrency)
		set(&j.Timeout, p.Timeout)
		if err := c.checkCronJob(ctx, j, time.Now().UTC()); err != nil {
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
func (c *Control) DeleteCronJob(ctx context.Context, jobID string) error {
	return c.st.DeleteCronJob(ctx, jobID)
}

// RunCronJob records a run of the job for now; the scheduler starts it
// within a tick, subject to the job's concurrency policy.
func (c *Control) RunCronJob(ctx context.Context, j *store.CronJob) (*store.CronRun, error) {
	r := &store.CronRun{ID: id.New(cronRunPrefix), JobID: j.ID, ProjectID: j.ProjectID, Trigger: "manual",
		Status: store.CronScheduled, ScheduledAt: time.Now().UTC()}
	if err := c.st.CreateCronRun(ctx, r); err != nil {
		return nil, fmt.Errorf("recording cron run: %w", err)
	}
	return r, nil
}

// runScheduler starts due cron runs until ctx ends. Every run is written
// (scheduled, then running) before it starts, so a crash leaves a record:
// runs left running are marked failed at the next start.
func (c *Control) runScheduler(ctx context.Context) {
	c.recoverCronRuns(ctx)
	var wg sync.WaitGroup
	defer wg.Wait()
	t := time.NewTicker(cronTick)
	defer t.Stop()
	for {
		c.cronTick(ctx, time.Now().UTC(), func(j *store.CronJob, r *store.CronRun) {
			wg.Go(func() { c.execCronRun(ctx, j, r) })
		})
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// recoverCronRuns fails the runs a previous process left running: their
// outcome is unknown, and they are not retried.
func (c *Control) recoverCronRuns(ctx context.Context) {
	for {
		runs, err := c.st.ListCronRuns(ctx, store.CronRunFilter{Status: store.CronRunning, Limit: 1000})
		if err != nil {
			c.logf("listing running cron runs: %v", err)
			return
		}
		for _, r := range runs {
			r.Status, r.FinishedAt = store.CronFailed, time.Now().UTC()
			r.Reason = "the control plane stopped while this run was running; its outcome is unknown"
			if err := c.st.UpdateCronRun(ctx, r); err != nil {
				c.logf("failing interrupted cron run %s: %v", r.ID, err)
				return
			}
		}
		if len(runs) < 1000 {
			return
		}
	}
}

// cronTick records the runs of the jobs due at now, then starts the
// scheduled runs, each with start. It is the scheduler's whole decision,
// with the clock passed in.
func (c *Control) cronTick(ctx context.Context, now time.Time, start func(*store.CronJob, *store.CronRun)) {
	due, err := c.st.ListDueCronJobs(ctx, now, 1000)
	if err != nil {
		c.logf("listing due cron jobs: %v", err)
	}
	for _, j := range due {
		if err := c.claimCronJob(ctx, j.ID, now); err != nil {
			c.logf("scheduling cron job %s: %v", j.ID, err)
		}
	}
	pending, err := c.st.ListCronRuns(ctx, store.CronRunFilter{Status: store.CronScheduled, Limit: 1000})
	if err != nil {
		c.logf("listing scheduled cron runs: %v", err)
	}
	for _, r := range pending {
		j, r, err := c.startCronRun(ctx, r.ID, now)
		if err != nil {
			c.logf("starting cron run %s: %v", r.ID, err)
			continue
		}
		if j != nil {
			start(j, r)
		}
	}
}

// claimCronJob records a scheduled run of a due job and moves its next
// run past now, in one transaction: one run per fire time, however often
// it is called. Fire times missed while nothing ran collapse into the
// latest of them.
func (c *Control) claimCronJob(ctx context.Context, jobID string, now time.Time) error {
	return c.st.InTx(ctx, func(tx store.Store) error {
		j, err := tx.GetCronJob(ctx, jobID)
		if err != nil {
			return err
		}
		if !j.Enabled || j.NextRunAt.IsZero() || j.NextRunAt.After(now) {
			return nil
		}
		spec, err := parseCron(j.Schedule, j.TimeZone)
		if err != nil {
			return err
		}
		at, missed := spec.latest(j.NextRunAt, now)
		r := &store.CronRun{ID: id.New(cronRunPrefix), JobID: j.ID, ProjectID: j.ProjectID, Trigger: "schedule",
			Status: store.CronScheduled, ScheduledAt: at}
		if missed > 0 {
			r.Reason = fmt.Sprintf("%d earlier scheduled time(s) passed while the scheduler was not running; only this latest one runs", missed)
		}
		j.NextRunAt = spec.next(now)
		if err := tx.UpdateCronJob(ctx, j); err != nil {
			return err
		}
		return tx.CreateCronRun(ctx, r)
	})
}

// startCronRun marks a scheduled run running, or skipped when its job
// forbids overlap and another run of it is running. It returns the job
// when the run is to start.
func (c *Control) startCronRun(ctx context.Context, runID string, now time.Time) (*store.CronJob, *store.CronRun, error) {
	var j *store.CronJob
	var r *store.CronRun
	err := c.st.InTx(ctx, func(tx store.Store) error {
		var err error
		if r, err = tx.GetCronRun(ctx, runID); err != nil || r.Status != store.CronScheduled {
			return err
		}
		if j, err = tx.GetCronJob(ctx, r.JobID); err != nil {
			return err
		}
		if j.Concurrency == store.CronForbid {
			running, err := tx.ListCronRuns(ctx, store.CronRunFilter{JobID: j.ID, Status: store.CronRunning, Limit: 1})
			if err != nil {
				return err
			}
			if len(running) > 0 {
				r.Status, r.StartedAt, r.FinishedAt = store.CronSkipped, now, now
				r.Reason = fmt.Sprintf("run %s was still running and the job's concurrency is forbid", running[0].ID)
				j = nil
				return tx.UpdateCronRun(ctx, r)
			}
		}
		r.Status, r.StartedAt = store.CronRunning, now
		return tx.UpdateCronRun(ctx, r)
	})
	if err != nil || r == nil || r.Status != store.CronRunning {
		return nil, r, err
	}
	return j, r, nil
}

// execCronRun runs a started run and records how it ended.
func (c *Control) execCronRun(ctx context.Context, j *store.CronJob, r *store.CronRun) {
	rctx, cancel := context.WithTimeout(ctx, j.Timeout)
	defer cancel()
	var err error
	switch j.Target.Type {
	case store.CronTargetHTTP:
		err = c.cronHTTP(rctx, j, r)
	case store.CronTargetCommand:
		err = c.cronCommand(rctx, j, r)
	default:
		err = fmt.Errorf("unknown target type %q", j.Target.Type)
	}
	r.FinishedAt = time.Now().UTC()
	switch {
	case ctx.Err() != nil:
		r.Status, r.Reason = store.CronFailed, "the control plane stopped during this run"
	case rctx.Err() != nil:
		r.Status, r.Reason = store.CronTimedOut, fmt.Sprintf("the run took longer than its timeout of %s", j.Timeout)
	case err != nil:
		r.Status, r.Reason = store.CronFailed, err.Error()
	default:
		r.Status = store.CronSucceeded
	}
	wctx, wcancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer wcancel()
	if err := c.st.UpdateCronRun(wctx, r); err != nil && !errors.Is(err, store.ErrNotFound) {
		c.logf("recording cron run %s: %v", r.ID, err)
	}
	c.event(wctx, j.ID, "cron."+r.Status, "run %s %s%s", r.ID, r.Status, reasonSuffix(r.Reason))
}

func reasonSuffix(reason string) string {
	if reason == "" {
		return ""
	}
	return ": " + reason
}

// cronHTTP sends the job's request to its deployment through the edge,
// as a user's browser would, and keeps the answer.
func (c *Control) cronHTTP(ctx context.Context, j *store.CronJob, r *store.CronRun) error {
	d, err := c.st.GetDeployment(ctx, j.Target.DeploymentID)
	if err != nil {
		return fmt.Errorf("getting deployment %s: %w", j.Target.DeploymentID, err)
	}
	p, err := c.st.GetProject(ctx, d.ProjectID)
	if err != nil {
		return fmt.Errorf("getting project: %w", err)
	}
	host := c.cfg.Names.DeploymentHost(c.orgSlug(ctx, d.OrgID), p.Slug)
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
		return fmt.Errorf("requesting %s %s: %s", j.Target.Method, j.Target.Path, c.reason(err))
	}
	defer resp.Body.Close()
	out, _ := io.ReadAll(io.LimitReader(resp.Body, CronOutputLimit))
	r.HTTPStatus, r.Output = resp.StatusCode, strings.ToValidUTF8(string(out), "\uFFFD")
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
func (c *Control) cronCommand(ctx context.Context, j *store.CronJob, r *store.CronRun) error {
	d, err := c.st.GetDeployment(ctx, j.Target.DeploymentID)
	if err != nil {
		return fmt.Errorf("getting deployment %s: %w", j.Target.DeploymentID, err)
	}
	if d.ServingReleaseID == "" || d.HostID == "" {
		return errors.New("the deployment serves no release yet")
	}
	rel, err := c.st.GetRelease(ctx, d.ServingReleaseID)
	if err != nil {
		return fmt.Errorf("getting release: %w", err)
	}
	a, err := c.hostAgent(ctx, d.HostID)
	if err != nil {
		return err
	}
	shape := c.runShape(rel, d)
	env, err := c.containerEnv(ctx, d.ProjectID, d.ID, shape.Env, d.Env)
	if err != nil {
		return fmt.Errorf("making the env: %w", err)
	}
	env["PORT"] = strconv.Itoa(shape.Port)
	name := "berth-cron-" + r.ID
	spec := agent.ContainerSpec{
		// The container idles; the command runs in it by exec, which
		// reports its exit code and output separately from the idler.
		Name: name, Image: imageRef(rel.ID), Entrypoint: []string{"sleep"}, Cmd: []string{"infinity"},
		Env: envList(env), Restart: "no", Init: true,
		Network:     c.appNetwork(ctx, d.ProjectID, d.ID),
		MemoryBytes: c.cfg.Limits.MemoryBytes, NanoCPUs: c.cfg.Limits.NanoCPUs, PidsLimit: c.cfg.Limits.PidsLimit,
		Labels: c.labels("berth.kind", "cron", "berth.cron", j.ID, "berth.cron_run", r.ID, "berth.release", rel.ID),
	}
	defer func() {
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
		defer cancel()
		if err := a.RemoveContainer(rctx, name); err != nil && !errors.Is(err, agent.ErrNotFound) {
			c.logf("removing cron container %s: %v", name, err)
		}
	}()
	if _, err := a.CreateContainer(ctx, spec); err != nil {
		return fmt.Errorf("creating the container: %s", c.reason(err))
	}
	if err := a.StartContainer(ctx, name); err != nil {
		return fmt.Errorf("starting the container: %s", c.reason(err))
	}
	res, err := a.Exec(ctx, name, agent.ExecRequest{Cmd: []string{"sh", "-c", j.Target.Command}})
	if err != nil {
		return fmt.Errorf("running the command: %s", c.reason(err))
	}
	out := res.Stdout + res.Stderr
	if len(out) > CronOutputLimit {
		out = out[:CronOutputLimit]
	}
	code := res.ExitCode
	r.ExitCode, r.Output = &code, strings.ToValidUTF8(out, "\uFFFD")
	if code != 0 {
		return fmt.Errorf("the command exited with code %d", code)
	}
	return nil
}
