// Package storetest is the conformance suite of store.Store: every
// implementation (SQLite now, PostgreSQL later) runs the same tests, so
// callers can rely on behaviour rather than on one database.
package storetest

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"sync/atomic"
	"testing"
	"time"

	"github.com/berth-dev/berth/internal/store"
)

// Run runs the suite. open must return a new, empty store and close it
// when its test ends; subtests run in parallel, each on its own store.
func Run(t *testing.T, open func(t *testing.T) store.Store) {
	tests := []struct {
		name string
		fn   func(*fixture)
	}{
		{"Orgs", testOrgs},
		{"ListLimits", testListLimits},
		{"Workspaces", testWorkspaces},
		{"Projects", testProjects},
		{"APIKeys", testAPIKeys},
		{"Hosts", testHosts},
		{"WorkspaceHosts", testWorkspaceHosts},
		{"Sandboxes", testSandboxes},
		{"Processes", testProcesses},
		{"Releases", testReleases}, {"ReleaseSeconds", testReleaseSeconds},
		{"Deployments", testDeployments},
		{"DeploymentReleases", testDeploymentReleases},
		{"Events", testEvents},
		{"Databases", testDatabases}, {"DatabaseLinks", testDatabaseLinks},
		{"Domains", testDomains},
		{"CertObjects", testCertObjects}, {"CertLocks", testCertLocks},
		{"Routes", testRoutes},
		{"ManagedCerts", testManagedCerts},
		{"Cron", testCron},
		{"CronLeases", testCronLeases}, {"DeploymentDesired", testDeploymentDesired},
		{"Idempotency", testIdempotency},
		{"InTx", testInTx},
		{"Concurrency", testConcurrency},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tc.fn(&fixture{t: t, st: open(t), ctx: t.Context()})
		})
	}
}

// fixture is one subtest's store and the helpers that fill it.
type fixture struct {
	t   *testing.T
	st  store.Store
	ctx context.Context
	n   atomic.Int64
}

// ist is India's time zone (+05:30, no daylight saving): times go in in a
// zone that is neither UTC nor a whole hour away from it, so a store that
// drops or misreads the offset fails.
var ist = time.FixedZone("IST", 5*3600+30*60)

// at returns the i-th minute of a fixed day, in ist. Times are whole
// microseconds because PostgreSQL keeps no more.
func at(i int) time.Time {
	return time.Date(2024, 3, 10, 2, 30, 0, 123456000, ist).Add(time.Duration(i) * time.Minute)
}

// id returns a new id with prefix; ids sort in the order they are made,
// as real ones do.
func (f *fixture) id(prefix string) string {
	return fmt.Sprintf("%s_%010d", prefix, f.n.Add(1))
}

func (f *fixture) org() *store.Org {
	f.t.Helper()
	o := &store.Org{ID: f.id("org"), Name: "Org", CreatedAt: at(0)}
	o.Slug = "o-" + o.ID
	ok(f.t, f.st.CreateOrg(f.ctx, o))
	return o
}

func (f *fixture) workspace(o *store.Org) *store.Workspace {
	f.t.Helper()
	w := &store.Workspace{ID: f.id("ws"), OrgID: o.ID, Name: "Workspace", CreatedAt: at(1)}
	w.Slug = "w-" + w.ID
	ok(f.t, f.st.CreateWorkspace(f.ctx, w))
	return w
}

func (f *fixture) project(w *store.Workspace) *store.Project {
	f.t.Helper()
	p := &store.Project{ID: f.id("prj"), OrgID: w.OrgID, WorkspaceID: w.ID, Name: "Project", CreatedAt: at(2)}
	p.Slug = "p-" + p.ID
	ok(f.t, f.st.CreateProject(f.ctx, p))
	return p
}

// tree makes an org with a workspace and a project in it.
func (f *fixture) tree() (*store.Org, *store.Workspace, *store.Project) {
	f.t.Helper()
	o := f.org()
	w := f.workspace(o)
	return o, w, f.project(w)
}

