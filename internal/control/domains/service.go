// Package domains keeps custom domains at the org, workspace and
// deployment levels: their verification by a TXT record and its periodic
// re-check, and the branding and custom pages the edge shows for an org
// or workspace.
package domains

import (
	"cmp"
	"context"
	"log/slog"

	"github.com/berth-dev/berth/internal/store"
)

// Store is what the package reads and writes.
type Store interface {
	// CreateDomain records d. The same hostname twice in one org, or a
	// second verified claim on a hostname, is ErrConflict.
	CreateDomain(ctx context.Context, d *store.Domain) error
	DeleteDomain(ctx context.Context, id string) error
	// DeletePage removes an owner's custom page of a kind; ErrNotFound
	// when there is none.
	DeletePage(ctx context.Context, ownerID, kind string) error
	// GetBranding returns an owner's branding, or ErrNotFound when it has
	// none.
	GetBranding(ctx context.Context, ownerID string) (*store.Branding, error)
	// GetDomainCheck returns the last re-verification of a domain, or
	// ErrNotFound before the first.
	GetDomainCheck(ctx context.Context, domainID string) (*store.DomainCheck, error)
	// GetPage returns an owner's custom page of a kind, or ErrNotFound.
	GetPage(ctx context.Context, ownerID, kind string) (*store.Page, error)
	// ListDomains lists domains in id order; OrgID, WorkspaceID and
	// After/Limit of f apply.
	ListDomains(ctx context.Context, f store.ListFilter) ([]*store.Domain, error)
	ListOrgs(ctx context.Context, f store.ListFilter) ([]*store.Org, error)
	// PutBranding creates or replaces the branding of b.OwnerID (an org
	// or a workspace).
	PutBranding(ctx context.Context, b *store.Branding) error
	// PutDomainCheck records a re-verification.
	PutDomainCheck(ctx context.Context, c *store.DomainCheck) error
	// PutPage creates or replaces an owner's custom page of p.Kind.
	PutPage(ctx context.Context, p *store.Page) error
	// UpdateDomain writes d's status, reason and verification time and
	// bumps updated_at. Verifying a hostname another domain holds
	// verified is ErrConflict.
	UpdateDomain(ctx context.Context, d *store.Domain) error
}

// Events records what happened.
type Events interface {
	Record(ctx context.Context, resourceID, typ, format string, args ...any)
}

// Routes are told which names' routes changed.
type Routes interface {
	DomainChanged(hostname string)
	OwnerChanged(ownerID string)
}

// Certificates orders the certificates of verified domains.
type Certificates interface {
	Order(ctx context.Context, d *store.Domain, force bool)
	Retry(ctx context.Context, d *store.Domain) (*store.Domain, error)
}

// Service keeps custom domains, their verification and the orgs' and
// workspaces' branding and pages.
type Service struct {
	cfg    Config
	st     Store
	events Events
	routes Routes
	certs  Certificates
	log    *slog.Logger
}

// New returns the domains service.
func New(cfg Config, st Store, events Events, routes Routes, certs Certificates, log *slog.Logger) *Service {
	return &Service{cfg: cfg, st: st, events: events, routes: routes, certs: certs, log: cmp.Or(log, slog.New(slog.DiscardHandler))}
}
