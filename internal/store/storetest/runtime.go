package storetest

import (
	"time"

	"github.com/berth-dev/berth/internal/store"
)

func testHosts(f *fixture) {
	t, st, ctx := f.t, f.st, f.ctx
	_, w, _ := f.tree()
	pool := &store.Host{ID: f.id("host"), Kind: store.HostPool, State: "active", AgentURL: "http://10.0.0.1:7000",
		AgentSecret: "pool-secret", CreatedAt: at(0), UpdatedAt: at(0)}
	ok(t, st.CreateHost(ctx, pool))
	dd := &store.Host{ID: f.id("host"), Kind: store.HostDockerDeploy, WorkspaceID: w.ID, State: "provisioning",
		CreatedAt: at(1), UpdatedAt: at(2)}
	ok(t, st.CreateHost(ctx, dd))

	got, err := st.GetHost(ctx, pool.ID)
	ok(t, err)
	same(t, got, pool)
	got, err = st.GetHost(ctx, dd.ID)
	ok(t, err)
	same(t, got, dd)
	_, err = st.GetHost(ctx, "host_missing")
	is(t, err, store.ErrNotFound, "getting a missing host")
	is(t, st.CreateHost(ctx, &store.Host{ID: pool.ID, Kind: store.HostPool, CreatedAt: at(0), UpdatedAt: at(0)}),
		store.ErrConflict, "creating a host with a taken id")

	list, err := st.ListHosts(ctx)
	ok(t, err)
	sameList(t, "hosts", list, []*store.Host{pool, dd})

	before := dd.UpdatedAt
	dd.State, dd.StateReason = "failed", "ssh: connection refused"
	dd.AgentURL, dd.AgentSecret = "https://10.0.0.9:7443", "new-secret"
	ok(t, st.UpdateHost(ctx, dd))
	if !dd.UpdatedAt.After(before) {
		t.Errorf("UpdateHost left UpdatedAt at %v, want it bumped past %v", dd.UpdatedAt, before)
	}
	got, err = st.GetHost(ctx, dd.ID)
	ok(t, err)
	same(t, got, dd)
	// Another row is untouched.
	got, err = st.GetHost(ctx, pool.ID)
	ok(t, err)
	same(t, got, pool)

	is(t, st.UpdateHost(ctx, &store.Host{ID: "host_missing", Kind: store.HostPool}),
		store.ErrNotFound, "updating a missing host")
}

