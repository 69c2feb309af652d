package sqlite

import (
	"context"
	"fmt"

	"github.com/berth-dev/berth/internal/store"
)

// SetDeploymentDesired writes a deployment's desired state and bumps
// updated_at.
func (d *DB) SetDeploymentDesired(ctx context.Context, id, desired string) error {
	switch desired {
	case "", store.DesiredPaused, store.DesiredDeleted:
	default:
		return fmt.Errorf("setting deployment desired state: %q is not a desired state", desired)
	}
	return d.execOne(ctx, "setting deployment desired state",
		`UPDATE deployments SET desired_state = $1, updated_at = $2 WHERE id = $3`, desired, ts(now()), id)
}
