package api

import (
	"context"
	"encoding/json"
	"net/http"
	"reflect"
	"strings"
	"testing"

	"github.com/berth-dev/berth/client"
	"github.com/berth-dev/berth/internal/store"
)

// The host types live in client/hosts.go; the OpenAPI tests hold them to
// the spec like those of client/types.go.
func init() {
	for name, typ := range map[string]reflect.Type{
		"Host":           reflect.TypeFor[client.Host](),
		"HostTransition": reflect.TypeFor[client.HostTransition](),
		"HostHealth":     reflect.TypeFor[client.HostHealth](),
		"HostUsage":      reflect.TypeFor[client.HostUsage](),
		"HostList":       reflect.TypeFor[client.List[client.Host]](),
		"EnsureHost":     reflect.TypeFor[client.EnsureHost](),
		"SSHTarget":      reflect.TypeFor[client.SSHTarget](),
		"PortalPassword": reflect.TypeFor[client.PortalPassword](),
	} {
		clientSchemas[name] = typ
	}
	requestRequired["EnsureHost"] = []string{"workspace_id"}
	requestRequired["PortalPassword"] = []string{}
}

// keyFor makes a key of the given scope and role and returns its secret.
func (h *harness) keyFor(orgID, wsID, prjID, role string) string {
	h.t.Helper()
	status, code, b := h.do(http.MethodPost, "/api-keys", client.CreateAPIKey{Name: "k", OrgID: orgID, WorkspaceID: wsID, ProjectID: prjID, Role: role}, nil)
	if status != http.StatusCreated {
		h.t.Fatalf("creating a key: %d %s %s", status, code, b)
	}
	var k client.APIKey
	json.Unmarshal(b, &k)
	return k.Secret
}

// as runs fn with the harness speaking with another key.
func (h *harness) as(key string, fn func()) {
	old := h.key
	h.key = key
	defer func() { h.key = old }()
	fn()
}

// TestEnsureHostRefusals checks the answers of ensure that create
// nothing: without a provisioner here, every accepted request would fail
// with provisioner_unavailable, so each refusal must come first.
func TestEnsureHostRefusals(t *testing.T) {
	h := newHarness(t)
	orgA := h.create("/orgs", client.CreateOrg{Name: "A"})
	wsA := h.create("/workspaces", client.CreateWorkspace{OrgID: orgA, Name: "WA"})
	prjA := h.create("/projects", client.CreateProject{WorkspaceID: wsA, Name: "PA"})
	orgB := h.create("/orgs", client.CreateOrg{Name: "B"})
	wsB := h.create("/workspaces", client.CreateWorkspace{OrgID: orgB, Name: "WB"})

	adminA := h.keyFor(orgA, "", "", store.RoleAdmin)
	viewerA := h.keyFor(orgA, "", "", store.RoleViewer)
	deployerA := h.keyFor(orgA, wsA, "", store.RoleDeployer)
	projectA := h.keyFor(orgA, wsA, prjA, store.RoleAdmin)
	ssh := client.SSHTarget{Address: "10.0.0.1", User: "root", PrivateKey: "x"}

	cases := []struct {
		name   string
		key    string
		body   client.EnsureHost
		status int
		code   string
	}{
		{"unknown workspace", adminA, client.EnsureHost{WorkspaceID: "ws_nope"}, 422, "workspace_not_found"},
		{"another org's workspace", adminA, client.EnsureHost{WorkspaceID: wsB}, 422, "workspace_not_found"},
		{"viewer", viewerA, client.EnsureHost{WorkspaceID: wsA}, 403, "forbidden"},
		{"project key", projectA, client.EnsureHost{WorkspaceID: wsA}, 403, "forbidden"},
		{"ssh target by a deployer", deployerA, client.EnsureHost{WorkspaceID: wsA, SSH: ssh}, 403, "forbidden"},
		{"ssh target without a key", adminA, client.EnsureHost{WorkspaceID: wsA, SSH: client.SSHTarget{Address: "10.0.0.1", User: "root"}}, 422, "invalid_ssh_target"},
		{"ssh target with a bad port", adminA, client.EnsureHost{WorkspaceID: wsA, SSH: client.SSHTarget{Address: "a", User: "u", PrivateKey: "k", AgentPort: 70000}}, 422, "invalid_ssh_target"},
		{"no provisioner", adminA, client.EnsureHost{WorkspaceID: wsA}, 422, "provisioner_unavailable"},
	}
	for _, tc := range cases {
		h.as(tc.key, func() {
			status, code, b := h.do(http.MethodPost, "/docker-deploy/hosts/ensure", tc.body, nil)
			if status != tc.status || code != tc.code {
				t.Errorf("%s: %d %s, want %d %s: %s", tc.name, status, code, tc.status, tc.code, b)
			}
		})
	}
	hosts, err := h.st.ListWorkspaceHosts(context.Background(), store.ListFilter{})
	if err != nil || len(hosts) != 0 {
		t.Fatalf("refused ensures left hosts: %v %v", hosts, err)
	}
}

