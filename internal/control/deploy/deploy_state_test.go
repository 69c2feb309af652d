package deploy_test

import (
	"context"
	"testing"
	"time"

	"github.com/berth-dev/berth/internal/control"
	"github.com/berth-dev/berth/internal/control/controltest"
	"github.com/berth-dev/berth/internal/control/cron"
	"github.com/berth-dev/berth/internal/control/deploy"
	"github.com/berth-dev/berth/internal/control/names"
	"github.com/berth-dev/berth/internal/edge"
	"github.com/berth-dev/berth/internal/store"
	"github.com/berth-dev/berth/internal/templates"
)

// TestDeploymentStates walks a deployment (not yet placed on a host, so
// no containers) through pause, resume and delete by its reconciler: its
// route, its cron job's hold, and on delete its links and its custom
// domain, which go, while an org domain stays.
func TestDeploymentStates(t *testing.T) {
	f := newFixture(t)
	ctx, st := f.ctx, f.st
	now := time.Now().UTC()
	sk := controltest.NewSink(t, f.c.Routes.Resolver())
	j, err := f.c.Cron.CreateCronJob(ctx, cron.CronJobRequest{Project: &store.Project{ID: "prj_1", OrgID: "org_1", WorkspaceID: "ws_1"},
		Name: "ping", Schedule: "*/5 * * * *", TimeZone: "UTC", Timeout: time.Second, DeploymentID: "dep_1",
		Target: store.CronTarget{Type: store.CronTargetHTTP, Method: "POST", Path: "/tasks"}})
	f.must(err)
	f.must(st.CreateDatabase(ctx, &store.Database{ID: "db_1", OrgID: "org_1", WorkspaceID: "ws_1", ProjectID: "prj_1", Name: "main",
		Engine: store.EnginePostgres, Status: store.DatabaseHealthy, Password: "pw", CredentialsVersion: 1, CreatedAt: now, UpdatedAt: now}))
	f.must(st.CreateDatabaseLink(ctx, &store.DatabaseLink{DatabaseID: "db_1", TargetID: "dep_1", ProjectID: "prj_1", CreatedAt: now}))
	f.must(st.CreateDomain(ctx, &store.Domain{ID: "dom_1", Hostname: "shop.example", OrgID: "org_1", WorkspaceID: "ws_1",
		DeploymentID: "dep_1", Token: "t", Status: store.DomainVerified, VerifiedAt: now, CreatedAt: now, UpdatedAt: now}))
	f.must(st.CreateDomain(ctx, &store.Domain{ID: "dom_2", Hostname: "acme.example", OrgID: "org_1", Token: "t",
		Status: store.DomainVerified, VerifiedAt: now, CreatedAt: now, UpdatedAt: now}))
	const host = "shop.acme.localhost"
	state := func(want edge.State) {
		t.Helper()
		r, ok := sk.Lookup(host)
		if !ok || r.State != want {
			t.Errorf("route of %s: %v %v, want %v", host, ok, r.State, want)
		}
	}
	reconcile := func() *store.Deployment {
		t.Helper()
		d, err := st.GetDeployment(ctx, "dep_1")
		f.must(err)
		handled, err := f.c.Deployments.ReconcileDesired(ctx, d)
		f.must(err)
		if d.Desired != "" && !handled {
			t.Errorf("the desired-state reconciler left a %s deployment to the rollout", d.Desired)
		}
		d, err = st.GetDeployment(ctx, "dep_1")
		f.must(err)
		return d
	}
	job := func() *store.CronJob {
		j, err := st.GetCronJob(ctx, j.ID)
		f.must(err)
		return j
	}

	_, err = f.c.Deployments.PauseDeployment(ctx, "dep_1")
	f.must(err)
	state(edge.Down)
	if j := job(); j.Held == "" || !j.NextRunAt.IsZero() {
		t.Errorf("a paused deployment's job: %+v", j)
	}
	if d := reconcile(); d.Status != store.DeploymentPaused || d.Desired != store.DesiredPaused {
		t.Errorf("paused: %s %q", d.Status, d.Desired)
	}

	_, err = f.c.Deployments.ResumeDeployment(ctx, "dep_1")
	f.must(err)
	if j := job(); j.Held != "" || j.NextRunAt.IsZero() {
		t.Errorf("a resumed deployment's job: %+v", j)
	}

	// A deploy to a paused deployment resumes it; a rollback does not.
	f.must(st.CreateRelease(ctx, &store.Release{ID: "rel_1", OrgID: "org_1", WorkspaceID: "ws_1", ProjectID: "prj_1",
		Digest: "sha256:00", Build: store.Build{TemplateID: "static-html"}, CreatedAt: now}))
	f.must(st.CreateRelease(ctx, &store.Release{ID: "rel_2", OrgID: "org_1", WorkspaceID: "ws_1", ProjectID: "prj_1",
		Digest: "sha256:01", Build: store.Build{TemplateID: "static-html"}, CreatedAt: now}))
	p := &store.Project{ID: "prj_1", OrgID: "org_1", WorkspaceID: "ws_1"}
	_, _, err = f.c.Deployments.Deploy(ctx, deploy.DeployRequest{Project: p, ReleaseID: "rel_1"})
	f.must(err)
	_, _, err = f.c.Deployments.Deploy(ctx, deploy.DeployRequest{Project: p, ReleaseID: "rel_2"})
	f.must(err)
	_, err = f.c.Deployments.PauseDeployment(ctx, "dep_1")
	f.must(err)
	d, err := f.c.Deployments.Rollback(ctx, "dep_1", "")
	f.must(err)
	if d.Desired != store.DesiredPaused || job().Held == "" {
		t.Errorf("a rollback resumed a paused deployment: %q, job held %q", d.Desired, job().Held)
	}
	d, _, err = f.c.Deployments.Deploy(ctx, deploy.DeployRequest{Project: p, ReleaseID: "rel_2"})
	f.must(err)
	if got, _ := st.GetDeployment(ctx, "dep_1"); d.ID != "dep_1" || got.Desired != "" || job().Held != "" || job().NextRunAt.IsZero() {
		t.Errorf("a deploy to a paused deployment: %q, job %+v", got.Desired, job())
	}

	_, err = f.c.Deployments.DeleteDeployment(ctx, "dep_1")
	f.must(err)
	if _, ok := sk.Lookup(host); ok {
		t.Errorf("a deleted deployment still has a route")
	}
	d = reconcile()
	if d.Status != store.DeploymentDeleted {
		t.Errorf("deleted: %s %q", d.Status, d.StatusReason)
	}
	if links, _ := st.ListDatabaseLinks(ctx, store.DatabaseLinkFilter{TargetID: "dep_1"}); len(links) != 0 {
		t.Errorf("links left: %+v", links)
	}
	if _, err := st.GetDomain(ctx, "dom_1"); err == nil {
		t.Errorf("the deleted deployment's domain is left")
	}
	if _, err := st.GetDomain(ctx, "dom_2"); err != nil {
		t.Errorf("the org's domain went with the deployment: %v", err)
	}
	if j := job(); j.Held == "" {
		t.Errorf("a deleted deployment's job runs: %+v", j)
	}
	// Its reconciler, run again, finds nothing to do.
	if d := reconcile(); d.Status != store.DeploymentDeleted {
		t.Errorf("reconciled again: %s", d.Status)
	}
}

