package sqlite

import (
	"context"

	"github.com/berth-dev/berth/internal/store"
)

const processColumns = `id, sandbox_id, command, cwd, env, created_at`

// processEnvAD binds a sealed env to its process.
func processEnvAD(id string) string { return "processes.env " + id }

func (d *DB) scanProcess(sc scanner) (*store.Process, error) {
	var p store.Process
	var env string
	if err := sc.Scan(&p.ID, &p.SandboxID, &p.Command, &p.Cwd, &env, utc{&p.CreatedAt}); err != nil {
		return nil, err
	}
	var err error
	if p.Env, err = d.openEnv(env, processEnvAD(p.ID)); err != nil {
		return nil, err
	}
	return &p, nil
}

// CreateProcess records p; its env is sealed like a sandbox's.
func (d *DB) CreateProcess(ctx context.Context, p *store.Process) error {
	env, err := d.sealEnv(p.Env, processEnvAD(p.ID))
	if err != nil {
		return err
	}
	_, err = d.w.ExecContext(ctx,
		`INSERT INTO processes (id, sandbox_id, command, cwd, env, created_at) VALUES ($1, $2, $3, $4, $5, $6)`,
		p.ID, p.SandboxID, p.Command, p.Cwd, env, ts(p.CreatedAt))
	if err != nil {
		return dbError("creating process", err)
	}
	return nil
}

// ListProcesses returns a sandbox's processes in id order.
func (d *DB) ListProcesses(ctx context.Context, sandboxID string) ([]*store.Process, error) {
	rows, err := d.r.QueryContext(ctx,
		`SELECT `+processColumns+` FROM processes WHERE sandbox_id = $1 ORDER BY id`, sandboxID)
	return collect(rows, err, "listing processes", d.scanProcess)
}
