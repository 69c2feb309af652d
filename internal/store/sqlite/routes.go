package sqlite

import (
	"context"
	"strings"
	"time"

	"github.com/berth-dev/berth/internal/store"
)

// GetOrgBySlug returns the org with the slug.
func (d *DB) GetOrgBySlug(ctx context.Context, slug string) (*store.Org, error) {
	var o store.Org
	err := d.r.QueryRowContext(ctx, `SELECT id, slug, name, COALESCE(external_id, ''), created_at FROM orgs WHERE slug = $1`, slug).
		Scan(&o.ID, &o.Slug, &o.Name, &o.ExternalID, utc{&o.CreatedAt})
	if err != nil {
		return nil, dbError("getting org by slug", err)
	}
	return &o, nil
}

// placeholders returns "$n, $n+1, …" for the values, appended to args.
func placeholders(q *query, values []string) string {
	ph := make([]string, len(values))
	for i, v := range values {
		ph[i] = q.arg(v)
	}
	return strings.Join(ph, ", ")
}

// ListVerifiedDomains returns the verified domains among hostnames: those
// store.Domain.Verified holds for, the rule of the unique index too.
func (d *DB) ListVerifiedDomains(ctx context.Context, hostnames []string) ([]*store.Domain, error) {
	if len(hostnames) == 0 {
		return nil, nil
	}
	var q query
	stmt := `SELECT ` + domainColumns + ` FROM domains
		WHERE (status IN ('verified', 'certificate_issued') OR verified_at <> ` + q.arg(ts(time.Time{})) + `)
		AND hostname IN (` + placeholders(&q, hostnames) + `) ORDER BY hostname`
	rows, err := d.r.QueryContext(ctx, stmt, q.args...)
	return collect(rows, err, "listing verified domains", scanDomain)
}

// DeploymentTarget returns the newest deployment not deleted of a project
// by slug.
func (d *DB) DeploymentTarget(ctx context.Context, orgID, projectSlug string) (*store.RouteTarget, error) {
	var t store.RouteTarget
	err := d.r.QueryRowContext(ctx,
		`SELECT d.id, d.org_id, d.workspace_id, d.project_id, d.status, d.upstream, COALESCE(d.host_id, ''), d.desired_state
		FROM projects p JOIN deployments d ON d.project_id = p.id
		WHERE p.org_id = $1 AND p.slug = $2 AND d.desired_state <> $3 ORDER BY d.id DESC LIMIT 1`, orgID, projectSlug, store.DesiredDeleted).
		Scan(&t.ID, &t.OrgID, &t.WorkspaceID, &t.ProjectID, &t.Status, &t.Upstream, &t.HostID, &t.Desired)
	if err != nil {
		return nil, dbError("getting deployment target", err)
	}
	return &t, nil
}

// PortalTarget returns the Docker Deploy host of a workspace by slug.
func (d *DB) PortalTarget(ctx context.Context, orgID, workspaceSlug string) (*store.Host, error) {
	h, err := d.scanHost(d.r.QueryRowContext(ctx, `SELECT `+hostColumns+` FROM hosts
		WHERE kind = $1 AND workspace_id = (SELECT id FROM workspaces WHERE org_id = $2 AND slug = $3)`,
		store.HostDockerDeploy, orgID, workspaceSlug))
	if err != nil {
		return nil, dbError("getting portal target", err)
	}
	return h, nil
}

// SandboxTarget returns a sandbox by slug, with its preview upstream.
func (d *DB) SandboxTarget(ctx context.Context, slug string) (*store.RouteTarget, error) {
	var t store.RouteTarget
	var port int
	var ups map[int]string
	err := d.r.QueryRowContext(ctx,
		`SELECT id, org_id, workspace_id, project_id, status, preview_port, upstreams FROM sandboxes WHERE slug = $1`, slug).
		Scan(&t.ID, &t.OrgID, &t.WorkspaceID, &t.ProjectID, &t.Status, &port, jsonCol{&ups})
	if err != nil {
		return nil, dbError("getting sandbox target", err)
	}
	t.Upstream = ups[port]
	return &t, nil
}

