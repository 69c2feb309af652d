package domains_test

import (
	"context"
	"strings"
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

// TestRecheckDomain walks a verified domain through its periodic
// re-verification: the record present, missing within the grace period,
// missing past it (failed, with the reason, an event and no routes).
func TestRecheckDomain(t *testing.T) {
	ctx := context.Background()
	st, err := sqlite.Open(t.TempDir()+"/berth.db", make([]byte, 32))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	now := time.Now().UTC()
	acme := &store.Org{ID: "org_1", Slug: "acme", Name: "Acme", CreatedAt: now}
	must(st.CreateOrg(ctx, acme))
	must(st.CreateWorkspace(ctx, &store.Workspace{ID: "ws_1", OrgID: "org_1", Slug: "w", Name: "W", CreatedAt: now}))
	must(st.CreateProject(ctx, &store.Project{ID: "prj_1", OrgID: "org_1", WorkspaceID: "ws_1", Slug: "site", Name: "Site", CreatedAt: now}))
	must(st.CreateDeployment(ctx, &store.Deployment{ID: "dep_1", OrgID: "org_1", WorkspaceID: "ws_1", ProjectID: "prj_1",
		Product: store.ProductStandard, Status: store.DeploymentReady, Upstream: "127.0.0.1:1001", CreatedAt: now, UpdatedAt: now}))
	dns := controltest.TXT{}
	c := control.New(control.Config{Store: st, Templates: templates.New(nil), Names: names.Names{Domain: "localhost"}, Brand: edge.Brand{Name: "Platform"},
		Domains: domains.Config{DNS: dns, Recheck: time.Minute, Grace: time.Hour}})
	s := controltest.NewSink(t, c.Routes.Resolver())

	d, err := c.Domains.CreateDomain(ctx, domains.DomainRequest{Hostname: "cliniciq.dev", Org: acme})
	must(err)
	dns["_berth-challenge.cliniciq.dev"] = []string{d.Token}
	d, err = c.Domains.VerifyDomain(ctx, d)
	must(err)
	if _, ok := s.Lookup("site.cliniciq.dev"); !ok {
		t.Fatal("the verified domain does not route")
	}
	t0 := d.VerifiedAt
	status := func() *store.Domain {
		got, err := st.GetDomain(ctx, d.ID)
		must(err)
		return got
	}
	events := func() []string {
		es, err := st.ListEvents(ctx, d.ID, 0, 100)
		must(err)
		var types []string
		for _, e := range es {
			types = append(types, e.Type)
		}
		return types
	}

	// Not due yet, then due with the record there: nothing changes.
	delete(dns, "_berth-challenge.cliniciq.dev")
	must(c.Domains.RecheckDomain(ctx, status(), t0.Add(30*time.Second)))
	if ch, _ := st.GetDomainCheck(ctx, d.ID); !ch.MissingSince.IsZero() {
		t.Fatal("a check before the interval looked the record up")
	}
	dns["_berth-challenge.cliniciq.dev"] = []string{"other", d.Token}
	must(c.Domains.RecheckDomain(ctx, status(), t0.Add(2*time.Minute)))

	// Missing: still verified within the grace period, with an event.
	dns["_berth-challenge.cliniciq.dev"] = []string{"someone-else"}
	t1 := t0.Add(4 * time.Minute)
	must(c.Domains.RecheckDomain(ctx, status(), t1))
	if got := status(); got.Status != store.DomainVerified {
		t.Fatalf("within the grace period: %s", got.Status)
	}
	// DNS that does not answer neither starts nor ends the grace period.
	c.Domains.SetDNS(nil)
	must(c.Domains.RecheckDomain(ctx, status(), t1.Add(2*time.Hour)))
	if got := status(); got.Status != store.DomainVerified {
		t.Fatalf("a DNS outage failed the domain: %s %s", got.Status, got.StatusReason)
	}
	c.Domains.SetDNS(dns)
	// Past the grace period: failed, with what was expected and found.
	must(c.Domains.RecheckDomain(ctx, status(), t1.Add(2*time.Hour+2*time.Minute)))
	got := status()
	if got.Status != store.DomainFailed || !strings.Contains(got.StatusReason, d.Token) || !strings.Contains(got.StatusReason, "someone-else") ||
		!strings.Contains(got.StatusReason, t1.Format(time.RFC3339)) {
		t.Fatalf("past the grace period: %s %q", got.Status, got.StatusReason)
	}
	if _, ok := s.Lookup("site.cliniciq.dev"); ok {
		t.Error("a failed domain still routes")
	}
	if e := strings.Join(events(), " "); !strings.Contains(e, "domain.record_missing") || !strings.Contains(e, "domain.failed") {
		t.Errorf("events: %s", e)
	}

	// Verifying again once the record is back brings it back.
	dns["_berth-challenge.cliniciq.dev"] = []string{d.Token}
	if _, err := c.Domains.VerifyDomain(ctx, got); err != nil {
		t.Fatal(err)
	}
	if _, ok := s.Lookup("site.cliniciq.dev"); !ok || status().Status != store.DomainVerified {
		t.Error("verifying a failed domain again did not restore it")
	}
}
