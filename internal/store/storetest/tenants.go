package storetest

import (
	"github.com/berth-dev/berth/internal/store"
)

func testOrgs(f *fixture) {
	t, st, ctx := f.t, f.st, f.ctx
	o := &store.Org{ID: f.id("org"), Slug: "acme", Name: "Acme", ExternalID: "cust-1", CreatedAt: at(0)}
	ok(t, st.CreateOrg(ctx, o))
	got, err := st.GetOrg(ctx, o.ID)
	ok(t, err)
	same(t, got, o)

	_, err = st.GetOrg(ctx, "org_missing")
	is(t, err, store.ErrNotFound, "getting a missing org")
	is(t, st.CreateOrg(ctx, &store.Org{ID: f.id("org"), Slug: "acme", CreatedAt: at(0)}),
		store.ErrConflict, "creating an org with a taken slug")
	is(t, st.CreateOrg(ctx, &store.Org{ID: f.id("org"), Slug: "other", ExternalID: "cust-1", CreatedAt: at(0)}),
		store.ErrConflict, "creating an org with a taken external id")
	is(t, st.CreateOrg(ctx, &store.Org{ID: o.ID, Slug: "again", CreatedAt: at(0)}),
		store.ErrConflict, "creating an org with a taken id")

	// Empty external ids are "not set", so they never collide.
	o2 := &store.Org{ID: f.id("org"), Slug: "beta", Name: "Beta", CreatedAt: at(1)}
	o3 := &store.Org{ID: f.id("org"), Slug: "gamma", Name: "Gamma", CreatedAt: at(2)}
	ok(t, st.CreateOrg(ctx, o2))
	ok(t, st.CreateOrg(ctx, o3))
	got, err = st.GetOrg(ctx, o2.ID)
	ok(t, err)
	same(t, got, o2)

	list, err := st.ListOrgs(ctx, store.ListFilter{})
	ok(t, err)
	sameList(t, "all orgs", list, []*store.Org{o, o2, o3})
	list, err = st.ListOrgs(ctx, store.ListFilter{ExternalID: "cust-1"})
	ok(t, err)
	sameList(t, "orgs by external id", list, []*store.Org{o})
	list, err = st.ListOrgs(ctx, store.ListFilter{ExternalID: "cust-none"})
	ok(t, err)
	sameList(t, "orgs by unknown external id", list, nil)
	list, err = st.ListOrgs(ctx, store.ListFilter{OrgID: o2.ID})
	ok(t, err)
	sameList(t, "orgs by id", list, []*store.Org{o2})
	list, err = st.ListOrgs(ctx, store.ListFilter{After: o.ID, Limit: 1})
	ok(t, err)
	sameList(t, "orgs after the first, one", list, []*store.Org{o2})
	list, err = st.ListOrgs(ctx, store.ListFilter{After: o3.ID})
	ok(t, err)
	sameList(t, "orgs after the last", list, nil)

	// A workspace or project in the filter narrows orgs to its owner.
	w := f.workspace(o2)
	p := f.project(w)
	list, err = st.ListOrgs(ctx, store.ListFilter{WorkspaceID: w.ID})
	ok(t, err)
	sameList(t, "orgs by workspace", list, []*store.Org{o2})
	list, err = st.ListOrgs(ctx, store.ListFilter{ProjectID: p.ID})
	ok(t, err)
	sameList(t, "orgs by project", list, []*store.Org{o2})
}

func testListLimits(f *fixture) {
	t, ctx := f.t, f.ctx
	var all []*store.Org
	ok(t, f.st.InTx(ctx, func(tx store.Store) error {
		for i := range 1005 {
			o := &store.Org{ID: f.id("org"), Name: "Org", CreatedAt: at(i)}
			o.Slug = "o-" + o.ID
			if err := tx.CreateOrg(ctx, o); err != nil {
				return err
			}
			all = append(all, o)
		}
		return nil
	}))
	list, err := f.st.ListOrgs(ctx, store.ListFilter{})
	ok(t, err)
	sameList(t, "orgs with no limit", list, all[:100])
	list, err = f.st.ListOrgs(ctx, store.ListFilter{Limit: 5000})
	ok(t, err)
	sameList(t, "orgs with a limit above the cap", list, all[:1000])

	// Paging with the last id as the cursor visits every row once.
	var paged []*store.Org
	after := ""
	for {
		page, err := f.st.ListOrgs(ctx, store.ListFilter{After: after, Limit: 300})
		ok(t, err)
		if len(page) == 0 {
			break
		}
		paged = append(paged, page...)
		after = page[len(page)-1].ID
	}
	sameList(t, "orgs paged", paged, all)
}

