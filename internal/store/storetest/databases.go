package storetest

import (
	"github.com/berth-dev/berth/internal/store"
)

func (f *fixture) database(p *store.Project, name string) *store.Database {
	f.t.Helper()
	db := &store.Database{ID: f.id("db"), OrgID: p.OrgID, WorkspaceID: p.WorkspaceID, ProjectID: p.ID, Name: name,
		Engine: store.EnginePostgres, Status: store.DatabaseProvisioning, Password: "pw", CredentialsVersion: 1,
		CreatedAt: at(7), UpdatedAt: at(7)}
	ok(f.t, f.st.CreateDatabase(f.ctx, db))
	return db
}

func testDatabases(f *fixture) {
	t, st, ctx := f.t, f.st, f.ctx
	o, w, p := f.tree()
	p2 := f.project(w)
	h := f.host(nil)
	db := &store.Database{
		ID: f.id("db"), OrgID: o.ID, WorkspaceID: w.ID, ProjectID: p.ID, Name: "main", Engine: store.EnginePostgres,
		Image: "berth/postgres:bookworm", Status: store.DatabaseProvisioning, Volume: "berth-db-1",
		Username: "app", Password: "p@ss:w/rd", DatabaseName: "app", CredentialsVersion: 1,
		ExternalID: "db-1", CreatedAt: at(0), UpdatedAt: at(1),
	}
	ok(t, st.CreateDatabase(ctx, db))
	got, err := st.GetDatabase(ctx, db.ID)
	ok(t, err)
	same(t, got, db)

	_, err = st.GetDatabase(ctx, "db_missing")
	is(t, err, store.ErrNotFound, "getting a missing database")
	is(t, st.CreateDatabase(ctx, &store.Database{ID: f.id("db"), OrgID: o.ID, WorkspaceID: w.ID, ProjectID: p.ID, Name: "main"}),
		store.ErrConflict, "creating a database with a name taken in its project")
	is(t, st.CreateDatabase(ctx, &store.Database{ID: f.id("db"), OrgID: o.ID, WorkspaceID: w.ID, ProjectID: p.ID, Name: "other", ExternalID: "db-1"}),
		store.ErrConflict, "creating a database with an external id taken in its project")
	is(t, st.CreateDatabase(ctx, &store.Database{ID: f.id("db"), OrgID: o.ID, WorkspaceID: w.ID, ProjectID: "prj_missing", Name: "x"}),
		store.ErrNotFound, "creating a database in a missing project")
	// Names and external ids are per project.
	db2 := &store.Database{ID: f.id("db"), OrgID: o.ID, WorkspaceID: w.ID, ProjectID: p2.ID, Name: "main",
		Engine: store.EngineRedis, Status: store.DatabaseProvisioning, ExternalID: "db-1", CreatedAt: at(2), UpdatedAt: at(2)}
	ok(t, st.CreateDatabase(ctx, db2))
	cache := f.database(p, "cache")

	// Every mutable field round-trips.
	before := db.UpdatedAt
	db.Image = "postgres:16"
	db.Status, db.StatusReason = store.DatabaseUnhealthy, "login refused"
	db.Version, db.SizeBytes = "15.8", 123456789012
	db.HostID, db.ContainerID, db.Volume, db.Upstream = h.ID, "c0ffee", "berth-db-2", "127.0.0.1:32770"
	db.Username, db.Password, db.PreviousPassword, db.DatabaseName = "app2", "n3w/p@ss", "p@ss:w/rd", "app2"
	db.CredentialsVersion, db.AppliedVersion = 3, 2
	db.Purge, db.ExternalID = true, "db-2"
	ok(t, st.UpdateDatabase(ctx, db))
	if !db.UpdatedAt.After(before) {
		t.Errorf("UpdateDatabase left UpdatedAt at %v, want it bumped past %v", db.UpdatedAt, before)
	}
	got, err = st.GetDatabase(ctx, db.ID)
	ok(t, err)
	same(t, got, db)
	db.HostID, db.ExternalID = "", ""
	ok(t, st.UpdateDatabase(ctx, db))
	got, err = st.GetDatabase(ctx, db.ID)
	ok(t, err)
	same(t, got, db)
	is(t, st.UpdateDatabase(ctx, &store.Database{ID: "db_missing"}), store.ErrNotFound, "updating a missing database")

	for _, c := range []struct {
		what string
		f    store.ListFilter
		want []*store.Database
	}{
		{"all", store.ListFilter{}, []*store.Database{db, db2, cache}},
		{"by org", store.ListFilter{OrgID: o.ID}, []*store.Database{db, db2, cache}},
		{"by workspace", store.ListFilter{WorkspaceID: w.ID}, []*store.Database{db, db2, cache}},
		{"by project", store.ListFilter{ProjectID: p.ID}, []*store.Database{db, cache}},
		{"by external id", store.ListFilter{ExternalID: "db-1"}, []*store.Database{db2}},
		{"after", store.ListFilter{After: db.ID, Limit: 1}, []*store.Database{db2}},
		{"by another org", store.ListFilter{OrgID: "org_other"}, nil},
	} {
		list, err := st.ListDatabases(ctx, c.f)
		ok(t, err)
		sameList(t, "databases "+c.what, list, c.want)
	}

	// Deleting removes the record and its links, and frees the name.
	s := f.sandbox(p)
	ok(t, st.CreateDatabaseLink(ctx, &store.DatabaseLink{DatabaseID: db.ID, TargetID: s.ID, ProjectID: p.ID, CreatedAt: at(3)}))
	ok(t, st.CreateDatabaseLink(ctx, &store.DatabaseLink{DatabaseID: cache.ID, TargetID: s.ID, ProjectID: p.ID, CreatedAt: at(4)}))
	ok(t, st.DeleteDatabase(ctx, db.ID))
	_, err = st.GetDatabase(ctx, db.ID)
	is(t, err, store.ErrNotFound, "getting a deleted database")
	is(t, st.DeleteDatabase(ctx, db.ID), store.ErrNotFound, "deleting a deleted database")
	links, err := st.ListDatabaseLinks(ctx, store.DatabaseLinkFilter{TargetID: s.ID})
	ok(t, err)
	if len(links) != 1 || links[0].DatabaseID != cache.ID {
		t.Errorf("links after deleting a database: %+v, want only the link of %s", links, cache.ID)
	}
	f.database(p, "main")
}

