package sqlite

import (
	"context"
	"time"

	"github.com/berth-dev/berth/internal/store"
)

// certWhere is the additional data a certificate object is sealed with:
// the value only opens under its own key.
func certWhere(key string) string { return "cert_objects.value:" + key }

// PutCertObject creates or replaces the value at o.Key, sealed.
func (d *DB) PutCertObject(ctx context.Context, o *store.CertObject) error {
	_, err := d.w.ExecContext(ctx,
		`INSERT INTO cert_objects (key, value, size, updated_at) VALUES ($1, $2, $3, $4)
		ON CONFLICT (key) DO UPDATE SET value = excluded.value, size = excluded.size, updated_at = excluded.updated_at`,
		o.Key, d.seal.sealValue(o.Value, certWhere(o.Key)), len(o.Value), ts(o.UpdatedAt))
	if err != nil {
		return dbError("putting certificate object", err)
	}
	return nil
}

// GetCertObject returns the object at key, opened.
func (d *DB) GetCertObject(ctx context.Context, key string) (*store.CertObject, error) {
	o := store.CertObject{Key: key}
	var sealed string
	err := d.r.QueryRowContext(ctx, `SELECT value, updated_at FROM cert_objects WHERE key = $1`, key).
		Scan(&sealed, utc{&o.UpdatedAt})
	if err != nil {
		return nil, dbError("getting certificate object", err)
	}
	if o.Value, err = d.seal.openValue(sealed, certWhere(key)); err != nil {
		return nil, err
	}
	return &o, nil
}

// DeleteCertObjects deletes key and the keys under it. Keys under
// "k/" are exactly those between "k/" and "k0", '0' following '/'.
func (d *DB) DeleteCertObjects(ctx context.Context, key string) error {
	_, err := d.w.ExecContext(ctx, `DELETE FROM cert_objects WHERE key = $1 OR (key > $2 AND key < $3)`,
		key, key+"/", key+"0")
	if err != nil {
		return dbError("deleting certificate objects", err)
	}
	return nil
}

// ListCertKeys returns the keys under prefix, in order.
func (d *DB) ListCertKeys(ctx context.Context, prefix string) ([]string, error) {
	stmt, args := `SELECT key FROM cert_objects ORDER BY key`, []any(nil)
	if prefix != "" {
		stmt, args = `SELECT key FROM cert_objects WHERE key > $1 AND key < $2 ORDER BY key`, []any{prefix + "/", prefix + "0"}
	}
	rows, err := d.r.QueryContext(ctx, stmt, args...)
	if err != nil {
		return nil, dbError("listing certificate keys", err)
	}
	defer rows.Close()
	var keys []string
	for rows.Next() {
		var k string
		if err := rows.Scan(&k); err != nil {
			return nil, dbError("listing certificate keys", err)
		}
		keys = append(keys, k)
	}
	if err := rows.Err(); err != nil {
		return nil, dbError("listing certificate keys", err)
	}
	return keys, nil
}

// TryLockCert takes or extends the lock in one statement, so two edges
// racing for a free lock cannot both win.
func (d *DB) TryLockCert(ctx context.Context, name, owner string, expires time.Time) (bool, error) {
	res, err := d.w.ExecContext(ctx,
		`INSERT INTO cert_locks (name, owner, expires_at) VALUES ($1, $2, $3)
		ON CONFLICT (name) DO UPDATE SET owner = excluded.owner, expires_at = excluded.expires_at
		WHERE cert_locks.owner = excluded.owner OR cert_locks.expires_at < $4`,
		name, owner, expires.UnixMilli(), time.Now().UnixMilli())
	if err != nil {
		return false, dbError("taking certificate lock", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, dbError("taking certificate lock", err)
	}
	return n == 1, nil
}

// UnlockCert releases name if owner holds it.
func (d *DB) UnlockCert(ctx context.Context, name, owner string) error {
	_, err := d.w.ExecContext(ctx, `DELETE FROM cert_locks WHERE name = $1 AND owner = $2`, name, owner)
	if err != nil {
		return dbError("releasing certificate lock", err)
	}
	return nil
}
