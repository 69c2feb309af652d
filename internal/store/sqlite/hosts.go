package sqlite

import (
	"context"

	"github.com/berth-dev/berth/internal/store"
)

const hostColumns = `id, kind, COALESCE(workspace_id, ''), state, state_reason, agent_url, agent_secret,
	created_at, updated_at`

func (d *DB) scanHost(sc scanner) (*store.Host, error) {
	var h store.Host
	var secret string
	err := sc.Scan(&h.ID, &h.Kind, &h.WorkspaceID, &h.State, &h.StateReason, &h.AgentURL, &secret,
		utc{&h.CreatedAt}, utc{&h.UpdatedAt})
	if err != nil {
		return nil, err
	}
	plain, err := d.seal.openValue(secret, hostSecretAD(h.ID))
	if err != nil {
		return nil, err
	}
	h.AgentSecret = string(plain)
	return &h, nil
}

// hostSecretAD binds a sealed agent secret to its host.
func hostSecretAD(id string) string { return "hosts.agent_secret " + id }

// CreateHost records h, its agent secret sealed.
func (d *DB) CreateHost(ctx context.Context, h *store.Host) error {
	_, err := d.w.ExecContext(ctx,
		`INSERT INTO hosts (id, kind, workspace_id, state, state_reason, agent_url, agent_secret, created_at, updated_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
		h.ID, h.Kind, nullable(h.WorkspaceID), h.State, h.StateReason, h.AgentURL,
		d.seal.sealValue([]byte(h.AgentSecret), hostSecretAD(h.ID)), ts(h.CreatedAt), ts(h.UpdatedAt))
	if err != nil {
		return dbError("creating host", err)
	}
	return nil
}

// GetHost returns the host with the given id.
func (d *DB) GetHost(ctx context.Context, id string) (*store.Host, error) {
	h, err := d.scanHost(d.r.QueryRowContext(ctx, `SELECT `+hostColumns+` FROM hosts WHERE id = $1`, id))
	if err != nil {
		return nil, dbError("getting host", err)
	}
	return h, nil
}

// UpdateHost writes every field of h but its id, workspace and creation
// time, and sets h.UpdatedAt to now.
func (d *DB) UpdateHost(ctx context.Context, h *store.Host) error {
	t := now()
	err := d.execOne(ctx, "updating host",
		`UPDATE hosts SET kind = $1, state = $2, state_reason = $3, agent_url = $4, agent_secret = $5, updated_at = $6
		WHERE id = $7`,
		h.Kind, h.State, h.StateReason, h.AgentURL, d.seal.sealValue([]byte(h.AgentSecret), hostSecretAD(h.ID)), ts(t),
		h.ID)
	if err != nil {
		return err
	}
	h.UpdatedAt = t
	return nil
}

// ListHosts returns every host in id order.
func (d *DB) ListHosts(ctx context.Context) ([]*store.Host, error) {
	rows, err := d.r.QueryContext(ctx, `SELECT `+hostColumns+` FROM hosts ORDER BY id`)
	return collect(rows, err, "listing hosts", d.scanHost)
}
