-- The edges' certificate storage (certmagic's keys and values, values
-- sealed), the locks that keep two edges from ordering one certificate,
-- and domains that keep their claim on a hostname once their certificate
-- is issued (or failed after DNS verified them).

-- +goose Up
CREATE TABLE cert_objects (
    key        TEXT PRIMARY KEY,
    value      TEXT NOT NULL, -- sealed
    size       BIGINT NOT NULL,
    updated_at TEXT NOT NULL
);

CREATE TABLE cert_locks (
    name       TEXT PRIMARY KEY,
    owner      TEXT NOT NULL,
    expires_at BIGINT NOT NULL -- unix milliseconds
);

DROP INDEX domains_verified_hostname;
CREATE UNIQUE INDEX domains_verified_hostname ON domains (hostname)
    WHERE status IN ('verified', 'certificate_issued') OR verified_at <> '0001-01-01T00:00:00.000000000Z';

-- +goose Down
DROP INDEX domains_verified_hostname;
CREATE UNIQUE INDEX domains_verified_hostname ON domains (hostname) WHERE status = 'verified';
DROP TABLE cert_locks;
DROP TABLE cert_objects;
