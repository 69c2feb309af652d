-- S3 buckets and their links to the sandboxes and deployments that get
-- their endpoint and keys at boot. As with database links, a link's
-- target is checked by the control plane, not by a foreign key.

-- +goose Up
CREATE TABLE buckets (
    id                  TEXT PRIMARY KEY,
    org_id              TEXT NOT NULL REFERENCES orgs (id),
    workspace_id        TEXT NOT NULL REFERENCES workspaces (id),
    project_id          TEXT NOT NULL REFERENCES projects (id),
    name                TEXT NOT NULL,
    s3_name             TEXT NOT NULL UNIQUE,
    key_scope           TEXT NOT NULL,
    access_key_id       TEXT,
    secret_key          TEXT NOT NULL, -- sealed
    credentials_version INTEGER NOT NULL,
    external_id         TEXT,
    created_at          TEXT NOT NULL,
    updated_at          TEXT NOT NULL,
    UNIQUE (project_id, name),
    UNIQUE (project_id, external_id),
    UNIQUE (access_key_id)
);
CREATE INDEX buckets_org_id ON buckets (org_id);
CREATE INDEX buckets_workspace_id ON buckets (workspace_id);

CREATE TABLE bucket_links (
    bucket_id  TEXT NOT NULL REFERENCES buckets (id),
    target_id  TEXT NOT NULL,
    project_id TEXT NOT NULL REFERENCES projects (id),
    created_at TEXT NOT NULL,
    PRIMARY KEY (bucket_id, target_id)
);
CREATE INDEX bucket_links_target_id ON bucket_links (target_id);

-- +goose Down
DROP TABLE bucket_links;
DROP TABLE buckets;
