package routes_test

import (
	"context"
	"testing"
	"time"

	"github.com/berth-dev/berth/internal/control"
	"github.com/berth-dev/berth/internal/control/controltest"
	"github.com/berth-dev/berth/internal/control/names"
	"github.com/berth-dev/berth/internal/edge"
	"github.com/berth-dev/berth/internal/store"
	"github.com/berth-dev/berth/internal/store/sqlite"
	"github.com/berth-dev/berth/internal/templates"
)

// TestPublishRoutes builds the route table from a real store and checks
// what the edge will do for each kind of record.
func TestPublishRoutes(t *testing.T) {
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
	must(st.CreateOrg(ctx, &store.Org{ID: "org_1", Slug: "acme", Name: "Acme Health", CreatedAt: now}))
	must(st.CreateWorkspace(ctx, &store.Workspace{ID: "ws_1", OrgID: "org_1", Slug: "w", Name: "W", CreatedAt: now}))
	for _, p := range []string{"live", "building", "broken", "promoting"} {
		must(st.CreateProject(ctx, &store.Project{ID: "prj_" + p, OrgID: "org_1", WorkspaceID: "ws_1", Slug: p, Name: p, CreatedAt: now}))
	}
	dep := func(id, project, status, upstream string) {
		must(st.CreateDeployment(ctx, &store.Deployment{ID: id, OrgID: "org_1", WorkspaceID: "ws_1", ProjectID: project,
			Product: store.ProductStandard, Status: status, Upstream: upstream, CreatedAt: now, UpdatedAt: now}))
	}
	dep("dep_1", "prj_live", store.DeploymentReady, "127.0.0.1:1001")
	dep("dep_2", "prj_building", store.DeploymentBuilding, "")
	dep("dep_3", "prj_broken", store.DeploymentFailed, "")
	// A rollout in progress keeps serving the old container.
	dep("dep_4", "prj_promoting", store.DeploymentStarting, "127.0.0.1:1004")
	must(st.CreateSandbox(ctx, &store.Sandbox{ID: "sbx_1", OrgID: "org_1", WorkspaceID: "ws_1", ProjectID: "prj_live", Slug: "live-abc",
		TemplateID: "static-html", Status: store.SandboxRunning, PreviewPort: 8080,
		Upstreams: map[int]string{8080: "127.0.0.1:2001", 3000: "127.0.0.1:2002"}, CreatedAt: now, UpdatedAt: now}))
	must(st.CreateSandbox(ctx, &store.Sandbox{ID: "sbx_2", OrgID: "org_1", WorkspaceID: "ws_1", ProjectID: "prj_live", Slug: "live-def",
		TemplateID: "static-html", Status: store.SandboxPending, PreviewPort: 8080, CreatedAt: now, UpdatedAt: now}))

	c := control.New(control.Config{Store: st, Templates: templates.New(nil), Names: names.Names{Domain: "localhost", Port: 7780},
		Brand: edge.Brand{Name: "Platform"}})
	s := controltest.NewSink(t, c.Routes.Resolver())

	want := map[string]struct {
		state    edge.State
		upstream string
	}{
		"live.acme.localhost":              {edge.Ready, "127.0.0.1:1001"},
		"building.acme.localhost":          {edge.Deploying, ""},
		"broken.acme.localhost":            {edge.Down, ""},
		"promoting.acme.localhost":         {edge.Ready, "127.0.0.1:1004"},
		"live-abc.sandbox.acme.localhost":  {edge.Ready, "127.0.0.1:2001"},
		"LIVE-DEF.sandbox.acme.localhost.": {edge.Deploying, ""},
	}
	for host, w := range want {
		r, ok := s.Lookup(host)
		if !ok || r.State != w.state || r.Upstream != w.upstream || r.Brand.Name != "Acme Health" {
			t.Errorf("%s: %+v %v, want %v %q branded Acme Health", host, r, ok, w.state, w.upstream)
		}
	}
	if _, ok := s.Lookup("nope.acme.localhost"); ok {
		t.Error("an unknown host has a route")
	}

	// Pointing the preview at another port moves the route.
	sb, _ := st.GetSandbox(ctx, "sbx_1")
	sb.PreviewPort = 3000
	must(st.UpdateSandbox(ctx, sb))
	must(c.Routes.Changed(ctx, sb.ID))
	if r, _ := s.Lookup("live-abc.sandbox.acme.localhost"); r.Upstream != "127.0.0.1:2002" {
		t.Errorf("after preview port change: %+v", r)
	}
}
