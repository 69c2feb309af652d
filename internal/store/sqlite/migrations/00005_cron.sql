-- Cron jobs and their runs. A job's target names a deployment; it is
-- sealed (headers and bodies may carry tokens), so deployment_id is kept
-- beside it in the clear for lookups. A run is written before it starts.

-- +goose Up
CREATE TABLE cron_jobs (
    id            TEXT PRIMARY KEY,
    org_id        TEXT NOT NULL REFERENCES orgs (id),
    workspace_id  TEXT NOT NULL REFERENCES workspaces (id),
    project_id    TEXT NOT NULL REFERENCES projects (id),
    name          TEXT NOT NULL,
    schedule      TEXT NOT NULL,
    time_zone     TEXT NOT NULL,
    deployment_id TEXT NOT NULL,
    target        TEXT NOT NULL, -- sealed JSON
    enabled       INTEGER NOT NULL, -- 0 or 1
    concurrency   TEXT NOT NULL,
    timeout_ms    BIGINT NOT NULL,
    next_run_at   TEXT NOT NULL, -- '' while disabled
    created_at    TEXT NOT NULL,
    updated_at    TEXT NOT NULL,
    UNIQUE (project_id, name)
);
CREATE INDEX cron_jobs_due ON cron_jobs (enabled, next_run_at);
CREATE INDEX cron_jobs_org_id ON cron_jobs (org_id);
CREATE INDEX cron_jobs_workspace_id ON cron_jobs (workspace_id);

CREATE TABLE cron_runs (
    id           TEXT PRIMARY KEY,
    job_id       TEXT NOT NULL REFERENCES cron_jobs (id),
    project_id   TEXT NOT NULL REFERENCES projects (id),
    trigger      TEXT NOT NULL,
    status       TEXT NOT NULL,
    scheduled_at TEXT NOT NULL,
    started_at   TEXT NOT NULL, -- '' until it starts
    finished_at  TEXT NOT NULL, -- '' until it ends
    http_status  INTEGER NOT NULL,
    exit_code    INTEGER,
    output       TEXT NOT NULL,
    reason       TEXT NOT NULL
);
CREATE INDEX cron_runs_job_id ON cron_runs (job_id, id);
CREATE INDEX cron_runs_status ON cron_runs (status);

-- +goose Down
DROP TABLE cron_runs;
DROP TABLE cron_jobs;
