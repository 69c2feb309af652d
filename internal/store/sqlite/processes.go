package sqlite

import (
	"context"

	"github.com/berth-dev/berth/internal/store"
)

const processColumns = `id, sandbox_id, command, cwd, created_at`

func scanProcess(sc scanner) (*store.Process, error) {
	var p store.Process
	if err := sc.Scan(&p.ID, &p.SandboxID, &p.Command, &p.Cwd, utc{&p.CreatedAt}); err != nil {
		return nil, err
	}
	return &p, nil
}

// CreateProcess records p.
func (d *DB) CreateProcess(ctx context.Context, p *store.Process) error {
	_, err := d.w.ExecContext(ctx,
		`INSERT INTO processes (id, sandbox_id, command, cwd, created_at) VALUES ($1, $2, $3, $4, $5)`,
		p.ID, p.SandboxID, p.Command, p.Cwd, ts(p.CreatedAt))
	if err != nil {
		return dbError("creating process", err)
	}
	return nil
}

// ListProcesses returns a sandbox's processes in id order.
func (d *DB) ListProcesses(ctx context.Context, sandboxID string) ([]*store.Process, error) {
	rows, err := d.r.QueryContext(ctx,
		`SELECT `+processColumns+` FROM processes WHERE sandbox_id = $1 ORDER BY id`, sandboxID)
	return collect(rows, err, "listing processes", scanProcess)
}
