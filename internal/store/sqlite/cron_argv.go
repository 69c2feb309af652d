package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"

	"github.com/pressly/goose/v3"
)

// cronArgvVersion is the migration that makes every stored cron command an
// argv. It is a Go migration, not SQL, because targets are sealed: only
// this process, holding the seal key, can read and rewrite them.
const cronArgvVersion = 13

// cronArgvMigration rewrites the sealed targets of cron jobs written when a
// command was one string run with sh -c: the command becomes the argv
// ["sh", "-c", command], which runs it exactly as before, and the target
// drops deployment_id, a column of the job since. Other targets are left
// as they are.
func cronArgvMigration(seal *sealer) *goose.Migration {
	return goose.NewGoMigration(cronArgvVersion, &goose.GoFunc{RunTx: func(ctx context.Context, tx *sql.Tx) error {
		rows, err := tx.QueryContext(ctx, `SELECT id, target FROM cron_jobs`)
		if err != nil {
			return fmt.Errorf("reading cron targets: %w", err)
		}
		type row struct{ id, target string }
		var todo []row
		for rows.Next() {
			var r row
			if err := rows.Scan(&r.id, &r.target); err != nil {
				rows.Close()
				return fmt.Errorf("reading cron targets: %w", err)
			}
			todo = append(todo, r)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return fmt.Errorf("reading cron targets: %w", err)
		}
		for _, r := range todo {
			plain, err := seal.openValue(r.target, cronTargetAD(r.id))
			if err != nil {
				return err
			}
			updated, changed, err := argvTarget(plain)
			if err != nil {
				return fmt.Errorf("cron job %s: %w", r.id, err)
			}
			if !changed {
				continue
			}
			if _, err := tx.ExecContext(ctx, `UPDATE cron_jobs SET target = $1 WHERE id = $2`,
				seal.sealValue(updated, cronTargetAD(r.id)), r.id); err != nil {
				return fmt.Errorf("rewriting the target of cron job %s: %w", r.id, err)
			}
		}
		return nil
	}}, nil)
}

// argvTarget turns a target whose command is a string into one whose
// command is ["sh", "-c", it], and drops its deployment_id; changed is
// false when there was nothing to do.
func argvTarget(plain []byte) (updated []byte, changed bool, err error) {
	var t map[string]json.RawMessage
	if err := json.Unmarshal(plain, &t); err != nil {
		return nil, false, fmt.Errorf("decoding the target: %w", err)
	}
	if _, ok := t["deployment_id"]; ok {
		delete(t, "deployment_id")
		changed = true
	}
	var command string
	if raw, ok := t["command"]; ok && json.Unmarshal(raw, &command) == nil {
		if command == "" {
			delete(t, "command")
		} else {
			t["command"], _ = json.Marshal([]string{"sh", "-c", command})
		}
		changed = true
	}
	if !changed {
		return plain, false, nil
	}
	updated, err = json.Marshal(t)
	return updated, true, err
}
