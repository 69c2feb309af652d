-- Cron runs are started under a lease, so several schedulers on one store
-- never run one twice and a run whose scheduler died is recorded, not
-- lost. A cron job is held (not scheduled) while its deployment is paused
-- or deleted; held says why. A deployment's desired state says whether it
-- should run, be paused or be deleted; the reconciler makes it so.

-- +goose Up
ALTER TABLE cron_runs ADD COLUMN lease_owner TEXT NOT NULL DEFAULT '';
ALTER TABLE cron_runs ADD COLUMN lease_expires_at TEXT NOT NULL DEFAULT ''; -- '' outside a lease
ALTER TABLE cron_jobs ADD COLUMN held TEXT NOT NULL DEFAULT ''; -- '' unless held
ALTER TABLE deployments ADD COLUMN desired_state TEXT NOT NULL DEFAULT ''; -- '' (run), 'paused' or 'deleted'
CREATE INDEX cron_jobs_deployment_id ON cron_jobs (deployment_id);
CREATE INDEX cron_runs_status_lease ON cron_runs (status, lease_expires_at);

-- +goose Down
DROP INDEX cron_runs_status_lease;
DROP INDEX cron_jobs_deployment_id;
ALTER TABLE deployments DROP COLUMN desired_state;
ALTER TABLE cron_jobs DROP COLUMN held;
ALTER TABLE cron_runs DROP COLUMN lease_expires_at;
ALTER TABLE cron_runs DROP COLUMN lease_owner;