func testSandboxes(f *fixture) {
	t, st, ctx := f.t, f.st, f.ctx
	o, w, p := f.tree()
	p2 := f.project(w)
	h := f.host(nil)
	s := &store.Sandbox{
		ID: f.id("sbx"), OrgID: o.ID, WorkspaceID: w.ID, ProjectID: p.ID, Slug: "app-x1y2z3",
		TemplateID: "nextjs", Env: map[string]string{"API_KEY": "k-123", "EMPTY": ""}, Ports: []int{3000, 5173},
		Status: store.SandboxPending, Volume: "berth-sbx", PreviewPort: 3000,
		Upstreams: map[int]string{}, ExternalID: "sb-1", CreatedAt: at(0), UpdatedAt: at(1),
	}
	ok(t, st.CreateSandbox(ctx, s))
	got, err := st.GetSandbox(ctx, s.ID)
	ok(t, err)
	same(t, got, s)

	// Unset maps and slices come back unset.
	bare := f.sandbox(p2)
	got, err = st.GetSandbox(ctx, bare.ID)
	ok(t, err)
	same(t, got, bare)

	_, err = st.GetSandbox(ctx, "sbx_missing")
	is(t, err, store.ErrNotFound, "getting a missing sandbox")
	is(t, st.CreateSandbox(ctx, &store.Sandbox{ID: f.id("sbx"), OrgID: o.ID, WorkspaceID: w.ID, ProjectID: p2.ID, Slug: s.Slug}),
		store.ErrConflict, "creating a sandbox with a taken slug")
	is(t, st.CreateSandbox(ctx, &store.Sandbox{ID: f.id("sbx"), OrgID: o.ID, WorkspaceID: w.ID, ProjectID: p.ID, Slug: "other", ExternalID: "sb-1"}),
		store.ErrConflict, "creating a sandbox with an external id taken in its project")
	is(t, st.CreateSandbox(ctx, &store.Sandbox{ID: f.id("sbx"), OrgID: o.ID, WorkspaceID: w.ID, ProjectID: "prj_missing", Slug: "orphan"}),
		store.ErrNotFound, "creating a sandbox in a missing project")
	s2 := &store.Sandbox{ID: f.id("sbx"), OrgID: o.ID, WorkspaceID: w.ID, ProjectID: p2.ID, Slug: "two",
		ExternalID: "sb-1", CreatedAt: at(2), UpdatedAt: at(2)}
	ok(t, st.CreateSandbox(ctx, s2))

	// Every mutable field round-trips.
	before := s.UpdatedAt
	s.TemplateID = "vite"
	s.Env = map[string]string{"API_KEY": "k-456", "NEW": "v"}
	s.Ports = []int{8080}
	s.Status, s.StatusReason = store.SandboxFailed, "image build failed: exit 1"
	s.HostID, s.ContainerID, s.Volume = h.ID, "c0ffee", "berth-sbx-2"
	s.ProcsStartedAt = "2024-03-10T02:31:00.5Z"
	s.PreviewPort = 8080
	s.Upstreams = map[int]string{8080: "127.0.0.1:32768", 5173: "127.0.0.1:32769"}
	s.ExternalID = "sb-2"
	ok(t, st.UpdateSandbox(ctx, s))
	if !s.UpdatedAt.After(before) {
		t.Errorf("UpdateSandbox left UpdatedAt at %v, want it bumped past %v", s.UpdatedAt, before)
	}
	got, err = st.GetSandbox(ctx, s.ID)
	ok(t, err)
	same(t, got, s)

	// Clearing optional fields round-trips too.
	s.HostID, s.ExternalID, s.Env = "", "", map[string]string{}
	ok(t, st.UpdateSandbox(ctx, s))
	got, err = st.GetSandbox(ctx, s.ID)
	ok(t, err)
	same(t, got, s)

	is(t, st.UpdateSandbox(ctx, &store.Sandbox{ID: "sbx_missing"}), store.ErrNotFound, "updating a missing sandbox")
	clash := *bare
	clash.ExternalID = s2.ExternalID
	is(t, st.UpdateSandbox(ctx, &clash), store.ErrConflict, "updating a sandbox to an external id taken in its project")

	for _, c := range []struct {
		what string
		f    store.ListFilter
		want []*store.Sandbox
	}{
		{"all", store.ListFilter{}, []*store.Sandbox{s, bare, s2}},
		{"by org", store.ListFilter{OrgID: o.ID}, []*store.Sandbox{s, bare, s2}},
		{"by workspace", store.ListFilter{WorkspaceID: w.ID}, []*store.Sandbox{s, bare, s2}},
		{"by project", store.ListFilter{ProjectID: p2.ID}, []*store.Sandbox{bare, s2}},
		{"by external id", store.ListFilter{ExternalID: "sb-1"}, []*store.Sandbox{s2}},
		{"after", store.ListFilter{After: s.ID, Limit: 1}, []*store.Sandbox{bare}},
		{"by another org", store.ListFilter{OrgID: "org_other"}, nil},
	} {
		list, err := st.ListSandboxes(ctx, c.f)
		ok(t, err)
		sameList(t, "sandboxes "+c.what, list, c.want)
	}

	// A deleted sandbox is left out of lists but can still be read.
	s2.Status = store.SandboxDeleted
	ok(t, st.UpdateSandbox(ctx, s2))
	list, err := st.ListSandboxes(ctx, store.ListFilter{ProjectID: p2.ID})
	ok(t, err)
	sameList(t, "sandboxes but the deleted one", list, []*store.Sandbox{bare})
	got, err = st.GetSandbox(ctx, s2.ID)
	ok(t, err)
	same(t, got, s2)
}

func testProcesses(f *fixture) {
	t, st, ctx := f.t, f.st, f.ctx
	_, _, p := f.tree()
	s1, s2 := f.sandbox(p), f.sandbox(p)
	p1 := &store.Process{ID: f.id("proc"), SandboxID: s1.ID, Command: "npm run dev", Cwd: "/app", CreatedAt: at(0)}
	p2 := &store.Process{ID: f.id("proc"), SandboxID: s2.ID, Command: "worker", Cwd: "/", CreatedAt: at(1)}
	p3 := &store.Process{ID: f.id("proc"), SandboxID: s1.ID, Command: "tail -f log", CreatedAt: at(2)}
	for _, x := range []*store.Process{p1, p2, p3} {
		ok(t, st.CreateProcess(ctx, x))
	}
	list, err := st.ListProcesses(ctx, s1.ID)
	ok(t, err)
	sameList(t, "processes of the first sandbox", list, []*store.Process{p1, p3})
	list, err = st.ListProcesses(ctx, "sbx_missing")
	ok(t, err)
	sameList(t, "processes of a missing sandbox", list, nil)
	is(t, st.CreateProcess(ctx, &store.Process{ID: p1.ID, SandboxID: s1.ID}), store.ErrConflict, "creating a process with a taken id")
	is(t, st.CreateProcess(ctx, &store.Process{ID: f.id("proc"), SandboxID: "sbx_missing"}), store.ErrNotFound,
		"creating a process of a missing sandbox")
}

