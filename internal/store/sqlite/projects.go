package sqlite

import (
	"context"

	"github.com/berth-dev/berth/internal/store"
)

const projectColumns = `id, org_id, workspace_id, slug, name, COALESCE(external_id, ''), created_at`

func scanProject(sc scanner) (*store.Project, error) {
	var p store.Project
	err := sc.Scan(&p.ID, &p.OrgID, &p.WorkspaceID, &p.Slug, &p.Name, &p.ExternalID, utc{&p.CreatedAt})
	if err != nil {
		return nil, err
	}
	return &p, nil
}

// CreateProject records p.
func (d *DB) CreateProject(ctx context.Context, p *store.Project) error {
	_, err := d.w.ExecContext(ctx,
		`INSERT INTO projects (id, org_id, workspace_id, slug, name, external_id, created_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7)`,
		p.ID, p.OrgID, p.WorkspaceID, p.Slug, p.Name, nullable(p.ExternalID), ts(p.CreatedAt))
	if err != nil {
		return dbError("creating project", err)
	}
	return nil
}

// GetProject returns the project with the given id.
func (d *DB) GetProject(ctx context.Context, id string) (*store.Project, error) {
	p, err := scanProject(d.r.QueryRowContext(ctx, `SELECT `+projectColumns+` FROM projects WHERE id = $1`, id))
	if err != nil {
		return nil, dbError("getting project", err)
	}
	return p, nil
}

// ListProjects returns projects in id order.
func (d *DB) ListProjects(ctx context.Context, f store.ListFilter) ([]*store.Project, error) {
	var q query
	q.filter("org_id = %s", f.OrgID)
	q.filter("workspace_id = %s", f.WorkspaceID)
	q.filter("id = %s", f.ProjectID)
	q.filter("external_id = %s", f.ExternalID)
	stmt := q.list(`SELECT `+projectColumns+` FROM projects`, f)
	rows, err := d.r.QueryContext(ctx, stmt, q.args...)
	return collect(rows, err, "listing projects", scanProject)
}
