// Package routes tells the edges where every name goes: it answers their
// questions one hostname at a time from the store (the resolver), and
// fans out the changes that make their cached answers stale.
package routes

import (
	"context"
	"net/http"
	"time"

	"github.com/berth-dev/berth/internal/control/names"
	"github.com/berth-dev/berth/internal/edge"
	"github.com/berth-dev/berth/internal/store"
)

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
	st       store.Store
	buckets  Buckets
	hosts    Hosts
	branding Branding
	certs    Certificates
	logf     func(string, ...any)
	probe    *http.Client

	feed   routeFeed
	owners ownerCache
}

// Deps are the parts of the control plane the routes ask.
type Deps struct {
	Store    store.Store
	Buckets  Buckets
	Hosts    Hosts
	Branding Branding
	Certs    Certificates
	Logf     func(string, ...any)
}

// New returns the routes service.
func New(cfg Config, d Deps) *Service {
	c := &Service{cfg: cfg, st: d.Store, buckets: d.Buckets, hosts: d.Hosts, branding: d.Branding, certs: d.Certs, logf: d.Logf,
		probe: &http.Client{
			Timeout:       3 * time.Second,
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		}}
	c.feed.owners = &c.owners
	return c
}
