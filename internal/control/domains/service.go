package domains

import (
	"context"

	"github.com/berth-dev/berth/internal/store"
)

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
	st     store.Store
	events Events
	routes Routes
	certs  Certificates
	logf   func(string, ...any)
}

// New returns the domains service.
func New(cfg Config, st store.Store, events Events, routes Routes, certs Certificates, logf func(string, ...any)) *Service {
	return &Service{cfg: cfg, st: st, events: events, routes: routes, certs: certs, logf: logf}
}
