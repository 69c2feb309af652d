package certificates

import "context"

// ManagedCertificatePass is managedCertificatePass, for the tests.
func (c *Manager) ManagedCertificatePass(ctx context.Context, first bool) {
	c.managedCertificatePass(ctx, first)
}

// Limits of the ordering passes, for the tests.
const (
	CertRetryAfter       = certRetryAfter
	ManagedOrdersPerPass = managedOrdersPerPass
)
