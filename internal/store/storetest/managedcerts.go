package storetest

import (
	"github.com/berth-dev/berth/internal/store"
)

func testManagedCerts(f *fixture) {
	t := f.t
	a, b := f.org(), f.org()
	_, err := f.st.GetManagedCert(f.ctx, "*.a.apps.example")
	is(t, err, store.ErrNotFound, "a name never ordered")

	wild := &store.ManagedCert{Name: "*.a.apps.example", OrgID: a.ID, Status: store.ManagedCertFailed,
		Reason: "the certificate authority's rate limit was reached", UpdatedAt: at(1)}
	ok(t, f.st.PutManagedCert(f.ctx, wild))
	sandboxes := &store.ManagedCert{Name: "*.sandbox.a.apps.example", OrgID: a.ID, Status: store.ManagedCertIssued, UpdatedAt: at(2)}
	ok(t, f.st.PutManagedCert(f.ctx, sandboxes))
	other := &store.ManagedCert{Name: "site.b.apps.example", OrgID: b.ID, Status: store.ManagedCertIssued, UpdatedAt: at(3)}
	ok(t, f.st.PutManagedCert(f.ctx, other))

	got, err := f.st.GetManagedCert(f.ctx, wild.Name)
	ok(t, err)
	same(t, got, wild)

	// A later outcome replaces the earlier one.
	wild.Status, wild.Reason, wild.UpdatedAt = store.ManagedCertIssued, "", at(4)
	ok(t, f.st.PutManagedCert(f.ctx, wild))
	got, err = f.st.GetManagedCert(f.ctx, wild.Name)
	ok(t, err)
	same(t, got, wild)

	list := func(orgID string, want ...*store.ManagedCert) {
		t.Helper()
		got, err := f.st.ListManagedCerts(f.ctx, orgID)
		ok(t, err)
		if len(got) != len(want) {
			t.Fatalf("ListManagedCerts(%q): %d records, want %d", orgID, len(got), len(want))
		}
		for i := range got {
			same(t, got[i], want[i])
		}
	}
	list(a.ID, wild, sandboxes)
	list(b.ID, other)
	list("", wild, sandboxes, other)

	// A record names an org that exists.
	if err := f.st.PutManagedCert(f.ctx, &store.ManagedCert{Name: "*.ghost.apps.example", OrgID: "org_ghost",
		Status: store.ManagedCertIssued, UpdatedAt: at(5)}); err == nil {
		t.Error("a record of an org that does not exist was written")
	}
	list("", wild, sandboxes, other)
}
