-- Branding of orgs and workspaces, and custom domains. A hostname may be
-- claimed (pending) by several orgs, but verified by one only.

-- +goose Up
CREATE TABLE brandings (
    owner_id      TEXT PRIMARY KEY, -- an org or workspace id
    org_id        TEXT NOT NULL REFERENCES orgs (id),
    product_name  TEXT NOT NULL,
    logo_url      TEXT NOT NULL,
    primary_color TEXT NOT NULL,
    accent_color  TEXT NOT NULL,
    support_url   TEXT NOT NULL,
    support_email TEXT NOT NULL,
    updated_at    TEXT NOT NULL
);

CREATE TABLE domains (
    id            TEXT PRIMARY KEY,
    hostname      TEXT NOT NULL,
    org_id        TEXT NOT NULL REFERENCES orgs (id),
    workspace_id  TEXT REFERENCES workspaces (id),
    deployment_id TEXT REFERENCES deployments (id),
    token         TEXT NOT NULL,
    status        TEXT NOT NULL,
    status_reason TEXT NOT NULL,
    verified_at   TEXT NOT NULL,
    created_at    TEXT NOT NULL,
    updated_at    TEXT NOT NULL
);
CREATE UNIQUE INDEX domains_org_hostname ON domains (org_id, hostname);
CREATE UNIQUE INDEX domains_verified_hostname ON domains (hostname) WHERE status = 'verified';

-- +goose Down
DROP TABLE domains;
DROP TABLE brandings;
