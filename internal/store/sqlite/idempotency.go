package sqlite

import (
	"context"

	"github.com/berth-dev/berth/internal/store"
)

// GetIdempotent returns the response recorded for (keyID, idemKey).
func (d *DB) GetIdempotent(ctx context.Context, keyID, idemKey string) (*store.Idempotent, error) {
	var r store.Idempotent
	err := d.r.QueryRowContext(ctx,
		`SELECT key_id, idem_key, request, status, body, created_at FROM idempotency WHERE key_id = $1 AND idem_key = $2`,
		keyID, idemKey).Scan(&r.KeyID, &r.IdemKey, &r.Request, &r.Status, &r.Body, utc{&r.CreatedAt})
	if err != nil {
		return nil, dbError("getting idempotency record", err)
	}
	return &r, nil
}

// PutIdempotent records r; a second record for the same key conflicts.
func (d *DB) PutIdempotent(ctx context.Context, r *store.Idempotent) error {
	body := r.Body
	if body == nil {
		body = []byte{} // the column is NOT NULL
	}
	_, err := d.w.ExecContext(ctx,
		`INSERT INTO idempotency (key_id, idem_key, request, status, body, created_at) VALUES ($1, $2, $3, $4, $5, $6)`,
		r.KeyID, r.IdemKey, r.Request, r.Status, body, ts(r.CreatedAt))
	if err != nil {
		return dbError("recording idempotency record", err)
	}
	return nil
}
