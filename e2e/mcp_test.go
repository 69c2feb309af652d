package e2e

import (
	"context"
	"encoding/json"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	mcpsdk "github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/berth-dev/berth/client"
	"github.com/berth-dev/berth/internal/mcp"
)

// The tests in this file drive Berth as an AI agent does: through the MCP
// tools, with the official Go SDK's client over both transports (`berth
// mcp` on stdio, and /mcp on the API listener of `berth up`), and with the
// official MCP inspector from npm.

// bearerTransport adds an API key to every request.
type bearerTransport struct{ key string }

func (b bearerTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Header.Set("Authorization", "Bearer "+b.key)
	return http.DefaultTransport.RoundTrip(r)
}

// mcpHTTP connects to /mcp of the platform with a key.
func (p *platform) mcpHTTP(t *testing.T, key string) *mcpsdk.ClientSession {
	t.Helper()
	c := mcpsdk.NewClient(&mcpsdk.Implementation{Name: "e2e", Version: "1"}, nil)
	cs, err := c.Connect(t.Context(), &mcpsdk.StreamableClientTransport{Endpoint: p.apiURL + "/mcp",
		HTTPClient: &http.Client{Transport: bearerTransport{key}}, MaxRetries: -1}, nil)
	if err != nil {
		t.Fatalf("connecting to /mcp: %v", err)
	}
	t.Cleanup(func() { cs.Close() })
	return cs
}

// mcpStdio starts `berth mcp` with a key and connects to it.
func (p *platform) mcpStdio(t *testing.T, key string) *mcpsdk.ClientSession {
	t.Helper()
	cmd := exec.Command(berthBin, "mcp")
	cmd.Env = append(os.Environ(), "BERTH_CONFIG="+filepath.Join(t.TempDir(), "none.json"), "BERTH_API_URL="+p.apiURL, "BERTH_API_KEY="+key)
	cmd.Stderr = os.Stderr
	c := mcpsdk.NewClient(&mcpsdk.Implementation{Name: "e2e", Version: "1"}, nil)
	cs, err := c.Connect(t.Context(), &mcpsdk.CommandTransport{Command: cmd}, nil)
	if err != nil {
		t.Fatalf("starting berth mcp: %v", err)
	}
	t.Cleanup(func() { cs.Close() })
	return cs
}

// callTool calls a tool and decodes its structured answer into out; it
// returns the problem of a tool error.
func callTool(t *testing.T, cs *mcpsdk.ClientSession, name string, args map[string]any, out any) *mcp.Problem {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 3*time.Minute)
	defer cancel()
	res, err := cs.CallTool(ctx, &mcpsdk.CallToolParams{Name: name, Arguments: args})
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	if res.IsError {
		text := res.Content[0].(*mcpsdk.TextContent).Text
		var p mcp.Problem
		if err := json.Unmarshal([]byte(text), &p); err != nil || p.Code == "" {
			t.Fatalf("%s: a tool error that is not a problem: %q", name, text)
		}
		return &p
	}
	if out != nil {
		b, _ := json.Marshal(res.StructuredContent)
		if err := json.Unmarshal(b, out); err != nil {
			t.Fatalf("%s: decoding %s: %v", name, b, err)
		}
	}
	return nil
}

func mustTool(t *testing.T, cs *mcpsdk.ClientSession, name string, args map[string]any, out any) {
	t.Helper()
	if p := callTool(t, cs, name, args, out); p != nil {
		t.Fatalf("%s: %s", name, p)
	}
}

