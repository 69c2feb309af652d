-- Docker Deploy hosts: what provisioned a host and where (sealed), its
-- portal's credentials (sealed), the last health of its agent and portal,
-- and its state transitions. One Docker Deploy host per workspace; pool
-- hosts have no workspace, and NULLs never collide in a UNIQUE index.

-- +goose Up
ALTER TABLE hosts ADD COLUMN provisioner TEXT NOT NULL DEFAULT '';
ALTER TABLE hosts ADD COLUMN target TEXT NOT NULL DEFAULT ''; -- sealed JSON, '' when none
ALTER TABLE hosts ADD COLUMN portal_url TEXT NOT NULL DEFAULT '';
ALTER TABLE hosts ADD COLUMN portal_key_id TEXT NOT NULL DEFAULT '';
ALTER TABLE hosts ADD COLUMN portal_key TEXT NOT NULL DEFAULT ''; -- sealed, '' when none
ALTER TABLE hosts ADD COLUMN portal_password TEXT NOT NULL DEFAULT ''; -- sealed, '' when none
ALTER TABLE hosts ADD COLUMN agent_health TEXT NOT NULL DEFAULT '{}'; -- JSON object
ALTER TABLE hosts ADD COLUMN portal_health TEXT NOT NULL DEFAULT '{}'; -- JSON object
ALTER TABLE hosts ADD COLUMN transitions TEXT NOT NULL DEFAULT '[]'; -- JSON array
CREATE UNIQUE INDEX hosts_workspace_id ON hosts (workspace_id);

-- +goose Down
DROP INDEX hosts_workspace_id;
ALTER TABLE hosts DROP COLUMN transitions;
ALTER TABLE hosts DROP COLUMN portal_health;
ALTER TABLE hosts DROP COLUMN agent_health;
ALTER TABLE hosts DROP COLUMN portal_password;
ALTER TABLE hosts DROP COLUMN portal_key;
ALTER TABLE hosts DROP COLUMN portal_key_id;
ALTER TABLE hosts DROP COLUMN portal_url;
ALTER TABLE hosts DROP COLUMN target;
ALTER TABLE hosts DROP COLUMN provisioner;