// fixture is a control plane on a real store with one deployment,
// dep_1, of project prj_1 (shop) in org acme, not placed on any host.
type fixture struct {
	t   *testing.T
	ctx context.Context
	st  store.Store
	c   *control.Plane
}

func newFixture(t *testing.T) *fixture {
	f := &fixture{t: t, ctx: context.Background(), st: controltest.Store(t)}
	now := time.Now().UTC()
	f.must(f.st.CreateOrg(f.ctx, &store.Org{ID: "org_1", Slug: "acme", Name: "Acme", CreatedAt: now}))
	f.must(f.st.CreateWorkspace(f.ctx, &store.Workspace{ID: "ws_1", OrgID: "org_1", Slug: "w", Name: "W", CreatedAt: now}))
	f.must(f.st.CreateProject(f.ctx, &store.Project{ID: "prj_1", OrgID: "org_1", WorkspaceID: "ws_1", Slug: "shop", Name: "Shop", CreatedAt: now}))
	f.must(f.st.CreateDeployment(f.ctx, &store.Deployment{ID: "dep_1", OrgID: "org_1", WorkspaceID: "ws_1", ProjectID: "prj_1",
		Product: store.ProductStandard, Status: store.DeploymentReady, CreatedAt: now, UpdatedAt: now}))
	f.c = control.New(control.Config{Store: f.st, Templates: templates.New(nil), Names: names.Names{Domain: "localhost", Port: 7780}})
	return f
}

func (f *fixture) must(err error) {
	f.t.Helper()
	if err != nil {
		f.t.Fatal(err)
	}
}
