package certificates_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/berth-dev/berth/internal/control"
	"github.com/berth-dev/berth/internal/control/certificates"
	"github.com/berth-dev/berth/internal/control/controltest"
	"github.com/berth-dev/berth/internal/control/domains"
	"github.com/berth-dev/berth/internal/control/names"
	"github.com/berth-dev/berth/internal/edge"
	"github.com/berth-dev/berth/internal/store"
	"github.com/berth-dev/berth/internal/store/sqlite"
	"github.com/berth-dev/berth/internal/templates"
)

// managedFixture is a store with the org "acme", its deployment
// site.acme.P and its running sandbox site-abc.sandbox.acme.P.
func managedFixture(t *testing.T) (store.Store, *store.Org) {
	t.Helper()
	ctx := context.Background()
	st, err := sqlite.Open(t.TempDir()+"/berth.db", make([]byte, 32))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	now := time.Now().UTC()
	acme := &store.Org{ID: "org_1", Slug: "acme", Name: "Acme Health", CreatedAt: now}
	for _, err := range []error{
		st.CreateOrg(ctx, acme),
		st.CreateWorkspace(ctx, &store.Workspace{ID: "ws_1", OrgID: "org_1", Slug: "w1", Name: "W1", CreatedAt: now}),
		st.CreateProject(ctx, &store.Project{ID: "prj_1", OrgID: "org_1", WorkspaceID: "ws_1", Slug: "site", Name: "Site", CreatedAt: now}),
		st.CreateDeployment(ctx, &store.Deployment{ID: "dep_1", OrgID: "org_1", WorkspaceID: "ws_1", ProjectID: "prj_1", Product: store.ProductStandard,
			Status: store.DeploymentReady, Upstream: "127.0.0.1:1001", CreatedAt: now, UpdatedAt: now}),
		st.CreateSandbox(ctx, &store.Sandbox{ID: "sbx_1", OrgID: "org_1", WorkspaceID: "ws_1", ProjectID: "prj_1", Slug: "site-abc",
			TemplateID: "static-html", Status: store.SandboxRunning, PreviewPort: 8080,
			Upstreams: map[int]string{8080: "127.0.0.1:2001"}, CreatedAt: now, UpdatedAt: now}),
	} {
		if err != nil {
			t.Fatal(err)
		}
	}
	return st, acme
}

func managedControl(st store.Store, orders *orderLog, mode certificates.ManagedTLS) *control.Plane {
	if orders.dns == nil {
		orders.dns = controltest.TXT{}
	}
	c := control.New(control.Config{Store: st, Templates: templates.New(nil), Names: names.Names{Domain: "berth.test", Port: 7780},
		Brand: edge.Brand{Name: "Platform"}, Certs: orders, ManagedTLS: mode, Domains: domains.Config{DNS: orders.dns}})
	orders.allow = c.Certificates.AllowCertificate
	return c
}

// refused checks that the gate refuses name, for a reason that says want.
func refused(t *testing.T, c *control.Plane, name, want string) {
	t.Helper()
	err := c.Certificates.AllowCertificate(context.Background(), name)
	if err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("AllowCertificate(%s) = %v, want a refusal saying %q", name, err, want)
	}
}

func allowed(t *testing.T, c *control.Plane, names ...string) {
	t.Helper()
	for _, n := range names {
		if err := c.Certificates.AllowCertificate(context.Background(), n); err != nil {
			t.Errorf("AllowCertificate(%s) = %v", n, err)
		}
	}
}

// rateLimited is how an order the CA refused for its rate limit fails.
var rateLimited = errors.New(`acme: error: 429 :: POST :: urn:ietf:params:acme:error:rateLimited :: too many certificates`)

