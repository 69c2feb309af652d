package storetest

import (
	"errors"

	"github.com/berth-dev/berth/internal/store"
)

func testDomains(f *fixture) {
	t := f.t
	o, w, p := f.tree()
	dep := f.deployment(p)
	other := f.org()

	// Branding: put, replace, get, list; none is ErrNotFound.
	_, err := f.st.GetBranding(f.ctx, o.ID)
	is(t, err, store.ErrNotFound, "branding of an org without one")
	b := &store.Branding{OwnerID: o.ID, OrgID: o.ID, ProductName: "Clinic IQ", PrimaryColor: "#0a7", UpdatedAt: at(7)}
	ok(t, f.st.PutBranding(f.ctx, b))
	b.SupportEmail, b.UpdatedAt = "help@clinic.example", at(8)
	ok(t, f.st.PutBranding(f.ctx, b))
	got, err := f.st.GetBranding(f.ctx, o.ID)
	ok(t, err)
	same(t, got, b)
	wb := &store.Branding{OwnerID: w.ID, OrgID: o.ID, LogoURL: "https://logo.example/x.png", UpdatedAt: at(9)}
	ok(t, f.st.PutBranding(f.ctx, wb))
	all, err := f.st.ListBrandings(f.ctx)
	ok(t, err)
	want := []*store.Branding{b, wb}
	if w.ID < o.ID {
		want = []*store.Branding{wb, b}
	}
	sameList(t, "brandings", all, want)

	// Domains.
	d1 := &store.Domain{ID: f.id("dom"), Hostname: "clinic.example", OrgID: o.ID, Token: "t1",
		Status: store.DomainPending, CreatedAt: at(10), UpdatedAt: at(10)}
	ok(t, f.st.CreateDomain(f.ctx, d1))
	d2 := &store.Domain{ID: f.id("dom"), Hostname: "app.drsmith.example", OrgID: o.ID, WorkspaceID: w.ID,
		DeploymentID: dep.ID, Token: "t2", Status: store.DomainPending, CreatedAt: at(11), UpdatedAt: at(11)}
	ok(t, f.st.CreateDomain(f.ctx, d2))
	dup := *d1
	dup.ID = f.id("dom")
	is(t, f.st.CreateDomain(f.ctx, &dup), store.ErrConflict, "same hostname twice in one org")

	got1, err := f.st.GetDomain(f.ctx, d1.ID)
	ok(t, err)
	same(t, got1, d1)

	// Another org may claim the hostname while it is pending, but only
	// one claim can be verified.
	claim := &store.Domain{ID: f.id("dom"), Hostname: "clinic.example", OrgID: other.ID, Token: "t3",
		Status: store.DomainPending, CreatedAt: at(12), UpdatedAt: at(12)}
	ok(t, f.st.CreateDomain(f.ctx, claim))
	d1.Status, d1.VerifiedAt = store.DomainVerified, at(13)
	ok(t, f.st.UpdateDomain(f.ctx, d1))
	claim.Status = store.DomainVerified
	is(t, f.st.UpdateDomain(f.ctx, claim), store.ErrConflict, "verifying a hostname verified by another org")
	late := &store.Domain{ID: f.id("dom"), Hostname: "clinic.example", OrgID: f.org().ID, Token: "t4",
		Status: store.DomainVerified, CreatedAt: at(14), UpdatedAt: at(14)}
	is(t, f.st.CreateDomain(f.ctx, late), store.ErrConflict, "creating a second verified hostname")

	got1, err = f.st.GetDomain(f.ctx, d1.ID)
	ok(t, err)
	same(t, got1, d1)

	list, err := f.st.ListDomains(f.ctx, store.ListFilter{OrgID: o.ID})
	ok(t, err)
	sameList(t, "domains of the org", list, []*store.Domain{d1, d2})
	list, err = f.st.ListDomains(f.ctx, store.ListFilter{WorkspaceID: w.ID})
	ok(t, err)
	sameList(t, "domains of the workspace", list, []*store.Domain{d2})

	ok(t, f.st.DeleteDomain(f.ctx, d2.ID))
	_, err = f.st.GetDomain(f.ctx, d2.ID)
	is(t, err, store.ErrNotFound, "deleted domain")
	if err := f.st.DeleteDomain(f.ctx, d2.ID); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("deleting twice: got %v, want ErrNotFound", err)
	}
}