func testWorkspaces(f *fixture) {
	t, st, ctx := f.t, f.st, f.ctx
	a, b := f.org(), f.org()
	w := &store.Workspace{ID: f.id("ws"), OrgID: a.ID, Slug: "clinic", Name: "Clinic", ExternalID: "c-1", CreatedAt: at(1)}
	ok(t, st.CreateWorkspace(ctx, w))
	got, err := st.GetWorkspace(ctx, w.ID)
	ok(t, err)
	same(t, got, w)

	_, err = st.GetWorkspace(ctx, "ws_missing")
	is(t, err, store.ErrNotFound, "getting a missing workspace")
	is(t, st.CreateWorkspace(ctx, &store.Workspace{ID: f.id("ws"), OrgID: "org_missing", Slug: "x", CreatedAt: at(1)}),
		store.ErrNotFound, "creating a workspace in a missing org")
	is(t, st.CreateWorkspace(ctx, &store.Workspace{ID: f.id("ws"), OrgID: a.ID, Slug: "clinic", CreatedAt: at(1)}),
		store.ErrConflict, "creating a workspace with a slug taken in its org")
	is(t, st.CreateWorkspace(ctx, &store.Workspace{ID: f.id("ws"), OrgID: a.ID, Slug: "y", ExternalID: "c-1", CreatedAt: at(1)}),
		store.ErrConflict, "creating a workspace with an external id taken in its org")

	// Slugs and external ids are unique per org only; empty external ids
	// never collide.
	wb := &store.Workspace{ID: f.id("ws"), OrgID: b.ID, Slug: "clinic", Name: "B", ExternalID: "c-1", CreatedAt: at(2)}
	ok(t, st.CreateWorkspace(ctx, wb))
	w2 := &store.Workspace{ID: f.id("ws"), OrgID: a.ID, Slug: "second", Name: "Second", CreatedAt: at(3)}
	w3 := &store.Workspace{ID: f.id("ws"), OrgID: a.ID, Slug: "third", Name: "Third", CreatedAt: at(4)}
	ok(t, st.CreateWorkspace(ctx, w2))
	ok(t, st.CreateWorkspace(ctx, w3))
	p := f.project(w2)

	for _, c := range []struct {
		what string
		f    store.ListFilter
		want []*store.Workspace
	}{
		{"all", store.ListFilter{}, []*store.Workspace{w, wb, w2, w3}},
		{"by org", store.ListFilter{OrgID: a.ID}, []*store.Workspace{w, w2, w3}},
		{"by external id", store.ListFilter{ExternalID: "c-1"}, []*store.Workspace{w, wb}},
		{"by org and external id", store.ListFilter{OrgID: b.ID, ExternalID: "c-1"}, []*store.Workspace{wb}},
		{"by id", store.ListFilter{WorkspaceID: w2.ID}, []*store.Workspace{w2}},
		{"by project", store.ListFilter{ProjectID: p.ID}, []*store.Workspace{w2}},
		{"by org, after", store.ListFilter{OrgID: a.ID, After: w.ID}, []*store.Workspace{w2, w3}},
		{"by org, after, limit", store.ListFilter{OrgID: a.ID, After: w.ID, Limit: 1}, []*store.Workspace{w2}},
		{"by another org's id", store.ListFilter{OrgID: b.ID, WorkspaceID: w.ID}, nil},
	} {
		list, err := st.ListWorkspaces(ctx, c.f)
		ok(t, err)
		sameList(t, "workspaces "+c.what, list, c.want)
	}
}