// TestManagedWildcards: with a DNS provider whose zone is the platform
// domain, an org gets *.{org}.P and *.sandbox.{org}.P when it is created;
// the gate allows exactly those and refuses every name they cover; a
// failed wildcard waits certificates.CertRetryAfter, across a restart too; the loop
// orders what orgs lack, a few orgs per pass, and after a restart loads
// what the store has.
func TestManagedWildcards(t *testing.T) {
	ctx := context.Background()
	st, acme := managedFixture(t)
	orders := &orderLog{zone: "berth.test"}
	c := managedControl(st, orders, certificates.ManagedTLSAuto)

	c.Routes.OrgCreated(acme)
	want := []string{"*.acme.berth.test", "*.sandbox.acme.berth.test"}
	if !slices.Equal(orders.wildcards, want) {
		t.Fatalf("wildcards ordered at the org's creation: %q, want %q", orders.wildcards, want)
	}
	allowed(t, c, want...)
	for _, name := range []string{"site.acme.berth.test", "site-abc.sandbox.acme.berth.test", "s3.acme.berth.test", "Site.Acme.Berth.Test."} {
		refused(t, c, name, "served by the wildcard certificates of acme.berth.test")
	}
	refused(t, c, "*.portal.acme.berth.test", "not one of the wildcards of acme.berth.test")
	refused(t, c, "*.x.sandbox.acme.berth.test", "not one of the wildcards")
	refused(t, c, "*.ghost.berth.test", "in no org's managed domain")
	refused(t, c, "site.ghost.berth.test", "in no org's managed domain")
	refused(t, c, "*.berth.test", "in no org's managed domain")
	refused(t, c, "berth.test", "in no org's managed domain")
	// Not covered by the wildcards and not opted in to HTTP-01.
	refused(t, c, "acme.berth.test", "is a managed name")
	refused(t, c, "w1.portal.acme.berth.test", "is a managed name")
	if len(orders.exact) != 0 {
		t.Errorf("exact names ordered: %q", orders.exact)
	}

	// The deployments' wildcard fails: recorded, with an event on the
	// org; the gate refuses it until the pause is over, the other is
	// still ordered.
	c.Certificates.CertificateResult(ctx, "*.acme.berth.test", false, rateLimited)
	rec, err := st.GetManagedCert(ctx, "*.acme.berth.test")
	if err != nil || rec.Status != store.ManagedCertFailed || rec.OrgID != acme.ID || !strings.Contains(rec.Reason, "rate limit") {
		t.Fatalf("record of the failed wildcard: %+v, %v", rec, err)
	}
	c.Certificates.CertificateResult(ctx, "*.sandbox.acme.berth.test", false, nil)
	evs, err := st.ListEvents(ctx, acme.ID, 0, 100)
	if err != nil {
		t.Fatal(err)
	}
	var types []string
	for _, e := range evs {
		types = append(types, e.Type)
	}
	if !slices.Equal(types, []string{"org.certificate_failed", "org.certificate_issued"}) || !strings.Contains(evs[1].Message, "*.sandbox.acme.berth.test") {
		t.Errorf("org events: %+v", evs)
	}
	refused(t, c, "*.acme.berth.test", "the last certificate order for *.acme.berth.test failed")
	allowed(t, c, "*.sandbox.acme.berth.test")
	orders.wildcards = nil
	c.Certificates.OrderManaged(ctx, acme, true)
	if !slices.Equal(orders.wildcards, []string{"*.sandbox.acme.berth.test"}) {
		t.Errorf("ordered during the pause: %q", orders.wildcards)
	}

	// A restart keeps the pause: the first pass does not order acme's
	// failed wildcard.
	orders = &orderLog{zone: "berth.test"}
	c = managedControl(st, orders, certificates.ManagedTLSAuto)
	c.Certificates.ManagedCertificatePass(ctx, true)
	if !slices.Equal(orders.wildcards, []string{"*.sandbox.acme.berth.test"}) {
		t.Errorf("the first pass after a restart, during the pause: %q, want the issued one loaded", orders.wildcards)
	}
	// Once the pause is over, the pass orders it again.
	rec.UpdatedAt = time.Now().Add(-certificates.CertRetryAfter - time.Second)
	if err := st.PutManagedCert(ctx, rec); err != nil {
		t.Fatal(err)
	}
	allowed(t, c, "*.acme.berth.test")
	c.Certificates.ManagedCertificatePass(ctx, false)
	if want := []string{"*.sandbox.acme.berth.test", "*.acme.berth.test"}; !slices.Equal(orders.wildcards, want) {
		t.Errorf("after the pause: %q, want %q", orders.wildcards, want)
	}

	// Orgs that lack their wildcards (made before the DNS provider was
	// configured) are ordered certificates.ManagedOrdersPerPass at a time.
	now := time.Now().UTC()
	var later []*store.Org
	for i := range certificates.ManagedOrdersPerPass + 2 {
		o := &store.Org{ID: fmt.Sprintf("org_%03d", 100+i), Slug: fmt.Sprintf("o%d", i), Name: "O", CreatedAt: now}
		if err := st.CreateOrg(ctx, o); err != nil {
			t.Fatal(err)
		}
		later = append(later, o)
	}
	orders.wildcards = nil
	c.Certificates.ManagedCertificatePass(ctx, false)
	if n := len(orders.wildcards); n != 2*certificates.ManagedOrdersPerPass {
		t.Errorf("one pass ordered %d wildcards, want %d", n, 2*certificates.ManagedOrdersPerPass)
	}
	c.Certificates.ManagedCertificatePass(ctx, false)
	if n := len(orders.wildcards); n != 2*len(later) {
		t.Errorf("two passes ordered %d wildcards, want %d", n, 2*len(later))
	}
	// Issued everywhere: later passes ask for nothing; after a restart
	// the first pass loads every org's, uncapped, and the next none.
	for _, o := range append(later, acme) {
		for _, n := range []string{"*." + o.Slug + ".berth.test", "*.sandbox." + o.Slug + ".berth.test"} {
			c.Certificates.CertificateResult(ctx, n, false, nil)
		}
	}
	orders.wildcards = nil
	c.Certificates.ManagedCertificatePass(ctx, false)
	if len(orders.wildcards) != 0 {
		t.Errorf("a pass with every wildcard issued asked for %q", orders.wildcards)
	}
	orders = &orderLog{zone: "berth.test"}
	c = managedControl(st, orders, certificates.ManagedTLSAuto)
	c.Certificates.ManagedCertificatePass(ctx, true)
	if n := len(orders.wildcards); n != 2*(len(later)+1) {
		t.Errorf("the first pass after a restart asked for %d wildcards, want %d (loaded)", n, 2*(len(later)+1))
	}
	orders.wildcards = nil
	c.Certificates.ManagedCertificatePass(ctx, false)
	if len(orders.wildcards) != 0 {
		t.Errorf("the second pass after a restart asked for %q", orders.wildcards)
	}

	// A custom org domain under the platform domain whose first label is
	// no org's slug serves the names under it, certificates included: its
	// wildcards are its own, recorded on it, and an org given that slug
	// later orders none.
	dns := orders.dns
	cd, err := c.Domains.CreateDomain(ctx, domains.DomainRequest{Hostname: "cliniciq.berth.test", Org: acme})
	if err != nil {
		t.Fatal(err)
	}
	dns["_berth-challenge."+cd.Hostname] = []string{cd.Token}
	if cd, err = c.Domains.VerifyDomain(ctx, cd); err != nil || cd.Status != store.DomainVerified {
		t.Fatalf("verify cliniciq.berth.test: %+v, %v", cd, err)
	}
	custom := []string{"*.cliniciq.berth.test", "*.sandbox.cliniciq.berth.test"}
	if got := orders.wildcards; !slices.Equal(got, custom) {
		t.Errorf("wildcards of the custom domain: %q, want %q", got, custom)
	}
	allowed(t, c, custom...)
	refused(t, c, "site.cliniciq.berth.test", "wildcard certificates of cliniciq.berth.test")
	c.Certificates.CertificateResult(ctx, "*.cliniciq.berth.test", false, nil)
	if got, err := st.GetDomain(ctx, cd.ID); err != nil || got.Status != store.DomainCertificateIssued {
		t.Errorf("the custom domain after its wildcard: %+v, %v", got, err)
	}
	if _, err := st.GetManagedCert(ctx, "*.cliniciq.berth.test"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("a managed record of the custom domain's wildcard: %v", err)
	}
	late := &store.Org{ID: "org_200", Slug: "cliniciq", Name: "Late", CreatedAt: now}
	if err := st.CreateOrg(ctx, late); err != nil {
		t.Fatal(err)
	}
	orders.wildcards = nil
	c.Routes.OrgCreated(late)
	if len(orders.wildcards) != 0 {
		t.Errorf("the org named like the custom domain ordered %q", orders.wildcards)
	}
}

