-- The first schema. Types stay within what PostgreSQL also accepts (TEXT,
-- INTEGER, BIGINT) except where noted. Timestamps are fixed-width UTC
-- RFC 3339 text, so they sort as text. Optional references and optional
-- external ids are NULL when empty: a NULL never collides with another in
-- a UNIQUE constraint, and a NULL reference is not checked.

-- +goose Up
CREATE TABLE orgs (
    id          TEXT PRIMARY KEY,
    slug        TEXT NOT NULL UNIQUE,
    name        TEXT NOT NULL,
    external_id TEXT UNIQUE,
    created_at  TEXT NOT NULL
);

CREATE TABLE workspaces (
    id          TEXT PRIMARY KEY,
    org_id      TEXT NOT NULL REFERENCES orgs (id),
    slug        TEXT NOT NULL,
    name        TEXT NOT NULL,
    external_id TEXT,
    created_at  TEXT NOT NULL,
    UNIQUE (org_id, slug),
    UNIQUE (org_id, external_id)
);

CREATE TABLE projects (
    id           TEXT PRIMARY KEY,
    org_id       TEXT NOT NULL REFERENCES orgs (id),
    workspace_id TEXT NOT NULL REFERENCES workspaces (id),
    slug         TEXT NOT NULL,
    name         TEXT NOT NULL,
    external_id  TEXT,
    created_at   TEXT NOT NULL,
    UNIQUE (org_id, slug),
    UNIQUE (workspace_id, external_id)
);

CREATE TABLE api_keys (
    id           TEXT PRIMARY KEY,
    name         TEXT NOT NULL,
    hash         TEXT NOT NULL UNIQUE,
    prefix       TEXT NOT NULL,
    org_id       TEXT REFERENCES orgs (id),
    workspace_id TEXT REFERENCES workspaces (id),
    project_id   TEXT REFERENCES projects (id),
    role         TEXT NOT NULL,
    created_at   TEXT NOT NULL
);

CREATE TABLE hosts (
    id           TEXT PRIMARY KEY,
    kind         TEXT NOT NULL,
    workspace_id TEXT REFERENCES workspaces (id),
    state        TEXT NOT NULL,
    state_reason TEXT NOT NULL,
    agent_url    TEXT NOT NULL,
    agent_secret TEXT NOT NULL, -- sealed
    created_at   TEXT NOT NULL,
    updated_at   TEXT NOT NULL
);

CREATE TABLE sandboxes (
    id               TEXT PRIMARY KEY,
    org_id           TEXT NOT NULL REFERENCES orgs (id),
    workspace_id     TEXT NOT NULL REFERENCES workspaces (id),
    project_id       TEXT NOT NULL REFERENCES projects (id),
    slug             TEXT NOT NULL UNIQUE,
    template_id      TEXT NOT NULL,
    env              TEXT NOT NULL, -- sealed JSON object
    ports            TEXT NOT NULL, -- JSON array
    status           TEXT NOT NULL,
    status_reason    TEXT NOT NULL,
    host_id          TEXT REFERENCES hosts (id),
    container_id     TEXT NOT NULL,
    volume           TEXT NOT NULL,
    procs_started_at TEXT NOT NULL,
    preview_port     INTEGER NOT NULL,
    upstreams        TEXT NOT NULL, -- JSON object
    external_id      TEXT,
    created_at       TEXT NOT NULL,
    updated_at       TEXT NOT NULL,
    UNIQUE (project_id, external_id)
);
CREATE INDEX sandboxes_org_id ON sandboxes (org_id);
CREATE INDEX sandboxes_workspace_id ON sandboxes (workspace_id);

CREATE TABLE processes (
    id         TEXT PRIMARY KEY,
    sandbox_id TEXT NOT NULL REFERENCES sandboxes (id),
    command    TEXT NOT NULL,
    cwd        TEXT NOT NULL,
    env        TEXT NOT NULL,
    created_at TEXT NOT NULL
);
CREATE INDEX processes_sandbox_id ON processes (sandbox_id);

CREATE TABLE releases (
    id           TEXT PRIMARY KEY,
    org_id       TEXT NOT NULL REFERENCES orgs (id),
    workspace_id TEXT NOT NULL REFERENCES workspaces (id),
    project_id   TEXT NOT NULL REFERENCES projects (id),
    digest       TEXT NOT NULL,
    size         BIGINT NOT NULL,
    env_names    TEXT NOT NULL, -- JSON array
    build        TEXT NOT NULL, -- JSON object
    provenance   TEXT NOT NULL, -- JSON object
    external_id  TEXT,
    created_at   TEXT NOT NULL,
    UNIQUE (project_id, external_id)
);
CREATE INDEX releases_org_id ON releases (org_id);
CREATE INDEX releases_workspace_id ON releases (workspace_id);

CREATE TABLE deployments (
    id                 TEXT PRIMARY KEY,
    org_id             TEXT NOT NULL REFERENCES orgs (id),
    workspace_id       TEXT NOT NULL REFERENCES workspaces (id),
    project_id         TEXT NOT NULL REFERENCES projects (id),
    product            TEXT NOT NULL,
    release_id         TEXT REFERENCES releases (id),
    env                TEXT NOT NULL, -- sealed JSON object
    metadata           TEXT NOT NULL, -- JSON object
    status             TEXT NOT NULL,
    status_reason      TEXT NOT NULL,
    host_id            TEXT REFERENCES hosts (id),
    serving_release_id TEXT REFERENCES releases (id),
    container_id       TEXT NOT NULL,
    upstream           TEXT NOT NULL,
    external_id        TEXT,
    created_at         TEXT NOT NULL,
    updated_at         TEXT NOT NULL,
    UNIQUE (project_id, external_id)
);
CREATE INDEX deployments_org_id ON deployments (org_id);
CREATE INDEX deployments_workspace_id ON deployments (workspace_id);

-- SQLite spelling: PostgreSQL says BIGINT GENERATED ALWAYS AS IDENTITY.
-- AUTOINCREMENT keeps ids from being reused, so they only grow.
CREATE TABLE deployment_releases (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    deployment_id TEXT NOT NULL REFERENCES deployments (id),
    release_id    TEXT NOT NULL REFERENCES releases (id),
    reason        TEXT NOT NULL,
    created_at    TEXT NOT NULL
);
CREATE INDEX deployment_releases_deployment_id ON deployment_releases (deployment_id, id);

-- SQLite spelling, as above: readers page through events by seq, so a seq
-- must never be reused.
CREATE TABLE events (
    seq         INTEGER PRIMARY KEY AUTOINCREMENT,
    id          TEXT NOT NULL,
    resource_id TEXT NOT NULL,
    type        TEXT NOT NULL,
    message     TEXT NOT NULL,
    created_at  TEXT NOT NULL
);
CREATE INDEX events_resource_id ON events (resource_id, seq);

-- body is BLOB here and BYTEA in PostgreSQL.
CREATE TABLE idempotency (
    key_id     TEXT NOT NULL,
    idem_key   TEXT NOT NULL,
    request    TEXT NOT NULL,
    status     INTEGER NOT NULL,
    body       BLOB NOT NULL,
    created_at TEXT NOT NULL,
    PRIMARY KEY (key_id, idem_key)
);

-- +goose Down
DROP TABLE idempotency;
DROP TABLE events;
DROP TABLE deployment_releases;
DROP TABLE deployments;
DROP TABLE releases;
DROP TABLE processes;
DROP TABLE sandboxes;
DROP TABLE hosts;
DROP TABLE api_keys;
DROP TABLE projects;
DROP TABLE workspaces;
DROP TABLE orgs;
