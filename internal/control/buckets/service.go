// Package buckets keeps S3 buckets on the embedded server or an external
// endpoint: their names, per-bucket keys, links to sandboxes and
// deployments (whose containers get the endpoint and keys), presigned
// URLs and the route of the S3 endpoint at the edge.
package buckets

import (
	"cmp"
	"context"
	"log/slog"

	"github.com/berth-dev/berth/internal/control/names"
	"github.com/berth-dev/berth/internal/store"
)

// Store is what the package reads and writes.
type Store interface {
	// InTx runs fn with a Store whose calls share one transaction; it
	// commits when fn returns nil and rolls back otherwise.
	InTx(ctx context.Context, fn func(tx store.Store) error) error
	// DeleteBucket removes a bucket and its links.
	DeleteBucket(ctx context.Context, id string) error
	// DeleteBucketLink removes a link, or answers ErrNotFound.
	DeleteBucketLink(ctx context.Context, bucketID, targetID string) error
	GetBucket(ctx context.Context, id string) (*store.Bucket, error)
	GetDeployment(ctx context.Context, id string) (*store.Deployment, error)
	GetHost(ctx context.Context, id string) (*store.Host, error)
	GetOrg(ctx context.Context, id string) (*store.Org, error)
	// ListBucketLinks lists the links of a bucket, or to a target, or
	// both, oldest first.
	ListBucketLinks(ctx context.Context, f store.BucketLinkFilter) ([]*store.BucketLink, error)
	// UpdateBucket writes the keys, the credentials version and the
	// external id, and bumps updated_at.
	UpdateBucket(ctx context.Context, b *store.Bucket) error
}

// Events records what happened.
type Events interface {
	Record(ctx context.Context, resourceID, typ, format string, args ...any)
}

// Targets restarts a linked sandbox or deployment so that it boots with
// the variables of its links as they are now.
type Targets interface {
	Restart(ctx context.Context, targetID, why string, force bool) (done bool, err error)
}

// Tunnels says whether a host's apps are reached through its agent.
type Tunnels interface {
	ViaAgent(h *store.Host) bool
}

// Hostnames reads an org's verified custom domains.
type Hostnames interface {
	Verified(ctx context.Context, orgID string) (names.Custom, error)
}

// Service keeps the S3 buckets, their keys and links.
type Service struct {
	cfg       Config
	st        Store
	events    Events
	targets   Targets
	tunnels   Tunnels
	hostnames Hostnames
	log       *slog.Logger
}

// Deps are the parts of the control plane the service asks.
type Deps struct {
	Store     Store
	Events    Events
	Targets   Targets
	Tunnels   Tunnels
	Hostnames Hostnames
	Log       *slog.Logger
}

// New returns the buckets service.
func New(cfg Config, d Deps) *Service {
	return &Service{cfg: cfg, st: d.Store, events: d.Events, targets: d.Targets, tunnels: d.Tunnels,
		hostnames: d.Hostnames, log: cmp.Or(d.Log, slog.New(slog.DiscardHandler))}
}
