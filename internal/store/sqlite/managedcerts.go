package sqlite

import (
	"context"

	"github.com/berth-dev/berth/internal/store"
)

const managedCertColumns = `name, org_id, status, reason, updated_at`

func scanManagedCert(sc scanner) (*store.ManagedCert, error) {
	var m store.ManagedCert
	if err := sc.Scan(&m.Name, &m.OrgID, &m.Status, &m.Reason, utc{&m.UpdatedAt}); err != nil {
		return nil, err
	}
	return &m, nil
}

// PutManagedCert creates or replaces the record of m.Name.
func (d *DB) PutManagedCert(ctx context.Context, m *store.ManagedCert) error {
	_, err := d.w.ExecContext(ctx,
		`INSERT INTO managed_certs (`+managedCertColumns+`) VALUES ($1, $2, $3, $4, $5)
		ON CONFLICT (name) DO UPDATE SET org_id = excluded.org_id, status = excluded.status,
			reason = excluded.reason, updated_at = excluded.updated_at`,
		m.Name, m.OrgID, m.Status, m.Reason, ts(m.UpdatedAt))
	if err != nil {
		return dbError("putting managed certificate", err)
	}
	return nil
}

// GetManagedCert returns the record of name.
func (d *DB) GetManagedCert(ctx context.Context, name string) (*store.ManagedCert, error) {
	m, err := scanManagedCert(d.r.QueryRowContext(ctx, `SELECT `+managedCertColumns+` FROM managed_certs WHERE name = $1`, name))
	if err != nil {
		return nil, dbError("getting managed certificate", err)
	}
	return m, nil
}

// ListManagedCerts returns one org's records, or every org's.
func (d *DB) ListManagedCerts(ctx context.Context, orgID string) ([]*store.ManagedCert, error) {
	stmt, args := `SELECT `+managedCertColumns+` FROM managed_certs ORDER BY name`, []any(nil)
	if orgID != "" {
		stmt, args = `SELECT `+managedCertColumns+` FROM managed_certs WHERE org_id = $1 ORDER BY name`, []any{orgID}
	}
	rows, err := d.r.QueryContext(ctx, stmt, args...)
	return collect(rows, err, "listing managed certificates", scanManagedCert)
}
