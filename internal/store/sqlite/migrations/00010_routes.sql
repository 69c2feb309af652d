-- Custom pages of the edge, the state of the domains' periodic
-- re-verification, and the index the route resolver reads a project's
-- newest deployment by.

-- +goose Up
CREATE TABLE edge_pages (
    owner_id   TEXT NOT NULL, -- an org or workspace id
    org_id     TEXT NOT NULL REFERENCES orgs (id),
    kind       TEXT NOT NULL,
    body       TEXT NOT NULL,
    digest     TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    PRIMARY KEY (owner_id, kind)
);
CREATE INDEX edge_pages_digest ON edge_pages (digest);

CREATE TABLE domain_checks (
    domain_id     TEXT PRIMARY KEY REFERENCES domains (id) ON DELETE CASCADE,
    checked_at    TEXT NOT NULL,
    missing_since TEXT NOT NULL,
    found         TEXT NOT NULL
);

CREATE INDEX deployments_project_id ON deployments (project_id, id);

-- +goose Down
DROP INDEX deployments_project_id;
DROP TABLE domain_checks;
DROP TABLE edge_pages;
