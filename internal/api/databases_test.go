package api

import (
	"context"
	"encoding/json"
	"net/http"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/berth-dev/berth/client"
	"github.com/berth-dev/berth/internal/id"
	"github.com/berth-dev/berth/internal/store"
)

// The data service types live in client/databases.go, which the OpenAPI
// tests' type list (parsed from client/types.go) does not cover: map
// their schemas here, so the same tests hold them to the spec.
func init() {
	for name, typ := range map[string]reflect.Type{
		"Database":            reflect.TypeFor[client.Database](),
		"DatabaseCredentials": reflect.TypeFor[client.DatabaseCredentials](),
		"DatabaseList":        reflect.TypeFor[client.List[client.Database]](),
		"DatabaseLink":        reflect.TypeFor[client.DatabaseLink](),
		"DatabaseLinkList":    reflect.TypeFor[client.List[client.DatabaseLink]](),
		"CreateDatabase":      reflect.TypeFor[client.CreateDatabase](),
		"CreateDatabaseLink":  reflect.TypeFor[client.CreateDatabaseLink](),
	} {
		clientSchemas[name] = typ
	}
	requestRequired["CreateDatabase"] = []string{"name", "project_id"}
	requestRequired["CreateDatabaseLink"] = []string{}
}

// dbFixture is two projects of one org, a sandbox and a deployment in the
// first, and a sandbox in the second.
type dbFixture struct {
	h                 *harness
	prj, other        string
	sbx, dep, sbxElse string
}

func newDBFixture(t *testing.T) *dbFixture {
	h := newHarness(t)
	orgID := h.create("/orgs", client.CreateOrg{Name: "Acme"})
	wsID := h.create("/workspaces", client.CreateWorkspace{OrgID: orgID, Name: "Team"})
	f := &dbFixture{h: h,
		prj:   h.create("/projects", client.CreateProject{WorkspaceID: wsID, Name: "Shop"}),
		other: h.create("/projects", client.CreateProject{WorkspaceID: wsID, Name: "Blog"}),
	}
	ctx, now := context.Background(), time.Now().UTC()
	mk := func(prj string) string {
		sb := &store.Sandbox{ID: id.New(id.Sandbox), OrgID: orgID, WorkspaceID: wsID, ProjectID: prj, Slug: id.Random(8),
			TemplateID: "static-html", Status: store.SandboxPending, CreatedAt: now, UpdatedAt: now}
		if err := h.st.CreateSandbox(ctx, sb); err != nil {
			t.Fatal(err)
		}
		return sb.ID
	}
	f.sbx, f.sbxElse = mk(f.prj), mk(f.other)
	d := &store.Deployment{ID: id.New(id.Deployment), OrgID: orgID, WorkspaceID: wsID, ProjectID: f.prj,
		Product: store.ProductStandard, Status: store.DeploymentPending, CreatedAt: now, UpdatedAt: now}
	if err := h.st.CreateDeployment(ctx, d); err != nil {
		t.Fatal(err)
	}
	f.dep = d.ID
	return f
}

func (f *dbFixture) count(t *testing.T) (dbs, links int) {
	t.Helper()
	list, err := f.h.st.ListDatabases(context.Background(), store.ListFilter{})
	if err != nil {
		t.Fatal(err)
	}
	all, err := f.h.st.ListDatabaseLinks(context.Background(), store.DatabaseLinkFilter{})
	if err != nil {
		t.Fatal(err)
	}
	return len(list), len(all)
}

func TestCreateDatabase(t *testing.T) {
	f := newDBFixture(t)
	status, _, b := f.h.do(http.MethodPost, "/databases", client.CreateDatabase{ProjectID: f.prj, Name: "main"}, nil)
	if status != http.StatusCreated {
		t.Fatalf("create: %d %s", status, b)
	}
	var db client.Database
	json.Unmarshal(b, &db)
	cr := db.Credentials
	if db.Engine != "postgres" || db.Status != "provisioning" || db.Host != "main" || db.Port != 5432 || db.CredentialsApplied {
		t.Errorf("created %+v", db)
	}
	if cr.Username != "app" || len(cr.Password) < 32 || cr.Database != "app" || cr.Host != "main" ||
		cr.URL != "postgres://app:"+cr.Password+"@main:5432/app" || cr.Env["PGPASSWORD"] != cr.Password || cr.Env["DATABASE_URL"] != cr.URL {
		t.Errorf("credentials %+v", cr)
	}

	// Reading never shows the credentials again.
	status, _, b = f.h.do(http.MethodGet, "/databases/"+db.ID, nil, nil)
	if status != http.StatusOK || strings.Contains(string(b), cr.Password) || strings.Contains(string(b), `"credentials":`) {
		t.Errorf("GET: %d %s", status, b)
	}
	status, _, b = f.h.do(http.MethodGet, "/databases?project_id="+f.prj, nil, nil)
	if status != http.StatusOK || strings.Contains(string(b), cr.Password) || !strings.Contains(string(b), db.ID) {
		t.Errorf("list: %d %s", status, b)
	}
	// Reveal does, for admins.
	status, _, b = f.h.do(http.MethodPost, "/databases/"+db.ID+"/credentials/reveal", nil, nil)
	if status != http.StatusOK || !strings.Contains(string(b), cr.Password) {
		t.Errorf("reveal: %d %s", status, b)
	}

	// An Idempotency-Key replay answers the service without its
	// credentials, which are not kept unsealed.
	hdr := http.Header{"Idempotency-Key": {"db-once"}}
	s1, _, b1 := f.h.do(http.MethodPost, "/databases", client.CreateDatabase{ProjectID: f.prj, Name: "cache", Engine: "redis"}, hdr)
	s2, _, b2 := f.h.do(http.MethodPost, "/databases", client.CreateDatabase{ProjectID: f.prj, Name: "cache", Engine: "redis"}, hdr)
	var first, replay client.Database
	json.Unmarshal(b1, &first)
	json.Unmarshal(b2, &replay)
	if s1 != http.StatusCreated || s2 != http.StatusCreated || first.ID != replay.ID || first.Credentials.Password == "" || replay.Credentials.Password != "" {
		t.Errorf("replay: %d %s then %d %s", s1, b1, s2, b2)
	}
	if first.Credentials.Database != "" || first.Credentials.URL != "redis://app:"+first.Credentials.Password+"@cache:6379/0" {
		t.Errorf("redis credentials %+v", first.Credentials)
	}
	rec, err := f.h.st.GetIdempotent(context.Background(), f.key(t), "/api/v1/databases|db-once")
	if err != nil || strings.Contains(string(rec.Body), first.Credentials.Password) {
		t.Errorf("the recorded answer holds the password: %v %s", err, rec.Body)
	}
}

