-- Managed data services (Postgres, MySQL, Redis) and their links to the
-- sandboxes and deployments that get their credentials at boot. A link's
-- target is a sandbox or a deployment: no foreign key can name either, so
-- the store checks nothing about it and the control plane checks it.

-- +goose Up
CREATE TABLE databases (
    id                  TEXT PRIMARY KEY,
    org_id              TEXT NOT NULL REFERENCES orgs (id),
    workspace_id        TEXT NOT NULL REFERENCES workspaces (id),
    project_id          TEXT NOT NULL REFERENCES projects (id),
    name                TEXT NOT NULL,
    engine              TEXT NOT NULL,
    image               TEXT NOT NULL,
    status              TEXT NOT NULL,
    status_reason       TEXT NOT NULL,
    version             TEXT NOT NULL,
    size_bytes          BIGINT NOT NULL,
    host_id             TEXT REFERENCES hosts (id),
    container_id        TEXT NOT NULL,
    volume              TEXT NOT NULL,
    upstream            TEXT NOT NULL,
    username            TEXT NOT NULL,
    password            TEXT NOT NULL, -- sealed
    previous_password   TEXT NOT NULL, -- sealed
    database_name       TEXT NOT NULL,
    credentials_version INTEGER NOT NULL,
    applied_version     INTEGER NOT NULL,
    purge               INTEGER NOT NULL, -- 0 or 1
    external_id         TEXT,
    created_at          TEXT NOT NULL,
    updated_at          TEXT NOT NULL,
    UNIQUE (project_id, name),
    UNIQUE (project_id, external_id)
);
CREATE INDEX databases_org_id ON databases (org_id);
CREATE INDEX databases_workspace_id ON databases (workspace_id);

CREATE TABLE database_links (
    database_id TEXT NOT NULL REFERENCES databases (id),
    target_id   TEXT NOT NULL,
    project_id  TEXT NOT NULL REFERENCES projects (id),
    version     INTEGER NOT NULL,
    created_at  TEXT NOT NULL,
    PRIMARY KEY (database_id, target_id)
);
CREATE INDEX database_links_target_id ON database_links (target_id);

-- +goose Down
DROP TABLE database_links;
DROP TABLE databases;
