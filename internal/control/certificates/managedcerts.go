package certificates

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/berth-dev/berth/internal/control/names"
	"github.com/berth-dev/berth/internal/store"
)

// ManagedTLS is how the managed names under the platform domain P
// ({project}.{org}.P, {sandbox}.sandbox.{org}.P) get certificates.
type ManagedTLS string

const (
	// ManagedTLSAuto gives every org the wildcards *.{org}.P and
	// *.sandbox.{org}.P over DNS-01 when a DNS provider's zone covers P;
	// without one, managed names get no certificate.
	ManagedTLSAuto ManagedTLS = "auto"
	// ManagedTLSHTTP01 also lets a managed name that no wildcard covers be
	// ordered on its own over HTTP-01, on its first handshake. Every app
	// and preview then costs an order at the CA, whose limits count per
	// registered domain: that is why the operator opts in.
	ManagedTLSHTTP01 ManagedTLS = "http-01"
	// ManagedTLSOff orders nothing for managed names.
	ManagedTLSOff ManagedTLS = "off"
)

// ParseManagedTLS reads the operator's choice; empty is ManagedTLSAuto.
func ParseManagedTLS(s string) (ManagedTLS, error) {
	switch m := ManagedTLS(strings.ToLower(strings.TrimSpace(s))); m {
	case "":
		return ManagedTLSAuto, nil
	case ManagedTLSAuto, ManagedTLSHTTP01, ManagedTLSOff:
		return m, nil
	}
	return "", fmt.Errorf("%q is not a way managed names get certificates: say auto (wildcards over DNS-01 when a DNS provider's zone covers the platform domain), http-01 (also one order per name over HTTP-01) or off", s)
}

// managedOrdersPerPass bounds the orgs whose wildcards one pass of the
// certificate-orders loop orders anew, so that turning on a DNS provider
// over many existing orgs spreads their orders over minutes instead of
// sending them all to the CA at once. An org created later is ordered at
// once, outside this count.
const managedOrdersPerPass = 10

func (c *Manager) managedMode() ManagedTLS {
	if c.cfg.ManagedTLS == "" {
		return ManagedTLSAuto
	}
	return c.cfg.ManagedTLS
}

// managedName splits a name under the platform domain P around the org
// slug of the managed domain {org}.P it falls in: "*.sandbox" and "acme"
// for "*.sandbox.acme.P", "" and "acme" for "acme.P". ok is false for a
// name not under P; P itself has no slug.
func (c *Manager) managedName(name string) (rest, orgSlug string, ok bool) {
	P := c.cfg.Names.Domain
	if P == "" {
		return "", "", false
	}
	under, ok := strings.CutSuffix(name, "."+P)
	if !ok {
		return "", "", name == P
	}
	i := strings.LastIndexByte(under, '.')
	if i < 0 {
		return "", under, true
	}
	return under[:i], under[i+1:], true
}

// managedCertName is managedName for the certificate gate and its
// results: ok is false too when a verified custom domain covers the name
// (one under the platform domain whose first label is no org's slug,
// which then serves the names under it, as the resolver says).
func (c *Manager) managedCertName(ctx context.Context, name string) (rest, orgSlug string, ok bool, err error) {
	rest, orgSlug, ok = c.managedName(name)
	if !ok {
		return "", "", false, nil
	}
	base, wildcard := strings.CutPrefix(name, "*.")
	verified, err := c.st.ListVerifiedDomains(ctx, names.Suffixes(base))
	if err != nil {
		return "", "", false, fmt.Errorf("listing the verified domains over %s: %w", name, err)
	}
	for _, d := range verified {
		if !wildcard && d.Hostname == name || d.DeploymentID == "" && (d.Hostname == base || strings.HasSuffix(base, "."+d.Hostname)) {
			return "", "", false, nil
		}
	}
	return rest, orgSlug, true, nil
}

// managedOrg returns the org with the slug; nil when there is none.
func (c *Manager) managedOrg(ctx context.Context, slug string) (*store.Org, error) {
	if slug == "" || strings.Contains(slug, "*") {
		return nil, nil
	}
	o, err := c.st.GetOrgBySlug(ctx, slug)
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("getting org %s: %w", slug, err)
	}
	return o, nil
}

// managedWildcards are the wildcard certificates of org o's managed
// domain {org}.P when a DNS provider can publish their challenges: *.{org}.P
// for its deployments and *.sandbox.{org}.P for its sandboxes.
func (c *Manager) managedWildcards(o *store.Org) []string {
	if c.cfg.Certs == nil || c.managedMode() == ManagedTLSOff {
		return nil
	}
	D := c.cfg.Names.OrgDomain(o.Slug)
	names := []string{"*." + D, "*.sandbox." + D}
	for _, n := range names {
		if !c.cfg.Certs.CanOrderWildcard(n) {
			return nil
		}
	}
	return names
}