func testReleases(f *fixture) {
	t, st, ctx := f.t, f.st, f.ctx
	o, w, p := f.tree()
	p2 := f.project(w)
	r := &store.Release{
		ID: f.id("rel"), OrgID: o.ID, WorkspaceID: w.ID, ProjectID: p.ID, Digest: "sha256:abcd", Size: 5 << 30,
		EnvNames: []string{"DATABASE_URL", "SECRET"},
		Build:    store.Build{TemplateID: "nextjs", Dockerfile: "docker/Dockerfile", Command: "npm start", Port: 3000},
		Provenance: store.Provenance{SourceSandboxID: "sbx_1", Source: "sandbox", CreatedBy: "key_1",
			Files: []store.FileDigest{{Path: "index.html", Size: 12, Digest: "sha256:01"}, {Path: "a/b.js", Size: 0, Digest: "sha256:02"}}},
		ExternalID: "r-1", CreatedAt: at(0),
	}
	ok(t, st.CreateRelease(ctx, r))
	got, err := st.GetRelease(ctx, r.ID)
	ok(t, err)
	same(t, got, r)
	bare := f.release(p2)
	got, err = st.GetRelease(ctx, bare.ID)
	ok(t, err)
	same(t, got, bare)

	_, err = st.GetRelease(ctx, "rel_missing")
	is(t, err, store.ErrNotFound, "getting a missing release")
	is(t, st.CreateRelease(ctx, &store.Release{ID: f.id("rel"), OrgID: o.ID, WorkspaceID: w.ID, ProjectID: p.ID, ExternalID: "r-1"}),
		store.ErrConflict, "creating a release with an external id taken in its project")
	r2 := &store.Release{ID: f.id("rel"), OrgID: o.ID, WorkspaceID: w.ID, ProjectID: p2.ID, ExternalID: "r-1",
		EnvNames: []string{}, CreatedAt: at(2)}
	ok(t, st.CreateRelease(ctx, r2))

	for _, c := range []struct {
		what string
		f    store.ListFilter
		want []*store.Release
	}{
		{"all", store.ListFilter{}, []*store.Release{r, bare, r2}},
		{"by project", store.ListFilter{ProjectID: p2.ID}, []*store.Release{bare, r2}},
		{"by org and workspace", store.ListFilter{OrgID: o.ID, WorkspaceID: w.ID}, []*store.Release{r, bare, r2}},
		{"by external id", store.ListFilter{ExternalID: "r-1"}, []*store.Release{r, r2}},
		{"by project and external id", store.ListFilter{ProjectID: p.ID, ExternalID: "r-1"}, []*store.Release{r}},
		{"after", store.ListFilter{After: bare.ID}, []*store.Release{r2}},
		{"by another workspace", store.ListFilter{WorkspaceID: "ws_other"}, nil},
	} {
		list, err := st.ListReleases(ctx, c.f)
		ok(t, err)
		sameList(t, "releases "+c.what, list, c.want)
	}
}

