package deploy

import (
	"context"
	"errors"

	"github.com/berth-dev/berth/internal/store"
)

// errNotYet says a restart has to be asked for again later.
var errNotYet = errors.New("not yet")

// RestartLinked rolls out a new container of a deployment so that it
// boots with the variables of what is linked to it now, and switches to
// it once healthy (zero downtime). A deployment whose rollout already
// read its variables (starting) is left alone unless force: done is
// false, and the caller asks again later.
func (c *Service) RestartLinked(ctx context.Context, did, why string, force bool) (done bool, err error) {
	restart := false
	err = c.st.InTx(ctx, func(tx store.Store) error {
		d, err := tx.GetDeployment(ctx, did)
		if err != nil {
			return err
		}
		switch {
		case d.ReleaseID == "" || d.Status == store.DeploymentPending || d.Status == store.DeploymentBuilding:
			return nil // the container it starts next reads the variables then
		case d.Status == store.DeploymentStarting && !force:
			return errNotYet
		}
		d.Status, d.StatusReason, restart = store.DeploymentPending, "", true
		return tx.UpdateDeployment(ctx, d)
	})
	switch {
	case errors.Is(err, store.ErrNotFound):
		return true, nil
	case errors.Is(err, errNotYet):
		return false, nil
	case err != nil:
		return false, err
	case !restart:
		return true, nil
	}
	c.events.Record(ctx, did, "deployment.pending", "restarting: %s", why)
	c.queue.Kick(did)
	return true, nil
}
