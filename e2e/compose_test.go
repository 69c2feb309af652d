package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"io/fs"
	"net/http"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/berth-dev/berth/client"
	"github.com/berth-dev/berth/internal/docker"
	"github.com/berth-dev/berth/internal/images"
	"github.com/berth-dev/berth/internal/templates"
)

// stats is what the compose starter's API answers at /stats: one read
// of Postgres and two of Redis, each reached by service name.
type stats struct {
	Visits    int    `json:"visits"`
	Processed int    `json:"processed"`
	Queued    int64  `json:"queued"`
	Redis     string `json:"redis"`
}

// TestComposeFullStack deploys the compose-full-stack starter (web, API,
// worker, Postgres, Redis) on the real engine: the web service answers at
// the deployment's URL, the API writes and reads Postgres and Redis by
// service name through it, the worker drains the queue, and the data
// survives a redeploy of a new release and a rollback (no rebuild).
func TestComposeFullStack(t *testing.T) {
	ensureTemplateImages(t)
	ensureDataImages(t)
	p := start(t, withBuildCA(t))
	ctx := context.Background()
	_, _, pr := p.tenant(t, "Compose Co")

	begin := time.Now()
	rel1, err := p.api.CreateRelease(ctx, starterTar(t, "compose-full-stack", nil), client.ReleaseOptions{ProjectID: pr.ID})
	if err != nil {
		t.Fatalf("release: %v", err)
	}
	if rel1.Build.TemplateID != "compose-full-stack" {
		t.Fatalf("build shape %+v, want compose-full-stack", rel1.Build)
	}
	d, err := p.api.Deploy(ctx, client.CreateDeployment{ProjectID: pr.ID, ReleaseID: rel1.ID,
		Metadata: map[string]string{"docker_deploy_template_id": "compose-full-stack"}})
	if err != nil {
		t.Fatalf("deploy: %v", err)
	}
	d = waitReadyFor(t, p, d.ID, rel1.ID, 6*time.Minute)
	t.Logf("compose-full-stack: release → serving in %s (five services, three builds)", time.Since(begin).Round(100*time.Millisecond))

	if code, body, _ := p.get(t, d.URL+"/"); code != http.StatusOK || !strings.Contains(body, "It works.") {
		t.Fatalf("GET /: %d %.300q", code, body)
	}
	for i := 1; i <= 2; i++ {
		visits := p.postVisit(t, d.URL)
		if visits != i {
			t.Fatalf("visit %d: the API counted %d", i, visits)
		}
	}
	s := p.waitProcessed(t, d.URL, 2)
	if s.Redis != "PONG" {
		t.Fatalf("stats %+v: the API did not reach Redis", s)
	}
	if n := serviceContainers(t, d.ID); n != 5 {
		t.Fatalf("%d service containers of the deployment, want 5", n)
	}

	// A new release starts beside the old one and takes over the route
	// with no failed request; the data services, unchanged, keep running
	// in place on their volumes, the others are replaced.
	containers := serviceIDs(t, d.ID)
	edited := map[string]string{"web/server.js": strings.Replace(starterFile(t, "web/server.js"), "It works.", "It works again.", 1)}
	rel2, err := p.api.CreateRelease(ctx, starterTar(t, "compose-full-stack", edited), client.ReleaseOptions{ProjectID: pr.ID})
	if err != nil {
		t.Fatalf("second release: %v", err)
	}
	begin = time.Now()
	// Both the page and the API behind it (web → api → Postgres and
	// Redis, by service name): each release's web reaches its own api.
	stop, fails, last := loop(p, d.URL+"/")
	stopAPI, apiFails, apiLast := loop(p, d.URL+"/api/stats")
	if _, err := p.api.Deploy(ctx, client.CreateDeployment{ProjectID: pr.ID, ReleaseID: rel2.ID}); err != nil {
		t.Fatalf("redeploy: %v", err)
	}
	d = waitReadyFor(t, p, d.ID, rel2.ID, 6*time.Minute)
	eventually(t, time.Minute, "the old release's services to be retired", func() bool { return serviceContainers(t, d.ID) == 5 })
	n, nAPI := stop(), stopAPI()
	if f := fails.Load(); f != 0 || n < 20 {
		t.Fatalf("%d of %d requests to the web service failed during the compose redeploy; last failure: %v", f, n, last.Load())
	}
	if f := apiFails.Load(); f != 0 || nAPI < 20 {
		t.Fatalf("%d of %d requests to /api/stats failed during the compose redeploy; last failure: %v", f, nAPI, apiLast.Load())
	}
	t.Logf("compose-full-stack: redeploy → serving in %s; %d requests to / and %d to /api/stats during it, 0 failed",
		time.Since(begin).Round(100*time.Millisecond), n, nAPI)
	after := serviceIDs(t, d.ID)
	for svc, kept := range map[string]bool{"db": true, "redis": true, "web": false, "api": false, "worker": false} {
		if same := containers[svc] != "" && containers[svc] == after[svc]; same != kept {
			t.Errorf("service %s: container %s before, %s after the redeploy; kept in place: %v, want %v", svc, containers[svc], after[svc], same, kept)
		}
	}
	if code, body, _ := p.get(t, d.URL+"/"); code != http.StatusOK || !strings.Contains(body, "It works again.") {
		t.Fatalf("GET / after the redeploy: %d %.300q", code, body)
	}
	if s := p.stats(t, d.URL); s.Visits != 2 || s.Processed != 2 {
		t.Fatalf("after the redeploy: %+v, want the 2 visits of before", s)
	}
	if visits := p.postVisit(t, d.URL); visits != 3 {
		t.Fatalf("after the redeploy the API counted %d, want 3", visits)
	}
	p.waitProcessed(t, d.URL, 3)
	if n := serviceContainers(t, d.ID); n != 5 {
		t.Fatalf("%d service containers after the redeploy, want 5 (the old release's are gone)", n)
	}
	eventually(t, 30*time.Second, "the old release's network to go", func() bool { return len(deploymentNetworks(t, d.ID)) == 1 })

	// A rollback starts the first release's images again: no build.
	before, err := p.api.Events(ctx, d.ID, 0)
	if err != nil {
		t.Fatal(err)
	}
	begin = time.Now()
	stop, fails, last = loop(p, d.URL+"/")
	if _, err := p.api.Rollback(ctx, d.ID, ""); err != nil {
		t.Fatalf("rollback: %v", err)
	}
	d = waitReadyFor(t, p, d.ID, rel1.ID, 3*time.Minute)
	eventually(t, time.Minute, "the rolled-back release's services to be retired", func() bool { return serviceContainers(t, d.ID) == 5 })
	if n, f := stop(), fails.Load(); f != 0 {
		t.Fatalf("%d of %d requests failed during the compose rollback; last failure: %v", f, n, last.Load())
	}
	t.Logf("compose-full-stack: rollback → serving in %s, 0 failed requests", time.Since(begin).Round(100*time.Millisecond))
	if now := serviceIDs(t, d.ID); now["db"] != containers["db"] || now["redis"] != containers["redis"] {
		t.Errorf("the rollback replaced a data service: %v, then %v", containers, now)
	}
	if code, body, _ := p.get(t, d.URL+"/"); code != http.StatusOK || !strings.Contains(body, "It works.") || strings.Contains(body, "again") {
		t.Fatalf("GET / after the rollback: %d %.300q", code, body)
	}
	if s := p.stats(t, d.URL); s.Visits != 3 {
		t.Fatalf("after the rollback: %+v, want 3 visits", s)
	}
	events, err := p.api.Events(ctx, d.ID, before[len(before)-1].Seq)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range events {
		if e.Type == "deployment.building" || e.Type == "deployment.uploading" {
			t.Errorf("the rollback rebuilt: %s %s", e.Type, e.Message)
		}
	}

	// Containers lost behind Berth's back (a crash, an operator's docker
	// rm): the reconciler starts the services again on the same volumes.
	out, err := exec.Command("docker", "ps", "-aq", "--filter", "label=berth.kind=compose", "--filter", "label=berth.deployment="+d.ID).Output()
	if err != nil {
		t.Fatal(err)
	}
	if err := exec.Command("docker", append([]string{"rm", "-f"}, strings.Fields(string(out))...)...).Run(); err != nil {
		t.Fatal(err)
	}
	begin = time.Now()
	eventually(t, 3*time.Minute, "the services to come back", func() bool {
		dep, err := p.api.GetDeployment(ctx, d.ID)
		if err != nil || !dep.Ready || serviceContainers(t, d.ID) != 5 {
			return false
		}
		code, body, _ := p.get(t, d.URL+"/api/stats")
		return code == http.StatusOK && strings.Contains(body, `"visits":3`)
	})
	t.Logf("compose-full-stack: lost containers → serving again in %s", time.Since(begin).Round(100*time.Millisecond))

	// A release that changes the database's definition replaces it: the
	// old server stops before the new one mounts the volume (never two
	// at once), the data is still there, and the page keeps answering.
	containers = serviceIDs(t, d.ID)
	changed := strings.Replace(starterFile(t, "compose.yaml"), "    image: postgres:16-bookworm\n", "    image: postgres:16-bookworm\n    command: [\"postgres\", \"-c\", \"max_connections=60\"]\n", 1)
	rel3, err := p.api.CreateRelease(ctx, starterTar(t, "compose-full-stack", map[string]string{"compose.yaml": changed}), client.ReleaseOptions{ProjectID: pr.ID})
	if err != nil {
		t.Fatalf("third release: %v", err)
	}
	most := make(chan int, 1)
	watching := make(chan struct{})
	depID := d.ID // d is reassigned below, while the watcher runs
	go func() {
		m := 0
		for {
			select {
			case <-watching:
				most <- m
				return
			default:
			}
			out, _ := exec.Command("docker", "ps", "-q", "--filter", "label=berth.deployment="+depID, "--filter", "label=berth.service=db").Output()
			m = max(m, len(strings.Fields(string(out))))
			time.Sleep(100 * time.Millisecond)
		}
	}()
	stop, fails, last = loop(p, d.URL+"/")
	if _, err := p.api.Deploy(ctx, client.CreateDeployment{ProjectID: pr.ID, ReleaseID: rel3.ID}); err != nil {
		t.Fatalf("deploying a changed database: %v", err)
	}
	d = waitReadyFor(t, p, d.ID, rel3.ID, 6*time.Minute)
	eventually(t, time.Minute, "the old release's services to be retired", func() bool { return serviceContainers(t, d.ID) == 5 })
	n = stop()
	close(watching)
	if m := <-most; m != 1 {
		t.Fatalf("%d database containers ran at once on the deployment's volume, want 1", m)
	}
	if f := fails.Load(); f != 0 {
		t.Fatalf("%d of %d requests to the page failed while the database was replaced; last failure: %v", f, n, last.Load())
	}
	if now := serviceIDs(t, d.ID); now["db"] == containers["db"] || now["redis"] != containers["redis"] {
		t.Fatalf("a changed database: containers %v before, %v after; want db replaced, redis kept", containers, now)
	}
	if s := p.stats(t, d.URL); s.Visits != 3 {
		t.Fatalf("after replacing the database: %+v, want the 3 visits on its volume", s)
	}
	t.Logf("compose-full-stack: a changed database replaced in place, %d requests to the page, 0 failed", n)
}