// testReleaseSeconds: HTTP dates count whole seconds, so a project's
// releases never share one; another project's are left alone.
func testReleaseSeconds(f *fixture) {
	t, st, ctx := f.t, f.st, f.ctx
	_, w, p := f.tree()
	p2 := f.project(w)
	create := func(p *store.Project, at time.Time) *store.Release {
		t.Helper()
		r := &store.Release{ID: f.id("rel"), OrgID: p.OrgID, WorkspaceID: p.WorkspaceID, ProjectID: p.ID,
			Digest: "sha256:00", CreatedAt: at}
		ok(t, st.CreateRelease(ctx, r))
		got, err := st.GetRelease(ctx, r.ID)
		ok(t, err)
		if !got.CreatedAt.Equal(r.CreatedAt) {
			t.Fatalf("release %s: stored created_at %v, the caller's says %v", r.ID, got.CreatedAt, r.CreatedAt)
		}
		return r
	}
	base := at(0) // 123456 µs past a second
	want := func(r *store.Release, w time.Time) {
		t.Helper()
		if !r.CreatedAt.Equal(w) {
			t.Errorf("release %s created at %v, want %v", r.ID, r.CreatedAt, w)
		}
	}
	second := base.Truncate(time.Second)
	want(create(p, base), base)
	want(create(p, base.Add(500*time.Millisecond)), second.Add(time.Second))
	want(create(p, base), second.Add(2*time.Second))
	want(create(p, base.Add(-time.Hour)), second.Add(3*time.Second))
	want(create(p, base.Add(time.Minute)), base.Add(time.Minute))
	// Another project has seconds of its own.
	want(create(p2, base), base)

	// A release that cannot be recorded keeps the time it was given.
	r := &store.Release{ID: f.id("rel"), OrgID: p.OrgID, WorkspaceID: p.WorkspaceID, ProjectID: "prj_missing", CreatedAt: base}
	is(t, st.CreateRelease(ctx, r), store.ErrNotFound, "creating a release of a missing project")
	want(r, base)
}

func testDeployments(f *fixture) {
	t, st, ctx := f.t, f.st, f.ctx
	o, w, p := f.tree()
	p2 := f.project(w)
	r1, r2 := f.release(p), f.release(p)
	h := f.host(w)
	d := &store.Deployment{
		ID: f.id("dep"), OrgID: o.ID, WorkspaceID: w.ID, ProjectID: p.ID, Product: store.ProductDockerDeploy,
		ReleaseID: r1.ID, Env: map[string]string{"DATABASE_URL": "postgres://u:p@db/x"},
		Metadata: map[string]string{"docker_deploy_template_id": "nextjs"}, Status: store.DeploymentPending,
		ExternalID: "d-1", CreatedAt: at(0), UpdatedAt: at(0),
	}
	ok(t, st.CreateDeployment(ctx, d))
	got, err := st.GetDeployment(ctx, d.ID)
	ok(t, err)
	same(t, got, d)
	bare := f.deployment(p2)
	got, err = st.GetDeployment(ctx, bare.ID)
	ok(t, err)
	same(t, got, bare)

	_, err = st.GetDeployment(ctx, "dep_missing")
	is(t, err, store.ErrNotFound, "getting a missing deployment")
	is(t, st.CreateDeployment(ctx, &store.Deployment{ID: f.id("dep"), OrgID: o.ID, WorkspaceID: w.ID, ProjectID: p.ID, ExternalID: "d-1"}),
		store.ErrConflict, "creating a deployment with an external id taken in its project")
	is(t, st.CreateDeployment(ctx, &store.Deployment{ID: f.id("dep"), OrgID: o.ID, WorkspaceID: w.ID, ProjectID: p.ID, ReleaseID: "rel_missing"}),
		store.ErrNotFound, "creating a deployment of a missing release")

	before := d.UpdatedAt
	d.Product = store.ProductStandard
	d.ReleaseID = r2.ID
	d.Env = map[string]string{"DATABASE_URL": "postgres://u:q@db/x", "REDIS_URL": "redis://r"}
	d.Metadata = map[string]string{"docker_deploy_template_id": "vite", "team": "a"}
	d.Status, d.StatusReason = store.DeploymentFailed, "health check: connection refused"
	d.ExternalID = "d-2"
	ok(t, st.UpdateDeployment(ctx, d))
	if !d.UpdatedAt.After(before) || d.Generation != 1 {
		t.Errorf("UpdateDeployment left UpdatedAt at %v (before %v), generation %d; want it bumped, generation 1", d.UpdatedAt, before, d.Generation)
	}
	got, err = st.GetDeployment(ctx, d.ID)
	ok(t, err)
	same(t, got, d)

	// The reconciler's write: where it runs, always; its status only for
	// the generation it was computed for.
	d.ServingReleaseID, d.HostID, d.ContainerID, d.Upstream = r1.ID, h.ID, "c0ffee", "127.0.0.1:32770"
	d.StandbyContainerID, d.StandbyReleaseID = "decaf", r2.ID
	d.Status, d.StatusReason = store.DeploymentReady, ""
	ok(t, st.UpdateDeploymentRuntime(ctx, d))
	got, err = st.GetDeployment(ctx, d.ID)
	ok(t, err)
	same(t, got, d)
	stale := *d
	d.Status, d.StatusReason = store.DeploymentPending, "restarting"
	ok(t, st.UpdateDeployment(ctx, d)) // a new request meanwhile
	stale.ContainerID, stale.Upstream, stale.StandbyContainerID, stale.StandbyReleaseID = "beef", "127.0.0.1:32771", "", ""
	stale.Status = store.DeploymentFailed
	ok(t, st.UpdateDeploymentRuntime(ctx, &stale))
	got, err = st.GetDeployment(ctx, d.ID)
	ok(t, err)
	if got.Status != store.DeploymentPending || got.StatusReason != "restarting" || got.Generation != 2 {
		t.Errorf("a stale runtime write changed the status: %q %q, generation %d", got.Status, got.StatusReason, got.Generation)
	}
	if got.ContainerID != "beef" || got.Upstream != "127.0.0.1:32771" || got.StandbyContainerID != "" || got.StandbyReleaseID != "" {
		t.Errorf("a stale runtime write lost where the deployment runs: %+v", got)
	}
	d.ContainerID, d.Upstream = got.ContainerID, got.Upstream
	d.StandbyContainerID, d.StandbyReleaseID = "", ""

	d.HostID, d.ServingReleaseID, d.ExternalID, d.Env, d.Metadata = "", "", "", nil, map[string]string{}
	ok(t, st.UpdateDeployment(ctx, d))
	ok(t, st.UpdateDeploymentRuntime(ctx, d))
	got, err = st.GetDeployment(ctx, d.ID)
	ok(t, err)
	same(t, got, d)
	is(t, st.UpdateDeployment(ctx, &store.Deployment{ID: "dep_missing"}), store.ErrNotFound, "updating a missing deployment")
	is(t, st.UpdateDeploymentRuntime(ctx, &store.Deployment{ID: "dep_missing"}), store.ErrNotFound, "recording the runtime of a missing deployment")

	for _, c := range []struct {
		what string
		f    store.ListFilter
		want []*store.Deployment
	}{
		{"all", store.ListFilter{}, []*store.Deployment{d, bare}},
		{"by project", store.ListFilter{ProjectID: p.ID}, []*store.Deployment{d}},
		{"by org", store.ListFilter{OrgID: o.ID}, []*store.Deployment{d, bare}},
		{"by workspace, limit", store.ListFilter{WorkspaceID: w.ID, Limit: 1}, []*store.Deployment{d}},
		{"after", store.ListFilter{After: d.ID}, []*store.Deployment{bare}},
		{"by external id", store.ListFilter{ExternalID: "d-1"}, nil},
	} {
		list, err := st.ListDeployments(ctx, c.f)
		ok(t, err)
		sameList(t, "deployments "+c.what, list, c.want)
	}
}

