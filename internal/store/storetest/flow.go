package storetest

import (
	"errors"
	"sync"
	"testing"

	"github.com/berth-dev/berth/internal/store"
)

func testEvents(f *fixture) {
	t, st, ctx := f.t, f.st, f.ctx
	list, err := st.ListEvents(ctx, "", 0, 0)
	ok(t, err)
	sameList(t, "events of a new store", list, nil)

	var all, ofA []*store.Event
	for i, rid := range []string{"dep_a", "dep_b", "dep_a", "sbx_c", "dep_a"} {
		e := &store.Event{ID: f.id("evt"), ResourceID: rid, Type: "deployment.building", Message: "step", CreatedAt: at(i)}
		ok(t, st.AppendEvent(ctx, e))
		if len(all) > 0 && e.Seq <= all[len(all)-1].Seq {
			t.Errorf("AppendEvent set Seq %d after %d, want it increasing", e.Seq, all[len(all)-1].Seq)
		}
		all = append(all, e)
		if rid == "dep_a" {
			ofA = append(ofA, e)
		}
	}

	for _, c := range []struct {
		what       string
		resourceID string
		after      int64
		limit      int
		want       []*store.Event
	}{
		{"all", "", 0, 0, all},
		{"of one resource", "dep_a", 0, 0, ofA},
		{"after", "", all[1].Seq, 0, all[2:]},
		{"of one resource after", "dep_a", ofA[0].Seq, 0, ofA[1:]},
		{"limited", "", 0, 2, all[:2]},
		{"after, limited", "", all[0].Seq, 3, all[1:4]},
		{"after the last", "", all[4].Seq, 0, nil},
		{"of an unknown resource", "dep_none", 0, 0, nil},
	} {
		list, err := st.ListEvents(ctx, c.resourceID, c.after, c.limit)
		ok(t, err)
		sameList(t, "events "+c.what, list, c.want)
	}

	var many []*store.Event
	ok(t, st.InTx(ctx, func(tx store.Store) error {
		for range 150 {
			e := &store.Event{ID: f.id("evt"), ResourceID: "dep_many", Type: "t", CreatedAt: at(9)}
			if err := tx.AppendEvent(ctx, e); err != nil {
				return err
			}
			many = append(many, e)
		}
		return nil
	}))
	list, err = st.ListEvents(ctx, "dep_many", 0, 0)
	ok(t, err)
	sameList(t, "events with no limit", list, many[:100])
}

func testIdempotency(f *fixture) {
	t, st, ctx := f.t, f.st, f.ctx
	_, err := st.GetIdempotent(ctx, "key_1", "/api/v1/orgs|abc")
	is(t, err, store.ErrNotFound, "getting an unrecorded response")

	r := &store.Idempotent{KeyID: "key_1", IdemKey: "/api/v1/orgs|abc", Request: "sha256:req", Status: 201,
		Body: []byte(`{"id":"org_1"}` + "\n"), CreatedAt: at(0)}
	ok(t, st.PutIdempotent(ctx, r))
	got, err := st.GetIdempotent(ctx, r.KeyID, r.IdemKey)
	ok(t, err)
	same(t, got, r)

	is(t, st.PutIdempotent(ctx, &store.Idempotent{KeyID: "key_1", IdemKey: "/api/v1/orgs|abc", Status: 200, Body: []byte("{}"), CreatedAt: at(1)}),
		store.ErrConflict, "recording a second response for one key")
	// The same Idempotency-Key from another API key is another record.
	r2 := &store.Idempotent{KeyID: "key_2", IdemKey: "/api/v1/orgs|abc", Status: 200, Body: []byte("{}"), CreatedAt: at(2)}
	ok(t, st.PutIdempotent(ctx, r2))
	got, err = st.GetIdempotent(ctx, r2.KeyID, r2.IdemKey)
	ok(t, err)
	same(t, got, r2)
	got, err = st.GetIdempotent(ctx, r.KeyID, r.IdemKey)
	ok(t, err)
	same(t, got, r)
}

