// Package sqlite implements store.Store on an embedded SQLite database
// (modernc.org/sqlite, no cgo).
//
// Writes go through one connection, so they queue in Go instead of
// fighting over SQLite's write lock; reads use a separate pool and, thanks
// to WAL, never wait for a writer. A consequence: inside InTx, use the
// Store passed to fn, never the outer one, for writes: the outer one would
// wait for the connection the transaction holds.
//
// Besides the sentinels the store package documents, a write that names a
// row which does not exist (a project in a missing workspace) fails with
// an error wrapping store.ErrNotFound.
package sqlite

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"runtime"
	"slices"
	"strings"

	"github.com/pressly/goose/v3"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/berth-dev/berth/internal/store"
)

//go:embed migrations/*.sql
var migrationFiles embed.FS

// DB is a store.Store on a SQLite file. The value Open returns is safe for
// concurrent use; the one InTx passes to its function is bound to that
// transaction.
type DB struct {
	// r runs reads and w runs writes: two pools (with their prepared
	// statements) outside a transaction, the same *sql.Tx inside one.
	r, w querier
	// pools is nil inside a transaction.
	pools *pools
	seal  *sealer
}

type pools struct {
	read, write           *sql.DB
	readStmts, writeStmts *stmtPool
}

// querier is what *sql.DB and *sql.Tx have in common.
type querier interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// Open opens (creating it if needed) the database at path and brings its
// schema up to date. sealKey is the 32-byte AES-256 key that encrypts
// secrets (env values, agent secrets) before they reach the file; keep it
// outside the database.
func Open(path string, sealKey []byte) (*DB, error) {
	seal, err := newSealer(sealKey)
	if err != nil {
		return nil, err
	}
	// The reader and writer pools must share one file: an in-memory
	// database would be one per connection.
	if path == "" || path == ":memory:" || strings.HasPrefix(path, "file:") || strings.Contains(path, "?") {
		return nil, fmt.Errorf("opening database: %q is not a plain file path", path)
	}
	pragmas := []string{"busy_timeout(10000)", "foreign_keys(1)", "synchronous(NORMAL)"}
	wq := url.Values{"_pragma": slices.Concat(pragmas, []string{"journal_mode(WAL)"}), "_txlock": {"immediate"}}
	write, err := sql.Open("sqlite", path+"?"+wq.Encode())
	if err != nil {
		return nil, fmt.Errorf("opening database: %w", err)
	}
	// One writer: SQLite allows no more at a time, and writers queueing
	// for this connection are served in turn, where SQLite's busy handler
	// would have them poll and, past busy_timeout, fail. Transactions
	// still begin IMMEDIATE (take the write lock at once) so that another
	// process writing to the file cannot make a read-then-write
	// transaction fail halfway.
	write.SetMaxOpenConns(1)
	if err := migrate(write, seal); err != nil {
		write.Close()
		return nil, err
	}

	// The read pool opens after migrating, so the file is already in WAL
	// mode, which lasts: readers need not (and must not race to) set it.
	rq := url.Values{"_pragma": slices.Concat(pragmas, []string{"query_only(1)"})}
	read, err := sql.Open("sqlite", path+"?"+rq.Encode())
	if err != nil {
		write.Close()
		return nil, fmt.Errorf("opening database: %w", err)
	}
	read.SetMaxOpenConns(max(4, runtime.GOMAXPROCS(0)))
	if err := read.Ping(); err != nil {
		write.Close()
		read.Close()
		return nil, fmt.Errorf("opening database: %w", err)
	}
	pl := &pools{read: read, write: write, readStmts: newStmtPool(read), writeStmts: newStmtPool(write)}
	return &DB{r: pl.readStmts, w: pl.writeStmts, pools: pl, seal: seal}, nil
}

// migrate applies the embedded migrations (and the Go ones, which need
// the seal key) that db has not seen yet.
func migrate(db *sql.DB, seal *sealer) error {
	p, err := migrations(db, seal)
	if err != nil {
		return err
	}
	// p.Close would close db, which stays ours.
	if _, err := p.Up(context.Background()); err != nil {
		return fmt.Errorf("migrating database: %w", err)
	}
	return nil
}

// migrations is the provider of the embedded migrations and the Go ones
// on db.
func migrations(db *sql.DB, seal *sealer) (*goose.Provider, error) {
	dir, err := fs.Sub(migrationFiles, "migrations")
	if err != nil {
		return nil, fmt.Errorf("reading migrations: %w", err)
	}
	p, err := goose.NewProvider(goose.DialectSQLite3, db, dir, goose.WithDisableGlobalRegistry(true),
		goose.WithGoMigrations(cronArgvMigration(seal)))
	if err != nil {
		return nil, fmt.Errorf("loading migrations: %w", err)
	}
	return p, nil
}

// InTx runs fn with a DB bound to one write transaction. Called on a DB
// that is already bound to one, it runs fn in that same transaction.
func (d *DB) InTx(ctx context.Context, fn func(tx store.Store) error) error {
	if d.pools == nil {
		return fn(d)
	}
	tx, err := d.pools.write.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("beginning transaction: %w", err)
	}
	defer func() {
		if p := recover(); p != nil {
			tx.Rollback()
			panic(p)
		}
	}()
	q := stmtTx{tx: tx, stmts: d.pools.writeStmts}
	if err := fn(&DB{r: q, w: q, seal: d.seal}); err != nil {
		// fn's error is the one the caller acts on: a rollback error
		// would only hide it.
		tx.Rollback()
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("committing transaction: %w", err)
	}
	return nil
}

// Close closes the database. It fails on a DB bound to a transaction,
// which InTx ends instead.
func (d *DB) Close() error {
	if d.pools == nil {
		return errors.New("closing database: a transaction's store cannot be closed; return from InTx instead")
	}
	d.pools.readStmts.close()
	d.pools.writeStmts.close()
	return errors.Join(d.pools.read.Close(), d.pools.write.Close())
}

// dbError turns a driver error into one that wraps the store's sentinels
// where one applies, with op saying what was being done.
func dbError(op string, err error) error {
	if errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("%s: %w", op, store.ErrNotFound)
	}
	var se *sqlite.Error
	if errors.As(err, &se) {
		switch se.Code() {
		case sqlite3.SQLITE_CONSTRAINT_UNIQUE, sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY:
			return fmt.Errorf("%s: %w: %w", op, store.ErrConflict, err)
		case sqlite3.SQLITE_CONSTRAINT_FOREIGNKEY:
			return fmt.Errorf("%s: a referenced row is %w: %w", op, store.ErrNotFound, err)
		}
	}
	return fmt.Errorf("%s: %w", op, err)
}

// execOne runs a statement that must change exactly one row: an update of
// a row that does not exist reports store.ErrNotFound.
func (d *DB) execOne(ctx context.Context, op, query string, args ...any) error {
	res, err := d.w.ExecContext(ctx, query, args...)
	if err != nil {
		return dbError(op, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return dbError(op, err)
	}
	if n == 0 {
		return fmt.Errorf("%s: %w", op, store.ErrNotFound)
	}
	return nil
}

// Interface guards.
var _ store.Store = (*DB)(nil)
