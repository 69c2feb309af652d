package sqlite

import (
	"database/sql"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/berth-dev/berth/internal/store"
)

// timeLayout is RFC 3339 with nanoseconds always written out, so that in
// UTC every timestamp has the same width and text order is time order.
const timeLayout = "2006-01-02T15:04:05.000000000Z07:00"

// ts is how a time is written: fixed-width UTC text.
func ts(t time.Time) string { return t.UTC().Format(timeLayout) }

// now is the time Update methods record.
func now() time.Time { return time.Now().UTC() }

// nullable writes an empty string as NULL: empty optional references and
// external ids must neither be checked nor collide.
func nullable(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// jsonText encodes v for a JSON column. The model types always encode.
func jsonText(v any) (string, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return "", fmt.Errorf("encoding json: %w", err)
	}
	return string(b), nil
}

// utc scans a timestamp written by ts into a UTC time.Time.
type utc struct{ t *time.Time }

func (c utc) Scan(src any) error {
	s, err := text(src)
	if err != nil {
		return err
	}
	t, err := time.Parse(timeLayout, s)
	if err != nil {
		return fmt.Errorf("parsing timestamp: %w", err)
	}
	*c.t = t.UTC()
	return nil
}

// jsonCol scans a JSON column into v, a pointer.
type jsonCol struct{ v any }

func (c jsonCol) Scan(src any) error {
	s, err := text(src)
	if err != nil {
		return err
	}
	if err := json.Unmarshal([]byte(s), c.v); err != nil {
		return fmt.Errorf("decoding json column: %w", err)
	}
	return nil
}

func text(src any) (string, error) {
	switch v := src.(type) {
	case string:
		return v, nil
	case []byte:
		return string(v), nil
	}
	return "", fmt.Errorf("want a text column, got %T", src)
}

// Interface guards.
var (
	_ sql.Scanner = utc{}
	_ sql.Scanner = jsonCol{}
)

// scanner is a *sql.Row or *sql.Rows.
type scanner interface {
	Scan(dest ...any) error
}

// query builds a list statement: filters, a cursor and a limit, with
// PostgreSQL-style numbered placeholders, which SQLite also reads.
type query struct {
	where []string
	args  []any
}

// arg adds a value and returns its placeholder.
func (q *query) arg(v any) string {
	q.args = append(q.args, v)
	return "$" + strconv.Itoa(len(q.args))
}

// filter adds cond, a format with one %s for v's placeholder, unless v is
// empty: empty fields of a filter do not filter.
func (q *query) filter(cond, v string) {
	if v == "" {
		return
	}
	q.where = append(q.where, fmt.Sprintf(cond, q.arg(v)))
}

// list finishes a statement that selects from a table with an id column.
func (q *query) list(selectFrom string, f store.ListFilter) string {
	q.filter("id > %s", f.After)
	return q.finish(selectFrom, "id", listLimit(f.Limit))
}

func (q *query) finish(selectFrom, orderBy string, n int) string {
	var b strings.Builder
	b.WriteString(selectFrom)
	if len(q.where) > 0 {
		b.WriteString(" WHERE ")
		b.WriteString(strings.Join(q.where, " AND "))
	}
	b.WriteString(" ORDER BY " + orderBy)
	b.WriteString(" LIMIT " + q.arg(n))
	return b.String()
}

// listLimit applies the default and the cap of list sizes.
func listLimit(n int) int {
	switch {
	case n <= 0:
		return 100
	case n > 1000:
		return 1000
	}
	return n
}

// collect runs a list statement and scans each row with scan.
func collect[T any](rows *sql.Rows, err error, op string, scan func(scanner) (*T, error)) ([]*T, error) {
	if err != nil {
		return nil, dbError(op, err)
	}
	defer rows.Close()
	out := []*T{}
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return nil, dbError(op, err)
		}
		out = append(out, v)
	}
	if err := rows.Err(); err != nil {
		return nil, dbError(op, err)
	}
	return out, nil
}
