package storetest

import (
	"github.com/berth-dev/berth/internal/store"
)

func testRoutes(f *fixture) {
	t := f.t
	o, w, p := f.tree()
	other := f.org()

	got, err := f.st.GetOrgBySlug(f.ctx, o.Slug)
	ok(t, err)
	same(t, got, o)
	_, err = f.st.GetOrgBySlug(f.ctx, "no-such-org")
	is(t, err, store.ErrNotFound, "org by an unknown slug")

	// Deployment targets: the newest deployment of the project, by slug,
	// only in the project's org.
	_, err = f.st.DeploymentTarget(f.ctx, o.ID, p.Slug)
	is(t, err, store.ErrNotFound, "a project without deployments")
	f.deployment(p)
	newest := f.deployment(p)
	newest.Status, newest.Upstream = store.DeploymentReady, "127.0.0.1:4001"
	ok(t, f.st.UpdateDeploymentRuntime(f.ctx, newest))
	tgt, err := f.st.DeploymentTarget(f.ctx, o.ID, p.Slug)
	ok(t, err)
	want := &store.RouteTarget{ID: newest.ID, OrgID: o.ID, WorkspaceID: w.ID, ProjectID: p.ID, Status: store.DeploymentReady, Upstream: "127.0.0.1:4001"}
	same(t, tgt, want)
	_, err = f.st.DeploymentTarget(f.ctx, other.ID, p.Slug)
	is(t, err, store.ErrNotFound, "a project slug looked up in another org")

	// Sandbox targets: the upstream of the preview port.
	s := f.sandbox(p)
	s.Status, s.PreviewPort, s.Upstreams = store.SandboxRunning, 3000, map[int]string{3000: "127.0.0.1:5001", 8080: "127.0.0.1:5002"}
	ok(t, f.st.UpdateSandbox(f.ctx, s))
	st, err := f.st.SandboxTarget(f.ctx, s.Slug)
	ok(t, err)
	same(t, st, &store.RouteTarget{ID: s.ID, OrgID: o.ID, WorkspaceID: w.ID, ProjectID: p.ID, Status: store.SandboxRunning, Upstream: "127.0.0.1:5001"})
	_, err = f.st.SandboxTarget(f.ctx, "no-such-sandbox")
	is(t, err, store.ErrNotFound, "an unknown sandbox slug")

	// Verified domains among a set of names; pending ones are not.
	mk := func(host, status string) *store.Domain {
		d := &store.Domain{ID: f.id("dom"), Hostname: host, OrgID: o.ID, Token: "t", Status: status, CreatedAt: at(20), UpdatedAt: at(20)}
		ok(t, f.st.CreateDomain(f.ctx, d))
		return d
	}
	v1 := mk("b.example", store.DomainVerified)
	mk("a.example", store.DomainPending)
	v2 := mk("c.example", store.DomainVerified)
	ds, err := f.st.ListVerifiedDomains(f.ctx, []string{"c.example", "a.example", "b.example", "x.example"})
	ok(t, err)
	if len(ds) != 2 || ds[0].ID != v1.ID || ds[1].ID != v2.ID {
		t.Fatalf("verified domains = %+v, want b.example and c.example", ds)
	}
	if ds, err := f.st.ListVerifiedDomains(f.ctx, nil); err != nil || len(ds) != 0 {
		t.Fatalf("verified domains among none = %v, %v", ds, err)
	}

	// Pages: put, replace, get by owner and by digest, list, delete.
	pg := &store.Page{OwnerID: o.ID, OrgID: o.ID, Kind: "not-found", Body: "<p>1</p>", Digest: "sha256:1", UpdatedAt: at(30)}
	ok(t, f.st.PutPage(f.ctx, pg))
	pg.Body, pg.Digest, pg.UpdatedAt = "<p>2</p>", "sha256:2", at(31)
	ok(t, f.st.PutPage(f.ctx, pg))
	gp, err := f.st.GetPage(f.ctx, o.ID, "not-found")
	ok(t, err)
	same(t, gp, pg)
	gp, err = f.st.GetPageByDigest(f.ctx, "sha256:2")
	ok(t, err)
	same(t, gp, pg)
	_, err = f.st.GetPageByDigest(f.ctx, "sha256:1")
	is(t, err, store.ErrNotFound, "the digest of a replaced page")
	wp := &store.Page{OwnerID: w.ID, OrgID: o.ID, Kind: "loading", Body: "<p>w</p>", Digest: "sha256:w", UpdatedAt: at(32)}
	ok(t, f.st.PutPage(f.ctx, wp))
	pages, err := f.st.ListPages(f.ctx, []string{o.ID, w.ID})
	ok(t, err)
	wantPages := []*store.Page{pg, wp}
	if w.ID < o.ID {
		wantPages = []*store.Page{wp, pg}
	}
	sameList(t, "pages", pages, wantPages)
	ok(t, f.st.DeletePage(f.ctx, o.ID, "not-found"))
	is(t, f.st.DeletePage(f.ctx, o.ID, "not-found"), store.ErrNotFound, "deleting a page twice")
	_, err = f.st.GetPage(f.ctx, o.ID, "not-found")
	is(t, err, store.ErrNotFound, "a deleted page")

	// Domain checks: none, then put and replace; deleting the domain
	// deletes its check.
	_, err = f.st.GetDomainCheck(f.ctx, v1.ID)
	is(t, err, store.ErrNotFound, "a domain never re-checked")
	c := &store.DomainCheck{DomainID: v1.ID, CheckedAt: at(40), Found: "[]"}
	ok(t, f.st.PutDomainCheck(f.ctx, c))
	c.CheckedAt, c.MissingSince, c.Found = at(41), at(41), `["other"]`
	ok(t, f.st.PutDomainCheck(f.ctx, c))
	gc, err := f.st.GetDomainCheck(f.ctx, v1.ID)
	ok(t, err)
	same(t, gc, c)
	ok(t, f.st.DeleteDomain(f.ctx, v1.ID))
	_, err = f.st.GetDomainCheck(f.ctx, v1.ID)
	is(t, err, store.ErrNotFound, "the check of a deleted domain")
}