func testDeploymentReleases(f *fixture) {
	t, st, ctx := f.t, f.st, f.ctx
	_, w, p := f.tree()
	r1, r2 := f.release(p), f.release(p)
	d, other := f.deployment(p), f.deployment(f.project(w))
	history := []*store.DeploymentRelease{
		{DeploymentID: d.ID, ReleaseID: r1.ID, Reason: "deploy", CreatedAt: at(0)},
		{DeploymentID: other.ID, ReleaseID: r1.ID, Reason: "deploy", CreatedAt: at(1)},
		{DeploymentID: d.ID, ReleaseID: r2.ID, Reason: "deploy", CreatedAt: at(2)},
		{DeploymentID: d.ID, ReleaseID: r1.ID, Reason: "rollback", CreatedAt: at(3)},
	}
	var last int64
	for _, r := range history {
		ok(t, st.AddDeploymentRelease(ctx, r))
		if r.ID <= last {
			t.Errorf("AddDeploymentRelease set ID %d after %d, want it increasing", r.ID, last)
		}
		last = r.ID
	}
	list, err := st.ListDeploymentReleases(ctx, d.ID)
	ok(t, err)
	sameList(t, "history", list, []*store.DeploymentRelease{history[0], history[2], history[3]})
	list, err = st.ListDeploymentReleases(ctx, "dep_missing")
	ok(t, err)
	sameList(t, "history of a missing deployment", list, nil)
	is(t, st.AddDeploymentRelease(ctx, &store.DeploymentRelease{DeploymentID: "dep_missing", ReleaseID: r1.ID, Reason: "deploy"}),
		store.ErrNotFound, "adding to the history of a missing deployment")
}