// TestManagedHTTP01: without a DNS provider for the platform domain, a
// managed name is refused by default and, where the operator opted in,
// allowed exactly when the resolver routes it; a failed one waits. Off
// orders no wildcard even with a DNS provider.
func TestManagedHTTP01(t *testing.T) {
	ctx := context.Background()
	st, acme := managedFixture(t)

	// The provider's zone is another domain.
	orders := &orderLog{zone: "cliniciq.dev"}
	c := managedControl(st, orders, certificates.ManagedTLSAuto)
	c.Routes.OrgCreated(acme)
	c.Certificates.ManagedCertificatePass(ctx, true)
	if len(orders.wildcards) != 0 {
		t.Errorf("wildcards ordered outside the provider's zone: %q", orders.wildcards)
	}
	refused(t, c, "site.acme.berth.test", "is a managed name")
	refused(t, c, "site-abc.sandbox.acme.berth.test", "is a managed name")
	refused(t, c, "*.acme.berth.test", "no DNS provider's zone covers the platform domain berth.test")

	c = managedControl(st, orders, certificates.ManagedTLSHTTP01)
	allowed(t, c, "site.acme.berth.test", "site-abc.sandbox.acme.berth.test", "SITE.acme.berth.test.")
	refused(t, c, "nothing.acme.berth.test", "no app or sandbox answers at nothing.acme.berth.test")
	refused(t, c, "gone.sandbox.acme.berth.test", "no app or sandbox answers")
	refused(t, c, "site.ghost.berth.test", "in no org's managed domain")
	refused(t, c, "*.acme.berth.test", "no DNS provider's zone covers")
	refused(t, c, "berth.test", "in no org's managed domain")

	// A failed order of one name: that name waits, the others do not.
	c.Certificates.CertificateResult(ctx, "site.acme.berth.test", false, errors.New("urn:ietf:params:acme:error:connection :: refused"))
	refused(t, c, "site.acme.berth.test", "the last certificate order for site.acme.berth.test failed")
	allowed(t, c, "site-abc.sandbox.acme.berth.test")
	rec, err := st.GetManagedCert(ctx, "site.acme.berth.test")
	if err != nil || !strings.Contains(rec.Reason, "could not fetch http://site.acme.berth.test/.well-known/acme-challenge/") || strings.Contains(rec.Reason, "refused") {
		t.Errorf("record of the failed name: %+v, %v", rec, err)
	}
	c.Certificates.CertificateResult(ctx, "site.acme.berth.test", false, nil)
	allowed(t, c, "site.acme.berth.test")

	// With a provider for the platform domain, HTTP-01 is for what the
	// wildcards do not cover.
	orders = &orderLog{zone: "berth.test"}
	c = managedControl(st, orders, certificates.ManagedTLSHTTP01)
	refused(t, c, "site.acme.berth.test", "served by the wildcard certificates")
	refused(t, c, "nothing.portal.acme.berth.test", "no app or sandbox answers")

	// Off: nothing, whatever the provider covers.
	c = managedControl(st, orders, certificates.ManagedTLSOff)
	c.Routes.OrgCreated(acme)
	c.Certificates.ManagedCertificatePass(ctx, true)
	if len(orders.wildcards) != 0 {
		t.Errorf("wildcards ordered with managed names off: %q", orders.wildcards)
	}
	refused(t, c, "*.acme.berth.test", "turned certificates for managed names off")
	refused(t, c, "site.acme.berth.test", "turned certificates for managed names off")
}

func TestParseManagedTLS(t *testing.T) {
	for in, want := range map[string]certificates.ManagedTLS{"": certificates.ManagedTLSAuto, "auto": certificates.ManagedTLSAuto, "HTTP-01": certificates.ManagedTLSHTTP01, " off ": certificates.ManagedTLSOff} {
		if got, err := certificates.ParseManagedTLS(in); err != nil || got != want {
			t.Errorf("certificates.ParseManagedTLS(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	if _, err := certificates.ParseManagedTLS("dns-01"); err == nil || !strings.Contains(err.Error(), "say auto") {
		t.Errorf("certificates.ParseManagedTLS(dns-01) = %v", err)
	}
}
