package mcp_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	sdk "github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/berth-dev/berth/client"
	"github.com/berth-dev/berth/internal/api"
	"github.com/berth-dev/berth/internal/control"
	"github.com/berth-dev/berth/internal/id"
	"github.com/berth-dev/berth/internal/logtest"
	"github.com/berth-dev/berth/internal/mcp"
	"github.com/berth-dev/berth/internal/store"
	"github.com/berth-dev/berth/internal/store/sqlite"
)

// The tests here run the tools over streamable HTTP against the real API
// on a real store, without an engine: what needs containers is in e2e.

// tools are the names a model finds, in the order of the brief.
var tools = []string{"whoami", "list_templates", "docker_deploy_ensure", "docker_deploy_hosts", "create_project",
	"create_sandbox", "write_files", "read_file", "list_files", "exec", "preview", "publish", "delete_sandbox", "deploy", "rollback",
	"deployment_status", "deployment_logs", "create_database", "link_database", "create_bucket", "presign",
	"create_cron_job", "add_domain", "verify_domain", "list_projects", "list_workspaces", "link_bucket"}

// server is the API and /mcp beside it, as berth up serves them.
type server struct {
	url      string
	api      *client.Client
	platform string
}

func start(t *testing.T) *server {
	t.Helper()
	st, err := sqlite.Open(filepath.Join(t.TempDir(), "berth.db"), bytes.Repeat([]byte{7}, 32))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	secret := api.NewSecret()
	if err := st.CreateAPIKey(t.Context(), &store.APIKey{ID: id.New(id.APIKey), Name: "platform", Hash: api.HashKey(secret),
		Prefix: secret[:12], Role: store.RoleAdmin, CreatedAt: time.Now().UTC()}); err != nil {
		t.Fatal(err)
	}
	var h http.Handler
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { h.ServeHTTP(w, r) }))
	t.Cleanup(ts.Close)
	h = mcp.Beside(api.New(st, control.New(control.Config{Store: st}), logtest.New(t)), mcp.HTTPConfig{APIURL: ts.URL, Log: logtest.New(t)})
	return &server{url: ts.URL, api: client.New(ts.URL, secret), platform: secret}
}

// withKey adds a bearer key to every request.
type withKey struct {
	key  string
	next http.RoundTripper
}

func (k withKey) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Header.Set("Authorization", "Bearer "+k.key)
	return k.next.RoundTrip(r)
}

// session connects the SDK's client to /mcp with a key.
func (s *server) session(t *testing.T, key string) *sdk.ClientSession {
	t.Helper()
	c := sdk.NewClient(&sdk.Implementation{Name: "test", Version: "1"}, nil)
	cs, err := c.Connect(t.Context(), &sdk.StreamableClientTransport{Endpoint: s.url + "/mcp",
		HTTPClient: &http.Client{Transport: withKey{key, http.DefaultTransport}}, MaxRetries: -1}, nil)
	if err != nil {
		t.Fatalf("connecting to /mcp: %v", err)
	}
	t.Cleanup(func() { cs.Close() })
	return cs
}

// call calls a tool and decodes its structured answer into out; it
// returns the problem of a tool error.
func call(t *testing.T, cs *sdk.ClientSession, name string, args map[string]any, out any) *mcp.Problem {
	t.Helper()
	res, err := cs.CallTool(t.Context(), &sdk.CallToolParams{Name: name, Arguments: args})
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	if res.IsError {
		var p mcp.Problem
		text := res.Content[0].(*sdk.TextContent).Text
		if err := json.Unmarshal([]byte(text), &p); err != nil || p.Code == "" {
			t.Fatalf("%s: a tool error that is not a problem: %q", name, text)
		}
		return &p
	}
	b, _ := json.Marshal(res.StructuredContent)
	if err := json.Unmarshal(b, out); err != nil {
		t.Fatalf("%s: decoding %s: %v", name, b, err)
	}
	return nil
}

func mustCall(t *testing.T, cs *sdk.ClientSession, name string, args map[string]any, out any) {
	t.Helper()
	if p := call(t, cs, name, args, out); p != nil {
		t.Fatalf("%s: %s", name, p)
	}
}

func TestMCPToolList(t *testing.T) {
	s := start(t)
	res, err := s.session(t, s.platform).ListTools(t.Context(), nil)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, tl := range res.Tools {
		names = append(names, tl.Name)
		if tl.Description == "" || strings.Contains(tl.Description, "\n") || len(tl.Description) > 200 {
			t.Errorf("%s: the description is not one line for a model: %q", tl.Name, tl.Description)
		}
		in, _ := json.Marshal(tl.InputSchema)
		var schema struct {
			Type       string         `json:"type"`
			Properties map[string]any `json:"properties"`
		}
		json.Unmarshal(in, &schema)
		if schema.Type != "object" {
			t.Errorf("%s: input schema %s", tl.Name, in)
		}
		if tl.OutputSchema == nil {
			t.Errorf("%s: no output schema", tl.Name)
		}
		for prop, p := range schema.Properties {
			if d, _ := p.(map[string]any)["description"].(string); d == "" && !strings.HasSuffix(prop, "_id") && prop != "env" {
				t.Errorf("%s: input %s has no description", tl.Name, prop)
			}
		}
	}
	for _, want := range tools {
		if !slices.Contains(names, want) {
			t.Errorf("no tool %s (have %v)", want, names)
		}
	}
}