// TestMCPLoop runs the whole loop through the tools over both transports,
// each with a key of one workspace: project, sandbox, files, preview,
// publish, deploy, ready, promote, rollback; with bad input answered as a
// problem, and a project key that sees nothing of another project.
func TestMCPLoop(t *testing.T) {
	p := start(t)
	ctx := t.Context()
	o, ws, other := p.tenant(t, "Clinic IQ")
	k, err := p.api.CreateAPIKey(ctx, client.CreateAPIKey{Name: "agent", OrgID: o.ID, WorkspaceID: ws.ID, Role: "deployer"})
	if err != nil {
		t.Fatal(err)
	}
	for _, tr := range []struct {
		name    string
		connect func(*testing.T, string) *mcpsdk.ClientSession
	}{{"http", p.mcpHTTP}, {"stdio", p.mcpStdio}} {
		t.Run(tr.name, func(t *testing.T) {
			cs := tr.connect(t, k.Secret)
			var who mcp.Identity
			mustTool(t, cs, "whoami", nil, &who)
			if who.Scope != "workspace" || who.WorkspaceID != ws.ID || who.Role != "deployer" {
				t.Fatalf("whoami: %+v", who)
			}
			var tpls mcp.Templates
			mustTool(t, cs, "list_templates", nil, &tpls)
			if len(tpls.Templates) < 5 {
				t.Fatalf("list_templates: %+v", tpls)
			}

			var pr client.Project
			mustTool(t, cs, "create_project", map[string]any{"workspace_id": ws.ID, "name": "Agent site " + tr.name}, &pr)
			var sb client.Sandbox
			mustTool(t, cs, "create_sandbox", map[string]any{"project_id": pr.ID, "template_id": "static-html"}, &sb)
			if sb.Status != "running" || !strings.HasPrefix(sb.ID, "sbx_") || sb.PreviewURL == "" {
				t.Fatalf("create_sandbox: %+v", sb)
			}
			var wrote mcp.WrittenFiles
			mustTool(t, cs, "write_files", map[string]any{"sandbox_id": sb.ID, "files": []map[string]any{
				{"path": "index.html", "content": `<link rel="stylesheet" href="css/site.css"><h1>Release one</h1>`},
				{"path": "/css/site.css", "content": "aDEgeyBjb2xvcjogdGVhbCB9", "encoding": "base64"},
			}}, &wrote)
			if wrote.Written != 2 {
				t.Fatalf("write_files: %+v", wrote)
			}
			var css mcp.FileContent
			mustTool(t, cs, "read_file", map[string]any{"sandbox_id": sb.ID, "path": "css/site.css"}, &css)
			if css.Content != "h1 { color: teal }" || css.Encoding != "utf-8" {
				t.Fatalf("read_file: %+v", css)
			}
			var ls mcp.Listing
			mustTool(t, cs, "list_files", map[string]any{"sandbox_id": sb.ID}, &ls)
			types := map[string]string{}
			for _, e := range ls.Entries {
				types[e.Name] = e.Type
			}
			if types["index.html"] != "file" || types["css"] != "dir" {
				t.Fatalf("list_files: %+v", ls)
			}
			var ex mcp.ExecOutput
			mustTool(t, cs, "exec", map[string]any{"sandbox_id": sb.ID, "command": "wc -c < index.html; exit 3"}, &ex)
			if ex.ExitCode == nil || *ex.ExitCode != 3 || strings.TrimSpace(ex.Stdout) == "" {
				t.Fatalf("exec: %+v", ex)
			}
			var bg mcp.ExecOutput
			mustTool(t, cs, "exec", map[string]any{"sandbox_id": sb.ID, "command": "echo started", "background": true}, &bg)
			if !strings.HasPrefix(bg.ProcessID, "proc_") || bg.LogFile != "/tmp/"+bg.ProcessID+".log" || bg.ExitCode != nil {
				t.Fatalf("exec in the background: %+v", bg)
			}
			var raw mcp.FileContent
			mustTool(t, cs, "write_files", map[string]any{"sandbox_id": sb.ID, "files": []map[string]any{{"path": "bin/raw.bin", "content": "//5vaw==", "encoding": "base64"}}}, nil)
			mustTool(t, cs, "read_file", map[string]any{"sandbox_id": sb.ID, "path": "bin/raw.bin"}, &raw)
			if raw.Encoding != "base64" || raw.Content != "//5vaw==" || raw.Size != 4 {
				t.Fatalf("read_file of bytes: %+v", raw)
			}
			mustTool(t, cs, "exec", map[string]any{"sandbox_id": sb.ID, "command": "rm -r bin"}, nil)

			// Bad input comes back as the API's problem.
			if pb := callTool(t, cs, "preview", map[string]any{"sandbox_id": sb.ID, "port": 9999}, nil); pb == nil || pb.Code != "port_not_exposed" || pb.Status != 422 {
				t.Fatalf("preview of a port not published: %+v", pb)
			}
			if pb := callTool(t, cs, "write_files", map[string]any{"sandbox_id": sb.ID, "files": []map[string]any{{"path": "../etc/passwd", "content": "x"}}}, nil); pb == nil || !strings.HasPrefix(pb.Code, "artifact_") {
				t.Fatalf("a file outside /workspace: %+v", pb)
			}
			var prev client.Preview
			mustTool(t, cs, "preview", map[string]any{"sandbox_id": sb.ID}, &prev)
			if !prev.Ready || prev.URL != sb.PreviewURL {
				t.Fatalf("preview: %+v", prev)
			}
			if code, body, _ := p.get(t, prev.URL); code != 200 || !strings.Contains(body, "Release one") {
				t.Fatalf("the preview serves %d %q", code, body)
			}

			var rel1 mcp.Release // index.html, css/site.css and the starter style.css
			mustTool(t, cs, "publish", map[string]any{"sandbox_id": sb.ID}, &rel1)
			if !strings.HasPrefix(rel1.ID, "rel_") || rel1.Files != 3 || !strings.HasPrefix(rel1.Digest, "sha256:") {
				t.Fatalf("publish: %+v", rel1)
			}
			var dep mcp.Deployment
			mustTool(t, cs, "deploy", map[string]any{"project_id": pr.ID, "release_id": rel1.ID}, &dep)
			if !strings.HasPrefix(dep.ID, "dep_") || dep.URL == "" {
				t.Fatalf("deploy: %+v", dep)
			}
			ready := func(release string) mcp.Deployment {
				t.Helper()
				var d mcp.Deployment
				mustTool(t, cs, "deployment_status", map[string]any{"deployment_id": dep.ID, "wait_seconds": 120}, &d)
				if d.Status != "ready" || !d.Ready || d.ServingReleaseID != release {
					var evs mcp.Events
					callTool(t, cs, "deployment_logs", map[string]any{"deployment_id": dep.ID}, &evs)
					t.Fatalf("deployment_status: %+v\nevents: %+v", d, evs)
				}
				return d
			}
			ready(rel1.ID)
			if code, body, _ := p.get(t, dep.URL); code != 200 || !strings.Contains(body, "Release one") {
				t.Fatalf("the deployment serves %d %q", code, body)
			}

			// A second release promotes; rollback brings the first back.
			mustTool(t, cs, "write_files", map[string]any{"sandbox_id": sb.ID, "files": []map[string]any{{"path": "index.html", "content": "<h1>Release two</h1>"}}}, nil)
			var rel2 mcp.Release
			mustTool(t, cs, "publish", map[string]any{"sandbox_id": sb.ID}, &rel2)
			mustTool(t, cs, "deploy", map[string]any{"project_id": pr.ID, "release_id": rel2.ID}, nil)
			ready(rel2.ID)
			if _, body, _ := p.get(t, dep.URL); !strings.Contains(body, "Release two") {
				t.Fatalf("after promote: %q", body)
			}
			var rb mcp.Deployment
			mustTool(t, cs, "rollback", map[string]any{"deployment_id": dep.ID}, &rb)
			if rb.ReleaseID != rel1.ID {
				t.Fatalf("rollback: %+v", rb)
			}
			ready(rel1.ID)
			if _, body, _ := p.get(t, dep.URL); !strings.Contains(body, "Release one") {
				t.Fatalf("after rollback: %q", body)
			}
			var evs mcp.Events
			mustTool(t, cs, "deployment_logs", map[string]any{"deployment_id": dep.ID}, &evs)
			kinds := map[string]bool{}
			for _, e := range evs.Events {
				kinds[e.Type] = true
			}
			if !kinds["deployment.building"] || !kinds["deployment.ready"] || !kinds["deployment.rollback"] || evs.After == 0 {
				t.Fatalf("deployment_logs: %+v", evs)
			}

			// Deleting the sandbox leaves the deployment of its release serving.
			var del mcp.DeletedSandbox
			mustTool(t, cs, "delete_sandbox", map[string]any{"sandbox_id": sb.ID}, &del)
			mustTool(t, cs, "delete_sandbox", map[string]any{"sandbox_id": sb.ID}, &del)
			if del.Status != "deleted" {
				t.Fatalf("delete_sandbox: %+v", del)
			}
			if _, body, _ := p.get(t, dep.URL); !strings.Contains(body, "Release one") {
				t.Fatalf("after the sandbox's delete: %q", body)
			}

			// A key of this project alone sees nothing of another.
			pk, err := p.api.CreateAPIKey(ctx, client.CreateAPIKey{Name: "project", OrgID: o.ID, ProjectID: pr.ID, Role: "deployer"})
			if err != nil {
				t.Fatal(err)
			}
			scoped := tr.connect(t, pk.Secret)
			var ps mcp.Projects
			mustTool(t, scoped, "list_projects", nil, &ps)
			if len(ps.Projects) != 1 || ps.Projects[0].ID != pr.ID {
				t.Fatalf("a project key lists %+v", ps.Projects)
			}
			if pb := callTool(t, scoped, "create_sandbox", map[string]any{"project_id": other.ID, "template_id": "static-html"}, nil); pb == nil || pb.Code != "project_not_found" {
				t.Fatalf("a project key made a sandbox in another project: %+v", pb)
			}
			var mine mcp.Deployment
			mustTool(t, scoped, "deployment_status", map[string]any{"deployment_id": dep.ID}, &mine)
			if mine.URL != dep.URL {
				t.Fatalf("its own deployment: %+v", mine)
			}
		})
	}
	// Each transport's project reached the other's? Neither key saw the
	// other tenant's project: the first project of the tenant is still
	// without a sandbox.
	if list, err := p.api.ListSandboxes(ctx, client.ListOptions{ProjectID: other.ID}); err != nil || len(list.Data) != 0 {
		t.Fatalf("the other project has sandboxes: %+v %v", list, err)
	}
}

