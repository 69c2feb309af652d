package store

import (
	"context"
	"time"
)

// HostStore holds hosts: the pool's and the workspaces' Docker Deploy
// hosts.
type HostStore interface {
	// CreateHost records h. A second Docker Deploy host for one
	// workspace is ErrConflict.
	CreateHost(ctx context.Context, h *Host) error
	GetHost(ctx context.Context, id string) (*Host, error)
	// UpdateHost writes every mutable field of h (all but id, kind,
	// workspace and created_at) and bumps updated_at.
	UpdateHost(ctx context.Context, h *Host) error
	ListHosts(ctx context.Context) ([]*Host, error)
	// GetWorkspaceHost returns the Docker Deploy host of a workspace, or
	// ErrNotFound.
	GetWorkspaceHost(ctx context.Context, workspaceID string) (*Host, error)
	// ListWorkspaceHosts lists Docker Deploy hosts in id order, narrowed
	// by f's OrgID, WorkspaceID and ProjectID (the workspace holding the
	// project), paged by After and Limit.
	ListWorkspaceHosts(ctx context.Context, f ListFilter) ([]*Host, error)
}

// Host kinds.
const (
	HostPool         = "pool"
	HostDockerDeploy = "docker_deploy"
)

// Host states. A pool host is active; a Docker Deploy host moves
// provisioning → bootstrapping → active, or to failed with a reason.
const (
	HostProvisioning  = "provisioning"
	HostBootstrapping = "bootstrapping"
	HostActive        = "active"
	HostFailed        = "failed"
)

// Host is execution capacity behind an agent.
type Host struct {
	ID          string
	Kind        string
	WorkspaceID string
	State       string
	StateReason string
	AgentURL    string // never shown by the public API
	AgentSecret string // never shown by the public API; sealed
	// Provisioner names what makes and bootstraps the host ("local",
	// "ssh"); empty for pool hosts.
	Provisioner string
	// Target is the provisioner's own description of the machine (for
	// ssh: address, user, key, pinned host key), opaque to the store and
	// sealed: it may hold a private key. Never shown by the public API.
	Target []byte
	// PortalURL is where the host's portal listens; never shown.
	PortalURL string
	// PortalKeyID is the workspace-scoped API key the portal calls the
	// API with; PortalKey its secret and PortalPassword the portal's
	// sign-in password, both sealed.
	PortalKeyID    string
	PortalKey      string
	PortalPassword string
	AgentHealth    Health
	PortalHealth   Health
	// Transitions are the state changes, oldest first (the last ones
	// kept).
	Transitions []HostTransition
	CreatedAt   time.Time
	UpdatedAt   time.Time
}

// Health is the last check of one role on a host.
type Health struct {
	Status    string    `json:"status,omitempty"` // "" (never checked), "healthy", "unhealthy", "skipped"
	Detail    string    `json:"detail,omitempty"`
	CheckedAt time.Time `json:"checked_at,omitzero"`
}

// Health statuses.
const (
	HealthHealthy   = "healthy"
	HealthUnhealthy = "unhealthy"
	HealthSkipped   = "skipped"
)

// HostTransition is one change of a host's state.
type HostTransition struct {
	State  string    `json:"state"`
	Reason string    `json:"reason,omitempty"`
	At     time.Time `json:"at"`
}

// GetID returns the host's id; list paging uses it as the cursor.
func (h *Host) GetID() string { return h.ID }