const pageColumns = `owner_id, org_id, kind, body, digest, updated_at`

func scanPage(sc scanner) (*store.Page, error) {
	var p store.Page
	if err := sc.Scan(&p.OwnerID, &p.OrgID, &p.Kind, &p.Body, &p.Digest, utc{&p.UpdatedAt}); err != nil {
		return nil, err
	}
	return &p, nil
}

// PutPage creates or replaces a custom page.
func (d *DB) PutPage(ctx context.Context, p *store.Page) error {
	_, err := d.w.ExecContext(ctx,
		`INSERT INTO edge_pages (`+pageColumns+`) VALUES ($1, $2, $3, $4, $5, $6)
		ON CONFLICT (owner_id, kind) DO UPDATE SET org_id = excluded.org_id, body = excluded.body,
			digest = excluded.digest, updated_at = excluded.updated_at`,
		p.OwnerID, p.OrgID, p.Kind, p.Body, p.Digest, ts(p.UpdatedAt))
	if err != nil {
		return dbError("putting page", err)
	}
	return nil
}

// GetPage returns an owner's page of a kind.
func (d *DB) GetPage(ctx context.Context, ownerID, kind string) (*store.Page, error) {
	p, err := scanPage(d.r.QueryRowContext(ctx, `SELECT `+pageColumns+` FROM edge_pages WHERE owner_id = $1 AND kind = $2`, ownerID, kind))
	if err != nil {
		return nil, dbError("getting page", err)
	}
	return p, nil
}

// GetPageByDigest returns a page with the digest.
func (d *DB) GetPageByDigest(ctx context.Context, digest string) (*store.Page, error) {
	p, err := scanPage(d.r.QueryRowContext(ctx, `SELECT `+pageColumns+` FROM edge_pages WHERE digest = $1 LIMIT 1`, digest))
	if err != nil {
		return nil, dbError("getting page by digest", err)
	}
	return p, nil
}

// DeletePage removes an owner's page of a kind.
func (d *DB) DeletePage(ctx context.Context, ownerID, kind string) error {
	return d.execOne(ctx, "deleting page", `DELETE FROM edge_pages WHERE owner_id = $1 AND kind = $2`, ownerID, kind)
}

// ListPages returns the owners' pages.
func (d *DB) ListPages(ctx context.Context, ownerIDs []string) ([]*store.Page, error) {
	if len(ownerIDs) == 0 {
		return nil, nil
	}
	var q query
	stmt := `SELECT ` + pageColumns + ` FROM edge_pages WHERE owner_id IN (` + placeholders(&q, ownerIDs) + `) ORDER BY owner_id, kind`
	rows, err := d.r.QueryContext(ctx, stmt, q.args...)
	return collect(rows, err, "listing pages", scanPage)
}

// GetDomainCheck returns a domain's last re-verification.
func (d *DB) GetDomainCheck(ctx context.Context, domainID string) (*store.DomainCheck, error) {
	var c store.DomainCheck
	err := d.r.QueryRowContext(ctx, `SELECT domain_id, checked_at, missing_since, found FROM domain_checks WHERE domain_id = $1`, domainID).
		Scan(&c.DomainID, utc{&c.CheckedAt}, utc{&c.MissingSince}, &c.Found)
	if err != nil {
		return nil, dbError("getting domain check", err)
	}
	return &c, nil
}

// PutDomainCheck records a re-verification.
func (d *DB) PutDomainCheck(ctx context.Context, c *store.DomainCheck) error {
	_, err := d.w.ExecContext(ctx,
		`INSERT INTO domain_checks (domain_id, checked_at, missing_since, found) VALUES ($1, $2, $3, $4)
		ON CONFLICT (domain_id) DO UPDATE SET checked_at = excluded.checked_at, missing_since = excluded.missing_since,
			found = excluded.found`,
		c.DomainID, ts(c.CheckedAt), ts(c.MissingSince), c.Found)
	if err != nil {
		return dbError("putting domain check", err)
	}
	return nil
}
