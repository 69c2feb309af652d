package e2e

import (
	"bytes"
	"context"
	"fmt"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/berth-dev/berth/client"
	"github.com/berth-dev/berth/internal/docker"
	"github.com/berth-dev/berth/internal/images"
	"github.com/berth-dev/berth/internal/templates"
	"github.com/berth-dev/berth/internal/up"
)

// caBundle is the machine's CA bundle: on a network behind a
// TLS-intercepting proxy, containers reach the npm registry only when they
// trust it (docs/templates.md, "The build CA bundle").
const caBundle = "/etc/ssl/certs/ca-certificates.crt"

// withBuildCA turns on the platform's extra CA bundle for builds: the
// machine's bundle, under a first line of its own, so that every run
// really installs from the registry instead of reusing the engine's
// layer cache (the bundle is copied in before the install).
func withBuildCA(t testing.TB) func(*up.Config) {
	t.Helper()
	machine, err := os.ReadFile(caBundle)
	if err != nil {
		t.Skipf("skipping: the npm templates build only with the machine's CA bundle, and %s is unreadable: %v", caBundle, err)
	}
	bundle := filepath.Join(t.TempDir(), "build-ca.crt")
	nonce := fmt.Sprintf("# berth e2e build CA bundle, %s\n", time.Now().UTC().Format(time.RFC3339Nano))
	if err := os.WriteFile(bundle, append([]byte(nonce), machine...), 0o644); err != nil {
		t.Fatal(err)
	}
	return func(c *up.Config) { c.BuildCABundle = bundle }
}

// ensureTemplateImages makes the images the templates build on, when
// missing (`make images` makes them too).
func ensureTemplateImages(t testing.TB) {
	t.Helper()
	requireDocker(t)
	rt, err := docker.New("")
	if err != nil {
		t.Fatal(err)
	}
	defer rt.Close()
	var log bytes.Buffer
	if err := images.Ensure(t.Context(), rt, &log, false, images.Nginx, images.Node, images.NodeBuild, images.Python); err != nil {
		t.Fatalf("making the templates' images: %v\n%s", err, log.String())
	}
}

