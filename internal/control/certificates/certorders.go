package certificates

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/berth-dev/berth/internal/store"
)

// Certificates is the edge's certificate manager as the control plane
// drives it: orders placed before any handshake asks, exact names over
// HTTP-01 and, where a DNS provider is configured, wildcards over DNS-01.
// Every order still passes AllowCertificate.
type Certificates interface {
	// CanOrderWildcard reports whether a wildcard name such as
	// "*.example.com" can be ordered (a DNS provider changes its zone).
	CanOrderWildcard(name string) bool
	// ManageWildcards obtains and renews the wildcard names in the
	// background; a certificate already in the store is loaded instead.
	ManageWildcards(ctx context.Context, names []string) error
	// Obtain orders an exact name's certificate in the background, unless
	// the store has one; the gate's refusal is returned.
	Obtain(ctx context.Context, name string) error
}

// certOrderEvery is how often the control plane looks for domains whose
// certificate is still to be ordered: after a restart, after a failed
// order's pause, or for a deployment domain that verified before its app
// answered.
const certOrderEvery = time.Minute

// certOrders remembers when each domain's certificates were last asked
// for, so a pass does not place an order while one is under way.
type certOrders struct {
	mu   sync.Mutex
	last map[string]time.Time // domain id → when ordered
}

// wildcardNames are the wildcard certificates an org or workspace domain
// D gets, when a DNS provider can publish their challenges: *.D for its
// deployments and *.sandbox.D for its sandboxes. A deployment domain
// gets none: it is one exact name.
func (c *Manager) wildcardNames(d *store.Domain) []string {
	if c.cfg.Certs == nil || d.DeploymentID != "" {
		return nil
	}
	names := []string{"*." + d.Hostname, "*.sandbox." + d.Hostname}
	for _, n := range names {
		if !c.cfg.Certs.CanOrderWildcard(n) {
			return nil
		}
	}
	return names
}

// Order asks for a verified domain's certificates now,
// without waiting for a visitor: its wildcards over DNS-01, or for a
// deployment domain its exact name. Unless force, a domain asked for
// within certRetryAfter is left alone.
func (c *Manager) Order(ctx context.Context, d *store.Domain, force bool) {
	if c.cfg.Certs == nil || !d.Verified() {
		return
	}
	c.orders.mu.Lock()
	if c.orders.last == nil {
		c.orders.last = map[string]time.Time{}
	}
	if t, ok := c.orders.last[d.ID]; ok && !force && time.Since(t) < certRetryAfter {
		c.orders.mu.Unlock()
		return
	}
	c.orders.last[d.ID] = time.Now()
	c.orders.mu.Unlock()
	if d.DeploymentID != "" {
		if err := c.cfg.Certs.Obtain(ctx, d.Hostname); err != nil {
			c.log.Warn("certificate not ordered yet", "hostname", d.Hostname, "domain", d.ID, "err", err)
			c.Forget(d.ID) // the next pass tries again
		}
		return
	}
	names := c.wildcardNames(d)
	if len(names) == 0 {
		return // its names are ordered one by one on their first handshake
	}
	if err := c.cfg.Certs.ManageWildcards(ctx, names); err != nil {
		c.log.Warn("wildcard certificates failed", "hostname", d.Hostname, "domain", d.ID, "err", err)
	}
}

func (c *Manager) Forget(domainID string) {
	c.orders.mu.Lock()
	delete(c.orders.last, domainID)
	c.orders.mu.Unlock()
}

// Run orders what the verified domains still lack, at
// start and then every certOrderEvery, until ctx ends, and the wildcards
// of the orgs' managed domains. At start it also takes over the wildcards
// in the store, which are then renewed.
func (c *Manager) Run(ctx context.Context) {
	if c.cfg.Certs == nil {
		return
	}
	t := time.NewTicker(certOrderEvery)
	defer t.Stop()
	for first := true; ; first = false {
		c.managedCertificatePass(ctx, first)
		all, err := store.ListAll(ctx, c.st.ListDomains)
		if err != nil && ctx.Err() == nil {
			c.log.Warn("listing domains for certificates failed", "err", err)
		}
		for _, d := range all {
			switch {
			case !d.Verified():
			case d.Status == store.DomainFailed && time.Since(d.UpdatedAt) < certRetryAfter:
				// The failure's pause, as the gate keeps it.
			case d.Status == store.DomainCertificateIssued && d.DeploymentID != "":
				// Renewed on its handshakes.
			default:
				c.Order(ctx, d, false)
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// wildcardCovers reports whether the wildcards of the org or workspace
// domain d serve name, so no certificate is ordered for the name itself.
func (c *Manager) wildcardCovers(d *store.Domain, name string) bool {
	if len(c.wildcardNames(d)) == 0 {
		return false
	}
	rest, ok := strings.CutSuffix(name, "."+d.Hostname)
	if !ok {
		return false
	}
	return !strings.Contains(rest, ".") || strings.Count(rest, ".") == 1 && strings.HasSuffix(rest, ".sandbox")
}

// wildcardFailureReason says why the wildcard certificate name, of the
// domain under base, was not issued over DNS-01. has tells the ACME
// error kinds the order failed with. The DNS server and its zone are
// the operator's and stay in the log.
func wildcardFailureReason(name, base string, has func(kind string) bool, retry string) string {
	record := "_acme-challenge." + base
	switch {
	case has("dns"), has("unauthorized"), has("incorrectResponse"):
		return fmt.Sprintf("the certificate authority did not find the TXT record %s that the platform published for the wildcard certificate %s: the name's DNS must be served by the platform's nameservers (or %s delegated to them with a CNAME record); %s", record, name, record, retry)
	case has("caa"):
		return fmt.Sprintf("a CAA record forbids the certificate authority from issuing the wildcard certificate %s: allow it (issuewild) or remove the record, %s", name, retry)
	case has("rateLimited"):
		return fmt.Sprintf("the certificate authority's rate limit was reached for %s; the order is retried on its own after %s", name, certRetryAfter)
	case has("rejectedIdentifier"):
		return fmt.Sprintf("the certificate authority will not issue the wildcard certificate %s", name)
	case has(""):
		return fmt.Sprintf("the wildcard certificate %s could not be obtained; %s", name, retry)
	}
	// Not the CA's answer: publishing the record failed.
	return fmt.Sprintf("the platform could not publish the DNS-01 record %s for the wildcard certificate %s; its operator has the details. The order is retried on its own after %s", record, name, certRetryAfter)
}
