package domains

import (
	"context"
	"time"

	"github.com/berth-dev/berth/internal/store"
)

// RecheckDomain is recheckDomain, for the tests.
func (c *Service) RecheckDomain(ctx context.Context, d *store.Domain, now time.Time) error {
	return c.recheckDomain(ctx, d, now)
}

// SetDNS replaces the verification lookups, for the tests.
func (c *Service) SetDNS(dns TXTLookup) { c.cfg.DNS = dns }