// starterTar is a template's starter as a release upload; edit changes
// or adds files.
func starterTar(t testing.TB, id string, edit map[string]string) *bytes.Buffer {
	t.Helper()
	cat := templates.New(nil)
	tpl, ok := cat.Get(id)
	if !ok {
		t.Fatalf("no template %s", id)
	}
	files, err := cat.Starter(tpl)
	if err != nil {
		t.Fatal(err)
	}
	var entries []tarEntry
	err = fs.WalkDir(files, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := fs.ReadFile(files, p)
		if _, edited := edit[p]; edited {
			return err
		}
		entries = append(entries, file(p, string(b)))
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	for p, body := range edit {
		entries = append(entries, file(p, body))
	}
	return makeTar(entries...)
}

// TestTemplates deploys every template's starter through the API, as a
// Docker Deploy product would (metadata.docker_deploy_template_id), on
// the real engine, and gets a 200 from its URL through the edge. The npm
// templates install their dependencies from the registry during the
// build, trusting the platform's build CA bundle.
func TestTemplates(t *testing.T) {
	ensureTemplateImages(t)
	p := start(t, withBuildCA(t))
	ctx := context.Background()

	// The catalogue, over the API.
	var list client.List[client.Template]
	if err := p.api.Do(ctx, "GET", "/docker-deploy/templates", nil, "", &list); err != nil {
		t.Fatal(err)
	}
	ids := map[string]client.Template{}
	for _, tpl := range list.Data {
		ids[tpl.ID] = tpl
		if tpl.DesignContext == "" || tpl.Port == 0 || tpl.HealthPath == "" || tpl.DevCommand == "" || (tpl.Dockerfile == "") == (tpl.Compose == "") {
			t.Errorf("template %s is incomplete: %+v", tpl.ID, tpl)
		}
		if strings.Contains(tpl.Dockerfile, templates.BuildCAFile) {
			t.Errorf("template %s shows the platform's build CA in its Dockerfile", tpl.ID)
		}
	}
	if len(ids) != 7 {
		t.Fatalf("%d templates: %v", len(ids), ids)
	}
	var one client.Template
	if err := p.api.Do(ctx, "GET", "/docker-deploy/templates/fastapi-service", nil, "", &one); err != nil || !strings.Contains(one.Dockerfile, "pip install") {
		t.Fatalf("fastapi-service: %+v, %v", one, err)
	}
	if err := p.api.Do(ctx, "GET", "/docker-deploy/templates/cobol", nil, "", &one); problemCode(err) != "template_not_found" {
		t.Fatalf("unknown template: %v", err)
	}

	type check struct {
		path, want string
	}
	cases := []struct {
		id string
		// upload names the template; otherwise the release's files show it.
		named  bool
		checks []check
	}{
		{"static-html", true, []check{{"/", "It works"}}},
		{"express-api", true, []check{{"/", "Hello from your API"}, {"/health", `"ok":true`}}},
		{"fastapi-service", false, []check{{"/", "Hello from your API"}, {"/health", `"ok":true`}, {"/items/7?q=x", `"item_id":7`}}},
		{"vite-react-spa", false, []check{{"/", `<div id="root">`}, {"/some/client/route", `<div id="root">`}}},
		{"nextjs-app", true, []check{{"/", "It works"}, {"/api/health", `"ok":true`}}},
		{"nextjs-funnel", true, []check{{"/", "Launch your idea"}}},
	}
	var mu sync.Mutex
	timings := map[string]time.Duration{}
	t.Cleanup(func() {
		for _, c := range cases {
			if d, ok := timings[c.id]; ok {
				t.Logf("%-16s release → serving in %s", c.id, d.Round(100*time.Millisecond))
			}
		}
	})
	for _, c := range cases {
		t.Run(c.id, func(t *testing.T) {
			t.Parallel()
			_, _, pr := p.tenant(t, c.id)
			begin := time.Now()
			opts := client.ReleaseOptions{ProjectID: pr.ID}
			if c.named {
				opts.TemplateID = c.id
			}
			rel, err := p.api.CreateRelease(ctx, starterTar(t, c.id, nil), opts)
			if err != nil {
				t.Fatalf("release: %v", err)
			}
			if rel.Build.TemplateID != c.id || rel.Build.Port != ids[c.id].Port {
				t.Fatalf("build shape %+v, want template %s on port %d", rel.Build, c.id, ids[c.id].Port)
			}
			d, err := p.api.Deploy(ctx, client.CreateDeployment{ProjectID: pr.ID, ReleaseID: rel.ID,
				Metadata: map[string]string{"docker_deploy_template_id": c.id}})
			if err != nil {
				t.Fatalf("deploy: %v", err)
			}
			d = waitReadyFor(t, p, d.ID, rel.ID, 5*time.Minute)
			mu.Lock()
			timings[c.id] = time.Since(begin)
			mu.Unlock()
			if d.Metadata["docker_deploy_template_id"] != c.id {
				t.Errorf("metadata %v", d.Metadata)
			}
			for _, ck := range c.checks {
				code, body, _ := p.get(t, d.URL+ck.path)
				if code != http.StatusOK || !strings.Contains(body, ck.want) {
					t.Errorf("GET %s: %d %.300q, want 200 with %q", ck.path, code, body, ck.want)
				}
			}
			// The build's CA bundle never becomes part of the site.
			if _, body, _ := p.get(t, d.URL+"/"+templates.BuildCAFile); strings.Contains(body, "BEGIN CERTIFICATE") {
				t.Errorf("GET /%s serves the build CA bundle", templates.BuildCAFile)
			}
		})
	}
}

// TestTemplateDefaultsFillTheRelease deploys a release that says nothing
// but its Dockerfile: the template the deployment names gives the port
// and the health path.
func TestTemplateDefaultsFillTheRelease(t *testing.T) {
	ensureTemplateImages(t)
	p := start(t)
	ctx := context.Background()
	_, _, pr := p.tenant(t, "Defaults Co")
	// No EXPOSE, no port: express-api's 3000 and /health fill in.
	dockerfile := "FROM " + images.Node + "\nWORKDIR /app\nCOPY server.js .\nCMD [\"node\", \"server.js\"]\n"
	server := `require("http").createServer((req, res) => {
  res.writeHead(req.url === "/health" ? 200 : 404); res.end(req.url + " on " + process.env.PORT);
}).listen(Number(process.env.PORT), "0.0.0.0");
`
	rel, err := p.api.CreateRelease(ctx, makeTar(file("Dockerfile", dockerfile), file("server.js", server)), client.ReleaseOptions{ProjectID: pr.ID})
	if err != nil {
		t.Fatal(err)
	}
	if rel.Build.Port != 0 || rel.Build.TemplateID != "" {
		t.Fatalf("build shape %+v: the release says no port", rel.Build)
	}
	d, err := p.api.Deploy(ctx, client.CreateDeployment{ProjectID: pr.ID, ReleaseID: rel.ID,
		Metadata: map[string]string{"docker_deploy_template_id": "express-api"}})
	if err != nil {
		t.Fatal(err)
	}
	d = waitReady(t, p, d.ID, rel.ID)
	if code, body, _ := p.get(t, d.URL+"/health"); code != http.StatusOK || body != "/health on 3000" {
		t.Fatalf("GET /health: %d %q", code, body)
	}
	if _, err := p.api.Deploy(ctx, client.CreateDeployment{ProjectID: pr.ID, ReleaseID: rel.ID,
		Metadata: map[string]string{"docker_deploy_template_id": "cobol-mainframe"}}); problemCode(err) != "unknown_template" {
		t.Fatalf("unknown template in metadata: %v", err)
	}
}

// TestTemplateSandboxes creates a sandbox of every template: each gets
// its starter; a compose sandbox whose compose file asks for privileged
// mode cannot be published, and the refusal creates nothing.
func TestTemplateSandboxes(t *testing.T) {
	ensureTemplateImages(t)
	p := start(t)
	ctx := context.Background()
	_, _, pr := p.tenant(t, "Sandbox Co")
	probe := map[string]string{
		"static-html": "index.html", "express-api": "server.js", "fastapi-service": "main.py",
		"vite-react-spa": "src/App.jsx", "nextjs-app": "app/page.js", "nextjs-funnel": "app/api/lead/route.js",
		"compose-full-stack": "compose.yaml",
	}
	var compose *client.Sandbox
	for id, path := range probe {
		sb, err := p.api.CreateSandbox(ctx, client.CreateSandbox{ProjectID: pr.ID, TemplateID: id})
		if err != nil {
			t.Fatalf("%s: %v", id, err)
		}
		if sb.Status != "running" {
			t.Fatalf("%s: sandbox %s (%s)", id, sb.Status, sb.StatusReason)
		}
		if b, err := p.api.ReadFile(ctx, sb.ID, path); err != nil || len(b) == 0 {
			t.Errorf("%s: the starter's %s: %q, %v", id, path, b, err)
		}
		if id == "compose-full-stack" {
			compose = sb
		}
	}

	releases := func() int {
		var l client.List[client.Release]
		if err := p.api.Do(ctx, "GET", "/releases?project_id="+pr.ID, nil, "", &l); err != nil {
			t.Fatal(err)
		}
		return len(l.Data)
	}
	good, err := p.api.ReadFile(ctx, compose.ID, "compose.yaml")
	if err != nil {
		t.Fatal(err)
	}
	bad := strings.Replace(string(good), "    build: ./web\n", "    build: ./web\n    privileged: true\n    volumes: [/var/run/docker.sock:/var/run/docker.sock]\n", 1)
	if bad == string(good) {
		t.Fatal("the starter's web service changed shape; update this test")
	}
	if err := p.api.WriteFile(ctx, compose.ID, "compose.yaml", []byte(bad)); err != nil {
		t.Fatal(err)
	}
	_, err = p.api.Publish(ctx, compose.ID)
	var prob *client.Problem
	if !asProblem(err, &prob) || prob.Status != http.StatusUnprocessableEntity || prob.Code != "compose_privileged" ||
		!strings.Contains(prob.Detail, "privileged") || len(prob.Errors) != 2 {
		t.Fatalf("publishing a privileged compose file: %+v, %v", prob, err)
	}
	if n := releases(); n != 0 {
		t.Fatalf("the refused publish left %d releases", n)
	}
	// Fixed, it publishes as a compose release.
	if err := p.api.WriteFile(ctx, compose.ID, "compose.yaml", good); err != nil {
		t.Fatal(err)
	}
	rel, err := p.api.Publish(ctx, compose.ID)
	if err != nil || rel.Build.TemplateID != "compose-full-stack" || rel.Build.Port != 3000 {
		t.Fatalf("publish of the starter: %+v, %v", rel, err)
	}
	found := false
	for _, n := range rel.EnvNames {
		found = found || n == "POSTGRES_PASSWORD"
	}
	if !found {
		t.Errorf("env manifest %v lacks POSTGRES_PASSWORD", rel.EnvNames)
	}
}

// waitReadyFor is waitReady with a longer patience, for builds that
// install dependencies.
func waitReadyFor(t testing.TB, p *platform, depID, relID string, d time.Duration) *client.Deployment {
	t.Helper()
	var dep *client.Deployment
	eventually(t, d, "deployment ready on "+relID, func() bool {
		var err error
		dep, err = p.api.GetDeployment(context.Background(), depID)
		if err != nil {
			t.Fatalf("get deployment: %v", err)
		}
		if dep.Status == "failed" {
			t.Fatalf("deployment failed: %s", dep.StatusReason)
		}
		return dep.Ready && dep.ServingReleaseID == relID
	})
	return dep
}
