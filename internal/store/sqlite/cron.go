package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"time"

	"github.com/berth-dev/berth/internal/store"
)

const cronJobColumns = `id, org_id, workspace_id, project_id, deployment_id, name, schedule, time_zone, target, enabled, concurrency,
	timeout_ms, held, next_run_at, created_at, updated_at`

// cronTargetAD binds a sealed target to its job.
func cronTargetAD(id string) string { return "cron_jobs.target " + id }

func (d *DB) scanCronJob(sc scanner) (*store.CronJob, error) {
	var j store.CronJob
	var target string
	var timeoutMS int64
	err := sc.Scan(&j.ID, &j.OrgID, &j.WorkspaceID, &j.ProjectID, &j.DeploymentID, &j.Name, &j.Schedule, &j.TimeZone, &target, &j.Enabled,
		&j.Concurrency, &timeoutMS, &j.Held, optTime{&j.NextRunAt}, utc{&j.CreatedAt}, utc{&j.UpdatedAt})
	if err != nil {
		return nil, err
	}
	plain, err := d.seal.openValue(target, cronTargetAD(j.ID))
	if err != nil {
		return nil, err
	}
	if err := json.Unmarshal(plain, &j.Target); err != nil {
		return nil, fmt.Errorf("decoding cron target: %w", err)
	}
	j.Timeout = time.Duration(timeoutMS) * time.Millisecond
	return &j, nil
}

func (d *DB) sealTarget(j *store.CronJob) (string, error) {
	b, err := json.Marshal(j.Target)
	if err != nil {
		return "", fmt.Errorf("encoding cron target: %w", err)
	}
	return d.seal.sealValue(b, cronTargetAD(j.ID)), nil
}

// CreateCronJob records j, its target sealed.
func (d *DB) CreateCronJob(ctx context.Context, j *store.CronJob) error {
	target, err := d.sealTarget(j)
	if err != nil {
		return err
	}
	_, err = d.w.ExecContext(ctx,
		`INSERT INTO cron_jobs (id, org_id, workspace_id, project_id, name, schedule, time_zone, deployment_id, target,
			enabled, concurrency, timeout_ms, held, next_run_at, created_at, updated_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)`,
		j.ID, j.OrgID, j.WorkspaceID, j.ProjectID, j.Name, j.Schedule, j.TimeZone, j.DeploymentID, target,
		j.Enabled, j.Concurrency, j.Timeout.Milliseconds(), j.Held, optTS(j.NextRunAt), ts(j.CreatedAt), ts(j.UpdatedAt))
	if err != nil {
		return dbError("creating cron job", err)
	}
	return nil
}

// GetCronJob returns the job with the given id.
func (d *DB) GetCronJob(ctx context.Context, id string) (*store.CronJob, error) {
	j, err := d.scanCronJob(d.r.QueryRowContext(ctx, `SELECT `+cronJobColumns+` FROM cron_jobs WHERE id = $1`, id))
	if err != nil {
		return nil, dbError("getting cron job", err)
	}
	return j, nil
}

// UpdateCronJob writes every field of j but its id, owners and creation
// time, and sets j.UpdatedAt to now.
func (d *DB) UpdateCronJob(ctx context.Context, j *store.CronJob) error {
	target, err := d.sealTarget(j)
	if err != nil {
		return err
	}
	t := now()
	err = d.execOne(ctx, "updating cron job",
		`UPDATE cron_jobs SET name = $1, schedule = $2, time_zone = $3, deployment_id = $4, target = $5, enabled = $6,
			concurrency = $7, timeout_ms = $8, held = $9, next_run_at = $10, updated_at = $11
		WHERE id = $12`,
		j.Name, j.Schedule, j.TimeZone, j.DeploymentID, target, j.Enabled,
		j.Concurrency, j.Timeout.Milliseconds(), j.Held, optTS(j.NextRunAt), ts(t), j.ID)
	if err != nil {
		return err
	}
	j.UpdatedAt = t
	return nil
}

// ListCronJobs returns jobs in id order.
func (d *DB) ListCronJobs(ctx context.Context, f store.ListFilter) ([]*store.CronJob, error) {
	var q query
	q.filter("org_id = %s", f.OrgID)
	q.filter("workspace_id = %s", f.WorkspaceID)
	q.filter("project_id = %s", f.ProjectID)
	stmt := q.list(`SELECT `+cronJobColumns+` FROM cron_jobs`, f)
	rows, err := d.r.QueryContext(ctx, stmt, q.args...)
	return collect(rows, err, "listing cron jobs", d.scanCronJob)
}

