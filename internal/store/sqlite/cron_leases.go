package sqlite

import (
	"context"
	"fmt"
	"time"

	"github.com/berth-dev/berth/internal/store"
)

// The scheduler's claims are conditional writes in portable SQL: each
// names the state it expects in its WHERE clause and learns from the
// number of rows it changed whether it won. On SQLite the transactions
// begin IMMEDIATE and so never interleave; on PostgreSQL the row a claim
// updates is locked and its condition checked again after the wait.

// ListCronJobsOfDeployment returns the jobs that target a deployment.
func (d *DB) ListCronJobsOfDeployment(ctx context.Context, deploymentID string) ([]*store.CronJob, error) {
	rows, err := d.r.QueryContext(ctx, `SELECT `+cronJobColumns+` FROM cron_jobs WHERE deployment_id = $1 ORDER BY id`, deploymentID)
	return collect(rows, err, "listing cron jobs of a deployment", d.scanCronJob)
}

// ClaimCronFire moves the job's next run from at to next and records r,
// in one transaction, when the job still waits for at.
func (d *DB) ClaimCronFire(ctx context.Context, jobID string, at, next time.Time, r *store.CronRun) (bool, error) {
	claimed := false
	err := d.InTx(ctx, func(tx store.Store) error {
		t := tx.(*DB)
		res, err := t.w.ExecContext(ctx,
			`UPDATE cron_jobs SET next_run_at = $1, updated_at = $2
			WHERE id = $3 AND enabled = 1 AND held = '' AND next_run_at = $4`,
			optTS(next), ts(now()), jobID, ts(at))
		if err != nil {
			return dbError("claiming a cron fire time", err)
		}
		if n, err := res.RowsAffected(); err != nil || n == 0 {
			return err
		}
		claimed = true
		return t.CreateCronRun(ctx, r)
	})
	if err != nil {
		return false, err
	}
	return claimed, nil
}

// LockCronJob writes the job's row without changing it: the write takes
// the row's lock (SQLite's transactions hold the whole file's already).
func (d *DB) LockCronJob(ctx context.Context, jobID string) error {
	return d.execOne(ctx, "locking cron job", `UPDATE cron_jobs SET id = id WHERE id = $1`, jobID)
}

// StartCronRun starts a scheduled run under owner's lease.
func (d *DB) StartCronRun(ctx context.Context, runID, owner string, start, expires time.Time) (bool, error) {
	res, err := d.w.ExecContext(ctx,
		`UPDATE cron_runs SET status = $1, started_at = $2, lease_owner = $3, lease_expires_at = $4
		WHERE id = $5 AND status = $6`,
		store.CronRunning, ts(start), owner, ts(expires), runID, store.CronScheduled)
	if err != nil {
		return false, dbError("starting cron run", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, dbError("starting cron run", err)
	}
	return n == 1, nil
}

// RenewCronLease moves the end of owner's lease on a running run.
func (d *DB) RenewCronLease(ctx context.Context, runID, owner string, expires time.Time) error {
	return d.leased(ctx, "renewing cron lease",
		`UPDATE cron_runs SET lease_expires_at = $1 WHERE id = $2 AND status = $3 AND lease_owner = $4`,
		ts(expires), runID, store.CronRunning, owner)
}

// FinishCronRun records the end of a run owner holds.
func (d *DB) FinishCronRun(ctx context.Context, r *store.CronRun, owner string) error {
	err := d.leased(ctx, "finishing cron run",
		`UPDATE cron_runs SET status = $1, finished_at = $2, http_status = $3, exit_code = $4, output = $5, reason = $6,
			lease_expires_at = ''
		WHERE id = $7 AND status = $8 AND lease_owner = $9`,
		r.Status, optTS(r.FinishedAt), r.HTTPStatus, exitCode(r.ExitCode), r.Output, r.Reason,
		r.ID, store.CronRunning, owner)
	if err != nil {
		return err
	}
	r.LeaseOwner, r.LeaseExpiresAt = owner, time.Time{}
	return nil
}

// leased runs an update that needs the caller's lease: no row changed is
// ErrLeaseLost.
func (d *DB) leased(ctx context.Context, op, query string, args ...any) error {
	res, err := d.w.ExecContext(ctx, query, args...)
	if err != nil {
		return dbError(op, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return dbError(op, err)
	}
	if n == 0 {
		return fmt.Errorf("%s: %w", op, store.ErrLeaseLost)
	}
	return nil
}

// ExpireCronLeases fails the runs whose lease ended before t. A running
// run with no lease at all (one written before leases existed) counts as
// expired.
func (d *DB) ExpireCronLeases(ctx context.Context, t time.Time, reason string) ([]*store.CronRun, error) {
	var expired []*store.CronRun
	err := d.InTx(ctx, func(tx store.Store) error {
		x := tx.(*DB)
		rows, err := x.r.QueryContext(ctx,
			`SELECT `+cronRunColumns+` FROM cron_runs WHERE status = $1 AND lease_expires_at < $2 ORDER BY id`,
			store.CronRunning, ts(t))
		if expired, err = collect(rows, err, "listing expired cron leases", scanCronRun); err != nil || len(expired) == 0 {
			return err
		}
		_, err = x.w.ExecContext(ctx,
			`UPDATE cron_runs SET status = $1, finished_at = $2, reason = $3, lease_expires_at = ''
			WHERE status = $4 AND lease_expires_at < $5`,
			store.CronFailed, ts(t), reason, store.CronRunning, ts(t))
		if err != nil {
			return dbError("expiring cron leases", err)
		}
		for _, r := range expired {
			r.Status, r.FinishedAt, r.Reason, r.LeaseExpiresAt = store.CronFailed, t.UTC(), reason, time.Time{}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return expired, nil
}
