package hosts

import (
	"github.com/berth-dev/berth/internal/provision"
	"github.com/berth-dev/berth/internal/store"
)

// HostReason is hostReason, for the tests.
func (c *Service) HostReason(h *store.Host, err error) string { return c.hostReason(h, err) }

// The provisioners have the optional abilities the reconciler looks for.
var (
	_ exitWatcher   = (*provision.Local)(nil)
	_ targetChecker = (*provision.SSH)(nil)
)

// HashKey is hashKey, for the tests.
var HashKey = hashKey
