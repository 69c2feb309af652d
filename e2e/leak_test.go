package e2e

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/berth-dev/berth/client"
	"github.com/berth-dev/berth/internal/edge"
	"github.com/berth-dev/berth/internal/logtest"
	"github.com/berth-dev/berth/internal/resolve"
	"github.com/berth-dev/berth/internal/store/sqlite"
	"github.com/berth-dev/berth/internal/up"
)

// allowedDocker are the only forms of "docker" an answer may carry, each
// the API's own vocabulary for a user, not the machinery under it:
//
//   - docker_deploy: a deployment_product value (the Docker Deploy product);
//   - docker-deploy: the /docker-deploy/… endpoints and the
//     docker_deploy_template_id metadata key's product prefix in paths;
//   - Docker Deploy: the product's name in messages and events;
//   - Dockerfile, dockerfile (the build field, the file a user writes)
//     and .dockerignore: the file formats a user's app is made of.
var allowedDocker = regexp.MustCompile(`(?i)docker[_-]deploy|docker deploy|dockerfile|\.dockerignore`)

// baseImageRef is how the platform's local base images were named once,
// naming the platform: answers must use the neutral aliases.
var baseImageRef = regexp.MustCompile(`berth/(debian|nginx|node|node-build|python|postgres|mariadb|redis)\b`)

