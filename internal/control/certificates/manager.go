// Package certificates decides which names get TLS certificates and
// orders them: exact names of verified custom domains over HTTP-01,
// wildcards of org and workspace domains and of the managed names over
// DNS-01, and the gate the edge asks before it orders a name on a
// handshake.
package certificates

import (
	"cmp"
	"context"
	"log/slog"

	"github.com/berth-dev/berth/internal/control/names"
	"github.com/berth-dev/berth/internal/edge"
	"github.com/berth-dev/berth/internal/store"
)

// Store is what the package reads and writes.
type Store interface {
	// GetManagedCert returns the record of name, or ErrNotFound.
	GetManagedCert(ctx context.Context, name string) (*store.ManagedCert, error)
	// GetOrgBySlug returns the org with the slug, or ErrNotFound.
	GetOrgBySlug(ctx context.Context, slug string) (*store.Org, error)
	// ListDomains lists domains in id order; OrgID, WorkspaceID and
	// After/Limit of f apply.
	ListDomains(ctx context.Context, f store.ListFilter) ([]*store.Domain, error)
	// ListManagedCerts returns the records of one org (every org's when
	// orgID is empty), in name order.
	ListManagedCerts(ctx context.Context, orgID string) ([]*store.ManagedCert, error)
	ListOrgs(ctx context.Context, f store.ListFilter) ([]*store.Org, error)
	// ListVerifiedDomains returns the verified domains whose hostname is
	// one of hostnames, in hostname order.
	ListVerifiedDomains(ctx context.Context, hostnames []string) ([]*store.Domain, error)
	// PutManagedCert creates or replaces the record of c.Name.
	PutManagedCert(ctx context.Context, c *store.ManagedCert) error
	// UpdateDomain writes d's status, reason and verification time and
	// bumps updated_at. Verifying a hostname another domain holds
	// verified is ErrConflict.
	UpdateDomain(ctx context.Context, d *store.Domain) error
}

// Config is how certificates are ordered.
type Config struct {
	// Certs, when the edge serves HTTPS, orders certificates before the
	// first handshake asks (nil: on the first handshake only).
	Certs Certificates
	// ManagedTLS is how the managed names under the platform domain get
	// certificates (empty: ManagedTLSAuto).
	ManagedTLS ManagedTLS
	// Names makes the managed names.
	Names names.Names
	// Target is the hostname a custom domain's CNAME points at (empty:
	// the platform domain).
	Target string
}

// Resolver says whether an app or sandbox answers at a name.
type Resolver interface {
	Resolve(ctx context.Context, host string) (edge.Answer, error)
}

// Events records what happened.
type Events interface {
	Record(ctx context.Context, resourceID, typ, format string, args ...any)
}

// Manager orders and gates certificates.
type Manager struct {
	cfg      Config
	st       Store
	resolver Resolver
	events   Events
	log      *slog.Logger
	orders   certOrders
}

// New returns the certificate manager; SetResolver must be called before
// the gate is asked.
func New(cfg Config, st Store, events Events, log *slog.Logger) *Manager {
	return &Manager{cfg: cfg, st: st, events: events, log: cmp.Or(log, slog.New(slog.DiscardHandler))}
}

// SetResolver gives the manager the route resolver, which is built after
// it (the routes order the managed wildcards of a new org).
func (c *Manager) SetResolver(r Resolver) { c.resolver = r }