// ensureDataImages makes the local Postgres and Redis images when missing.
func ensureDataImages(t testing.TB) {
	t.Helper()
	rt, err := docker.New("")
	if err != nil {
		t.Fatal(err)
	}
	defer rt.Close()
	var log bytes.Buffer
	if err := images.Ensure(t.Context(), rt, &log, false, images.Postgres, images.Redis); err != nil {
		t.Fatalf("making the data images: %v\n%s", err, log.String())
	}
}

func starterFile(t testing.TB, name string) string {
	t.Helper()
	cat := templates.New(nil)
	tpl, _ := cat.Get("compose-full-stack")
	files, err := cat.Starter(tpl)
	if err != nil {
		t.Fatal(err)
	}
	b, err := fs.ReadFile(files, name)
	if err != nil {
		t.Fatalf("reading %s of the starter: %v", name, err)
	}
	return string(b)
}

// postVisit records a visit through the web service and the API, and
// returns the count the API read back from Postgres.
func (p *platform) postVisit(t testing.TB, base string) int {
	t.Helper()
	resp, err := p.web.Post(base+"/api/visits", "application/json", nil)
	if err != nil {
		t.Fatalf("POST /api/visits: %v", err)
	}
	defer resp.Body.Close()
	var out struct{ Visits int }
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("POST /api/visits: %d, %v", resp.StatusCode, err)
	}
	return out.Visits
}

