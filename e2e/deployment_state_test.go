package e2e

import (
	"context"
	"os/exec"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/berth-dev/berth/client"
)

// TestDeploymentPauseResumeDelete pauses a real deployment (its container
// stops, its URL answers the edge's unavailable page, its cron job is
// held), resumes it (the same container starts again, no build, the job
// runs again), rolls it back (the job keeps running), and deletes it (the
// containers go, the URL is unrouted, the job is held, the releases stay
// deployable, and a new deploy makes a new deployment).
func TestDeploymentPauseResumeDelete(t *testing.T) {
	p := start(t)
	ctx := context.Background()
	_, _, pr := p.tenant(t, "Pause Co")
	rel1, err := p.api.CreateRelease(ctx, makeTar(file("index.html", "<h1>one</h1>")), client.ReleaseOptions{ProjectID: pr.ID})
	if err != nil {
		t.Fatal(err)
	}
	rel2, err := p.api.CreateRelease(ctx, makeTar(file("index.html", "<h1>two</h1>")), client.ReleaseOptions{ProjectID: pr.ID})
	if err != nil {
		t.Fatal(err)
	}
	d, err := p.api.Deploy(ctx, client.CreateDeployment{ProjectID: pr.ID, ReleaseID: rel1.ID})
	if err != nil {
		t.Fatal(err)
	}
	d = waitReady(t, p, d.ID, rel1.ID)
	job, err := p.api.CreateCronJob(ctx, client.CreateCronJob{ProjectID: pr.ID, DeploymentID: d.ID, Name: "ping", Schedule: "*/5 * * * *",
		Target: client.CronTarget{HTTP: &client.CronHTTP{Path: "/"}}})
	if err != nil {
		t.Fatal(err)
	}
	containers := func(all bool) []string {
		args := []string{"ps", "-q", "--filter", "label=berth.deployment=" + d.ID}
		if all {
			args = append(args, "-a")
		}
		out, _ := exec.Command("docker", args...).Output()
		return strings.Fields(string(out))
	}
	status := func(want string) *client.Deployment {
		t.Helper()
		var got *client.Deployment
		eventually(t, 2*time.Minute, "deployment "+want, func() bool {
			if got, err = p.api.GetDeployment(ctx, d.ID); err != nil {
				t.Fatal(err)
			}
			return got.Status == want
		})
		return got
	}
	jobStatus := func() *client.CronJob {
		t.Helper()
		j, err := p.api.GetCronJob(ctx, job.ID)
		if err != nil {
			t.Fatal(err)
		}
		return j
	}
	running := containers(false)
	if len(running) != 1 {
		t.Fatalf("running containers before the pause: %v", running)
	}

	// Pause.
	if d, err = p.api.PauseDeployment(ctx, d.ID); err != nil || d.DesiredState != "paused" {
		t.Fatalf("pause: %+v %v", d, err)
	}
	code, body, hdr := p.get(t, d.URL)
	if code != 502 || hdr.Get("X-Edge-Page") != "bad-gateway" || strings.Contains(body, "<h1>one</h1>") {
		t.Errorf("the URL of a paused deployment: %d %q", code, hdr.Get("X-Edge-Page"))
	}
	status("paused")
	if now := containers(false); len(now) != 0 || len(containers(true)) != 1 {
		t.Errorf("after the pause: running %v, all %v", now, containers(true))
	}
	if j := jobStatus(); j.Status != "paused" || !strings.Contains(j.StatusReason, "paused") || j.NextRunAt != nil {
		t.Errorf("the job of a paused deployment: %+v", j)
	}
	if _, err := p.api.TriggerCronJob(ctx, job.ID); problemCode(err) != "job_held" {
		t.Errorf("trigger of a held job: %v", err)
	}

	// Resume: the same container, no build.
	evs, _ := p.api.Events(ctx, d.ID, 0)
	mark := evs[len(evs)-1].Seq
	if _, err := p.api.ResumeDeployment(ctx, d.ID); err != nil {
		t.Fatal(err)
	}
	d = status("ready")
	if code, body, _ := p.get(t, d.URL); code != 200 || !strings.Contains(body, "<h1>one</h1>") {
		t.Errorf("after resuming: %d %q", code, body)
	}
	if now := containers(false); len(now) != 1 || now[0] != running[0] {
		t.Errorf("resume ran %v, want the container it paused, %v", now, running)
	}
	evs, _ = p.api.Events(ctx, d.ID, mark)
	for _, e := range evs {
		if e.Type == "deployment.building" || e.Type == "deployment.uploading" {
			t.Errorf("resume built: %s %s", e.Type, e.Message)
		}
	}
	if j := jobStatus(); j.Status != "active" || j.NextRunAt == nil {
		t.Errorf("the job after resuming: %+v", j)
	}
	r, err := p.api.TriggerCronJob(ctx, job.ID)
	if err != nil {
		t.Fatal(err)
	}
	eventually(t, time.Minute, "the triggered run to succeed", func() bool {
		r, _ = p.api.CronRun(ctx, job.ID, r.ID)
		return r != nil && r.Status == "succeeded" && strings.Contains(r.Output, "<h1>one</h1>")
	})

	// A rollback keeps the job running.
	if _, err := p.api.Deploy(ctx, client.CreateDeployment{ProjectID: pr.ID, ReleaseID: rel2.ID}); err != nil {
		t.Fatal(err)
	}
	waitReady(t, p, d.ID, rel2.ID)
	if _, err := p.api.Rollback(ctx, d.ID, ""); err != nil {
		t.Fatal(err)
	}
	waitReady(t, p, d.ID, rel1.ID)
	if j := jobStatus(); j.Status != "active" || j.NextRunAt == nil {
		t.Errorf("the job after a rollback: %+v", j)
	}

	// Delete.
	if d, err = p.api.DeleteDeployment(ctx, d.ID); err != nil || d.DesiredState != "deleted" {
		t.Fatalf("delete: %+v %v", d, err)
	}
	status("deleted")
	eventually(t, 30*time.Second, "the containers to go", func() bool { return len(containers(true)) == 0 })
	if code, _, hdr := p.get(t, d.URL); code != 404 || hdr.Get("X-Edge-Page") != "not-found" {
		t.Errorf("the URL of a deleted deployment: %d %q", code, hdr.Get("X-Edge-Page"))
	}
	if j := jobStatus(); j.Status != "paused" || !strings.Contains(j.StatusReason, "deleted") {
		t.Errorf("the job of a deleted deployment: %+v", j)
	}
	if _, err := p.api.ResumeDeployment(ctx, d.ID); problemCode(err) != "deployment_deleted" {
		t.Errorf("resuming a deleted deployment: %v", err)
	}
	if _, err := p.api.GetRelease(ctx, rel1.ID); err != nil {
		t.Errorf("the release of a deleted deployment: %v", err)
	}
	d2, err := p.api.Deploy(ctx, client.CreateDeployment{ProjectID: pr.ID, ReleaseID: rel1.ID})
	if err != nil {
		t.Fatal(err)
	}
	if d2.ID == d.ID {
		t.Fatalf("a deploy after the delete revived the deleted deployment")
	}
	d2 = waitReady(t, p, d2.ID, rel1.ID)
	if code, body, _ := p.get(t, d2.URL); code != 200 || !strings.Contains(body, "<h1>one</h1>") || d2.URL != d.URL {
		t.Errorf("the new deployment at %s (was %s): %d %q", d2.URL, d.URL, code, body)
	}
}

