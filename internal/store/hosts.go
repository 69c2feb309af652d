package store

import "context"

// HostStore holds hosts: the pool's and the workspaces' Docker Deploy
// hosts.
type HostStore interface {
	CreateHost(ctx context.Context, h *Host) error
	GetHost(ctx context.Context, id string) (*Host, error)
	UpdateHost(ctx context.Context, h *Host) error
	ListHosts(ctx context.Context) ([]*Host, error)
}
