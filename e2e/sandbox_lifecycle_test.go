package e2e

import (
	"context"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/berth-dev/berth/client"
	"github.com/berth-dev/berth/internal/up"
)

// TestSandboxLifecycle stops, starts, pauses, resumes and deletes a
// sandbox on the real engine: files survive a stop, the preview shows the
// unavailable page while the sandbox is held, a bad transition is a 409
// that changes nothing, and a release published from a deleted sandbox
// still deploys and rolls back.
func TestSandboxLifecycle(t *testing.T) {
	// A resync every 200ms: a held sandbox must stay as it is through many.
	p := start(t, func(c *up.Config) { c.Resync = 200 * time.Millisecond })
	ctx := context.Background()
	_, _, pr := p.tenant(t, "Lifecycle Co")
	sb, err := p.api.CreateSandbox(ctx, client.CreateSandbox{ProjectID: pr.ID, TemplateID: "static-html"})
	if err != nil || sb.Status != "running" {
		t.Fatalf("create sandbox: %+v %v", sb, err)
	}
	if err := p.api.WriteFile(ctx, sb.ID, "index.html", []byte("<h1>kept</h1>")); err != nil {
		t.Fatal(err)
	}
	served := func(what string) {
		t.Helper()
		eventually(t, 20*time.Second, what, func() bool {
			code, body, _ := p.get(t, sb.PreviewURL)
			return code == 200 && strings.Contains(body, "kept")
		})
	}
	unavailable := func(what string) {
		t.Helper()
		code, body, hdr := p.get(t, sb.PreviewURL)
		if code != 502 || hdr.Get("X-Edge-Page") != "bad-gateway" || strings.Contains(body, "kept") {
			t.Fatalf("the preview of a %s sandbox: %d %q", what, code, hdr.Get("X-Edge-Page"))
		}
	}
	status := func(want string) *client.Sandbox {
		t.Helper()
		cur, err := p.api.GetSandbox(ctx, sb.ID)
		if err != nil || cur.Status != want {
			t.Fatalf("sandbox = %+v %v; want status %s", cur, err, want)
		}
		return cur
	}
	conflict := func(what string, do func(context.Context, string) (*client.Sandbox, error), was string) {
		t.Helper()
		_, err := do(ctx, sb.ID)
		pb, ok := err.(*client.Problem)
		if !ok || pb.Status != 409 || pb.Code != "invalid_state" || !strings.Contains(pb.Detail, "/sandboxes/") && !strings.Contains(pb.Detail, "new sandbox") {
			t.Fatalf("%s: %v, want a 409 invalid_state that says what to do", what, err)
		}
		status(was)
	}
	served("the preview")

	// Stop: the container stops, the files stay, the periodic resync leaves it.
	if s, err := p.api.StopSandbox(ctx, sb.ID); err != nil || s.Status != "stopped" || s.StatusReason == "" {
		t.Fatalf("stop: %+v %v", s, err)
	}
	if s, err := p.api.StopSandbox(ctx, sb.ID); err != nil || s.Status != "stopped" {
		t.Fatalf("stop again: %+v %v", s, err)
	}
	unavailable("stopped")
	if running := dockerPS(t, "label=berth.sandbox="+sb.ID, "status=running"); len(running) != 0 {
		t.Fatalf("a stopped sandbox's container runs: %v", running)
	}
	conflict("resume a stopped sandbox", p.api.ResumeSandbox, "stopped")
	conflict("pause a stopped sandbox", p.api.PauseSandbox, "stopped")
	if _, err := p.api.Exec(ctx, sb.ID, client.Exec{Command: "true"}); problemCode(err) != "sandbox_not_running" {
		t.Fatalf("exec in a stopped sandbox: %v", err)
	}
	time.Sleep(time.Second) // five resyncs
	status("stopped")
	if running := dockerPS(t, "label=berth.sandbox="+sb.ID, "status=running"); len(running) != 0 {
		t.Fatalf("a resync started a stopped sandbox's container: %v", running)
	}

	// Start: the same files and the dev server back.
	if s, err := p.api.StartSandbox(ctx, sb.ID); err != nil || s.Status != "running" {
		t.Fatalf("start: %+v %v", s, err)
	}
	if b, err := p.api.ReadFile(ctx, sb.ID, "index.html"); err != nil || string(b) != "<h1>kept</h1>" {
		t.Fatalf("the file after a stop and start: %q %v", b, err)
	}
	served("the preview after start")

	// Pause: the unavailable page; resume: served again.
	if s, err := p.api.PauseSandbox(ctx, sb.ID); err != nil || s.Status != "paused" || s.StatusReason == "" {
		t.Fatalf("pause: %+v %v", s, err)
	}
	unavailable("paused")
	if paused := dockerPS(t, "label=berth.sandbox="+sb.ID, "status=paused"); len(paused) != 1 {
		t.Fatalf("the paused sandbox's containers: %v", paused)
	}
	conflict("start a paused sandbox", p.api.StartSandbox, "paused")
	conflict("restart a paused sandbox", p.api.RestartSandbox, "paused")
	time.Sleep(time.Second) // five resyncs
	status("paused")
	if paused := dockerPS(t, "label=berth.sandbox="+sb.ID, "status=paused"); len(paused) != 1 {
		t.Fatalf("a resync thawed a paused sandbox: %v", paused)
	}
	if s, err := p.api.ResumeSandbox(ctx, sb.ID); err != nil || s.Status != "running" {
		t.Fatalf("resume: %+v %v", s, err)
	}
	served("the preview after resume")

	// A release, then delete: no container, no volume, no route, out of lists.
	rel, err := p.api.Publish(ctx, sb.ID)
	if err != nil {
		t.Fatalf("publish: %v", err)
	}
	if err := p.api.DeleteSandbox(ctx, sb.ID); err != nil {
		t.Fatalf("delete: %v", err)
	}
	if err := p.api.DeleteSandbox(ctx, sb.ID); err != nil {
		t.Fatalf("delete again: %v", err)
	}
	status("deleted")
	if left := dockerPS(t, "label=berth.sandbox="+sb.ID); len(left) != 0 {
		t.Fatalf("containers left by a deleted sandbox: %v", left)
	}
	vol := "berth-" + strings.ReplaceAll(sb.ID, "_", "-")
	if err := exec.Command("docker", "volume", "inspect", vol).Run(); err == nil {
		t.Fatalf("volume %s is left after the delete", vol)
	}
	if code, _, hdr := p.get(t, sb.PreviewURL); code != 404 || hdr.Get("X-Edge-Page") != "not-found" {
		t.Fatalf("the preview of a deleted sandbox: %d %q", code, hdr.Get("X-Edge-Page"))
	}
	list, err := p.api.ListSandboxes(ctx, client.ListOptions{ProjectID: pr.ID})
	if err != nil || len(list.Data) != 0 {
		t.Fatalf("sandboxes after the delete = %+v %v", list, err)
	}
	conflict("pause a deleted sandbox", p.api.PauseSandbox, "deleted")
	conflict("start a deleted sandbox", p.api.StartSandbox, "deleted")
	time.Sleep(time.Second) // five resyncs
	if left := dockerPS(t, "label=berth.sandbox="+sb.ID); len(left) != 0 {
		t.Fatalf("a resync made a deleted sandbox's container again: %v", left)
	}

	// The release outlives its sandbox: deploy it, then roll back to it.
	d, err := p.api.Deploy(ctx, client.CreateDeployment{ProjectID: pr.ID, ReleaseID: rel.ID})
	if err != nil {
		t.Fatalf("deploy: %v", err)
	}
	d = waitReady(t, p, d.ID, rel.ID)
	if code, body, _ := p.get(t, d.URL); code != 200 || !strings.Contains(body, "kept") {
		t.Fatalf("the deployment of a deleted sandbox's release: %d %q", code, body)
	}
	sb2, err := p.api.CreateSandbox(ctx, client.CreateSandbox{ProjectID: pr.ID, TemplateID: "static-html"})
	if err != nil {
		t.Fatal(err)
	}
	if err := p.api.WriteFile(ctx, sb2.ID, "index.html", []byte("<h1>second</h1>")); err != nil {
		t.Fatal(err)
	}
	rel2, err := p.api.Publish(ctx, sb2.ID)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.api.Deploy(ctx, client.CreateDeployment{ProjectID: pr.ID, ReleaseID: rel2.ID}); err != nil {
		t.Fatal(err)
	}
	waitReady(t, p, d.ID, rel2.ID)
	if _, err := p.api.Rollback(ctx, d.ID, rel.ID); err != nil {
		t.Fatalf("rollback to the deleted sandbox's release: %v", err)
	}
	waitReady(t, p, d.ID, rel.ID)
	eventually(t, 10*time.Second, "the first release served again", func() bool {
		_, body, _ := p.get(t, d.URL)
		return strings.Contains(body, "kept")
	})
}

// dockerPS lists the ids of this engine's containers matching filters.
func dockerPS(t *testing.T, filters ...string) []string {
	t.Helper()
	args := []string{"ps", "-aq"}
	for _, f := range filters {
		args = append(args, "--filter", f)
	}
	out, err := exec.Command("docker", args...).Output()
	if err != nil {
		t.Fatalf("docker ps: %v", err)
	}
	return strings.Fields(string(out))
}