// managedCovered reports whether the wildcards of an org's managed domain
// serve the name whose part before {org}.P is rest: one label, or one
// label under sandbox.
func managedCovered(rest string) bool {
	rest = strings.TrimSuffix(rest, ".sandbox")
	return rest != "" && rest != "*" && !strings.Contains(rest, ".")
}

// allowManaged is the gate for a name under the platform domain: the two
// wildcards of an existing org when a DNS provider orders them, then no
// name they cover; a managed name the resolver routes when the operator
// opted in to HTTP-01; nothing else. A name whose last order failed waits
// certRetryAfter, as a custom domain's does.
func (c *Manager) allowManaged(ctx context.Context, name, rest, orgSlug string) error {
	o, err := c.managedOrg(ctx, orgSlug)
	if err != nil {
		return err
	}
	if o == nil {
		return fmt.Errorf("%s is under the platform domain but in no org's managed domain", name)
	}
	if c.managedMode() == ManagedTLSOff {
		return fmt.Errorf("%s is a managed name, and the operator turned certificates for managed names off", name)
	}
	wildcards := c.managedWildcards(o)
	if strings.HasPrefix(name, "*.") {
		if !slices.Contains(wildcards, name) {
			if len(wildcards) == 0 {
				return fmt.Errorf("%s is not ordered: no DNS provider's zone covers the platform domain %s", name, c.cfg.Names.Domain)
			}
			return fmt.Errorf("%s is not one of the wildcards of %s (%s)", name, c.cfg.Names.OrgDomain(o.Slug), strings.Join(wildcards, ", "))
		}
		return c.managedPause(ctx, name)
	}
	if len(wildcards) > 0 && managedCovered(rest) {
		return fmt.Errorf("%s is served by the wildcard certificates of %s, ordered over DNS-01; none is ordered for the name itself", name, c.cfg.Names.OrgDomain(o.Slug))
	}
	if c.managedMode() != ManagedTLSHTTP01 {
		return fmt.Errorf("%s is a managed name: it gets a certificate from its org's wildcards when a DNS provider's zone covers %s, or on its own over HTTP-01 where the operator opted in (--acme-managed-names=http-01); neither applies", name, c.cfg.Names.Domain)
	}
	if err := c.managedPause(ctx, name); err != nil {
		return err
	}
	if a, err := c.resolver.Resolve(ctx, name); err != nil {
		return fmt.Errorf("resolving %s: %w", name, err)
	} else if !a.Found {
		return fmt.Errorf("no app or sandbox answers at %s", name)
	}
	return nil
}

// managedPause refuses name while the failure of its last order is younger
// than certRetryAfter. The record is in the store, so a restart does not
// shorten the wait.
func (c *Manager) managedPause(ctx context.Context, name string) error {
	m, err := c.st.GetManagedCert(ctx, name)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return nil
	case err != nil:
		return fmt.Errorf("reading the certificate record of %s: %w", name, err)
	case m.Status == store.ManagedCertFailed && time.Since(m.UpdatedAt) < certRetryAfter:
		return fmt.Errorf("the last certificate order for %s failed; retrying after %s", name, m.UpdatedAt.Add(certRetryAfter).Format(time.RFC3339))
	}
	return nil
}

// managedCertificateResult records the outcome of an order for a managed
// name, and an event on its org: org.certificate_issued, _renewed or
// _failed with a reason that says what happened.
func (c *Manager) managedCertificateResult(ctx context.Context, name, orgSlug string, renewal bool, orderErr error) {
	o, err := c.managedOrg(ctx, orgSlug)
	if err != nil || o == nil {
		c.log.Warn("certificate has no org to record it on", "name", name, "err", err)
		return
	}
	rec := &store.ManagedCert{Name: name, OrgID: o.ID, Status: store.ManagedCertIssued, UpdatedAt: time.Now().UTC()}
	if orderErr != nil {
		c.log.Error("certificate order failed", "name", name, "org", o.ID, "err", orderErr)
		rec.Status, rec.Reason = store.ManagedCertFailed, managedFailureReason(name, orderErr)
	}
	if err := c.st.PutManagedCert(ctx, rec); err != nil {
		c.log.Error("recording the certificate failed", "name", name, "org", o.ID, "err", err)
	}
	switch {
	case orderErr != nil:
		c.events.Record(ctx, o.ID, "org.certificate_failed", "%s", rec.Reason)
	case renewal:
		c.events.Record(ctx, o.ID, "org.certificate_renewed", "certificate renewed for %s", name)
	default:
		c.events.Record(ctx, o.ID, "org.certificate_issued", "certificate issued for %s", name)
	}
}

