package sqlite

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/berth-dev/berth/internal/store"
)

const sandboxColumns = `id, org_id, workspace_id, project_id, slug, template_id, env, ports, status,
	status_reason, COALESCE(host_id, ''), container_id, volume, procs_started_at, preview_port, upstreams,
	COALESCE(external_id, ''), created_at, updated_at`

func (d *DB) scanSandbox(sc scanner) (*store.Sandbox, error) {
	var s store.Sandbox
	var env string
	err := sc.Scan(&s.ID, &s.OrgID, &s.WorkspaceID, &s.ProjectID, &s.Slug, &s.TemplateID, &env,
		jsonCol{&s.Ports}, &s.Status, &s.StatusReason, &s.HostID, &s.ContainerID, &s.Volume, &s.ProcsStartedAt,
		&s.PreviewPort, jsonCol{&s.Upstreams}, &s.ExternalID, utc{&s.CreatedAt}, utc{&s.UpdatedAt})
	if err != nil {
		return nil, err
	}
	if s.Env, err = d.openEnv(env, sandboxEnvAD(s.ID)); err != nil {
		return nil, err
	}
	return &s, nil
}

// sandboxEnvAD binds a sealed env to its sandbox.
func sandboxEnvAD(id string) string { return "sandboxes.env " + id }

// sealEnv encodes env as JSON and seals it: names and values are both
// kept from the file.
func (d *DB) sealEnv(env map[string]string, where string) (string, error) {
	b, err := json.Marshal(env)
	if err != nil {
		return "", fmt.Errorf("encoding env: %w", err)
	}
	return d.seal.sealValue(b, where), nil
}

func (d *DB) openEnv(sealed, where string) (map[string]string, error) {
	b, err := d.seal.openValue(sealed, where)
	if err != nil {
		return nil, err
	}
	var env map[string]string
	if err := json.Unmarshal(b, &env); err != nil {
		return nil, fmt.Errorf("decoding env: %w", err)
	}
	return env, nil
}

// sandboxValues encodes the columns that need it.
func (d *DB) sandboxValues(s *store.Sandbox) (env, ports, upstreams string, err error) {
	if env, err = d.sealEnv(s.Env, sandboxEnvAD(s.ID)); err != nil {
		return "", "", "", err
	}
	if ports, err = jsonText(s.Ports); err != nil {
		return "", "", "", err
	}
	if upstreams, err = jsonText(s.Upstreams); err != nil {
		return "", "", "", err
	}
	return env, ports, upstreams, nil
}

// CreateSandbox records s, its env sealed.
func (d *DB) CreateSandbox(ctx context.Context, s *store.Sandbox) error {
	env, ports, upstreams, err := d.sandboxValues(s)
	if err != nil {
		return fmt.Errorf("creating sandbox: %w", err)
	}
	_, err = d.w.ExecContext(ctx,
		`INSERT INTO sandboxes (id, org_id, workspace_id, project_id, slug, template_id, env, ports, status,
			status_reason, host_id, container_id, volume, procs_started_at, preview_port, upstreams,
			external_id, created_at, updated_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19)`,
		s.ID, s.OrgID, s.WorkspaceID, s.ProjectID, s.Slug, s.TemplateID, env, ports, s.Status,
		s.StatusReason, nullable(s.HostID), s.ContainerID, s.Volume, s.ProcsStartedAt, s.PreviewPort, upstreams,
		nullable(s.ExternalID), ts(s.CreatedAt), ts(s.UpdatedAt))
	if err != nil {
		return dbError("creating sandbox", err)
	}
	return nil
}

// GetSandbox returns the sandbox with the given id.
func (d *DB) GetSandbox(ctx context.Context, id string) (*store.Sandbox, error) {
	s, err := d.scanSandbox(d.r.QueryRowContext(ctx, `SELECT `+sandboxColumns+` FROM sandboxes WHERE id = $1`, id))
	if err != nil {
		return nil, dbError("getting sandbox", err)
	}
	return s, nil
}

// UpdateSandbox writes every field of s but its id, owners, slug and
// creation time, and sets s.UpdatedAt to now.
func (d *DB) UpdateSandbox(ctx context.Context, s *store.Sandbox) error {
	env, ports, upstreams, err := d.sandboxValues(s)
	if err != nil {
		return fmt.Errorf("updating sandbox: %w", err)
	}
	t := now()
	err = d.execOne(ctx, "updating sandbox",
		`UPDATE sandboxes SET template_id = $1, env = $2, ports = $3, status = $4, status_reason = $5,
			host_id = $6, container_id = $7, volume = $8, procs_started_at = $9, preview_port = $10,
			upstreams = $11, external_id = $12, updated_at = $13
		WHERE id = $14`,
		s.TemplateID, env, ports, s.Status, s.StatusReason,
		nullable(s.HostID), s.ContainerID, s.Volume, s.ProcsStartedAt, s.PreviewPort,
		upstreams, nullable(s.ExternalID), ts(t),
		s.ID)
	if err != nil {
		return err
	}
	s.UpdatedAt = t
	return nil
}

// ListSandboxes returns sandboxes in id order, but not deleted ones.
func (d *DB) ListSandboxes(ctx context.Context, f store.ListFilter) ([]*store.Sandbox, error) {
	var q query
	q.filter("status <> %s", store.SandboxDeleted)
	q.filter("org_id = %s", f.OrgID)
	q.filter("workspace_id = %s", f.WorkspaceID)
	q.filter("project_id = %s", f.ProjectID)
	q.filter("external_id = %s", f.ExternalID)
	stmt := q.list(`SELECT `+sandboxColumns+` FROM sandboxes`, f)
	rows, err := d.r.QueryContext(ctx, stmt, q.args...)
	return collect(rows, err, "listing sandboxes", d.scanSandbox)
}
