package certificates

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/berth-dev/berth/internal/store"
)

// certRetryAfter is how long a domain whose certificate order failed is
// left alone before a handshake may order again on its own; verifying the
// domain again retries at once. Without it every handshake would place a
// new order and soon hit the CA's rate limits.
const certRetryAfter = 10 * time.Minute

// AllowCertificate is the gate in front of every ACME order the edge
// places: it allows a name only when the control plane routes it (an
// app, a sandbox, or one that is deploying or down) and it is covered by
// a domain whose DNS verified: its exact hostname, or a name under an org
// or workspace domain. A wildcard "*.D" or "*.sandbox.D" is allowed for
// an org or workspace domain D; when a DNS provider orders those, the
// names they cover are not ordered one by one. Names under the platform
// domain follow allowManaged: an org's two wildcards when a DNS provider
// orders them, else, only where the operator opted in, a managed name the
// resolver routes. The error says why a name is refused; it goes to the
// operator's log, never to the client, whose handshake just fails.
func (c *Manager) AllowCertificate(ctx context.Context, name string) error {
	name = strings.ToLower(strings.TrimSuffix(name, "."))
	if rest, orgSlug, ok, err := c.managedCertName(ctx, name); err != nil {
		return err
	} else if ok {
		return c.allowManaged(ctx, name, rest, orgSlug)
	}
	d, err := c.certDomain(ctx, name)
	if err != nil {
		return err
	}
	if d == nil {
		return fmt.Errorf("%s is under no verified custom domain", name)
	}
	if d.Status == store.DomainFailed && time.Since(d.UpdatedAt) < certRetryAfter {
		return fmt.Errorf("the last certificate order for %s (%s) failed; retrying after %s, or when the domain is verified again",
			name, d.ID, d.UpdatedAt.Add(certRetryAfter).Format(time.RFC3339))
	}
	if strings.HasPrefix(name, "*.") {
		return nil // certDomain matched it to an org or workspace domain
	}
	if d.Hostname != name && c.wildcardCovers(d, name) {
		return fmt.Errorf("%s is served by the wildcard certificates of %s (%s), ordered over DNS-01; none is ordered for the name itself", name, d.Hostname, d.ID)
	}
	if a, err := c.resolver.Resolve(ctx, name); err != nil {
		return fmt.Errorf("resolving %s: %w", name, err)
	} else if !a.Found {
		return fmt.Errorf("no app or sandbox answers at %s", name)
	}
	return nil
}

// certDomain returns the verified domain that covers name: the one with
// that exact hostname, else the org or workspace domain with the longest
// hostname that name is under; nil when there is none.
func (c *Manager) certDomain(ctx context.Context, name string) (*store.Domain, error) {
	all, err := store.ListAll(ctx, c.st.ListDomains)
	if err != nil {
		return nil, fmt.Errorf("listing domains: %w", err)
	}
	base, wildcard := strings.CutPrefix(name, "*.")
	var best *store.Domain
	for _, d := range all {
		if !d.Verified() {
			continue
		}
		if !wildcard && d.Hostname == name {
			return d, nil
		}
		if d.DeploymentID != "" {
			continue // an exact name only
		}
		if (wildcard && d.Hostname == base) || strings.HasSuffix(base, "."+d.Hostname) {
			if best == nil || len(d.Hostname) > len(best.Hostname) {
				best = d
			}
		}
	}
	return best, nil
}

// CertificateResult records the outcome of a certificate order for name
// on the domain that covers it: certificate_issued, or failed with a
// reason that says what to fix, and an event either way.
func (c *Manager) CertificateResult(ctx context.Context, name string, renewal bool, orderErr error) {
	// The caller may be a TLS handshake about to end: the record must
	// still be written.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	name = strings.ToLower(name)
	if _, orgSlug, ok, err := c.managedCertName(ctx, name); err != nil {
		c.log.Warn("certificate result not recorded", "name", name, "err", err)
		return
	} else if ok {
		c.managedCertificateResult(ctx, name, orgSlug, renewal, orderErr)
		return
	}
	d, err := c.certDomain(ctx, name)
	if err != nil || d == nil {
		c.log.Warn("certificate has no verified domain to record it on", "name", name, "err", err)
		return
	}
	if orderErr != nil {
		c.log.Warn("certificate order failed", "name", name, "domain", d.ID, "err", orderErr)
		d.Status, d.StatusReason = store.DomainFailed, c.certFailureReason(name, orderErr)
		if err := c.st.UpdateDomain(ctx, d); err != nil {
			c.log.Error("recording the certificate failure failed", "domain", d.ID, "err", err)
		}
		c.events.Record(ctx, d.ID, "domain.certificate_failed", "%s", d.StatusReason)
		return
	}
	if d.Status != store.DomainCertificateIssued {
		d.Status, d.StatusReason = store.DomainCertificateIssued, ""
		if err := c.st.UpdateDomain(ctx, d); err != nil {
			c.log.Error("recording the certificate failed", "domain", d.ID, "err", err)
		}
	}
	if renewal {
		c.events.Record(ctx, d.ID, "domain.certificate_renewed", "certificate renewed for %s", name)
		return
	}
	c.events.Record(ctx, d.ID, "domain.certificate_issued", "certificate issued for %s", name)
}

// certFailureReason says, for a person, why the certificate for name
// was not issued and what to do. The CA's own detail stays in the log:
// it may name addresses.
func (c *Manager) certFailureReason(name string, err error) string {
	target := c.cfg.Target
	if target == "" {
		target = c.cfg.Names.Domain
	}
	retry := "then verify the domain again (POST /api/v1/domains/{id}/verify) to retry"
	msg := err.Error()
	has := func(kind string) bool { return strings.Contains(msg, "urn:ietf:params:acme:error:"+kind) }
	if base, ok := strings.CutPrefix(name, "*."); ok {
		return wildcardFailureReason(name, base, has, retry)
	}
	switch {
	case has("dns"):
		return fmt.Sprintf("the certificate authority could not resolve %s: create its CNAME record pointing at %s, %s", name, target, retry)
	case has("caa"):
		return fmt.Sprintf("a CAA record on %s forbids the certificate authority from issuing for it: allow it or remove the record, %s", name, retry)
	case has("connection"), has("unauthorized"), has("incorrectResponse"):
		return fmt.Sprintf("the certificate authority could not fetch http://%s/.well-known/acme-challenge/ from the edge: make sure %s resolves to the edge (a CNAME record pointing at %s) and its port 80 reaches it, %s", name, name, target, retry)
	case has("rateLimited"):
		return fmt.Sprintf("the certificate authority's rate limit was reached for %s; the order is retried on its own after %s", name, certRetryAfter)
	case has("rejectedIdentifier"):
		return fmt.Sprintf("the certificate authority will not issue a certificate for %s", name)
	case errors.Is(err, context.DeadlineExceeded):
		return fmt.Sprintf("the certificate authority did not answer in time for %s; %s", name, retry)
	}
	return fmt.Sprintf("the certificate for %s could not be obtained; %s", name, retry)
}

// Retry turns a domain whose certificate failed back into a
// verified one, so that the next handshake for its names orders again.
func (c *Manager) Retry(ctx context.Context, d *store.Domain) (*store.Domain, error) {
	d.Status, d.StatusReason = store.DomainVerified, ""
	if err := c.st.UpdateDomain(ctx, d); err != nil {
		return nil, fmt.Errorf("updating domain: %w", err)
	}
	c.events.Record(ctx, d.ID, "domain.certificate_retry", "the certificate is ordered again (now, or at the next HTTPS request)")
	c.Order(ctx, d, true)
	return d, nil
}
