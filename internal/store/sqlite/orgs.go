package sqlite

import (
	"context"

	"github.com/berth-dev/berth/internal/store"
)

const orgColumns = `id, slug, name, COALESCE(external_id, ''), created_at`

func scanOrg(sc scanner) (*store.Org, error) {
	var o store.Org
	err := sc.Scan(&o.ID, &o.Slug, &o.Name, &o.ExternalID, utc{&o.CreatedAt})
	if err != nil {
		return nil, err
	}
	return &o, nil
}

// CreateOrg records o.
func (d *DB) CreateOrg(ctx context.Context, o *store.Org) error {
	_, err := d.w.ExecContext(ctx,
		`INSERT INTO orgs (id, slug, name, external_id, created_at) VALUES ($1, $2, $3, $4, $5)`,
		o.ID, o.Slug, o.Name, nullable(o.ExternalID), ts(o.CreatedAt))
	if err != nil {
		return dbError("creating org", err)
	}
	return nil
}

// GetOrg returns the org with the given id.
func (d *DB) GetOrg(ctx context.Context, id string) (*store.Org, error) {
	o, err := scanOrg(d.r.QueryRowContext(ctx, `SELECT `+orgColumns+` FROM orgs WHERE id = $1`, id))
	if err != nil {
		return nil, dbError("getting org", err)
	}
	return o, nil
}

// ListOrgs returns orgs in id order. A WorkspaceID or ProjectID in f
// narrows the list to the org that owns it.
func (d *DB) ListOrgs(ctx context.Context, f store.ListFilter) ([]*store.Org, error) {
	var q query
	q.filter("id = %s", f.OrgID)
	q.filter("id IN (SELECT org_id FROM workspaces WHERE id = %s)", f.WorkspaceID)
	q.filter("id IN (SELECT org_id FROM projects WHERE id = %s)", f.ProjectID)
	q.filter("external_id = %s", f.ExternalID)
	stmt := q.list(`SELECT `+orgColumns+` FROM orgs`, f)
	rows, err := d.r.QueryContext(ctx, stmt, q.args...)
	return collect(rows, err, "listing orgs", scanOrg)
}
