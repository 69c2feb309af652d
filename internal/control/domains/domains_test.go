package domains_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/berth-dev/berth/internal/control"
	"github.com/berth-dev/berth/internal/control/controltest"
	"github.com/berth-dev/berth/internal/control/domains"
	"github.com/berth-dev/berth/internal/control/names"
	"github.com/berth-dev/berth/internal/edge"
	"github.com/berth-dev/berth/internal/problem"
	"github.com/berth-dev/berth/internal/store"
	"github.com/berth-dev/berth/internal/store/sqlite"
	"github.com/berth-dev/berth/internal/templates"
)

func TestNormalizeHostname(t *testing.T) {
	good := map[string]string{
		"Clinic.Example.COM.":           "clinic.example.com",
		"cliniciq.localhost":            "cliniciq.localhost",
		"xn--bcher-kva.example":         "xn--bcher-kva.example",
		"a-b.c1.example":                "a-b.c1.example",
		"Bücher.Example":                "xn--bcher-kva.example",
		"münchen.de.":                   "xn--mnchen-3ya.de",
		strings.Repeat("a.", 126) + "b": strings.Repeat("a.", 126) + "b",
	}
	for in, want := range good {
		got, err := domains.NormalizeHostname(in)
		if err != nil || got != want {
			t.Errorf("domains.NormalizeHostname(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, in := range []string{
		"", "localhost", "*.example.com", "a.*.example.com", "-a.example.com", "a-.example.com",
		"a..example.com", "a_b.example.com", "exa mple.com", "https://example.com",
		strings.Repeat("a", 64) + ".example.com", strings.Repeat("a.", 127) + "bc",
		"*", "*foo.example.com", "foo.*", "10.0.0.1", "::1", "[::1]", "xn--zz.example", "a.123",
		"a‍b.example", "ab--cd.example", strings.Repeat("ü", 60) + ".example",
	} {
		if got, err := domains.NormalizeHostname(in); err == nil {
			t.Errorf("domains.NormalizeHostname(%q) = %q, want an error", in, got)
		}
	}
}

// TestDomainRoutes builds the route table with verified custom domains
// at every level from a real store.
func TestDomainRoutes(t *testing.T) {
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
	other := &store.Org{ID: "org_2", Slug: "other", Name: "Other", CreatedAt: now}
	must(st.CreateOrg(ctx, acme))
	must(st.CreateOrg(ctx, other))
	ws1 := &store.Workspace{ID: "ws_1", OrgID: "org_1", Slug: "w1", Name: "W1", CreatedAt: now}
	ws2 := &store.Workspace{ID: "ws_2", OrgID: "org_1", Slug: "w2", Name: "W2", CreatedAt: now}
	must(st.CreateWorkspace(ctx, ws1))
	must(st.CreateWorkspace(ctx, ws2))
	must(st.CreateProject(ctx, &store.Project{ID: "prj_1", OrgID: "org_1", WorkspaceID: "ws_1", Slug: "site", Name: "Site", CreatedAt: now}))
	must(st.CreateProject(ctx, &store.Project{ID: "prj_2", OrgID: "org_1", WorkspaceID: "ws_2", Slug: "shop", Name: "Shop", CreatedAt: now}))
	d1 := &store.Deployment{ID: "dep_1", OrgID: "org_1", WorkspaceID: "ws_1", ProjectID: "prj_1", Product: store.ProductStandard,
		Status: store.DeploymentReady, Upstream: "127.0.0.1:1001", CreatedAt: now, UpdatedAt: now}
	d2 := &store.Deployment{ID: "dep_2", OrgID: "org_1", WorkspaceID: "ws_2", ProjectID: "prj_2", Product: store.ProductStandard,
		Status: store.DeploymentReady, Upstream: "127.0.0.1:1002", CreatedAt: now, UpdatedAt: now}
	must(st.CreateDeployment(ctx, d1))
	must(st.CreateDeployment(ctx, d2))
	sb := &store.Sandbox{ID: "sbx_1", OrgID: "org_1", WorkspaceID: "ws_1", ProjectID: "prj_1", Slug: "site-abc",
		TemplateID: "static-html", Status: store.SandboxRunning, PreviewPort: 8080,
		Upstreams: map[int]string{8080: "127.0.0.1:2001"}, CreatedAt: now, UpdatedAt: now}
	must(st.CreateSandbox(ctx, sb))

	dns := controltest.TXT{}
	c := control.New(control.Config{Store: st, Templates: templates.New(nil), Names: names.Names{Domain: "localhost", Port: 7780},
		Brand: edge.Brand{Name: "Platform"}, Domains: domains.Config{DNS: dns, Target: "edge.berth.example"}})
	s := controltest.NewSink(t, c.Routes.Resolver())

	add := func(req domains.DomainRequest) *store.Domain {
		t.Helper()
		d, err := c.Domains.CreateDomain(ctx, req)
		must(err)
		if d.Status != store.DomainPending {
			t.Fatalf("new domain %s: status %s", d.Hostname, d.Status)
		}
		recs := c.Domains.DomainRecords(d)
		if recs[0] != (domains.DNSRecord{"TXT", "_berth-challenge." + d.Hostname, d.Token}) || recs[1] != (domains.DNSRecord{"CNAME", d.Hostname, "edge.berth.example"}) {
			t.Errorf("records of %s: %+v", d.Hostname, recs)
		}
		return d
	}
	verify := func(d *store.Domain) *store.Domain {
		t.Helper()
		dns["_berth-challenge."+d.Hostname] = []string{"unrelated", d.Token}
		v, err := c.Domains.VerifyDomain(ctx, d)
		must(err)
		if v.Status != store.DomainVerified {
			t.Fatalf("%s: status %s (%s)", d.Hostname, v.Status, v.StatusReason)
		}
		return v
	}

	// Before verification a custom domain routes nothing, and a wrong TXT
	// record fails with what was expected and found.
	orgDom := add(domains.DomainRequest{Hostname: "ClinicIQ.dev", Org: acme})
	notVerified := func(want string) {
		t.Helper()
		_, err := c.Domains.VerifyDomain(ctx, orgDom)
		var p *problem.Error
		if !errors.As(err, &p) || p.Status != 422 || p.Code != "dns_not_verified" || !strings.Contains(p.Detail, orgDom.Token) ||
			!strings.Contains(p.Detail, "_berth-challenge.cliniciq.dev") || !strings.Contains(p.Detail, want) {
			t.Errorf("verify: %v, want a 422 dns_not_verified naming the record and %s", err, want)
		}
		if got, _ := st.GetDomain(ctx, orgDom.ID); got.Status != store.DomainPending || got.StatusReason != "" || !got.UpdatedAt.Equal(orgDom.UpdatedAt) {
			t.Errorf("a failed verification changed the domain: %+v", got)
		}
	}
	dns["_berth-challenge.cliniciq.dev"] = []string{"nope"}
	notVerified(`found ["nope"]`)
	if _, ok := s.Lookup("site.cliniciq.dev"); ok {
		t.Error("an unverified domain routes")
	}
	delete(dns, "_berth-challenge.cliniciq.dev")
	notVerified("no TXT record")
	verify(orgDom)
	wsDom := verify(add(domains.DomainRequest{Hostname: "drsmith.example", Org: acme, Workspace: ws2}))
	depDom := verify(add(domains.DomainRequest{Hostname: "program.drsmithclinic.com", Org: acme, Deployment: d1}))

	// Branding: the org's, and a workspace's over it.
	_, err = c.Domains.SetBranding(ctx, acme.ID, acme.ID, domains.BrandingFields{ProductName: "Clinic IQ", PrimaryColor: "#0a7", SupportEmail: "help@cliniciq.dev"})
	must(err)
	_, err = c.Domains.SetBranding(ctx, ws2.ID, acme.ID, domains.BrandingFields{PrimaryColor: "teal"})
	must(err)

	want := map[string]struct{ upstream, brand, color string }{
		"site.acme.localhost":             {"127.0.0.1:1001", "Clinic IQ", "#0a7"},
		"site.cliniciq.dev":               {"127.0.0.1:1001", "Clinic IQ", "#0a7"},
		"program.drsmithclinic.com":       {"127.0.0.1:1001", "Clinic IQ", "#0a7"},
		"site-abc.sandbox.cliniciq.dev":   {"127.0.0.1:2001", "Clinic IQ", "#0a7"},
		"site-abc.sandbox.acme.localhost": {"127.0.0.1:2001", "Clinic IQ", "#0a7"},
		"shop.acme.localhost":             {"127.0.0.1:1002", "Clinic IQ", "teal"},
		"shop.cliniciq.dev":               {"127.0.0.1:1002", "Clinic IQ", "teal"},
		"shop.drsmith.example":            {"127.0.0.1:1002", "Clinic IQ", "teal"},
	}
	for host, w := range want {
		r, ok := s.Lookup(host)
		if !ok || r.Upstream != w.upstream || r.Brand.Name != w.brand || r.Brand.PrimaryColor != w.color {
			t.Errorf("%s: %+v %v, want %s branded %s %s", host, r, ok, w.upstream, w.brand, w.color)
		}
	}
	if _, ok := s.Lookup("site.drsmith.example"); ok {
		t.Error("a project of another workspace answers under a workspace domain")
	}

	// URLs prefer the deployment's own domain, then the workspace's, then
	// the org's.
	for got, want := range map[string]string{
		c.Deployments.DeploymentURL(ctx, d1): "http://program.drsmithclinic.com:7780",
		c.Deployments.DeploymentURL(ctx, d2): "http://shop.drsmith.example:7780",
		c.Sandboxes.SandboxURL(ctx, sb):      "http://site-abc.sandbox.cliniciq.dev:7780",
	} {
		if got != want {
			t.Errorf("URL %s, want %s", got, want)
		}
	}

	// Unknown names under a verified org domain get the org's branded
	// 404.
	srv := httptest.NewServer(s.Handler())
	defer srv.Close()
	req, _ := http.NewRequest("GET", srv.URL, nil)
	req.Host = "nothing-here.cliniciq.dev"
	resp, err := http.DefaultClient.Do(req)
	must(err)
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusNotFound || !strings.Contains(string(body), "Clinic IQ") || !strings.Contains(string(body), "mailto:help@cliniciq.dev") {
		t.Errorf("unknown host under the org domain: %d %s", resp.StatusCode, body)
	}

	// Another org cannot claim a verified hostname, the platform's names
	// are refused, and the same org cannot add a hostname twice.
	for _, tc := range []struct {
		req    domains.DomainRequest
		status int
		code   string
	}{
		{domains.DomainRequest{Hostname: "cliniciq.dev", Org: other}, 409, "domain_taken"},
		{domains.DomainRequest{Hostname: "cliniciq.dev", Org: acme}, 409, "domain_exists"},
		{domains.DomainRequest{Hostname: "localhost", Org: other}, 422, "invalid_hostname"},
		{domains.DomainRequest{Hostname: "acme.localhost", Org: other}, 422, "platform_domain"},
		{domains.DomainRequest{Hostname: "site.other.localhost", Org: other}, 422, "platform_domain"},
		{domains.DomainRequest{Hostname: "x.acme.localhost", Org: other}, 422, "platform_domain"},
		{domains.DomainRequest{Hostname: "*.other.example", Org: other}, 422, "invalid_hostname"},
	} {
		_, err := c.Domains.CreateDomain(ctx, tc.req)
		var p *problem.Error
		if !errors.As(err, &p) || p.Status != tc.status || p.Code != tc.code {
			t.Errorf("%s by %s: %v, want %d %s", tc.req.Hostname, tc.req.Org.Slug, err, tc.status, tc.code)
		}
	}
	// A custom name under the platform domain that is no org's is fine.
	if _, err := c.Domains.CreateDomain(ctx, domains.DomainRequest{Hostname: "otherbrand.localhost", Org: other}); err != nil {
		t.Errorf("otherbrand.localhost: %v", err)
	}

	// Removing a domain removes its names.
	must(c.Domains.DeleteDomain(ctx, depDom))
	must(c.Domains.DeleteDomain(ctx, wsDom))
	for _, h := range []string{"program.drsmithclinic.com", "shop.drsmith.example"} {
		if _, ok := s.Lookup(h); ok {
			t.Errorf("%s still routes after its domain was removed", h)
		}
	}
	if got := c.Deployments.DeploymentURL(ctx, d1); got != "http://site.cliniciq.dev:7780" {
		t.Errorf("URL after removing the deployment domain: %s", got)
	}
}
