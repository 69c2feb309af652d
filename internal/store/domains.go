package store

import (
	"context"
	"time"
)

// DomainStore holds branding and custom domains.
type DomainStore interface {
	// PutBranding creates or replaces the branding of b.OwnerID (an org
	// or a workspace).
	PutBranding(ctx context.Context, b *Branding) error
	// GetBranding returns an owner's branding, or ErrNotFound when it has
	// none.
	GetBranding(ctx context.Context, ownerID string) (*Branding, error)
	// ListBrandings returns every branding, in owner id order.
	ListBrandings(ctx context.Context) ([]*Branding, error)

	// CreateDomain records d. The same hostname twice in one org, or a
	// second verified claim on a hostname, is ErrConflict.
	CreateDomain(ctx context.Context, d *Domain) error
	GetDomain(ctx context.Context, id string) (*Domain, error)
	// UpdateDomain writes d's status, reason and verification time and
	// bumps updated_at. Verifying a hostname another domain holds
	// verified is ErrConflict.
	UpdateDomain(ctx context.Context, d *Domain) error
	DeleteDomain(ctx context.Context, id string) error
	// ListDomains lists domains in id order; OrgID, WorkspaceID and
	// After/Limit of f apply.
	ListDomains(ctx context.Context, f ListFilter) ([]*Domain, error)
}

// Branding is what the pages an org or workspace shows carry. Empty
// fields of a workspace's branding inherit the org's.
type Branding struct {
	// OwnerID is the org or workspace id.
	OwnerID      string
	OrgID        string
	ProductName  string
	LogoURL      string
	PrimaryColor string
	AccentColor  string
	SupportURL   string
	SupportEmail string
	UpdatedAt    time.Time
}

// Domain statuses.
const (
	DomainPending  = "pending_verification"
	DomainVerified = "verified"
	DomainFailed   = "failed"
	// DomainCertificateIssued is a verified domain the edge holds a
	// certificate for.
	DomainCertificateIssued = "certificate_issued"
)

// Domain is a custom hostname attached to an org (its deployment
// domain), a workspace (the same, for the workspace) or one deployment
// (an exact name).
type Domain struct {
	ID           string
	Hostname     string
	OrgID        string
	WorkspaceID  string // set for workspace and deployment domains
	DeploymentID string // set for deployment domains
	// Token is the value the TXT record _berth-challenge.{hostname} must
	// hold.
	Token        string
	Status       string
	StatusReason string
	VerifiedAt   time.Time
	CreatedAt    time.Time
	UpdatedAt    time.Time
}

// Verified reports whether the domain's ownership is proven: its DNS
// verified, whatever became of its certificate since. A domain whose
// certificate failed is "failed" with VerifiedAt still set: it keeps its
// names and its claim on the hostname.
func (d *Domain) Verified() bool {
	return d.Status == DomainVerified || d.Status == DomainCertificateIssued || !d.VerifiedAt.IsZero()
}

// GetID returns the domain's id.
func (d *Domain) GetID() string { return d.ID }