// TestNothingLeaks walks a whole scenario (org, workspace, project,
// sandbox, preview, publish, deploy, domain, database, Docker Deploy
// host, events) and every page the edges serve themselves (unknown host,
// app down with a custom page, deploying, rate limited, TLS pending), and
// asserts that no answer carries an agent's address, a host or container
// IP, a container id, the container engine's name or socket, or an
// internal key.
func TestNothingLeaks(t *testing.T) {
	ns := startTXTServer(t)
	p := start(t, func(c *up.Config) { c.DNSResolver = ns.addr })
	rec := &recorder{next: http.DefaultTransport}
	p.api.HTTP = &http.Client{Transport: rec}
	ctx := context.Background()
	port := p.edgeAddr[strings.LastIndexByte(p.edgeAddr, ':'):]

	// Every edge page: berth up's edge, and a rate-limited edge over the
	// resolver protocol.
	var pages []string
	page := func(c *http.Client, url string, want int) string {
		t.Helper()
		resp, err := c.Get(url)
		if err != nil {
			t.Fatalf("GET %s: %v", url, err)
		}
		defer resp.Body.Close()
		var b strings.Builder
		resp.Header.Write(&b)
		buf := make([]byte, 64<<10)
		for {
			n, err := resp.Body.Read(buf)
			b.Write(buf[:n])
			if err != nil {
				break
			}
		}
		if want != 0 && resp.StatusCode != want {
			t.Errorf("GET %s: %d, want %d", url, resp.StatusCode, want)
		}
		pages = append(pages, fmt.Sprintf("GET %s\n%s", url, b.String()))
		return b.String()
	}
	keyBytes, err := os.ReadFile(p.info.ResolverKeyFile)
	if err != nil {
		t.Fatal(err)
	}
	resolverKey := strings.TrimSpace(string(keyBytes))
	limited := edge.New(edge.Config{RateLimit: edge.RateLimit{PerSecond: 0.01, Burst: 2}, Log: logtest.New(t)})
	rc := resolve.NewClient(p.info.ResolverURL, resolverKey)
	limited.UseResolver(rc)
	followCtx, stopFollow := context.WithCancel(ctx)
	defer stopFollow()
	go limited.Follow(followCtx, rc)
	limitedSrv := httptest.NewServer(limited)
	defer limitedSrv.Close()
	limitedWeb := webClient(limitedSrv.Listener.Addr().String())

	o, ws, pr := p.tenant(t, "Leak Check")
	if _, err := p.api.SetOrgBranding(ctx, o.ID, client.Branding{ProductName: "Leak Care", PrimaryColor: "#0a7755", SupportEmail: "help@leak.localhost"}); err != nil {
		t.Fatal(err)
	}
	if _, err := p.api.PutOrgPage(ctx, o.ID, "bad-gateway", []byte(`<!DOCTYPE html><title>{{.Title}}</title><h1>{{.Name}}: {{.Heading}}</h1><p>{{.Message}}</p>`)); err != nil {
		t.Fatalf("custom page: %v", err)
	}

	// Sandbox → preview → publish → deploy.
	sb, err := p.api.CreateSandbox(ctx, client.CreateSandbox{ProjectID: pr.ID, TemplateID: "static-html"})
	if err != nil {
		t.Fatalf("sandbox: %v", err)
	}
	if err := p.api.WriteFile(ctx, sb.ID, "index.html", []byte("<h1>leak check</h1>")); err != nil {
		t.Fatalf("write file: %v", err)
	}
	prev, err := p.api.Preview(ctx, sb.ID, 8080)
	if err != nil || !prev.Ready {
		t.Fatalf("preview: %+v %v", prev, err)
	}
	page(p.web, prev.URL, 200)
	if _, err := p.api.GetSandbox(ctx, sb.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := p.api.ListFiles(ctx, sb.ID, ""); err != nil {
		t.Fatal(err)
	}
	if _, err := p.api.Exec(ctx, sb.ID, client.Exec{Command: "ls /"}); err != nil {
		t.Fatalf("exec: %v", err)
	}
	rel, err := p.api.Publish(ctx, sb.ID)
	if err != nil {
		t.Fatalf("publish: %v", err)
	}
	dep, err := p.api.Deploy(ctx, client.CreateDeployment{ProjectID: pr.ID, ReleaseID: rel.ID})
	if err != nil {
		t.Fatalf("deploy: %v", err)
	}
	dep = waitReady(t, p, dep.ID, rel.ID)
	page(p.web, dep.URL, 200)
	p.api.Do(ctx, "GET", "/deployments?project_id="+pr.ID, nil, "", nil)
	p.api.Do(ctx, "GET", "/releases/"+rel.ID, nil, "", nil)

	// A deployment domain.
	dom, err := p.api.CreateDomain(ctx, client.CreateDomain{Hostname: "leak.example.localhost", DeploymentID: dep.ID})
	if err != nil {
		t.Fatal(err)
	}
	ns.publish(t, dom)
	if _, err := p.api.VerifyDomain(ctx, dom.ID); err != nil {
		t.Fatal(err)
	}
	page(p.web, "http://leak.example.localhost"+port+"/", 200)
	p.api.ListDomains(ctx, o.ID, "")

	// A release whose build fails: the app-down page (the org's custom
	// one) and a failure reason with the build's log tail.
	_, _, broken := p.tenantIn(t, o, ws, "Broken App")
	badRel, err := p.api.CreateRelease(ctx, makeTar(file("Dockerfile", "FROM "+p.templateImage(t, "static-html")+"\nRUN echo cannot build && exit 3\n"), file("index.html", "x")),
		client.ReleaseOptions{ProjectID: broken.ID})
	if err != nil {
		t.Fatalf("broken release: %v", err)
	}
	badDep, err := p.api.Deploy(ctx, client.CreateDeployment{ProjectID: broken.ID, ReleaseID: badRel.ID})
	if err != nil {
		t.Fatal(err)
	}
	// Deploying: the loading page while it builds.
	page(p.web, badDep.URL, 0)
	eventually(t, 3*time.Minute, "the broken deployment to fail", func() bool {
		d, err := p.api.GetDeployment(ctx, badDep.ID)
		return err == nil && d.Status == "failed"
	})
	if body := page(p.web, badDep.URL, 502); !strings.Contains(body, "Leak Care: ") {
		t.Errorf("the app-down page is not the org's custom one:\n%s", body)
	}
	// A slow build: the loading page while it builds.
	_, _, slow := p.tenantIn(t, o, ws, "Slow App")
	slowRel, err := p.api.CreateRelease(ctx, makeTar(file("Dockerfile", "FROM "+p.templateImage(t, "static-html")+"\nRUN sleep 20\n"), file("index.html", "x")),
		client.ReleaseOptions{ProjectID: slow.ID, Port: 8080})
	if err != nil {
		t.Fatal(err)
	}
	slowDep, err := p.api.Deploy(ctx, client.CreateDeployment{ProjectID: slow.ID, ReleaseID: slowRel.ID})
	if err != nil {
		t.Fatal(err)
	}
	if body := page(p.web, slowDep.URL, 503); !strings.Contains(body, "Leak Care") {
		t.Errorf("the loading page is not branded:\n%s", body)
	}
	// Unknown host, under the org's domain and nowhere.
	page(p.web, "http://no-such-app."+o.Slug+".localhost"+port+"/", 404)
	page(p.web, "http://nothing.example.invalid"+port+"/", 404)
	// Rate limited, on the other edge.
	for range 2 {
		page(limitedWeb, dep.URL, 200)
	}
	if body := page(limitedWeb, dep.URL, 429); !strings.Contains(body, "Leak Care") {
		t.Errorf("the rate-limited page is not branded:\n%s", body)
	}
	// TLS pending, as the TLS layer serves it.
	w := httptest.NewRecorder()
	req := httptest.NewRequest("GET", dep.URL, nil)
	limited.ServePage(w, req, edge.PageTLSPending)
	pages = append(pages, "TLS pending\n"+w.Body.String())

	// A database.
	db, err := p.api.CreateDatabase(ctx, client.CreateDatabase{ProjectID: pr.ID, Engine: "postgres", Name: "main"})
	if err != nil {
		t.Fatalf("database: %v", err)
	}
	eventually(t, 3*time.Minute, "the database to be healthy", func() bool {
		d, err := p.api.GetDatabase(ctx, db.ID)
		return err == nil && d.Status == "healthy"
	})
	p.api.ListDatabases(ctx, pr.ID)

	// A Docker Deploy host: ensure, list, show.
	h, err := p.api.EnsureHost(ctx, client.EnsureHost{WorkspaceID: ws.ID})
	if err != nil {
		t.Fatalf("ensure host: %v", err)
	}
	waitHost(t, p, h.ID, 3*time.Minute, "active")
	p.api.ListHosts(ctx, ws.ID)
	p.api.GetHost(ctx, h.ID)

	// Templates and every resource's events.
	p.api.Do(ctx, "GET", "/docker-deploy/templates", nil, "", nil)
	p.api.Do(ctx, "GET", "/docker-deploy/templates/static-html", nil, "", nil)
	for _, id := range []string{sb.ID, rel.ID, dep.ID, badDep.ID, slowDep.ID, dom.ID, db.ID, h.ID} {
		if _, err := p.api.Events(ctx, id, 0); err != nil {
			t.Errorf("events of %s: %v", id, err)
		}
	}

	// What must not appear, read from the instance itself.
	forbidden := p.internals(t, resolverKey)
	answers := append(rec.all(), pages...)
	if len(answers) < 40 {
		t.Fatalf("only %d answers recorded: is the recorder wired?", len(answers))
	}
	for _, a := range answers {
		where := a[:strings.IndexByte(a+"\n", '\n')]
		for what, s := range forbidden {
			if strings.Contains(a, s) {
				t.Errorf("%s reveals %s (%q):\n%s", where, what, s, excerpt(a, s))
			}
		}
		if rest := allowedDocker.ReplaceAllString(a, ""); strings.Contains(strings.ToLower(rest), "docker") {
			i := strings.Index(strings.ToLower(rest), "docker")
			t.Errorf("%s names the container engine: …%s…", where, rest[max(0, i-80):min(len(rest), i+80)])
		}
		if m := baseImageRef.FindString(a); m != "" {
			t.Errorf("%s names a base image by the platform's name %q:\n%s", where, m, excerpt(a, m))
		}
	}
}

// excerpt is the part of s around sub.
func excerpt(s, sub string) string {
	i := strings.Index(s, sub)
	return s[max(0, i-120):min(len(s), i+len(sub)+120)]
}

// tenantIn makes another project in an existing workspace.
func (p *platform) tenantIn(t *testing.T, o *client.Org, ws *client.Workspace, name string) (*client.Org, *client.Workspace, *client.Project) {
	t.Helper()
	pr, err := p.api.CreateProject(context.Background(), client.CreateProject{WorkspaceID: ws.ID, Name: name})
	if err != nil {
		t.Fatal(err)
	}
	return o, ws, pr
}

// templateImage is the image a template's Dockerfile starts FROM, as the
// API shows it.
func (p *platform) templateImage(t *testing.T, id string) string {
	t.Helper()
	var tpl client.Template
	if err := p.api.Do(context.Background(), "GET", "/docker-deploy/templates/"+id, nil, "", &tpl); err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(tpl.Dockerfile, "\n") {
		if ref, ok := strings.CutPrefix(line, "FROM "); ok {
			return strings.Fields(ref)[0]
		}
	}
	t.Fatalf("template %s has no FROM: %q", id, tpl.Dockerfile)
	return ""
}

// internals lists what no answer may carry, by what it is: every
// agent's address, credential and port, the store's seal key, the
// resolver's key, every container's id and IP, the machine's own
// addresses other than loopback, and the engine's socket.
func (p *platform) internals(t *testing.T, resolverKey string) map[string]string {
	t.Helper()
	out := map[string]string{
		"the engine's socket": "docker.sock",
		"the resolver key":    resolverKey,
	}
	seal, err := os.ReadFile(filepath.Join(p.dataDir, "seal.key"))
	if err != nil {
		t.Fatal(err)
	}
	out["the seal key"] = hex.EncodeToString(seal)
	st, err := sqlite.Open(filepath.Join(p.dataDir, "berth.db"), seal)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	hosts, err := st.ListHosts(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for _, h := range hosts {
		out["agent secret of "+h.ID] = h.AgentSecret
		if h.AgentURL == "" {
			continue
		}
		u := strings.TrimPrefix(strings.TrimPrefix(h.AgentURL, "https://"), "http://")
		out["agent address of "+h.ID] = u
		if _, port, err := net.SplitHostPort(u); err == nil {
			out["agent port of "+h.ID+" (as localhost)"] = "localhost:" + port
		}
	}
	inst, err := os.ReadFile(filepath.Join(p.dataDir, "instance"))
	if err != nil {
		t.Fatal(err)
	}
	ids, err := exec.Command("docker", "ps", "-aq", "--no-trunc", "--filter", "label=berth.instance="+hex.EncodeToString(inst)).Output()
	if err != nil {
		t.Fatal(err)
	}
	cids := strings.Fields(string(ids))
	if len(cids) < 3 {
		t.Fatalf("only %d containers of the instance: %v", len(cids), cids)
	}
	for _, id := range cids {
		out["container id "+id[:12]] = id[:12]
		inspect, err := exec.Command("docker", "inspect", "--format", "{{json .NetworkSettings.Networks}}", id).Output()
		if err != nil {
			continue
		}
		var nets map[string]struct{ IPAddress string }
		json.Unmarshal(inspect, &nets)
		for name, n := range nets {
			if n.IPAddress != "" {
				out["container IP on "+name] = n.IPAddress
			}
		}
	}
	addrs, _ := net.InterfaceAddrs()
	for _, a := range addrs {
		ipn, ok := a.(*net.IPNet)
		if !ok || ipn.IP.IsLoopback() || ipn.IP.IsLinkLocalUnicast() {
			continue
		}
		out["the machine's address "+ipn.IP.String()] = ipn.IP.String()
	}
	for k, v := range out {
		if len(v) < 6 {
			delete(out, k) // too short to mean anything in a body
		}
	}
	return out
}