// key returns the id of the harness's API key.
func (f *dbFixture) key(t *testing.T) string {
	k, err := f.h.st.GetAPIKeyByHash(context.Background(), HashKey(f.h.key))
	if err != nil {
		t.Fatal(err)
	}
	return k.ID
}

func TestDatabaseBadInput(t *testing.T) {
	f := newDBFixture(t)
	status, _, b := f.h.do(http.MethodPost, "/databases", client.CreateDatabase{ProjectID: f.prj, Name: "main", Engine: "mysql"}, nil)
	if status != http.StatusCreated {
		t.Fatalf("create: %d %s", status, b)
	}
	var db client.Database
	json.Unmarshal(b, &db)
	dbs, links := f.count(t)

	for _, c := range []struct {
		what, method, path string
		body               any
		status             int
		code               string
	}{
		{"unknown engine", "POST", "/databases", client.CreateDatabase{ProjectID: f.prj, Name: "x", Engine: "oracle"}, 422, "unknown_engine"},
		{"upper-case name", "POST", "/databases", client.CreateDatabase{ProjectID: f.prj, Name: "Main"}, 422, "invalid_name"},
		{"name with a dot", "POST", "/databases", client.CreateDatabase{ProjectID: f.prj, Name: "a.b"}, 422, "invalid_name"},
		{"name too long", "POST", "/databases", client.CreateDatabase{ProjectID: f.prj, Name: strings.Repeat("a", 33)}, 422, "invalid_name"},
		{"localhost", "POST", "/databases", client.CreateDatabase{ProjectID: f.prj, Name: "localhost"}, 422, "invalid_name"},
		{"name taken", "POST", "/databases", client.CreateDatabase{ProjectID: f.prj, Name: "main", Engine: "redis"}, 409, "name_taken"},
		{"missing project", "POST", "/databases", client.CreateDatabase{ProjectID: "prj_nope", Name: "x"}, 422, "project_not_found"},
		{"unknown field", "POST", "/databases", map[string]string{"project_id": f.prj, "name": "x", "size": "big"}, 400, "unknown_field"},
		{"link nothing", "POST", "/databases/" + db.ID + "/links", client.CreateDatabaseLink{}, 422, "missing_target"},
		{"link both", "POST", "/databases/" + db.ID + "/links", client.CreateDatabaseLink{SandboxID: f.sbx, DeploymentID: f.dep}, 422, "invalid_target"},
		{"link a missing sandbox", "POST", "/databases/" + db.ID + "/links", client.CreateDatabaseLink{SandboxID: "sbx_nope"}, 422, "target_not_found"},
		{"link across projects", "POST", "/databases/" + db.ID + "/links", client.CreateDatabaseLink{SandboxID: f.sbxElse}, 422, "target_of_another_project"},
		{"link a missing service", "POST", "/databases/db_nope/links", client.CreateDatabaseLink{SandboxID: f.sbx}, 404, "not_found"},
		{"rotate while provisioning", "POST", "/databases/" + db.ID + "/credentials/rotate", nil, 409, "database_provisioning"},
		{"unlink what is not linked", "DELETE", "/databases/" + db.ID + "/links/" + f.sbx, nil, 404, "link_not_found"},
		{"purge=yes", "DELETE", "/databases/" + db.ID + "?purge=yes", nil, 400, "invalid_purge"},
		{"show a missing one", "GET", "/databases/db_nope", nil, 404, "not_found"},
	} {
		status, code, b := f.h.do(c.method, c.path, c.body, nil)
		if status != c.status || code != c.code {
			t.Errorf("%s: %d %s, want %d %s: %s", c.what, status, code, c.status, c.code, b)
		}
	}
	if d, l := f.count(t); d != dbs || l != links {
		t.Errorf("bad input wrote: %d services and %d links, want %d and %d", d, l, dbs, links)
	}

	// One link per target and service, one service per engine and target.
	if status, _, b := f.h.do("POST", "/databases/"+db.ID+"/links", client.CreateDatabaseLink{DeploymentID: f.dep}, nil); status != 201 {
		t.Fatalf("link: %d %s", status, b)
	}
	if status, code, _ := f.h.do("POST", "/databases/"+db.ID+"/links", client.CreateDatabaseLink{DeploymentID: f.dep}, nil); status != 409 || code != "already_linked" {
		t.Errorf("linking twice: %d %s", status, code)
	}
	_, _, b = f.h.do(http.MethodPost, "/databases", client.CreateDatabase{ProjectID: f.prj, Name: "second", Engine: "mysql"}, nil)
	var second client.Database
	json.Unmarshal(b, &second)
	if status, code, _ := f.h.do("POST", "/databases/"+second.ID+"/links", client.CreateDatabaseLink{DeploymentID: f.dep}, nil); status != 409 || code != "engine_already_linked" {
		t.Errorf("a second mysql for one deployment: %d %s", status, code)
	}
	var ls client.List[client.DatabaseLink]
	_, _, b = f.h.do("GET", "/databases/"+db.ID+"/links", nil, nil)
	json.Unmarshal(b, &ls)
	if len(ls.Data) != 1 || ls.Data[0].DeploymentID != f.dep || ls.Data[0].Applied || !strings.Contains(strings.Join(ls.Data[0].EnvNames, ","), "MYSQL_URL") {
		t.Errorf("links = %+v", ls)
	}

	// A linked service is not deleted. (Unlinking restarts the target: a
	// deployment without a release has nothing to restart.)
	if status, code, _ := f.h.do("DELETE", "/databases/"+db.ID, nil, nil); status != 409 || code != "database_linked" {
		t.Errorf("deleting a linked service: %d %s", status, code)
	}
	if status, _, b := f.h.do("DELETE", "/databases/"+db.ID+"/links/"+f.dep, nil, nil); status != 204 {
		t.Errorf("unlink: %d %s", status, b)
	}
}