// inspectorVersion is the MCP inspector the interoperability test runs.
const inspectorVersion = "0.21.2"

// inspector installs the official MCP inspector from npm under bin/ (once)
// and returns its command.
func inspector(t *testing.T) string {
	t.Helper()
	npm, err := exec.LookPath("npm")
	if err != nil {
		t.Skip("npm is missing; `make test` installs Node.js and npm (scripts/ensure-deps.sh)")
	}
	dir, err := filepath.Abs(filepath.Join("..", "bin", "mcp-inspector-"+inspectorVersion))
	if err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(dir, "node_modules", ".bin", "mcp-inspector")
	if _, err := os.Stat(bin); err == nil {
		return bin
	}
	// Installed beside and renamed into place, so that a test run cut
	// short never leaves half an install to be trusted.
	tmp := dir + ".tmp-" + strconv.Itoa(os.Getpid())
	os.RemoveAll(tmp)
	defer os.RemoveAll(tmp)
	install := exec.Command(npm, "install", "--prefix", tmp, "--no-audit", "--no-fund", "--loglevel=error",
		"@modelcontextprotocol/inspector@"+inspectorVersion)
	if out, err := install.CombinedOutput(); err != nil {
		t.Fatalf("npm install @modelcontextprotocol/inspector@%s: %v\n%s", inspectorVersion, err, out)
	}
	if err := os.Rename(tmp, dir); err != nil {
		if _, statErr := os.Stat(bin); statErr != nil {
			t.Fatalf("installing the inspector: %v", err)
		}
	}
	return bin
}

