-- What became of the certificates of the managed names under the platform
-- domain (an org's wildcards, or a name ordered on its own): a failed
-- order's time outlives a restart, so the next one waits as long as it
-- would have.

-- +goose Up
CREATE TABLE managed_certs (
    name       TEXT PRIMARY KEY,
    org_id     TEXT NOT NULL REFERENCES orgs (id),
    status     TEXT NOT NULL,
    reason     TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE INDEX managed_certs_org_id ON managed_certs (org_id, name);

-- +goose Down
DROP INDEX managed_certs_org_id;
DROP TABLE managed_certs;