// managedFailureReason says, for a person, why the certificate of a
// managed name was not issued. The platform's DNS and edge are the
// operator's to fix, so it says what the platform does next; the CA's own
// detail stays in the log.
func managedFailureReason(name string, err error) string {
	msg := err.Error()
	has := func(kind string) bool { return strings.Contains(msg, "urn:ietf:params:acme:error:"+kind) }
	retry := fmt.Sprintf("the platform orders it again on its own after %s", certRetryAfter)
	if base, ok := strings.CutPrefix(name, "*."); ok {
		return wildcardFailureReason(name, base, has, retry)
	}
	switch {
	case has("dns"), has("connection"), has("unauthorized"), has("incorrectResponse"):
		return fmt.Sprintf("the certificate authority could not fetch http://%s/.well-known/acme-challenge/ from the edge: the platform domain's DNS must send %s to the edge and its port 80 must reach it; %s", name, name, retry)
	case has("caa"):
		return fmt.Sprintf("a CAA record forbids the certificate authority from issuing for %s; %s", name, retry)
	case has("rateLimited"):
		return fmt.Sprintf("the certificate authority's rate limit was reached for %s; %s", name, retry)
	case has("rejectedIdentifier"):
		return fmt.Sprintf("the certificate authority will not issue a certificate for %s", name)
	}
	return fmt.Sprintf("the certificate for %s could not be obtained; %s", name, retry)
}

// OrderManaged asks for the wildcards of org o's managed
// domain now, through the gate: ordered, or loaded from the store when
// there. Unless force, a wildcard asked for within certRetryAfter is left
// alone. It reports whether anything was asked for.
func (c *Manager) OrderManaged(ctx context.Context, o *store.Org, force bool) bool {
	var names []string
	for _, n := range c.managedWildcards(o) {
		c.orders.mu.Lock()
		t, asked := c.orders.last[n]
		c.orders.mu.Unlock()
		if asked && !force && time.Since(t) < certRetryAfter {
			continue
		}
		if _, _, managed, err := c.managedCertName(ctx, n); err != nil || !managed {
			continue // a custom domain's, ordered with it
		}
		if err := c.AllowCertificate(ctx, n); err != nil {
			c.log.Warn("wildcard certificate not ordered", "name", n, "org", o.ID, "err", err)
			continue
		}
		names = append(names, n)
	}
	if len(names) == 0 {
		return false
	}
	c.orders.mu.Lock()
	if c.orders.last == nil {
		c.orders.last = map[string]time.Time{}
	}
	for _, n := range names {
		c.orders.last[n] = time.Now() // names and domain ids never clash
	}
	c.orders.mu.Unlock()
	if err := c.cfg.Certs.ManageWildcards(ctx, names); err != nil {
		c.log.Warn("wildcard certificates failed", "domain", c.cfg.Names.OrgDomain(o.Slug), "org", o.ID, "err", err)
		for _, n := range names {
			c.Forget(n)
		}
		return false
	}
	return true
}

// managedCertificatePass orders the wildcards every org still lacks, at
// most managedOrdersPerPass orgs at a time, skipping those whose last
// order failed within certRetryAfter (the gate's pause). On the first pass
// after a start it also takes over the wildcards in the store, which are
// then renewed.
func (c *Manager) managedCertificatePass(ctx context.Context, first bool) {
	if c.cfg.Certs == nil || c.managedMode() == ManagedTLSOff {
		return
	}
	orgs, err := store.ListAll(ctx, c.st.ListOrgs)
	if err != nil {
		if ctx.Err() == nil {
			c.log.Warn("listing orgs for certificates failed", "err", err)
		}
		return
	}
	recs, err := c.st.ListManagedCerts(ctx, "")
	if err != nil {
		c.log.Warn("listing managed certificates failed", "err", err)
		return
	}
	byName := make(map[string]*store.ManagedCert, len(recs))
	for _, r := range recs {
		byName[r.Name] = r
	}
	fresh := 0
	for _, o := range orgs {
		names := c.managedWildcards(o)
		if len(names) == 0 {
			continue
		}
		issued := true
		for _, n := range names {
			if r := byName[n]; r == nil || r.Status != store.ManagedCertIssued {
				issued = false
			}
		}
		switch {
		case issued && !first:
			// In memory since the first pass, renewed there.
		case issued:
			c.OrderManaged(ctx, o, false)
		case fresh >= managedOrdersPerPass:
			// The next pass.
		case c.OrderManaged(ctx, o, false):
			fresh++
		}
	}
}