// runInspector runs the inspector's CLI mode and decodes its JSON output.
func runInspector(t *testing.T, bin string, out any, args ...string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, append([]string{"--cli"}, args...)...)
	b, err := cmd.Output()
	if err != nil {
		var stderr []byte
		if ee, ok := err.(*exec.ExitError); ok {
			stderr = ee.Stderr
		}
		t.Fatalf("mcp-inspector %s: %v\n%s\n%s", strings.Join(args, " "), err, b, stderr)
	}
	if err := json.Unmarshal(b, out); err != nil {
		t.Fatalf("mcp-inspector %s printed %q: %v", strings.Join(args, " "), b, err)
	}
}

// TestMCPInspector checks the tools with a client Berth did not write: the
// official MCP inspector's CLI lists them and calls one, over /mcp with a
// bearer key, and over stdio through `berth mcp`.
func TestMCPInspector(t *testing.T) {
	bin := inspector(t)
	p := start(t)
	o, ws, pr := p.tenant(t, "Clinic IQ")
	k, err := p.api.CreateAPIKey(t.Context(), client.CreateAPIKey{Name: "inspector", OrgID: o.ID, ProjectID: pr.ID, Role: "viewer"})
	if err != nil {
		t.Fatal(err)
	}
	for _, tr := range []struct {
		name string
		args []string
	}{
		{"http", []string{p.apiURL + "/mcp", "--transport", "http", "--header", "Authorization: Bearer " + k.Secret}},
		{"stdio", []string{"-e", "BERTH_CONFIG=" + filepath.Join(t.TempDir(), "none.json"), "-e", "BERTH_API_URL=" + p.apiURL,
			"-e", "BERTH_API_KEY=" + k.Secret, berthBin, "mcp"}},
	} {
		t.Run(tr.name, func(t *testing.T) {
			var list struct {
				Tools []struct {
					Name        string         `json:"name"`
					Description string         `json:"description"`
					InputSchema map[string]any `json:"inputSchema"`
				} `json:"tools"`
			}
			runInspector(t, bin, &list, append(tr.args, "--method", "tools/list")...)
			names := map[string]bool{}
			for _, tl := range list.Tools {
				names[tl.Name] = tl.Description != "" && tl.InputSchema["type"] == "object"
			}
			for _, want := range []string{"whoami", "create_sandbox", "write_files", "deploy", "rollback", "deployment_status"} {
				if !names[want] {
					t.Errorf("tools/list has no %s with a description and a schema: %+v", want, list.Tools)
				}
			}

			var res struct {
				IsError           bool         `json:"isError"`
				StructuredContent mcp.Identity `json:"structuredContent"`
			}
			runInspector(t, bin, &res, append(tr.args, "--method", "tools/call", "--tool-name", "whoami")...)
			if id := res.StructuredContent; res.IsError || id.Scope != "project" || id.ProjectID != pr.ID || id.WorkspaceID != ws.ID || id.Role != "viewer" {
				t.Errorf("whoami: %+v", res)
			}

			var bad struct {
				IsError bool `json:"isError"`
				Content []struct {
					Text string `json:"text"`
				} `json:"content"`
			}
			runInspector(t, bin, &bad, append(tr.args, "--method", "tools/call", "--tool-name", "create_project",
				"--tool-arg", "workspace_id="+ws.ID, "name=Nope")...)
			var pb mcp.Problem
			if !bad.IsError || len(bad.Content) != 1 || json.Unmarshal([]byte(bad.Content[0].Text), &pb) != nil || pb.Code != "forbidden" {
				t.Errorf("a viewer key creating a project: %+v", bad)
			}
		})
	}
}

