package sqlite

import (
	"context"

	"github.com/berth-dev/berth/internal/store"
)

const apiKeyColumns = `id, name, hash, prefix, COALESCE(org_id, ''), COALESCE(workspace_id, ''),
	COALESCE(project_id, ''), role, created_at`

func scanAPIKey(sc scanner) (*store.APIKey, error) {
	var k store.APIKey
	err := sc.Scan(&k.ID, &k.Name, &k.Hash, &k.Prefix, &k.OrgID, &k.WorkspaceID, &k.ProjectID, &k.Role, utc{&k.CreatedAt})
	if err != nil {
		return nil, err
	}
	return &k, nil
}

// CreateAPIKey records k. Empty scope ids are stored as NULL: a key with
// no org is a platform key.
func (d *DB) CreateAPIKey(ctx context.Context, k *store.APIKey) error {
	_, err := d.w.ExecContext(ctx,
		`INSERT INTO api_keys (id, name, hash, prefix, org_id, workspace_id, project_id, role, created_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
		k.ID, k.Name, k.Hash, k.Prefix, nullable(k.OrgID), nullable(k.WorkspaceID), nullable(k.ProjectID),
		k.Role, ts(k.CreatedAt))
	if err != nil {
		return dbError("creating api key", err)
	}
	return nil
}

// GetAPIKeyByHash returns the key whose secret hashes to hash.
func (d *DB) GetAPIKeyByHash(ctx context.Context, hash string) (*store.APIKey, error) {
	k, err := scanAPIKey(d.r.QueryRowContext(ctx, `SELECT `+apiKeyColumns+` FROM api_keys WHERE hash = $1`, hash))
	if err != nil {
		return nil, dbError("getting api key", err)
	}
	return k, nil
}

// CountAPIKeys returns how many keys exist.
func (d *DB) CountAPIKeys(ctx context.Context) (int, error) {
	var n int
	if err := d.r.QueryRowContext(ctx, `SELECT COUNT(*) FROM api_keys`).Scan(&n); err != nil {
		return 0, dbError("counting api keys", err)
	}
	return n, nil
}