func (f *fixture) host(w *store.Workspace) *store.Host {
	f.t.Helper()
	h := &store.Host{ID: f.id("host"), Kind: store.HostPool, State: "active", AgentURL: "http://10.0.0.1:7000",
		AgentSecret: "secret", CreatedAt: at(3), UpdatedAt: at(3)}
	if w != nil {
		h.Kind, h.WorkspaceID = store.HostDockerDeploy, w.ID
	}
	ok(f.t, f.st.CreateHost(f.ctx, h))
	return h
}

func (f *fixture) sandbox(p *store.Project) *store.Sandbox {
	f.t.Helper()
	s := &store.Sandbox{ID: f.id("sbx"), OrgID: p.OrgID, WorkspaceID: p.WorkspaceID, ProjectID: p.ID,
		TemplateID: "nextjs", Status: store.SandboxPending, CreatedAt: at(4), UpdatedAt: at(4)}
	s.Slug = "s-" + s.ID
	ok(f.t, f.st.CreateSandbox(f.ctx, s))
	return s
}

func (f *fixture) release(p *store.Project) *store.Release {
	f.t.Helper()
	r := &store.Release{ID: f.id("rel"), OrgID: p.OrgID, WorkspaceID: p.WorkspaceID, ProjectID: p.ID,
		Digest: "sha256:00", CreatedAt: at(5)}
	ok(f.t, f.st.CreateRelease(f.ctx, r))
	return r
}

func (f *fixture) deployment(p *store.Project) *store.Deployment {
	f.t.Helper()
	d := &store.Deployment{ID: f.id("dep"), OrgID: p.OrgID, WorkspaceID: p.WorkspaceID, ProjectID: p.ID,
		Product: store.ProductStandard, Status: store.DeploymentPending, CreatedAt: at(6), UpdatedAt: at(6)}
	ok(f.t, f.st.CreateDeployment(f.ctx, d))
	return d
}

// ok fails the test at once on an error.
func ok(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatalf("unexpected error: %v", err)
	}
}

// is checks that err wraps target.
func is(t *testing.T, err, target error, what string) {
	t.Helper()
	if !errors.Is(err, target) {
		t.Errorf("%s: got error %v, want one wrapping %v", what, err, target)
	}
}

// same checks that got has want's fields: time fields the same instant
// and in UTC, the others deeply equal.
func same[T any](t *testing.T, got, want *T) {
	t.Helper()
	if got == nil || want == nil {
		t.Fatalf("got %v, want %v", got, want)
	}
	gv, wv := reflect.ValueOf(got).Elem(), reflect.ValueOf(want).Elem()
	for i := range gv.NumField() {
		name := gv.Type().Name() + "." + gv.Type().Field(i).Name
		g, w := gv.Field(i).Interface(), wv.Field(i).Interface()
		if gt, isTime := g.(time.Time); isTime {
			wt := w.(time.Time)
			if !gt.Equal(wt) {
				t.Errorf("%s: got %v, want %v", name, gt, wt)
			}
			if gt.Location() != time.UTC {
				t.Errorf("%s: got zone %v, want UTC", name, gt.Location())
			}
			continue
		}
		if !reflect.DeepEqual(g, w) {
			t.Errorf("%s: got %#v, want %#v", name, g, w)
		}
	}
}

// sameList checks got against want, in order.
func sameList[T any](t *testing.T, what string, got, want []*T) {
	t.Helper()
	if len(got) != len(want) {
		t.Errorf("%s: got %d items (%s), want %d (%s)", what, len(got), ids(got), len(want), ids(want))
		return
	}
	for i := range got {
		same(t, got[i], want[i])
	}
}

// ids lists the ID fields of items, for failure messages.
func ids[T any](items []*T) string {
	s := ""
	for i, it := range items {
		if i > 0 {
			s += " "
		}
		s += fmt.Sprint(reflect.ValueOf(it).Elem().FieldByName("ID").Interface())
	}
	return s
}