// ListDueCronJobs returns enabled jobs due at now, earliest first. Text
// order of fixed-width UTC timestamps is time order.
func (d *DB) ListDueCronJobs(ctx context.Context, t time.Time, limit int) ([]*store.CronJob, error) {
	var q query
	q.where = append(q.where, "enabled = 1", "held = ''", "next_run_at <> ''", "next_run_at <= "+q.arg(ts(t)))
	stmt := q.finish(`SELECT `+cronJobColumns+` FROM cron_jobs`, "next_run_at, id", listLimit(limit))
	rows, err := d.r.QueryContext(ctx, stmt, q.args...)
	return collect(rows, err, "listing due cron jobs", d.scanCronJob)
}

// DeleteCronJob removes a job and its runs, in one transaction.
func (d *DB) DeleteCronJob(ctx context.Context, id string) error {
	return d.InTx(ctx, func(tx store.Store) error {
		t := tx.(*DB)
		if _, err := t.w.ExecContext(ctx, `DELETE FROM cron_runs WHERE job_id = $1`, id); err != nil {
			return dbError("deleting cron runs", err)
		}
		return t.execOne(ctx, "deleting cron job", `DELETE FROM cron_jobs WHERE id = $1`, id)
	})
}

const cronRunColumns = `id, job_id, project_id, trigger, status, scheduled_at, started_at, finished_at, http_status,
	exit_code, output, reason, lease_owner, lease_expires_at`

func scanCronRun(sc scanner) (*store.CronRun, error) {
	var r store.CronRun
	var exit sql.NullInt64
	err := sc.Scan(&r.ID, &r.JobID, &r.ProjectID, &r.Trigger, &r.Status, utc{&r.ScheduledAt}, optTime{&r.StartedAt},
		optTime{&r.FinishedAt}, &r.HTTPStatus, &exit, &r.Output, &r.Reason, &r.LeaseOwner, optTime{&r.LeaseExpiresAt})
	if err != nil {
		return nil, err
	}
	if exit.Valid {
		code := int(exit.Int64)
		r.ExitCode = &code
	}
	return &r, nil
}

func exitCode(p *int) any {
	if p == nil {
		return nil
	}
	return *p
}

// CreateCronRun records r.
func (d *DB) CreateCronRun(ctx context.Context, r *store.CronRun) error {
	_, err := d.w.ExecContext(ctx,
		`INSERT INTO cron_runs (id, job_id, project_id, trigger, status, scheduled_at, started_at, finished_at,
			http_status, exit_code, output, reason, lease_owner, lease_expires_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)`,
		r.ID, r.JobID, r.ProjectID, r.Trigger, r.Status, ts(r.ScheduledAt), optTS(r.StartedAt), optTS(r.FinishedAt),
		r.HTTPStatus, exitCode(r.ExitCode), r.Output, r.Reason, r.LeaseOwner, optTS(r.LeaseExpiresAt))
	if err != nil {
		return dbError("creating cron run", err)
	}
	return nil
}

// GetCronRun returns the run with the given id.
func (d *DB) GetCronRun(ctx context.Context, id string) (*store.CronRun, error) {
	r, err := scanCronRun(d.r.QueryRowContext(ctx, `SELECT `+cronRunColumns+` FROM cron_runs WHERE id = $1`, id))
	if err != nil {
		return nil, dbError("getting cron run", err)
	}
	return r, nil
}

// UpdateCronRun writes the mutable fields of r.
func (d *DB) UpdateCronRun(ctx context.Context, r *store.CronRun) error {
	return d.execOne(ctx, "updating cron run",
		`UPDATE cron_runs SET status = $1, started_at = $2, finished_at = $3, http_status = $4, exit_code = $5,
			output = $6, reason = $7, lease_owner = $8, lease_expires_at = $9
		WHERE id = $10`,
		r.Status, optTS(r.StartedAt), optTS(r.FinishedAt), r.HTTPStatus, exitCode(r.ExitCode), r.Output, r.Reason,
		r.LeaseOwner, optTS(r.LeaseExpiresAt), r.ID)
}

// ListCronRuns returns runs in id order.
func (d *DB) ListCronRuns(ctx context.Context, f store.CronRunFilter) ([]*store.CronRun, error) {
	var q query
	q.filter("job_id = %s", f.JobID)
	q.filter("status = %s", f.Status)
	q.filter("id > %s", f.After)
	stmt := q.finish(`SELECT `+cronRunColumns+` FROM cron_runs`, "id", listLimit(f.Limit))
	rows, err := d.r.QueryContext(ctx, stmt, q.args...)
	return collect(rows, err, "listing cron runs", scanCronRun)
}

// optTS writes a time that may be unset: the zero time as empty text.
func optTS(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return ts(t)
}

// optTime scans what optTS wrote.
type optTime struct{ t *time.Time }

func (c optTime) Scan(src any) error {
	if s, err := text(src); err == nil && s == "" {
		*c.t = time.Time{}
		return nil
	}
	return utc{c.t}.Scan(src)
}

// Interface guards.
var _ sql.Scanner = optTime{}
