package e2e

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/berth-dev/berth/client"
	"github.com/berth-dev/berth/internal/images"
	"github.com/berth-dev/berth/internal/up"
)

// TestDatabaseFailures kills and then damages a managed Postgres: a
// SIGKILL is reported unhealthy within seconds and the server comes back
// healthy with its data; a damaged data directory is reported unhealthy
// with the server's own words and what to do, and never healthy. Then
// the service is deleted with its data, and nothing it made is left.
func TestDatabaseFailures(t *testing.T) {
	requireDocker(t)
	ensureImages(t, images.Postgres)
	p := start(t)
	_, _, pr := p.tenant(t, "Failing Data Co")
	e := &engineTest{t: t, p: p, engine: "postgres", ctx: context.Background(), project: pr, secrets: &sync.Map{}}

	db, err := p.api.CreateDatabase(e.ctx, client.CreateDatabase{ProjectID: pr.ID, Engine: "postgres", Name: "main"})
	if err != nil {
		t.Fatal(err)
	}
	e.waitStatus(db.ID, "healthy")
	if _, err := e.notes(e.reveal(db.ID).PublishedURL, "before-kill"); err != nil {
		t.Fatalf("writing: %v", err)
	}
	container := "berth-" + db.ID

	// `berth db psql` on a machine without psql runs the one of the
	// service's image on the project's network.
	docker, err := exec.LookPath("docker")
	if err != nil {
		t.Fatal(err)
	}
	bin := t.TempDir()
	if err := os.Symlink(docker, filepath.Join(bin, "docker")); err != nil {
		t.Fatal(err)
	}
	shell := exec.Command(berthBin, "db", "psql", db.ID)
	shell.Env = []string{"PATH=" + bin, "HOME=" + t.TempDir(), "BERTH_API_URL=" + p.apiURL, "BERTH_API_KEY=" + adminKey,
		"BERTH_CONFIG=" + filepath.Join(t.TempDir(), "c.json")}
	shell.Stdin = strings.NewReader("SELECT 'cli-' || body FROM notes;\n")
	out, err := shell.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "cli-before-kill") || !strings.Contains(string(out), "running it from") {
		t.Errorf("berth db psql without psql: %v\n%s", err, out)
	}

	// SIGKILL: unhealthy within seconds, with a reason; healthy again with
	// the data.
	t0 := time.Now()
	dockerRun(t, "kill", "-s", "KILL", container)
	var bad *client.Database
	eventually(t, 10*time.Second, "the killed service to be reported unhealthy", func() bool {
		bad, err = p.api.GetDatabase(e.ctx, db.ID)
		return err == nil && bad.Status == "unhealthy"
	})
	toUnhealthy := time.Since(t0)
	if !strings.Contains(bad.StatusReason, "restarted unexpectedly") && !strings.Contains(bad.StatusReason, "stopped") {
		t.Errorf("unhealthy after SIGKILL because %q", bad.StatusReason)
	}
	e.waitStatus(db.ID, "healthy")
	t.Logf("SIGKILL: unhealthy after %s, healthy again after %s", toUnhealthy.Round(time.Millisecond), time.Since(t0).Round(time.Millisecond))
	if notes, err := e.notes(e.reveal(db.ID).PublishedURL, ""); err != nil || !slices.Contains(notes, "before-kill") {
		t.Fatalf("after SIGKILL the service holds %v, %v", notes, err)
	}

	// A damaged data directory: the server cannot start, and says why.
	dockerRun(t, "exec", container, "sh", "-c", "echo 99 > /var/lib/postgresql/data/PG_VERSION")
	dockerRun(t, "restart", "-t", "10", container)
	eventually(t, 10*time.Second, "the restarted service to be reported", func() bool {
		d, err := p.api.GetDatabase(e.ctx, db.ID)
		return err == nil && d.Status != "healthy"
	})
	var reason string
	eventually(t, 30*time.Second, "the damaged service to be reported with the server's output", func() bool {
		d, err := p.api.GetDatabase(e.ctx, db.ID)
		if err != nil {
			t.Fatal(err)
		}
		if d.Status == "healthy" {
			t.Fatalf("a service with a damaged data directory is reported healthy")
		}
		reason = d.StatusReason
		return (d.Status == "unhealthy" || d.Status == "failed") && strings.Contains(reason, "keeps exiting")
	})
	for _, want := range []string{"version 99", "damaged", "purge"} {
		if !strings.Contains(reason, want) {
			t.Errorf("the damaged service's reason lacks %q:\n%s", want, reason)
		}
	}
	for range 20 { // a few watch rounds: still never healthy
		time.Sleep(250 * time.Millisecond)
		if d, _ := p.api.GetDatabase(e.ctx, db.ID); d != nil && d.Status == "healthy" {
			t.Fatal("the damaged service turned healthy")
		}
	}

	// Delete with purge: nothing it made is left.
	if err := p.api.DeleteDatabase(e.ctx, db.ID, true); err != nil {
		t.Fatalf("delete: %v", err)
	}
	e.cleanedUp(db.ID, "berth-"+strings.ReplaceAll(pr.ID, "_", "-")+"-postgres-main")
}