func testProjects(f *fixture) {
	t, st, ctx := f.t, f.st, f.ctx
	a, b := f.org(), f.org()
	w1, w2, wb := f.workspace(a), f.workspace(a), f.workspace(b)
	p := &store.Project{ID: f.id("prj"), OrgID: a.ID, WorkspaceID: w1.ID, Slug: "app", Name: "App", ExternalID: "e-1", CreatedAt: at(2)}
	ok(t, st.CreateProject(ctx, p))
	got, err := st.GetProject(ctx, p.ID)
	ok(t, err)
	same(t, got, p)

	_, err = st.GetProject(ctx, "prj_missing")
	is(t, err, store.ErrNotFound, "getting a missing project")
	is(t, st.CreateProject(ctx, &store.Project{ID: f.id("prj"), OrgID: a.ID, WorkspaceID: "ws_missing", Slug: "x", CreatedAt: at(2)}),
		store.ErrNotFound, "creating a project in a missing workspace")
	// The slug names the app's URL under the org's domain: unique across
	// the org's workspaces.
	is(t, st.CreateProject(ctx, &store.Project{ID: f.id("prj"), OrgID: a.ID, WorkspaceID: w2.ID, Slug: "app", CreatedAt: at(2)}),
		store.ErrConflict, "creating a project with a slug taken in its org")
	is(t, st.CreateProject(ctx, &store.Project{ID: f.id("prj"), OrgID: a.ID, WorkspaceID: w1.ID, Slug: "y", ExternalID: "e-1", CreatedAt: at(2)}),
		store.ErrConflict, "creating a project with an external id taken in its workspace")

	pb := &store.Project{ID: f.id("prj"), OrgID: b.ID, WorkspaceID: wb.ID, Slug: "app", Name: "B", ExternalID: "e-1", CreatedAt: at(3)}
	p2 := &store.Project{ID: f.id("prj"), OrgID: a.ID, WorkspaceID: w2.ID, Slug: "two", Name: "Two", ExternalID: "e-1", CreatedAt: at(4)}
	p3 := &store.Project{ID: f.id("prj"), OrgID: a.ID, WorkspaceID: w1.ID, Slug: "three", Name: "Three", CreatedAt: at(5)}
	p4 := &store.Project{ID: f.id("prj"), OrgID: a.ID, WorkspaceID: w1.ID, Slug: "four", Name: "Four", CreatedAt: at(6)}
	for _, x := range []*store.Project{pb, p2, p3, p4} {
		ok(t, st.CreateProject(ctx, x))
	}

	for _, c := range []struct {
		what string
		f    store.ListFilter
		want []*store.Project
	}{
		{"all", store.ListFilter{}, []*store.Project{p, pb, p2, p3, p4}},
		{"by org", store.ListFilter{OrgID: a.ID}, []*store.Project{p, p2, p3, p4}},
		{"by workspace", store.ListFilter{WorkspaceID: w1.ID}, []*store.Project{p, p3, p4}},
		{"by id", store.ListFilter{ProjectID: p3.ID}, []*store.Project{p3}},
		{"by external id", store.ListFilter{ExternalID: "e-1"}, []*store.Project{p, pb, p2}},
		{"by workspace and external id", store.ListFilter{WorkspaceID: w2.ID, ExternalID: "e-1"}, []*store.Project{p2}},
		{"by workspace, after", store.ListFilter{WorkspaceID: w1.ID, After: p.ID}, []*store.Project{p3, p4}},
		{"by workspace, limit", store.ListFilter{WorkspaceID: w1.ID, Limit: 2}, []*store.Project{p, p3}},
		{"by org and another org's workspace", store.ListFilter{OrgID: a.ID, WorkspaceID: wb.ID}, nil},
	} {
		list, err := st.ListProjects(ctx, c.f)
		ok(t, err)
		sameList(t, "projects "+c.what, list, c.want)
	}
}

func testAPIKeys(f *fixture) {
	t, st, ctx := f.t, f.st, f.ctx
	n, err := st.CountAPIKeys(ctx)
	ok(t, err)
	if n != 0 {
		t.Errorf("a new store has %d keys, want 0", n)
	}
	platform := &store.APIKey{ID: f.id("key"), Name: "bootstrap", Hash: "h-platform", Prefix: "brt_abc",
		Role: store.RoleAdmin, CreatedAt: at(0)}
	ok(t, st.CreateAPIKey(ctx, platform))
	o, w, p := f.tree()
	scoped := &store.APIKey{ID: f.id("key"), Name: "ci", Hash: "h-scoped", Prefix: "brt_def",
		OrgID: o.ID, WorkspaceID: w.ID, ProjectID: p.ID, Role: store.RoleDeployer, CreatedAt: at(1)}
	ok(t, st.CreateAPIKey(ctx, scoped))

	got, err := st.GetAPIKeyByHash(ctx, "h-platform")
	ok(t, err)
	same(t, got, platform)
	got, err = st.GetAPIKeyByHash(ctx, "h-scoped")
	ok(t, err)
	same(t, got, scoped)
	_, err = st.GetAPIKeyByHash(ctx, "h-missing")
	is(t, err, store.ErrNotFound, "getting a key by an unknown hash")

	is(t, st.CreateAPIKey(ctx, &store.APIKey{ID: f.id("key"), Hash: "h-platform", Role: store.RoleViewer, CreatedAt: at(2)}),
		store.ErrConflict, "creating a key with a taken hash")
	is(t, st.CreateAPIKey(ctx, &store.APIKey{ID: f.id("key"), Hash: "h-orphan", OrgID: "org_missing", Role: store.RoleViewer, CreatedAt: at(2)}),
		store.ErrNotFound, "creating a key for a missing org")
	n, err = st.CountAPIKeys(ctx)
	ok(t, err)
	if n != 2 {
		t.Errorf("CountAPIKeys = %d, want 2", n)
	}
}
