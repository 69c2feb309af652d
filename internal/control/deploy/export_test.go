package deploy

import (
	"context"

	"github.com/berth-dev/berth/internal/store"
)

// ReconcileDesired is reconcileDesired, for the tests.
func (c *Service) ReconcileDesired(ctx context.Context, d *store.Deployment) (bool, error) {
	return c.reconcileDesired(ctx, d)
}
