package certificates_test

import (
	"context"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/berth-dev/berth/internal/control"
	"github.com/berth-dev/berth/internal/control/controltest"
	"github.com/berth-dev/berth/internal/control/domains"
	"github.com/berth-dev/berth/internal/control/names"
	"github.com/berth-dev/berth/internal/edge"
	"github.com/berth-dev/berth/internal/store"
	"github.com/berth-dev/berth/internal/store/sqlite"
	"github.com/berth-dev/berth/internal/templates"
)

// orderLog records what the control plane asks of the certificate
// manager, for tests of the decisions around it; the real manager is
// tested against Pebble in e2e (TestEdgeWildcardTLS, TestEdgeTLS).
type orderLog struct {
	zone      string // wildcards are possible under it
	mu        sync.Mutex
	wildcards []string
	exact     []string
	allow     func(ctx context.Context, name string) error
	// dns answers the plane's verification lookups.
	dns controltest.TXT
}

func (o *orderLog) CanOrderWildcard(name string) bool {
	return strings.HasSuffix(name, "."+o.zone)
}

func (o *orderLog) ManageWildcards(_ context.Context, names []string) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.wildcards = append(o.wildcards, names...)
	return nil
}

func (o *orderLog) Obtain(ctx context.Context, name string) error {
	if err := o.allow(ctx, name); err != nil {
		return err
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	o.exact = append(o.exact, name)
	return nil
}

// TestCertificateOrders: a verified org domain in the DNS provider's zone
// orders *.D and *.sandbox.D and no name under it is ordered on its own;
// one outside the zone keeps per-name orders; a verified deployment
// domain is ordered at once, through the gate.
func TestCertificateOrders(t *testing.T) {
	ctx := context.Background()
	st, err := sqlite.Open(t.TempDir()+"/berth.db", make([]byte, 32))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	now := time.Now().UTC()
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	acme := &store.Org{ID: "org_1", Slug: "acme", Name: "Acme Health", CreatedAt: now}
	must(st.CreateOrg(ctx, acme))
	must(st.CreateWorkspace(ctx, &store.Workspace{ID: "ws_1", OrgID: "org_1", Slug: "w1", Name: "W1", CreatedAt: now}))
	must(st.CreateProject(ctx, &store.Project{ID: "prj_1", OrgID: "org_1", WorkspaceID: "ws_1", Slug: "site", Name: "Site", CreatedAt: now}))
	dep := &store.Deployment{ID: "dep_1", OrgID: "org_1", WorkspaceID: "ws_1", ProjectID: "prj_1", Product: store.ProductStandard,
		Status: store.DeploymentReady, Upstream: "127.0.0.1:1001", CreatedAt: now, UpdatedAt: now}
	must(st.CreateDeployment(ctx, dep))
	must(st.CreateSandbox(ctx, &store.Sandbox{ID: "sbx_1", OrgID: "org_1", WorkspaceID: "ws_1", ProjectID: "prj_1", Slug: "site-abc",
		TemplateID: "static-html", Status: store.SandboxRunning, PreviewPort: 8080,
		Upstreams: map[int]string{8080: "127.0.0.1:2001"}, CreatedAt: now, UpdatedAt: now}))

	orders := &orderLog{zone: "cliniciq.dev"}
	dns := controltest.TXT{}
	c := control.New(control.Config{Store: st, Templates: templates.New(nil), Names: names.Names{Domain: "localhost", Port: 7780},
		Brand: edge.Brand{Name: "Platform"}, Domains: domains.Config{DNS: dns}, Certs: orders})
	orders.allow = c.Certificates.AllowCertificate
	verify := func(req domains.DomainRequest) *store.Domain {
		t.Helper()
		d, err := c.Domains.CreateDomain(ctx, req)
		must(err)
		dns["_berth-challenge."+d.Hostname] = []string{d.Token}
		v, err := c.Domains.VerifyDomain(ctx, d)
		must(err)
		if v.Status != store.DomainVerified {
			t.Fatalf("%s: %s (%s)", d.Hostname, v.Status, v.StatusReason)
		}
		return v
	}

	verify(domains.DomainRequest{Hostname: "apps.cliniciq.dev", Org: acme})
	if want := []string{"*.apps.cliniciq.dev", "*.sandbox.apps.cliniciq.dev"}; !slices.Equal(orders.wildcards, want) {
		t.Errorf("wildcards ordered: %q, want %q", orders.wildcards, want)
	}
	for _, name := range []string{"site.apps.cliniciq.dev", "site-abc.sandbox.apps.cliniciq.dev"} {
		err := c.Certificates.AllowCertificate(ctx, name)
		if err == nil || !strings.Contains(err.Error(), "wildcard certificates of apps.cliniciq.dev") {
			t.Errorf("AllowCertificate(%s) = %v, want the wildcards named", name, err)
		}
	}
	for _, name := range []string{"*.apps.cliniciq.dev", "*.sandbox.apps.cliniciq.dev"} {
		if err := c.Certificates.AllowCertificate(ctx, name); err != nil {
			t.Errorf("AllowCertificate(%s) = %v", name, err)
		}
	}

	// An org domain outside the provider's zone: no wildcard; its names
	// are ordered one by one on their first handshake.
	verify(domains.DomainRequest{Hostname: "clinic.example", Org: acme})
	if len(orders.wildcards) != 2 {
		t.Errorf("wildcards ordered for a domain outside the zone: %q", orders.wildcards)
	}
	if err := c.Certificates.AllowCertificate(ctx, "site.clinic.example"); err != nil {
		t.Errorf("AllowCertificate(site.clinic.example) = %v", err)
	}

	// A deployment domain is ordered when it verifies.
	verify(domains.DomainRequest{Hostname: "program.drsmith.example", Org: acme, Deployment: dep})
	if !slices.Equal(orders.exact, []string{"program.drsmith.example"}) {
		t.Errorf("exact names ordered: %q", orders.exact)
	}

	// A certificate result for *.sandbox.D is recorded on D.
	c.Certificates.CertificateResult(ctx, "*.sandbox.apps.cliniciq.dev", false, nil)
	all, err := st.ListDomains(ctx, store.ListFilter{Limit: 10})
	must(err)
	for _, d := range all {
		if d.Hostname == "apps.cliniciq.dev" && d.Status != store.DomainCertificateIssued {
			t.Errorf("after the sandbox wildcard: %s %s", d.Status, d.StatusReason)
		}
	}
}
