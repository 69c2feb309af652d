package sqlite

import (
	"context"

	"github.com/berth-dev/berth/internal/store"
)

const brandingColumns = `owner_id, org_id, product_name, logo_url, primary_color, accent_color, support_url,
	support_email, updated_at`

func scanBranding(sc scanner) (*store.Branding, error) {
	var b store.Branding
	err := sc.Scan(&b.OwnerID, &b.OrgID, &b.ProductName, &b.LogoURL, &b.PrimaryColor, &b.AccentColor,
		&b.SupportURL, &b.SupportEmail, utc{&b.UpdatedAt})
	if err != nil {
		return nil, err
	}
	return &b, nil
}

// PutBranding creates or replaces the branding of b.OwnerID.
func (d *DB) PutBranding(ctx context.Context, b *store.Branding) error {
	_, err := d.w.ExecContext(ctx,
		`INSERT INTO brandings (`+brandingColumns+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
		ON CONFLICT (owner_id) DO UPDATE SET org_id = excluded.org_id, product_name = excluded.product_name,
			logo_url = excluded.logo_url, primary_color = excluded.primary_color, accent_color = excluded.accent_color,
			support_url = excluded.support_url, support_email = excluded.support_email, updated_at = excluded.updated_at`,
		b.OwnerID, b.OrgID, b.ProductName, b.LogoURL, b.PrimaryColor, b.AccentColor, b.SupportURL, b.SupportEmail,
		ts(b.UpdatedAt))
	if err != nil {
		return dbError("putting branding", err)
	}
	return nil
}

// GetBranding returns an owner's branding.
func (d *DB) GetBranding(ctx context.Context, ownerID string) (*store.Branding, error) {
	b, err := scanBranding(d.r.QueryRowContext(ctx, `SELECT `+brandingColumns+` FROM brandings WHERE owner_id = $1`, ownerID))
	if err != nil {
		return nil, dbError("getting branding", err)
	}
	return b, nil
}

// ListBrandings returns every branding in owner id order.
func (d *DB) ListBrandings(ctx context.Context) ([]*store.Branding, error) {
	rows, err := d.r.QueryContext(ctx, `SELECT `+brandingColumns+` FROM brandings ORDER BY owner_id`)
	return collect(rows, err, "listing brandings", scanBranding)
}

const domainColumns = `id, hostname, org_id, COALESCE(workspace_id, ''), COALESCE(deployment_id, ''), token, status,
	status_reason, verified_at, created_at, updated_at`

func scanDomain(sc scanner) (*store.Domain, error) {
	var m store.Domain
	err := sc.Scan(&m.ID, &m.Hostname, &m.OrgID, &m.WorkspaceID, &m.DeploymentID, &m.Token, &m.Status,
		&m.StatusReason, utc{&m.VerifiedAt}, utc{&m.CreatedAt}, utc{&m.UpdatedAt})
	if err != nil {
		return nil, err
	}
	return &m, nil
}

// CreateDomain records m.
func (d *DB) CreateDomain(ctx context.Context, m *store.Domain) error {
	_, err := d.w.ExecContext(ctx,
		`INSERT INTO domains (id, hostname, org_id, workspace_id, deployment_id, token, status, status_reason,
			verified_at, created_at, updated_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`,
		m.ID, m.Hostname, m.OrgID, nullable(m.WorkspaceID), nullable(m.DeploymentID), m.Token, m.Status,
		m.StatusReason, ts(m.VerifiedAt), ts(m.CreatedAt), ts(m.UpdatedAt))
	if err != nil {
		return dbError("creating domain", err)
	}
	return nil
}

// GetDomain returns the domain with the given id.
func (d *DB) GetDomain(ctx context.Context, id string) (*store.Domain, error) {
	m, err := scanDomain(d.r.QueryRowContext(ctx, `SELECT `+domainColumns+` FROM domains WHERE id = $1`, id))
	if err != nil {
		return nil, dbError("getting domain", err)
	}
	return m, nil
}

// UpdateDomain writes m's status, reason and verification time.
func (d *DB) UpdateDomain(ctx context.Context, m *store.Domain) error {
	t := now()
	err := d.execOne(ctx, "updating domain",
		`UPDATE domains SET status = $1, status_reason = $2, verified_at = $3, updated_at = $4 WHERE id = $5`,
		m.Status, m.StatusReason, ts(m.VerifiedAt), ts(t), m.ID)
	if err != nil {
		return err
	}
	m.UpdatedAt = t
	return nil
}

// DeleteDomain removes a domain.
func (d *DB) DeleteDomain(ctx context.Context, id string) error {
	return d.execOne(ctx, "deleting domain", `DELETE FROM domains WHERE id = $1`, id)
}

// ListDomains lists domains in id order.
func (d *DB) ListDomains(ctx context.Context, f store.ListFilter) ([]*store.Domain, error) {
	var q query
	q.filter("org_id = %s", f.OrgID)
	q.filter("workspace_id = %s", f.WorkspaceID)
	stmt := q.list(`SELECT `+domainColumns+` FROM domains`, f)
	rows, err := d.r.QueryContext(ctx, stmt, q.args...)
	return collect(rows, err, "listing domains", scanDomain)
}
