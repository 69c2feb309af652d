package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/berth-dev/berth/internal/store"
)

const releaseColumns = `id, org_id, workspace_id, project_id, digest, size, env_names, build, provenance,
	COALESCE(external_id, ''), created_at`

func scanRelease(sc scanner) (*store.Release, error) {
	var r store.Release
	err := sc.Scan(&r.ID, &r.OrgID, &r.WorkspaceID, &r.ProjectID, &r.Digest, &r.Size, jsonCol{&r.EnvNames},
		jsonCol{&r.Build}, jsonCol{&r.Provenance}, &r.ExternalID, utc{&r.CreatedAt})
	if err != nil {
		return nil, err
	}
	return &r, nil
}

// CreateRelease records r, moving its CreatedAt past the second of the
// project's latest release when need be (store.Store says why).
func (d *DB) CreateRelease(ctx context.Context, r *store.Release) error {
	return d.InTx(ctx, func(tx store.Store) error { return tx.(*DB).createRelease(ctx, r) })
}

func (d *DB) createRelease(ctx context.Context, r *store.Release) error {
	var latest sql.NullString
	err := d.w.QueryRowContext(ctx, `SELECT MAX(created_at) FROM releases WHERE project_id = $1`, r.ProjectID).Scan(&latest)
	if err != nil {
		return dbError("creating release", err)
	}
	created := r.CreatedAt
	if latest.Valid {
		t, err := time.Parse(timeLayout, latest.String)
		if err != nil {
			return fmt.Errorf("creating release: parsing timestamp: %w", err)
		}
		if created.Unix() <= t.Unix() {
			created = time.Unix(t.Unix()+1, 0).UTC()
		}
	}
	envNames, err := jsonText(r.EnvNames)
	if err != nil {
		return fmt.Errorf("creating release: %w", err)
	}
	build, err := jsonText(r.Build)
	if err != nil {
		return fmt.Errorf("creating release: %w", err)
	}
	prov, err := jsonText(r.Provenance)
	if err != nil {
		return fmt.Errorf("creating release: %w", err)
	}
	_, err = d.w.ExecContext(ctx,
		`INSERT INTO releases (id, org_id, workspace_id, project_id, digest, size, env_names, build, provenance,
			external_id, created_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`,
		r.ID, r.OrgID, r.WorkspaceID, r.ProjectID, r.Digest, r.Size, envNames, build, prov,
		nullable(r.ExternalID), ts(created))
	if err != nil {
		return dbError("creating release", err)
	}
	r.CreatedAt = created
	return nil
}

// GetRelease returns the release with the given id.
func (d *DB) GetRelease(ctx context.Context, id string) (*store.Release, error) {
	r, err := scanRelease(d.r.QueryRowContext(ctx, `SELECT `+releaseColumns+` FROM releases WHERE id = $1`, id))
	if err != nil {
		return nil, dbError("getting release", err)
	}
	return r, nil
}

// ListReleases returns releases in id order.
func (d *DB) ListReleases(ctx context.Context, f store.ListFilter) ([]*store.Release, error) {
	var q query
	q.filter("org_id = %s", f.OrgID)
	q.filter("workspace_id = %s", f.WorkspaceID)
	q.filter("project_id = %s", f.ProjectID)
	q.filter("external_id = %s", f.ExternalID)
	stmt := q.list(`SELECT `+releaseColumns+` FROM releases`, f)
	rows, err := d.r.QueryContext(ctx, stmt, q.args...)
	return collect(rows, err, "listing releases", scanRelease)
}
