package sqlite

import (
	"context"
	"database/sql"
	"sync"
)

// maxStmts bounds how many query texts a pool keeps prepared; the store's
// queries are a few hundred texts, so past it a query runs unprepared.
const maxStmts = 1024

// stmtPool runs each query text as a statement prepared once (and again
// on each pool connection the first time it runs there) rather than
// parsed anew on every call, which is about half of a short read's time.
type stmtPool struct {
	db    *sql.DB
	mu    sync.Mutex
	stmts map[string]*sql.Stmt
}

func newStmtPool(db *sql.DB) *stmtPool { return &stmtPool{db: db, stmts: map[string]*sql.Stmt{}} }

// stmt is the prepared statement of query, or nil when it can't be kept
// (the cache is full, or preparing failed: running it unprepared then
// gives the caller the error).
func (p *stmtPool) stmt(ctx context.Context, query string) *sql.Stmt {
	p.mu.Lock()
	st, ok := p.stmts[query]
	full := len(p.stmts) >= maxStmts
	p.mu.Unlock()
	if ok || full {
		return st
	}
	st, err := p.db.PrepareContext(ctx, query)
	if err != nil {
		return nil
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if prev, ok := p.stmts[query]; ok {
		st.Close() // another caller prepared it meanwhile
		return prev
	}
	p.stmts[query] = st
	return st
}

// cached is the statement of query if one was prepared already. A
// transaction holds the write pool's only connection, so it can use a
// statement prepared before but can't prepare one for the pool.
func (p *stmtPool) cached(query string) *sql.Stmt {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.stmts[query]
}

func (p *stmtPool) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	if st := p.stmt(ctx, query); st != nil {
		return st.ExecContext(ctx, args...)
	}
	return p.db.ExecContext(ctx, query, args...)
}

func (p *stmtPool) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	if st := p.stmt(ctx, query); st != nil {
		return st.QueryContext(ctx, args...)
	}
	return p.db.QueryContext(ctx, query, args...)
}

func (p *stmtPool) QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row {
	if st := p.stmt(ctx, query); st != nil {
		return st.QueryRowContext(ctx, args...)
	}
	return p.db.QueryRowContext(ctx, query, args...)
}

// close closes the kept statements.
func (p *stmtPool) close() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for q, st := range p.stmts {
		st.Close()
		delete(p.stmts, q)
	}
}

// stmtTx runs a transaction's queries with the write pool's statements
// prepared already, bound to the transaction's connection; the others
// run unprepared.
type stmtTx struct {
	tx    *sql.Tx
	stmts *stmtPool
}

func (t stmtTx) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	if st := t.stmts.cached(query); st != nil {
		return t.tx.StmtContext(ctx, st).ExecContext(ctx, args...)
	}
	return t.tx.ExecContext(ctx, query, args...)
}

func (t stmtTx) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	if st := t.stmts.cached(query); st != nil {
		return t.tx.StmtContext(ctx, st).QueryContext(ctx, args...)
	}
	return t.tx.QueryContext(ctx, query, args...)
}

func (t stmtTx) QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row {
	if st := t.stmts.cached(query); st != nil {
		return t.tx.StmtContext(ctx, st).QueryRowContext(ctx, args...)
	}
	return t.tx.QueryRowContext(ctx, query, args...)
}
