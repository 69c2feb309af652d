package client

import (
	"context"
	"net/http"
	"net/url"
	"time"
)

// Host is a workspace's Docker Deploy host: one always-on machine that
// runs the workspace's portal, a private agent and its app containers.
// Where it is and how to reach its agent are never shown.
type Host struct {
	ID          string `json:"id"`
	WorkspaceID string `json:"workspace_id"`
	// State is provisioning, bootstrapping, active or failed.
	State string `json:"state"`
	// StateReason says what a person must fix, when failed.
	StateReason string           `json:"state_reason,omitempty"`
	Transitions []HostTransition `json:"transitions"`
	Agent       HostHealth       `json:"agent"`
	Portal      HostHealth       `json:"portal"`
	// PortalURL is where the workspace's people sign in to the host's
	// portal, through the platform's edge; empty when it runs none.
	PortalURL string    `json:"portal_url,omitempty"`
	Usage     HostUsage `json:"usage"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

// HostTransition is one change of a host's state.
type HostTransition struct {
	State  string    `json:"state"`
	Reason string    `json:"reason,omitempty"`
	At     time.Time `json:"at"`
}

// HostHealth is the last health check of one role of a host.
type HostHealth struct {
	// Status is unknown (not checked yet), healthy, unhealthy or skipped.
	Status    string    `json:"status"`
	Detail    string    `json:"detail,omitempty"`
	CheckedAt time.Time `json:"checked_at,omitempty,omitzero"`
}

// HostUsage is what a host runs: its app containers and the memory and
// CPUs their limits reserve.
type HostUsage struct {
	Containers  int     `json:"containers"`
	MemoryBytes int64   `json:"memory_bytes"`
	CPUs        float64 `json:"cpus"`
}

// EnsureHost asks for a workspace's Docker Deploy host. Without SSH the
// platform's default provisioner makes it.
type EnsureHost struct {
	WorkspaceID string    `json:"workspace_id"`
	SSH         SSHTarget `json:"ssh,omitzero"`
}

// SSHTarget is a server the operator owns, reached over SSH: Berth copies
// itself there and runs the host's agent and portal as services.
type SSHTarget struct {
	// Address is host or host:port (port 22 by default).
	Address string `json:"address"`
	User    string `json:"user"`
	// PrivateKey is the PEM (OpenSSH) private key the server accepts.
	PrivateKey string `json:"private_key"`
	// HostKey pins the server's host key (authorized_keys format); left
	// out, the key seen on first contact is pinned.
	HostKey string `json:"host_key,omitempty"`
	// AgentPort and PortalPort are where the agent and the portal listen
	// on the server; left out, 7443 and 7790, or the next ports free on
	// the server when those are taken.
	AgentPort  int `json:"agent_port,omitempty"`
	PortalPort int `json:"portal_port,omitempty"`
}

// EnsureHost returns the workspace's Docker Deploy host, creating it on
// first use and retrying a failed one. It returns at once: follow the
// host's state with GetHost or its events.
func (c *Client) EnsureHost(ctx context.Context, in EnsureHost) (*Host, error) {
	var out Host
	return &out, c.create(ctx, "/docker-deploy/hosts/ensure", in, &out)
}

// GetHost shows a Docker Deploy host.
func (c *Client) GetHost(ctx context.Context, id string) (*Host, error) {
	var out Host
	return &out, c.json(ctx, http.MethodGet, "/docker-deploy/hosts/"+url.PathEscape(id), nil, &out)
}

// ListHosts lists the Docker Deploy hosts the key can see, of one
// workspace when workspaceID is set.
func (c *Client) ListHosts(ctx context.Context, workspaceID string) ([]Host, error) {
	var out List[Host]
	path := "/docker-deploy/hosts"
	if workspaceID != "" {
		path += "?" + url.Values{"workspace_id": {workspaceID}}.Encode()
	}
	return out.Data, c.json(ctx, http.MethodGet, path, nil, &out)
}