// TestMCPServices calls the tools beyond the core loop against a real
// deployment: buckets with presigned URLs that work, a database, a cron
// job, a custom domain and a Docker Deploy host; secrets never reach the
// model.
func TestMCPServices(t *testing.T) {
	p := start(t)
	ctx := t.Context()
	_, ws, pr := p.tenant(t, "Clinic IQ")
	sb, err := p.api.CreateSandbox(ctx, client.CreateSandbox{ProjectID: pr.ID, TemplateID: "static-html"})
	if err != nil {
		t.Fatal(err)
	}
	rel, err := p.api.Publish(ctx, sb.ID)
	if err != nil {
		t.Fatal(err)
	}
	dep, err := p.api.Deploy(ctx, client.CreateDeployment{ProjectID: pr.ID, ReleaseID: rel.ID})
	if err != nil {
		t.Fatal(err)
	}
	cs := p.mcpHTTP(t, adminKey)
	var d mcp.Deployment
	mustTool(t, cs, "deployment_status", map[string]any{"deployment_id": dep.ID, "wait_seconds": 120}, &d)
	if !d.Ready {
		t.Fatalf("deployment: %+v", d)
	}
	// secretFree checks that v holds no password, key or address of this
	// machine; the names of the variables a link gives may say SECRET.
	secretFree := func(what string, v any) {
		t.Helper()
		var m map[string]any
		b, _ := json.Marshal(v)
		json.Unmarshal(b, &m)
		delete(m, "env_names")
		b, _ = json.Marshal(m)
		for _, s := range []string{"password", "secret", "postgres://", "127.0.0.1"} {
			if strings.Contains(strings.ToLower(string(b)), s) {
				t.Errorf("%s shows %q: %s", what, s, b)
			}
		}
	}

	// A bucket, an upload and a download through presigned URLs.
	var b mcp.Bucket
	mustTool(t, cs, "create_bucket", map[string]any{"project_id": pr.ID, "name": "uploads"}, &b)
	if !strings.HasPrefix(b.ID, "bkt_") || b.Endpoint == "" || !slices.Contains(b.EnvNames, "S3_BUCKET") {
		t.Fatalf("create_bucket: %+v", b)
	}
	secretFree("create_bucket", b)
	var put client.PresignedURL
	mustTool(t, cs, "presign", map[string]any{"bucket_id": b.ID, "key": "notes/a.txt", "method": "PUT", "content_type": "text/plain"}, &put)
	req, _ := http.NewRequestWithContext(ctx, http.MethodPut, put.URL, strings.NewReader("hello from a model"))
	for k, v := range put.Headers {
		req.Header.Set(k, v)
	}
	if resp, err := p.web.Do(req); err != nil || resp.StatusCode != 200 {
		t.Fatalf("PUT to the presigned URL: %v %v", resp, err)
	}
	var get client.PresignedURL
	mustTool(t, cs, "presign", map[string]any{"bucket_id": b.ID, "key": "notes/a.txt", "method": "GET"}, &get)
	if code, body, _ := p.get(t, get.URL); code != 200 || body != "hello from a model" {
		t.Fatalf("GET of the presigned URL: %d %q", code, body)
	}
	if pb := callTool(t, cs, "presign", map[string]any{"bucket_id": b.ID, "key": "a", "method": "DELETE"}, nil); pb == nil || pb.Code != "invalid_arguments" {
		t.Fatalf("presign DELETE: %+v", pb)
	}
	var bl mcp.Link
	mustTool(t, cs, "link_bucket", map[string]any{"bucket_id": b.ID, "sandbox_id": sb.ID}, &bl)
	if bl.SandboxID != sb.ID || !slices.Contains(bl.EnvNames, "S3_BUCKET") {
		t.Fatalf("link_bucket: %+v", bl)
	}

	// A database, linked to the deployment.
	var db mcp.Database
	mustTool(t, cs, "create_database", map[string]any{"project_id": pr.ID, "name": "main"}, &db)
	if !strings.HasPrefix(db.ID, "db_") || db.Engine != "postgres" || !slices.Contains(db.EnvNames, "DATABASE_URL") {
		t.Fatalf("create_database: %+v", db)
	}
	secretFree("create_database", db)
	if pb := callTool(t, cs, "create_database", map[string]any{"project_id": pr.ID, "name": "main", "engine": "redis"}, nil); pb == nil || pb.Code != "name_taken" {
		t.Fatalf("a second database named main: %+v", pb)
	}
	var dl mcp.Link
	mustTool(t, cs, "link_database", map[string]any{"database_id": db.ID, "deployment_id": dep.ID}, &dl)
	if dl.DeploymentID != dep.ID || !slices.Contains(dl.EnvNames, "DATABASE_URL") {
		t.Fatalf("link_database: %+v", dl)
	}

	// A cron job of the deployment.
	var job mcp.CronJob
	mustTool(t, cs, "create_cron_job", map[string]any{"deployment_id": dep.ID, "schedule": "*/5 * * * *", "path": "/", "name": "ping"}, &job)
	if !strings.HasPrefix(job.ID, "cron_") || job.ProjectID != pr.ID || job.Status != "active" || job.NextRunAt == nil {
		t.Fatalf("create_cron_job: %+v", job)
	}
	if pb := callTool(t, cs, "create_cron_job", map[string]any{"deployment_id": dep.ID, "schedule": "every day", "path": "/"}, nil); pb == nil || pb.Code != "invalid_schedule" {
		t.Fatalf("a bad schedule: %+v", pb)
	}

	// A custom domain whose record is not there yet.
	var dom mcp.Domain
	mustTool(t, cs, "add_domain", map[string]any{"hostname": "www.clinic-site.example", "deployment_id": dep.ID}, &dom)
	if !strings.HasPrefix(dom.ID, "dom_") || dom.Status != "pending_verification" || len(dom.Records) == 0 {
		t.Fatalf("add_domain: %+v", dom)
	}
	if pb := callTool(t, cs, "verify_domain", map[string]any{"domain_id": dom.ID}, nil); pb == nil || pb.Code != "dns_not_verified" || !strings.Contains(pb.Detail, "_berth-challenge") {
		t.Fatalf("verify_domain without its record: %+v", pb)
	}

	// The workspace's Docker Deploy host, asked for and listed.
	var h mcp.Host
	mustTool(t, cs, "docker_deploy_ensure", map[string]any{"workspace_id": ws.ID}, &h)
	if !strings.HasPrefix(h.ID, "host_") || h.WorkspaceID != ws.ID {
		t.Fatalf("docker_deploy_ensure: %+v", h)
	}
	var hs mcp.Hosts
	mustTool(t, cs, "docker_deploy_hosts", map[string]any{"workspace_id": ws.ID}, &hs)
	if len(hs.Hosts) != 1 || hs.Hosts[0].ID != h.ID {
		t.Fatalf("docker_deploy_hosts: %+v", hs)
	}
	secretFree("docker_deploy_hosts", hs)
}
