// Package routes tells the edges where every name goes: it answers their
// questions one hostname at a time from the store (the resolver), and
// fans out the changes that make their cached answers stale.
package routes

import (
	"cmp"
	"context"
	"log/slog"
	"net/http"
	"time"

	"github.com/berth-dev/berth/internal/control/names"
	"github.com/berth-dev/berth/internal/edge"
	"github.com/berth-dev/berth/internal/store"
)

// Store is what the package reads and writes.
type Store interface {
	// DeploymentTarget returns the newest deployment not deleted of the
	// org's project with the slug, or ErrNotFound.
	DeploymentTarget(ctx context.Context, orgID, projectSlug string) (*store.RouteTarget, error)
	GetDeployment(ctx context.Context, id string) (*store.Deployment, error)
	GetHost(ctx context.Context, id string) (*store.Host, error)
	GetOrg(ctx context.Context, id string) (*store.Org, error)
	// GetOrgBySlug returns the org with the slug, or ErrNotFound.
	GetOrgBySlug(ctx context.Context, slug string) (*store.Org, error)
	// GetPageByDigest returns a custom page with the digest, or
	// ErrNotFound.
	GetPageByDigest(ctx context.Context, digest string) (*store.Page, error)
	GetProject(ctx context.Context, id string) (*store.Project, error)
	GetSandbox(ctx context.Context, id string) (*store.Sandbox, error)
	ListDeployments(ctx context.Context, f store.ListFilter) ([]*store.Deployment, error)
	// ListDomains lists domains in id order; OrgID, WorkspaceID and
	// After/Limit of f apply.
	ListDomains(ctx context.Context, f store.ListFilter) ([]*store.Domain, error)
	ListOrgs(ctx context.Context, f store.ListFilter) ([]*store.Org, error)
	// ListPages returns the custom pages of the owners, by owner and
	// kind.
	ListPages(ctx context.Context, ownerIDs []string) ([]*store.Page, error)
	ListSandboxes(ctx context.Context, f store.ListFilter) ([]*store.Sandbox, error)
	// ListVerifiedDomains returns the verified domains whose hostname is
	// one of hostnames, in hostname order.
	ListVerifiedDomains(ctx context.Context, hostnames []string) ([]*store.Domain, error)
	// PortalTarget returns the Docker Deploy host of the org's workspace
	// with the slug, whose portal answers at {slug}.portal.D, or
	// ErrNotFound.
	PortalTarget(ctx context.Context, orgID, workspaceSlug string) (*store.Host, error)
	// SandboxTarget returns the sandbox with the slug, its upstream the
	// one of its preview port, or ErrNotFound.
	SandboxTarget(ctx context.Context, slug string) (*store.RouteTarget, error)
}

// Config is what routes are made with.
type Config struct {
	Names names.Names
	// Brand is the platform's default branding for edge pages.
	Brand edge.Brand
	// EdgeAddr is where the edge listens (host:port); Reachable sends
	// its requests through it, as a browser would.
	EdgeAddr string
}

// Buckets gives the route of the org's S3 endpoint (nil: none is served
// at the edge).
type Buckets interface {
	Route() *edge.Route
}

// Hosts says how the edge reaches the apps and portals of hosts.
type Hosts interface {
	Vias(hosts []*store.Host) map[string]string
	PortalRoute(h *store.Host) *edge.Route
}

// Branding gives an owner's branding as the edge shows it.
type Branding interface {
	EdgeBrand(ctx context.Context, o *store.Org, ws *store.Workspace) (edge.Brand, error)
}

// Certificates orders the managed wildcards of a new org.
type Certificates interface {
	OrderManaged(ctx context.Context, o *store.Org, force bool) bool
}

// Service publishes route changes and resolves names.
type Service struct {
	cfg      Config
	st       Store
	buckets  Buckets
	hosts    Hosts
	branding Branding
	certs    Certificates
	log      *slog.Logger
	probe    *http.Client

	feed   routeFeed
	owners ownerCache
}

// Deps are the parts of the control plane the routes ask.
type Deps struct {
	Store    Store
	Buckets  Buckets
	Hosts    Hosts
	Branding Branding
	Certs    Certificates
	Log      *slog.Logger
}

// New returns the routes service.
func New(cfg Config, d Deps) *Service {
	c := &Service{cfg: cfg, st: d.Store, buckets: d.Buckets, hosts: d.Hosts, branding: d.Branding, certs: d.Certs, log: cmp.Or(d.Log, slog.New(slog.DiscardHandler)),
		probe: &http.Client{
			Timeout:       3 * time.Second,
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		}}
	c.feed.owners = &c.owners
	return c
}
