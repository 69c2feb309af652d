package control

import "context"

// bootEnv returns the variables a sandbox or deployment (targetID) of a
// project gets at boot from the data services linked to it.
func (c *Control) bootEnv(ctx context.Context, projectID, targetID string) (map[string]string, error) {
	return nil, nil
}

// reconcileDatabase drives a managed data service toward healthy.
func (c *Control) reconcileDatabase(ctx context.Context, dbID string) error { return nil }

// databasesToReconcile lists the data services the periodic resync kicks.
func (c *Control) databasesToReconcile(ctx context.Context) []string { return nil }