func (p *platform) stats(t testing.TB, base string) stats {
	t.Helper()
	code, body, _ := p.get(t, base+"/api/stats")
	var s stats
	if err := json.Unmarshal([]byte(body), &s); code != http.StatusOK || err != nil {
		t.Fatalf("GET /api/stats: %d %.300q", code, body)
	}
	return s
}

// waitProcessed waits until the worker has recorded n visits.
func (p *platform) waitProcessed(t testing.TB, base string, n int) stats {
	t.Helper()
	var s stats
	eventually(t, time.Minute, "the worker to process the queued visits", func() bool {
		s = p.stats(t, base)
		return s.Processed >= n && s.Queued == 0
	})
	return s
}

// serviceContainers counts the running containers of a deployment's
// compose services.
func serviceContainers(t testing.TB, depID string) int {
	t.Helper()
	out, err := exec.Command("docker", "ps", "-q", "--filter", "label=berth.kind=compose", "--filter", "label=berth.deployment="+depID).Output()
	if err != nil {
		t.Fatalf("docker ps: %v", err)
	}
	return len(strings.Fields(string(out)))
}

// serviceIDs maps each compose service of a deployment to its running
// container.
func serviceIDs(t testing.TB, depID string) map[string]string {
	t.Helper()
	out, err := exec.Command("docker", "ps", "--filter", "label=berth.kind=compose", "--filter", "label=berth.deployment="+depID,
		"--format", `{{.ID}} {{.Label "berth.service"}}`).Output()
	if err != nil {
		t.Fatalf("docker ps: %v", err)
	}
	ids := map[string]string{}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		if id, svc, ok := strings.Cut(line, " "); ok {
			ids[svc] = id
		}
	}
	return ids
}