func testDatabaseLinks(f *fixture) {
	t, st, ctx := f.t, f.st, f.ctx
	_, _, p := f.tree()
	db1, db2 := f.database(p, "one"), f.database(p, "two")
	s, d := f.sandbox(p), f.deployment(p)
	l1 := &store.DatabaseLink{DatabaseID: db1.ID, TargetID: s.ID, ProjectID: p.ID, CreatedAt: at(0)}
	l2 := &store.DatabaseLink{DatabaseID: db1.ID, TargetID: d.ID, ProjectID: p.ID, Version: 1, CreatedAt: at(1)}
	l3 := &store.DatabaseLink{DatabaseID: db2.ID, TargetID: s.ID, ProjectID: p.ID, CreatedAt: at(2)}
	for _, l := range []*store.DatabaseLink{l1, l2, l3} {
		ok(t, st.CreateDatabaseLink(ctx, l))
	}
	is(t, st.CreateDatabaseLink(ctx, &store.DatabaseLink{DatabaseID: db1.ID, TargetID: s.ID, ProjectID: p.ID, CreatedAt: at(3)}),
		store.ErrConflict, "linking a database to a target twice")
	is(t, st.CreateDatabaseLink(ctx, &store.DatabaseLink{DatabaseID: "db_missing", TargetID: s.ID, ProjectID: p.ID, CreatedAt: at(3)}),
		store.ErrNotFound, "linking a missing database")

	for _, c := range []struct {
		what string
		f    store.DatabaseLinkFilter
		want []*store.DatabaseLink
	}{
		{"all", store.DatabaseLinkFilter{}, []*store.DatabaseLink{l1, l2, l3}},
		{"of a database", store.DatabaseLinkFilter{DatabaseID: db1.ID}, []*store.DatabaseLink{l1, l2}},
		{"to a target", store.DatabaseLinkFilter{TargetID: s.ID}, []*store.DatabaseLink{l1, l3}},
		{"one", store.DatabaseLinkFilter{DatabaseID: db2.ID, TargetID: s.ID}, []*store.DatabaseLink{l3}},
		{"none", store.DatabaseLinkFilter{DatabaseID: db2.ID, TargetID: d.ID}, nil},
	} {
		list, err := st.ListDatabaseLinks(ctx, c.f)
		ok(t, err)
		sameList(t, "links "+c.what, list, c.want)
	}

	l1.Version = 4
	ok(t, st.UpdateDatabaseLink(ctx, l1))
	list, err := st.ListDatabaseLinks(ctx, store.DatabaseLinkFilter{DatabaseID: db1.ID, TargetID: s.ID})
	ok(t, err)
	sameList(t, "links after an update", list, []*store.DatabaseLink{l1})
	is(t, st.UpdateDatabaseLink(ctx, &store.DatabaseLink{DatabaseID: db2.ID, TargetID: d.ID}), store.ErrNotFound, "updating a missing link")

	ok(t, st.DeleteDatabaseLink(ctx, db1.ID, s.ID))
	is(t, st.DeleteDatabaseLink(ctx, db1.ID, s.ID), store.ErrNotFound, "deleting a deleted link")
	list, err = st.ListDatabaseLinks(ctx, store.DatabaseLinkFilter{})
	ok(t, err)
	sameList(t, "links after a delete", list, []*store.DatabaseLink{l2, l3})

	// Inside a transaction, a rolled-back link leaves nothing.
	err = st.InTx(ctx, func(tx store.Store) error {
		if err := tx.CreateDatabaseLink(ctx, &store.DatabaseLink{DatabaseID: db2.ID, TargetID: d.ID, ProjectID: p.ID, CreatedAt: at(5)}); err != nil {
			return err
		}
		return store.ErrConflict
	})
	is(t, err, store.ErrConflict, "a transaction that fails")
	list, err = st.ListDatabaseLinks(ctx, store.DatabaseLinkFilter{DatabaseID: db2.ID})
	ok(t, err)
	sameList(t, "links after a rollback", list, []*store.DatabaseLink{l3})
}
