package sqlite

import (
	"context"
	"fmt"

	"github.com/berth-dev/berth/internal/store"
)

const hostColumns = `id, kind, COALESCE(workspace_id, ''), state, state_reason, agent_url, agent_secret,
	provisioner, target, portal_url, portal_key_id, portal_key, portal_password, agent_health, portal_health,
	transitions, created_at, updated_at`

func (d *DB) scanHost(sc scanner) (*store.Host, error) {
	var h store.Host
	var secret, target, portalKey, portalPassword string
	err := sc.Scan(&h.ID, &h.Kind, &h.WorkspaceID, &h.State, &h.StateReason, &h.AgentURL, &secret,
		&h.Provisioner, &target, &h.PortalURL, &h.PortalKeyID, &portalKey, &portalPassword,
		jsonCol{&h.AgentHealth}, jsonCol{&h.PortalHealth}, jsonCol{&h.Transitions},
		utc{&h.CreatedAt}, utc{&h.UpdatedAt})
	if err != nil {
		return nil, err
	}
	open := func(sealed, column string) ([]byte, error) {
		if sealed == "" {
			return nil, nil
		}
		return d.seal.openValue(sealed, hostSealAD(column, h.ID))
	}
	plain, err := d.seal.openValue(secret, hostSecretAD(h.ID))
	if err != nil {
		return nil, err
	}
	h.AgentSecret = string(plain)
	if h.Target, err = open(target, "target"); err != nil {
		return nil, err
	}
	if plain, err = open(portalKey, "portal_key"); err != nil {
		return nil, err
	}
	h.PortalKey = string(plain)
	if plain, err = open(portalPassword, "portal_password"); err != nil {
		return nil, err
	}
	h.PortalPassword = string(plain)
	if len(h.Transitions) == 0 {
		h.Transitions = nil
	}
	h.AgentHealth.CheckedAt = h.AgentHealth.CheckedAt.UTC()
	h.PortalHealth.CheckedAt = h.PortalHealth.CheckedAt.UTC()
	for i := range h.Transitions {
		h.Transitions[i].At = h.Transitions[i].At.UTC()
	}
	return &h, nil
}

// hostSecretAD binds a sealed agent secret to its host.
func hostSecretAD(id string) string { return "hosts.agent_secret " + id }

// hostSealAD binds another sealed column of a host to its row.
func hostSealAD(column, id string) string { return "hosts." + column + " " + id }

// hostValues are the encoded mutable columns of h, from target on:
// target, portal_key, portal_password, agent_health, portal_health,
// transitions.
func (d *DB) hostValues(h *store.Host) ([]any, error) {
	seal := func(plain []byte, column string) string {
		if len(plain) == 0 {
			return ""
		}
		return d.seal.sealValue(plain, hostSealAD(column, h.ID))
	}
	agentHealth, portalHealth := h.AgentHealth, h.PortalHealth
	agentHealth.CheckedAt, portalHealth.CheckedAt = agentHealth.CheckedAt.UTC(), portalHealth.CheckedAt.UTC()
	transitions := make([]store.HostTransition, len(h.Transitions))
	for i, t := range h.Transitions {
		t.At = t.At.UTC()
		transitions[i] = t
	}
	var out []any
	out = append(out, seal(h.Target, "target"), seal([]byte(h.PortalKey), "portal_key"),
		seal([]byte(h.PortalPassword), "portal_password"))
	for _, v := range []any{agentHealth, portalHealth, transitions} {
		s, err := jsonText(v)
		if err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, nil
}

// CreateHost records h, its secrets sealed.
func (d *DB) CreateHost(ctx context.Context, h *store.Host) error {
	vals, err := d.hostValues(h)
	if err != nil {
		return fmt.Errorf("creating host: %w", err)
	}
	args := []any{h.ID, h.Kind, nullable(h.WorkspaceID), h.State, h.StateReason, h.AgentURL,
		d.seal.sealValue([]byte(h.AgentSecret), hostSecretAD(h.ID)), h.Provisioner, h.PortalURL, h.PortalKeyID}
	args = append(args, vals...)
	args = append(args, ts(h.CreatedAt), ts(h.UpdatedAt))
	_, err = d.w.ExecContext(ctx,
		`INSERT INTO hosts (id, kind, workspace_id, state, state_reason, agent_url, agent_secret, provisioner,
			portal_url, portal_key_id, target, portal_key, portal_password, agent_health, portal_health, transitions,
			created_at, updated_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18)`, args...)
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

// GetWorkspaceHost returns the Docker Deploy host of a workspace.
func (d *DB) GetWorkspaceHost(ctx context.Context, workspaceID string) (*store.Host, error) {
	h, err := d.scanHost(d.r.QueryRowContext(ctx, `SELECT `+hostColumns+` FROM hosts WHERE workspace_id = $1 AND kind = $2`,
		workspaceID, store.HostDockerDeploy))
	if err != nil {
		return nil, dbError("getting workspace host", err)
	}
	return h, nil
}

// UpdateHost writes every field of h but its id, kind, workspace and
// creation time, and sets h.UpdatedAt to now.
func (d *DB) UpdateHost(ctx context.Context, h *store.Host) error {
	vals, err := d.hostValues(h)
	if err != nil {
		return fmt.Errorf("updating host: %w", err)
	}
	t := now()
	args := []any{h.State, h.StateReason, h.AgentURL, d.seal.sealValue([]byte(h.AgentSecret), hostSecretAD(h.ID)),
		h.Provisioner, h.PortalURL, h.PortalKeyID}
	args = append(args, vals...)
	args = append(args, ts(t), h.ID)
	err = d.execOne(ctx, "updating host",
		`UPDATE hosts SET state = $1, state_reason = $2, agent_url = $3, agent_secret = $4, provisioner = $5,
			portal_url = $6, portal_key_id = $7, target = $8, portal_key = $9, portal_password = $10,
			agent_health = $11, portal_health = $12, transitions = $13, updated_at = $14
		WHERE id = $15`, args...)
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

// ListWorkspaceHosts returns Docker Deploy hosts in id order.
func (d *DB) ListWorkspaceHosts(ctx context.Context, f store.ListFilter) ([]*store.Host, error) {
	var q query
	q.where = append(q.where, "kind = "+q.arg(store.HostDockerDeploy))
	q.filter("workspace_id IN (SELECT id FROM workspaces WHERE org_id = %s)", f.OrgID)
	q.filter("workspace_id = %s", f.WorkspaceID)
	q.filter("workspace_id IN (SELECT workspace_id FROM projects WHERE id = %s)", f.ProjectID)
	stmt := q.list(`SELECT `+hostColumns+` FROM hosts`, f)
	rows, err := d.r.QueryContext(ctx, stmt, q.args...)
	return collect(rows, err, "listing workspace hosts", d.scanHost)
}