// TestHostVisibility checks who sees a host, and that its view shows
// nothing of where it is.
func TestHostVisibility(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	orgA := h.create("/orgs", client.CreateOrg{Name: "A"})
	wsA := h.create("/workspaces", client.CreateWorkspace{OrgID: orgA, Name: "WA"})
	prjA := h.create("/projects", client.CreateProject{WorkspaceID: wsA, Name: "PA"})
	wsA2 := h.create("/workspaces", client.CreateWorkspace{OrgID: orgA, Name: "WA2"})
	orgB := h.create("/orgs", client.CreateOrg{Name: "B"})

	host := &store.Host{ID: "host_00000000000000000000000001", Kind: store.HostDockerDeploy, WorkspaceID: wsA, State: store.HostActive,
		AgentURL: "https://10.9.8.7:7443", AgentSecret: "agent-secret-value", Provisioner: "ssh",
		Target: []byte(`{"address":"10.9.8.7:22","private_key":"PRIVATE"}`), PortalURL: "http://10.9.8.7:7790",
		PortalKey: "sk_portal_secret", PortalPassword: "portal-password"}
	if err := h.st.CreateHost(ctx, host); err != nil {
		t.Fatal(err)
	}
	pool := &store.Host{ID: "host_00000000000000000000000002", Kind: store.HostPool, State: store.HostActive, AgentURL: "http://127.0.0.1:1", AgentSecret: "s"}
	if err := h.st.CreateHost(ctx, pool); err != nil {
		t.Fatal(err)
	}
	leaks := []string{"10.9.8.7", "7443", "7790", "agent-secret-value", "PRIVATE", "sk_portal_secret", "portal-password", "ssh"}

	see := func(key, path string, want int) []byte {
		t.Helper()
		var b []byte
		h.as(key, func() {
			var status int
			status, _, b = h.do(http.MethodGet, path, nil, nil)
			if status != want {
				t.Errorf("GET %s: %d, want %d: %s", path, status, want, b)
			}
		})
		for _, l := range leaks {
			if strings.Contains(string(b), l) {
				t.Errorf("GET %s shows %q: %s", path, l, b)
			}
		}
		return b
	}
	see(h.key, "/docker-deploy/hosts/"+host.ID, 200)
	see(h.keyFor(orgA, wsA, prjA, store.RoleViewer), "/docker-deploy/hosts/"+host.ID, 200)
	see(h.keyFor(orgA, wsA2, "", store.RoleAdmin), "/docker-deploy/hosts/"+host.ID, 404)
	see(h.keyFor(orgB, "", "", store.RoleAdmin), "/docker-deploy/hosts/"+host.ID, 404)
	see(h.key, "/docker-deploy/hosts/"+pool.ID, 404)

	count := func(key, query string) int {
		var l client.List[client.Host]
		json.Unmarshal(see(key, "/docker-deploy/hosts"+query, 200), &l)
		return len(l.Data)
	}
	if n := count(h.key, ""); n != 1 {
		t.Errorf("platform key lists %d hosts, want 1 (pool hosts are not listed)", n)
	}
	if n := count(h.keyFor(orgB, "", "", store.RoleAdmin), ""); n != 0 {
		t.Errorf("another org lists %d hosts", n)
	}
	if n := count(h.keyFor(orgB, "", "", store.RoleAdmin), "?workspace_id="+wsA); n != 0 {
		t.Errorf("another org lists %d hosts of the workspace", n)
	}
	if n := count(h.keyFor(orgA, "", "", store.RoleViewer), "?workspace_id="+wsA2); n != 0 {
		t.Errorf("a workspace without a host lists %d", n)
	}
	if n := count(h.keyFor(orgA, wsA, prjA, store.RoleViewer), ""); n != 1 {
		t.Errorf("a project key of the workspace lists %d hosts, want 1", n)
	}
	// Its events are the workspace's.
	h.as(h.keyFor(orgB, "", "", store.RoleAdmin), func() {
		if status, _, _ := h.do(http.MethodGet, "/events?resource_id="+host.ID, nil, nil); status != 404 {
			t.Errorf("another org reads the host's events: %d", status)
		}
	})
	if status, _, b := h.do(http.MethodGet, "/events?resource_id="+host.ID, nil, nil); status != 200 {
		t.Errorf("host events: %d %s", status, b)
	}
}
