package store

import (
	"context"
	"time"
)

// RouteStore holds what the route resolver reads per hostname (each an
// indexed read, whatever the number of records), the custom pages of the
// edge and the state of the domains' periodic re-verification.
type RouteStore interface {
	// GetOrgBySlug returns the org with the slug, or ErrNotFound.
	GetOrgBySlug(ctx context.Context, slug string) (*Org, error)
	// ListVerifiedDomains returns the verified domains whose hostname is
	// one of hostnames, in hostname order.
	ListVerifiedDomains(ctx context.Context, hostnames []string) ([]*Domain, error)
	// DeploymentTarget returns the newest deployment not deleted of the
	// org's project with the slug, or ErrNotFound.
	DeploymentTarget(ctx context.Context, orgID, projectSlug string) (*RouteTarget, error)
	// SandboxTarget returns the sandbox with the slug, its upstream the
	// one of its preview port, or ErrNotFound.
	SandboxTarget(ctx context.Context, slug string) (*RouteTarget, error)
	// PortalTarget returns the Docker Deploy host of the org's workspace
	// with the slug, whose portal answers at {slug}.portal.D, or
	// ErrNotFound.
	PortalTarget(ctx context.Context, orgID, workspaceSlug string) (*Host, error)

	// PutPage creates or replaces an owner's custom page of p.Kind.
	PutPage(ctx context.Context, p *Page) error
	// GetPage returns an owner's custom page of a kind, or ErrNotFound.
	GetPage(ctx context.Context, ownerID, kind string) (*Page, error)
	// GetPageByDigest returns a custom page with the digest, or
	// ErrNotFound.
	GetPageByDigest(ctx context.Context, digest string) (*Page, error)
	// DeletePage removes an owner's custom page of a kind; ErrNotFound
	// when there is none.
	DeletePage(ctx context.Context, ownerID, kind string) error
	// ListPages returns the custom pages of the owners, by owner and
	// kind.
	ListPages(ctx context.Context, ownerIDs []string) ([]*Page, error)

	// GetDomainCheck returns the last re-verification of a domain, or
	// ErrNotFound before the first.
	GetDomainCheck(ctx context.Context, domainID string) (*DomainCheck, error)
	// PutDomainCheck records a re-verification.
	PutDomainCheck(ctx context.Context, c *DomainCheck) error
}

// RouteTarget is what routing reads of a deployment or a sandbox.
type RouteTarget struct {
	ID          string // dep_… or sbx_…
	OrgID       string
	WorkspaceID string
	ProjectID   string
	Status      string
	// Upstream is the address serving it now, empty when none.
	Upstream string
	// HostID is the host a deployment runs on (empty for sandboxes and
	// before placement).
	HostID string
	// Desired is a deployment's desired state: "" (run) or DesiredPaused.
	Desired string
}

// Page is a custom page template an org or workspace uploaded for one of
// the edge's pages ("not-found", "bad-gateway", …).
type Page struct {
	OwnerID   string // an org or workspace id
	OrgID     string
	Kind      string
	Body      string
	Digest    string // "sha256:<hex>" of Body
	UpdatedAt time.Time
}

// DomainCheck is the state of a verified domain's periodic
// re-verification.
type DomainCheck struct {
	DomainID  string
	CheckedAt time.Time
	// MissingSince is when the TXT record was first found missing, zero
	// while it is there.
	MissingSince time.Time
	// Found is what DNS answered at the last check, for the reason a
	// failed domain gives.
	Found string
}
