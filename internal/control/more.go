package control

import "context"

// moreToReconcile lists the ids of hosts and data services that the
// periodic resync kicks, besides deployments and sandboxes.
func (c *Control) moreToReconcile(ctx context.Context) []string {
	var ids []string
	ids = append(ids, c.hostsToReconcile(ctx)...)
	ids = append(ids, c.databasesToReconcile(ctx)...)
	ids = append(ids, c.domainsToReconcile(ctx)...)
	return ids
}
