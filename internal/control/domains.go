package control

import "context"

// reconcileDomain checks a custom domain's DNS and certificate.
func (c *Control) reconcileDomain(ctx context.Context, domainID string) error { return nil }

// domainsToReconcile lists the domains the periodic resync kicks.
func (c *Control) domainsToReconcile(ctx context.Context) []string { return nil }