// TestDatabaseOnDockerDeployHost: a data service of a workspace with a
// Docker Deploy host waits while the host bootstraps (no container runs
// anywhere), then runs there, and a docker_deploy deployment linked to it
// reaches it by name on the host's project network.
func TestDatabaseOnDockerDeployHost(t *testing.T) {
	requireDocker(t)
	ensureImages(t, images.Postgres, images.Node)
	bin, gate := gatedAgent(t)
	p := start(t, func(c *up.Config) { c.AgentBinary = bin })
	_, ws, pr := p.tenant(t, "Host Data Co")
	e := &engineTest{t: t, p: p, engine: "postgres", ctx: context.Background(), project: pr, secrets: &sync.Map{}}
	ctx := e.ctx

	touch(t, filepath.Join(gate, "hold"))
	h, err := p.api.EnsureHost(ctx, client.EnsureHost{WorkspaceID: ws.ID})
	if err != nil {
		t.Fatal(err)
	}
	waitHost(t, p, h.ID, 10*time.Second, "bootstrapping")
	db, err := p.api.CreateDatabase(ctx, client.CreateDatabase{ProjectID: pr.ID, Engine: "postgres", Name: "main"})
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(1500 * time.Millisecond) // time enough for a wrong placement to start a container
	if db, err = p.api.GetDatabase(ctx, db.ID); err != nil || db.Status != "provisioning" || !strings.Contains(db.StatusReason, "Docker Deploy host") {
		t.Fatalf("service while the host bootstraps = %+v, %v", db, err)
	}
	if out, _ := exec.Command("docker", "ps", "-aq", "--filter", "label=berth.database="+db.ID).Output(); len(bytes.TrimSpace(out)) != 0 {
		t.Fatalf("a container runs for the waiting service: %s", out)
	}

	os.Remove(filepath.Join(gate, "hold"))
	if h = waitHost(t, p, h.ID, 30*time.Second, "active", "failed"); h.State != "active" {
		t.Fatalf("host = %+v", h)
	}
	db = e.waitStatus(db.ID, "healthy")
	cr := e.reveal(db.ID)
	if _, err := e.notes(cr.PublishedURL, "on-the-host"); err != nil {
		t.Fatalf("writing: %v", err)
	}

	rel, err := p.api.CreateRelease(ctx, dbAppTar(t), client.ReleaseOptions{ProjectID: pr.ID, TemplateID: "express-api", Port: 3000})
	if err != nil {
		t.Fatal(err)
	}
	dep, err := p.api.Deploy(ctx, client.CreateDeployment{ProjectID: pr.ID, ReleaseID: rel.ID, DeploymentProduct: "docker_deploy"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.api.LinkDatabase(ctx, db.ID, client.CreateDatabaseLink{DeploymentID: dep.ID}); err != nil {
		t.Fatalf("link: %v", err)
	}
	dep = waitReady(t, p, dep.ID, rel.ID)
	e.appSees(dep.URL, cr.Password, "on-the-host")

	if err := p.api.UnlinkDatabase(ctx, db.ID, dep.ID); err != nil {
		t.Fatal(err)
	}
	if err := p.api.DeleteDatabase(ctx, db.ID, true); err != nil {
		t.Fatal(err)
	}
	e.gone(db.ID, "berth-"+db.ID)
}

// cleanedUp checks what a delete with purge leaves of a service: nothing.
// Its record, links, container and volume are gone, and so is the
// project's network once no container is on it. A data service makes no
// route.
func (e *engineTest) cleanedUp(id, volume string) {
	e.t.Helper()
	e.gone(id, "berth-"+id)
	if _, err := e.p.api.DatabaseLinks(e.ctx, id); problemCode(err) != "not_found" {
		e.t.Errorf("the deleted service's links answer %v", err)
	}
	if out, _ := exec.Command("docker", "ps", "-a", "--format", "{{.Names}} {{.Status}} {{.CreatedAt}}", "--filter", "label=berth.database="+id).Output(); len(bytes.TrimSpace(out)) != 0 {
		evs, _ := e.p.api.Events(e.ctx, id, 0)
		var trail []string
		for _, ev := range evs {
			trail = append(trail, ev.CreatedAt.Format(time.StampMilli)+" "+ev.Type)
		}
		e.t.Errorf("containers of the deleted service remain: %s\nits events: %s", out, strings.Join(trail, ", "))
	}
	if volumeExists(volume) {
		e.t.Errorf("delete with purge kept the volume %s", volume)
	}
	network := "berth-" + strings.ReplaceAll(e.project.ID, "_", "-")
	eventually(e.t, time.Minute, "the project's network to go with its last container", func() bool {
		return exec.Command("docker", "network", "inspect", network).Run() != nil
	})
}