func testInTx(f *fixture) {
	t, st, ctx := f.t, f.st, f.ctx
	errBoom := errors.New("boom")

	t.Run("commit", func(t *testing.T) {
		var o *store.Org
		var p *store.Project
		err := st.InTx(ctx, func(tx store.Store) error {
			o = &store.Org{ID: f.id("org"), Slug: "committed", CreatedAt: at(0)}
			if err := tx.CreateOrg(ctx, o); err != nil {
				return err
			}
			// A transaction reads its own writes.
			if _, err := tx.GetOrg(ctx, o.ID); err != nil {
				return err
			}
			w := &store.Workspace{ID: f.id("ws"), OrgID: o.ID, Slug: "w", CreatedAt: at(0)}
			if err := tx.CreateWorkspace(ctx, w); err != nil {
				return err
			}
			p = &store.Project{ID: f.id("prj"), OrgID: o.ID, WorkspaceID: w.ID, Slug: "p", CreatedAt: at(0)}
			if err := tx.CreateProject(ctx, p); err != nil {
				return err
			}
			return tx.AppendEvent(ctx, &store.Event{ID: f.id("evt"), ResourceID: p.ID, Type: "t", CreatedAt: at(0)})
		})
		ok(t, err)
		got, err := st.GetProject(ctx, p.ID)
		ok(t, err)
		same(t, got, p)
		events, err := st.ListEvents(ctx, p.ID, 0, 0)
		ok(t, err)
		if len(events) != 1 {
			t.Errorf("got %d events after the commit, want 1", len(events))
		}
	})

	t.Run("rollback", func(t *testing.T) {
		o := &store.Org{ID: f.id("org"), Slug: "rolled-back", CreatedAt: at(0)}
		var p *store.Project
		err := st.InTx(ctx, func(tx store.Store) error {
			if err := tx.CreateOrg(ctx, o); err != nil {
				return err
			}
			w := &store.Workspace{ID: f.id("ws"), OrgID: o.ID, Slug: "w", CreatedAt: at(0)}
			if err := tx.CreateWorkspace(ctx, w); err != nil {
				return err
			}
			p = &store.Project{ID: f.id("prj"), OrgID: o.ID, WorkspaceID: w.ID, Slug: "p", CreatedAt: at(0)}
			if err := tx.CreateProject(ctx, p); err != nil {
				return err
			}
			if err := tx.AppendEvent(ctx, &store.Event{ID: f.id("evt"), ResourceID: p.ID, Type: "t", CreatedAt: at(0)}); err != nil {
				return err
			}
			return errBoom
		})
		is(t, err, errBoom, "InTx whose function fails")
		_, err = st.GetOrg(ctx, o.ID)
		is(t, err, store.ErrNotFound, "getting an org created in a rolled-back transaction")
		_, err = st.GetProject(ctx, p.ID)
		is(t, err, store.ErrNotFound, "getting a project created in a rolled-back transaction")
		events, err := st.ListEvents(ctx, p.ID, 0, 0)
		ok(t, err)
		sameList(t, "events appended in a rolled-back transaction", events, nil)
		// The slug is free again.
		ok(t, st.CreateOrg(ctx, &store.Org{ID: f.id("org"), Slug: o.Slug, CreatedAt: at(0)}))
	})

	t.Run("conflict rolls back", func(t *testing.T) {
		first := &store.Org{ID: f.id("org"), Slug: "first-of-two", CreatedAt: at(0)}
		err := st.InTx(ctx, func(tx store.Store) error {
			if err := tx.CreateOrg(ctx, first); err != nil {
				return err
			}
			return tx.CreateOrg(ctx, &store.Org{ID: f.id("org"), Slug: first.Slug, CreatedAt: at(0)})
		})
		is(t, err, store.ErrConflict, "InTx whose second write conflicts")
		_, err = st.GetOrg(ctx, first.ID)
		is(t, err, store.ErrNotFound, "getting the first write of a failed transaction")
	})

	t.Run("nested", func(t *testing.T) {
		inner := &store.Org{ID: f.id("org"), Slug: "inner", CreatedAt: at(0)}
		err := st.InTx(ctx, func(tx store.Store) error {
			if err := tx.InTx(ctx, func(tx2 store.Store) error { return tx2.CreateOrg(ctx, inner) }); err != nil {
				return err
			}
			if _, err := tx.GetOrg(ctx, inner.ID); err != nil {
				return err
			}
			return errBoom
		})
		is(t, err, errBoom, "InTx around a nested InTx")
		_, err = st.GetOrg(ctx, inner.ID)
		is(t, err, store.ErrNotFound, "getting an org a nested InTx wrote before the outer one failed")

		ok(t, st.InTx(ctx, func(tx store.Store) error {
			return tx.InTx(ctx, func(tx2 store.Store) error { return tx2.CreateOrg(ctx, inner) })
		}))
		got, err := st.GetOrg(ctx, inner.ID)
		ok(t, err)
		same(t, got, inner)
	})
}

func testConcurrency(f *fixture) {
	t, st, ctx := f.t, f.st, f.ctx
	_, w, _ := f.tree()
	const workers, eventsEach = 20, 5
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			p := &store.Project{ID: f.id("prj"), OrgID: w.OrgID, WorkspaceID: w.ID, CreatedAt: at(0)}
			p.Slug = "p-" + p.ID
			if err := st.CreateProject(ctx, p); err != nil {
				t.Errorf("creating a project: %v", err)
				return
			}
			for range eventsEach {
				e := &store.Event{ID: f.id("evt"), ResourceID: p.ID, Type: "t", CreatedAt: at(1)}
				if err := st.AppendEvent(ctx, e); err != nil {
					t.Errorf("appending an event: %v", err)
				}
			}
			if _, err := st.ListProjects(ctx, store.ListFilter{WorkspaceID: w.ID}); err != nil {
				t.Errorf("listing projects: %v", err)
			}
			// Read, then write, as callers do (find a deployment, then
			// create or update it): two such transactions must not
			// deadlock on upgrading their locks.
			err := st.InTx(ctx, func(tx store.Store) error {
				if _, err := tx.ListProjects(ctx, store.ListFilter{WorkspaceID: w.ID}); err != nil {
					return err
				}
				p := &store.Project{ID: f.id("prj"), OrgID: w.OrgID, WorkspaceID: w.ID, CreatedAt: at(2)}
				p.Slug = "p-" + p.ID
				if err := tx.CreateProject(ctx, p); err != nil {
					return err
				}
				return tx.AppendEvent(ctx, &store.Event{ID: f.id("evt"), ResourceID: p.ID, Type: "t", CreatedAt: at(3)})
			})
			if err != nil {
				t.Errorf("creating a project in a transaction: %v", err)
			}
		})
	}
	wg.Wait()

	projects, err := st.ListProjects(ctx, store.ListFilter{WorkspaceID: w.ID})
	ok(t, err)
	if want := 1 + 2*workers; len(projects) != want {
		t.Errorf("got %d projects, want %d", len(projects), want)
	}
	events, err := st.ListEvents(ctx, "", 0, 1000)
	ok(t, err)
	if want := workers * (eventsEach + 1); len(events) != want {
		t.Errorf("got %d events, want %d", len(events), want)
	}
	for i := 1; i < len(events); i++ {
		if events[i].Seq <= events[i-1].Seq {
			t.Errorf("event %d has Seq %d after %d, want increasing", i, events[i].Seq, events[i-1].Seq)
		}
	}
}