func TestMCPKeysAndProblems(t *testing.T) {
	s := start(t)
	ctx := t.Context()
	org, err := s.api.CreateOrg(ctx, client.CreateOrg{Name: "Clinic IQ"})
	if err != nil {
		t.Fatal(err)
	}
	ws, err := s.api.CreateWorkspace(ctx, client.CreateWorkspace{OrgID: org.ID, Name: "Dr Smith"})
	if err != nil {
		t.Fatal(err)
	}
	admin := s.session(t, s.platform)
	var who mcp.Identity
	mustCall(t, admin, "whoami", nil, &who)
	if who.Scope != "platform" || who.Role != "admin" || !strings.HasPrefix(who.KeyID, "key_") {
		t.Errorf("whoami: %+v", who)
	}
	var wss mcp.Workspaces
	mustCall(t, admin, "list_workspaces", map[string]any{"org_id": org.ID}, &wss)
	if len(wss.Workspaces) != 1 || wss.Workspaces[0].ID != ws.ID || wss.More {
		t.Errorf("list_workspaces: %+v", wss)
	}
	var a, b client.Project
	mustCall(t, admin, "create_project", map[string]any{"workspace_id": ws.ID, "name": "Site A"}, &a)
	mustCall(t, admin, "create_project", map[string]any{"workspace_id": ws.ID, "name": "Site B"}, &b)
	if !strings.HasPrefix(a.ID, "prj_") || a.WorkspaceID != ws.ID || a.Slug == "" {
		t.Errorf("create_project: %+v", a)
	}

	// Bad input: the API's own problem, and the schema's.
	if p := call(t, admin, "create_project", map[string]any{"workspace_id": "ws_nope", "name": "X"}, nil); p == nil || p.Code != "workspace_not_found" || p.Status != 422 {
		t.Errorf("a missing workspace: %+v", p)
	}
	if p := call(t, admin, "create_project", map[string]any{"workspace_id": ws.ID}, nil); p == nil || p.Code != "invalid_arguments" || !strings.Contains(p.Detail, "name") {
		t.Errorf("no name: %+v", p)
	}
	if p := call(t, admin, "create_project", map[string]any{"workspace_id": ws.ID, "name": "X", "slug": "Not A Slug"}, nil); p == nil || p.Code != "invalid_slug" {
		t.Errorf("a bad slug: %+v", p)
	}

	// A project key sees its project and nothing else.
	k, err := s.api.CreateAPIKey(ctx, client.CreateAPIKey{Name: "agent", OrgID: org.ID, ProjectID: a.ID, Role: "deployer"})
	if err != nil {
		t.Fatal(err)
	}
	scoped := s.session(t, k.Secret)
	mustCall(t, scoped, "whoami", nil, &who)
	if who.Scope != "project" || who.ProjectID != a.ID || who.Role != "deployer" {
		t.Errorf("whoami of a project key: %+v", who)
	}
	var ps mcp.Projects
	mustCall(t, scoped, "list_projects", nil, &ps)
	if len(ps.Projects) != 1 || ps.Projects[0].ID != a.ID {
		t.Errorf("a project key lists %+v", ps.Projects)
	}
	if p := call(t, scoped, "create_sandbox", map[string]any{"project_id": b.ID, "template_id": "static-html"}, nil); p == nil || p.Code != "project_not_found" {
		t.Errorf("a sandbox in another project: %+v", p)
	}
	if p := call(t, scoped, "deployment_status", map[string]any{"deployment_id": "dep_nope"}, nil); p == nil || p.Code != "not_found" || p.Status != 404 {
		t.Errorf("a deployment it cannot see: %+v", p)
	}
}

// TestMCPHTTPAuth checks that /mcp needs a key the API accepts.
func TestMCPHTTPAuth(t *testing.T) {
	s := start(t)
	body := `{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"curl","version":"1"}}}`
	for _, key := range []string{"", "sk_nosuchkey"} {
		req, _ := http.NewRequestWithContext(context.Background(), http.MethodPost, s.url+"/mcp", strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Accept", "application/json, text/event-stream")
		if key != "" {
			req.Header.Set("Authorization", "Bearer "+key)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		var p client.Problem
		json.NewDecoder(resp.Body).Decode(&p)
		resp.Body.Close()
		if resp.StatusCode != 401 || p.Code != "unauthorized" || resp.Header.Get("Content-Type") != "application/problem+json" || resp.Header.Get("WWW-Authenticate") == "" {
			t.Errorf("key %q: %d %+v %v", key, resp.StatusCode, p, resp.Header)
		}
	}
}

// TestBesideLeavesTheAPIAlone checks that /mcp beside the API changes
// nothing of the API's own answers: a path with dot segments is refused,
// not cleaned and redirected.
func TestBesideLeavesTheAPIAlone(t *testing.T) {
	s := start(t)
	err := s.api.WriteFile(t.Context(), "sbx_1", "../etc/passwd", []byte("x"))
	if p, ok := err.(*client.Problem); !ok || p.Code != "path_escape" {
		t.Fatalf("a path with ..: %v", err)
	}
	if err := s.api.Health(t.Context()); err != nil {
		t.Fatalf("healthz: %v", err)
	}
}