func TestDatabaseRoles(t *testing.T) {
	f := newDBFixture(t)
	_, _, b := f.h.do(http.MethodPost, "/databases", client.CreateDatabase{ProjectID: f.prj, Name: "main"}, nil)
	var db client.Database
	json.Unmarshal(b, &db)
	p, err := f.h.st.GetProject(context.Background(), f.prj)
	if err != nil {
		t.Fatal(err)
	}
	key := func(role, project string) string {
		secret := NewSecret()
		if err := f.h.st.CreateAPIKey(context.Background(), &store.APIKey{ID: id.New(id.APIKey), Hash: HashKey(secret), Prefix: secret[:12],
			OrgID: p.OrgID, WorkspaceID: p.WorkspaceID, ProjectID: project, Role: role, CreatedAt: time.Now().UTC()}); err != nil {
			t.Fatal(err)
		}
		return secret
	}
	as := func(secret string, method, path string, body any) (int, string) {
		saved := f.h.key
		f.h.key = secret
		defer func() { f.h.key = saved }()
		status, code, _ := f.h.do(method, path, body, nil)
		return status, code
	}
	deployer, viewer, elsewhere := key(store.RoleDeployer, f.prj), key(store.RoleViewer, f.prj), key(store.RoleAdmin, f.other)
	for _, c := range []struct {
		what, key, method, path string
		body                    any
		status                  int
	}{
		{"a deployer reveals", deployer, "POST", "/databases/" + db.ID + "/credentials/reveal", nil, 403},
		{"a deployer rotates", deployer, "POST", "/databases/" + db.ID + "/credentials/rotate", nil, 403},
		{"a deployer purges", deployer, "DELETE", "/databases/" + db.ID + "?purge=true", nil, 403},
		{"a viewer creates", viewer, "POST", "/databases", client.CreateDatabase{ProjectID: f.prj, Name: "v"}, 403},
		{"a viewer links", viewer, "POST", "/databases/" + db.ID + "/links", client.CreateDatabaseLink{SandboxID: f.sbx}, 403},
		{"a viewer reads", viewer, "GET", "/databases/" + db.ID, nil, 200},
		{"another project's admin reads", elsewhere, "GET", "/databases/" + db.ID, nil, 404},
		{"another project's admin reveals", elsewhere, "POST", "/databases/" + db.ID + "/credentials/reveal", nil, 404},
		{"a deployer links", deployer, "POST", "/databases/" + db.ID + "/links", client.CreateDatabaseLink{DeploymentID: f.dep}, 201},
	} {
		if status, code := as(c.key, c.method, c.path, c.body); status != c.status {
			t.Errorf("%s: %d %s, want %d", c.what, status, code, c.status)
		}
	}
}
