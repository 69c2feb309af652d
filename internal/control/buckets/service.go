package buckets

import (
	"context"

	"github.com/berth-dev/berth/internal/control/names"
	"github.com/berth-dev/berth/internal/store"
)

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
	st        store.Store
	events    Events
	targets   Targets
	tunnels   Tunnels
	hostnames Hostnames
	logf      func(string, ...any)
}

// Deps are the parts of the control plane the service asks.
type Deps struct {
	Store     store.Store
	Events    Events
	Targets   Targets
	Tunnels   Tunnels
	Hostnames Hostnames
	Logf      func(string, ...any)
}

// New returns the buckets service.
func New(cfg Config, d Deps) *Service {
	return &Service{cfg: cfg, st: d.Store, events: d.Events, targets: d.Targets, tunnels: d.Tunnels,
		hostnames: d.Hostnames, logf: d.Logf}
}
