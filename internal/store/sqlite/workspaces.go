package sqlite

import (
	"context"

	"github.com/berth-dev/berth/internal/store"
)

const workspaceColumns = `id, org_id, slug, name, COALESCE(external_id, ''), created_at`

func scanWorkspace(sc scanner) (*store.Workspace, error) {
	var w store.Workspace
	err := sc.Scan(&w.ID, &w.OrgID, &w.Slug, &w.Name, &w.ExternalID, utc{&w.CreatedAt})
	if err != nil {
		return nil, err
	}
	return &w, nil
}

// CreateWorkspace records w.
func (d *DB) CreateWorkspace(ctx context.Context, w *store.Workspace) error {
	_, err := d.w.ExecContext(ctx,
		`INSERT INTO workspaces (id, org_id, slug, name, external_id, created_at) VALUES ($1, $2, $3, $4, $5, $6)`,
		w.ID, w.OrgID, w.Slug, w.Name, nullable(w.ExternalID), ts(w.CreatedAt))
	if err != nil {
		return dbError("creating workspace", err)
	}
	return nil
}

// GetWorkspace returns the workspace with the given id.
func (d *DB) GetWorkspace(ctx context.Context, id string) (*store.Workspace, error) {
	w, err := scanWorkspace(d.r.QueryRowContext(ctx, `SELECT `+workspaceColumns+` FROM workspaces WHERE id = $1`, id))
	if err != nil {
		return nil, dbError("getting workspace", err)
	}
	return w, nil
}

// ListWorkspaces returns workspaces in id order. A ProjectID in f narrows
// the list to the workspace that holds it.
func (d *DB) ListWorkspaces(ctx context.Context, f store.ListFilter) ([]*store.Workspace, error) {
	var q query
	q.filter("org_id = %s", f.OrgID)
	q.filter("id = %s", f.WorkspaceID)
	q.filter("id IN (SELECT workspace_id FROM projects WHERE id = %s)", f.ProjectID)
	q.filter("external_id = %s", f.ExternalID)
	stmt := q.list(`SELECT `+workspaceColumns+` FROM workspaces`, f)
	rows, err := d.r.QueryContext(ctx, stmt, q.args...)
	return collect(rows, err, "listing workspaces", scanWorkspace)
}