// TestComposePauseResume pauses a compose deployment (every service's
// container stops), resumes it (the same containers start again and the
// web service serves) and deletes it (every service's container goes).
func TestComposePauseResume(t *testing.T) {
	p := start(t)
	ctx := context.Background()
	_, _, pr := p.tenant(t, "Compose Pause")
	composeFile := `services:
  web:
    build: ./web
    expose: ["8080"]
  worker:
    image: berth/debian:bookworm
    command: ["sleep", "infinity"]
`
	rel, err := p.api.CreateRelease(ctx, makeTar(file("compose.yaml", composeFile), file("web/index.html", "<h1>composed</h1>"),
		file("web/Dockerfile", "FROM nginx\nCOPY index.html /usr/share/nginx/html/index.html\n")),
		client.ReleaseOptions{ProjectID: pr.ID, TemplateID: "compose-full-stack"})
	if err != nil {
		t.Fatal(err)
	}
	d, err := p.api.Deploy(ctx, client.CreateDeployment{ProjectID: pr.ID, ReleaseID: rel.ID})
	if err != nil {
		t.Fatal(err)
	}
	d = waitReady(t, p, d.ID, rel.ID)
	ps := func(all bool) []string {
		args := []string{"ps", "-q", "--filter", "label=berth.deployment=" + d.ID}
		if all {
			args = append(args, "-a")
		}
		out, _ := exec.Command("docker", args...).Output()
		return strings.Fields(string(out))
	}
	before := ps(false)
	if len(before) != 2 {
		t.Fatalf("running services: %v", before)
	}
	if _, err := p.api.PauseDeployment(ctx, d.ID); err != nil {
		t.Fatal(err)
	}
	eventually(t, time.Minute, "the services to stop", func() bool {
		cur, _ := p.api.GetDeployment(ctx, d.ID)
		return cur != nil && cur.Status == "paused" && len(ps(false)) == 0
	})
	if len(ps(true)) != 2 {
		t.Errorf("paused services' containers: %v", ps(true))
	}
	if _, err := p.api.ResumeDeployment(ctx, d.ID); err != nil {
		t.Fatal(err)
	}
	d = waitReady(t, p, d.ID, rel.ID)
	after := ps(false)
	slices.Sort(before)
	slices.Sort(after)
	if !slices.Equal(before, after) {
		t.Errorf("resumed %v, want the paused containers %v", after, before)
	}
	if code, body, _ := p.get(t, d.URL); code != 200 || !strings.Contains(body, "composed") {
		t.Errorf("after resuming: %d %q", code, body)
	}
	if _, err := p.api.DeleteDeployment(ctx, d.ID); err != nil {
		t.Fatal(err)
	}
	eventually(t, time.Minute, "every service's container to go", func() bool {
		cur, _ := p.api.GetDeployment(ctx, d.ID)
		return cur != nil && cur.Status == "deleted" && len(ps(true)) == 0
	})
}
