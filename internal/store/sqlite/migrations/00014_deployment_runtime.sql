-- A deployment's generation, which every change of what is asked of it
-- bumps, so the reconciler's status (computed for one generation) never
-- overwrites a newer request; and its standby: the container of the
-- release it served before, kept frozen so a rollback to that release
-- starts nothing.

-- +goose Up
ALTER TABLE deployments ADD COLUMN generation INTEGER NOT NULL DEFAULT 0;
ALTER TABLE deployments ADD COLUMN standby_container_id TEXT NOT NULL DEFAULT '';
ALTER TABLE deployments ADD COLUMN standby_release_id TEXT NOT NULL DEFAULT '';

-- +goose Down
ALTER TABLE deployments DROP COLUMN standby_release_id;
ALTER TABLE deployments DROP COLUMN standby_container_id;
ALTER TABLE deployments DROP COLUMN generation;
