package sqlite

import (
	"context"

	"github.com/berth-dev/berth/internal/store"
)

// AppendEvent records e and sets e.Seq to the sequence number it got.
func (d *DB) AppendEvent(ctx context.Context, e *store.Event) error {
	err := d.w.QueryRowContext(ctx,
		`INSERT INTO events (id, resource_id, type, message, created_at) VALUES ($1, $2, $3, $4, $5) RETURNING seq`,
		e.ID, e.ResourceID, e.Type, e.Message, ts(e.CreatedAt)).Scan(&e.Seq)
	if err != nil {
		return dbError("appending event", err)
	}
	return nil
}

// ListEvents returns the events of resourceID (of every resource when it
// is empty) with Seq > after, oldest first, at most limit (100 when 0,
// 1000 at most).
func (d *DB) ListEvents(ctx context.Context, resourceID string, after int64, limit int) ([]*store.Event, error) {
	var q query
	q.filter("resource_id = %s", resourceID)
	q.where = append(q.where, "seq > "+q.arg(after))
	stmt := q.finish(`SELECT seq, id, resource_id, type, message, created_at FROM events`, "seq", listLimit(limit))
	rows, err := d.r.QueryContext(ctx, stmt, q.args...)
	return collect(rows, err, "listing events", func(sc scanner) (*store.Event, error) {
		var e store.Event
		if err := sc.Scan(&e.Seq, &e.ID, &e.ResourceID, &e.Type, &e.Message, utc{&e.CreatedAt}); err != nil {
			return nil, err
		}
		return &e, nil
	})
}