// deploymentNetworks lists the engine's networks of a deployment.
func deploymentNetworks(t testing.TB, depID string) []string {
	t.Helper()
	out, err := exec.Command("docker", "network", "ls", "--format", "{{.Name}}", "--filter", "name=berth-"+strings.ReplaceAll(depID, "_", "-")).Output()
	if err != nil {
		t.Fatalf("docker network ls: %v", err)
	}
	return strings.Fields(string(out))
}

// TestComposeOnDockerDeployHost runs the compose starter as a
// docker_deploy deployment: on the workspace's own host, through the
// same placement as any other release.
func TestComposeOnDockerDeployHost(t *testing.T) {
	ensureTemplateImages(t)
	ensureDataImages(t)
	p := start(t, withBuildCA(t))
	ctx := context.Background()
	_, ws, pr := p.tenant(t, "Compose Host Co")
	h, err := p.api.EnsureHost(ctx, client.EnsureHost{WorkspaceID: ws.ID})
	if err != nil {
		t.Fatal(err)
	}
	rel, err := p.api.CreateRelease(ctx, starterTar(t, "compose-full-stack", nil), client.ReleaseOptions{ProjectID: pr.ID})
	if err != nil {
		t.Fatalf("release: %v", err)
	}
	d, err := p.api.Deploy(ctx, client.CreateDeployment{ProjectID: pr.ID, ReleaseID: rel.ID, DeploymentProduct: "docker_deploy"})
	if err != nil {
		t.Fatalf("deploy: %v", err)
	}
	d = waitReadyFor(t, p, d.ID, rel.ID, 6*time.Minute)
	waitHost(t, p, h.ID, time.Minute, "active")
	if code, body, _ := p.get(t, d.URL+"/"); code != http.StatusOK || !strings.Contains(body, "It works.") {
		t.Fatalf("GET /: %d %.300q", code, body)
	}
	if visits := p.postVisit(t, d.URL); visits != 1 {
		t.Fatalf("the API counted %d visits, want 1", visits)
	}
}
