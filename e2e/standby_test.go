package e2e

import (
	"context"
	"os/exec"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/berth-dev/berth/client"
	"github.com/berth-dev/berth/internal/up"
)

// deploymentContainers maps each container of a deployment (any state)
// to its release and state, as the engine reports them.
func deploymentContainers(t *testing.T, depID string) map[string][2]string {
	t.Helper()
	out, err := exec.Command("docker", "ps", "-aq", "--no-trunc", "--filter", "label=berth.deployment="+depID).Output()
	if err != nil {
		t.Fatal(err)
	}
	got := map[string][2]string{}
	for _, id := range strings.Fields(string(out)) {
		out, err := exec.Command("docker", "inspect", "--format", `{{index .Config.Labels "berth.release"}} {{.State.Status}}`, id).Output()
		if err != nil {
			continue // removed since the list
		}
		rel, state, _ := strings.Cut(strings.TrimSpace(string(out)), " ")
		got[id] = [2]string{rel, state}
	}
	return got
}

// containersAre waits until the deployment's containers are exactly the
// given releases in the given states ("rel state"), and returns their ids
// by release.
func containersAre(t *testing.T, depID, what string, want ...string) map[string]string {
	t.Helper()
	var got map[string][2]string
	ids := map[string]string{}
	deadline := time.Now().Add(30 * time.Second)
	for {
		got = deploymentContainers(t, depID)
		var have []string
		for id, rs := range got {
			have = append(have, rs[0]+" "+rs[1])
			ids[rs[0]] = id
		}
		slices.Sort(have)
		w := slices.Sorted(slices.Values(want))
		if slices.Equal(have, w) {
			return ids
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: containers %v, want %v", what, have, w)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// TestRollbackStandby: the container a deploy replaces is kept, frozen,
// and a rollback to its release thaws it and switches to it (no container
// made, no request failed); a later deploy replaces the standby; a standby
// made with other variables is not woken; a paused deployment's standby
// is started again by a rollback; one removed by hand is replaced by a new
// container; deleting the deployment removes it.
func TestRollbackStandby(t *testing.T) {
	p := start(t)
	ctx := context.Background()
	_, _, pr := p.tenant(t, "Standby Co")
	var rels []*client.Release
	for _, body := range []string{"one", "two", "three"} {
		rel, err := p.api.CreateRelease(ctx, makeTar(file("index.html", "<h1>"+body+"</h1>")), client.ReleaseOptions{ProjectID: pr.ID})
		if err != nil {
			t.Fatal(err)
		}
		rels = append(rels, rel)
	}
	r1, r2, r3 := rels[0].ID, rels[1].ID, rels[2].ID
	deploy := func(rel string, env map[string]string) *client.Deployment {
		t.Helper()
		d, err := p.api.Deploy(ctx, client.CreateDeployment{ProjectID: pr.ID, ReleaseID: rel, Env: env})
		if err != nil {
			t.Fatal(err)
		}
		return waitReady(t, p, d.ID, rel)
	}
	d := deploy(r1, nil)
	first := containersAre(t, d.ID, "one release", r1+" running")[r1]
	deploy(r2, nil)
	ids := containersAre(t, d.ID, "after the second deploy", r2+" running", r1+" paused")
	if ids[r1] != first {
		t.Fatalf("the standby of release one is %s, not the container that served it (%s)", ids[r1], first)
	}
	if cur, err := p.api.GetDeployment(ctx, d.ID); err != nil || cur.StandbyReleaseID != r1 {
		t.Fatalf("standby_release_id = %+v, %v; want %s", cur, err, r1)
	}
	second := ids[r2]

	// The rollback wakes the standby: the same container serves again.
	evs, _ := p.api.Events(ctx, d.ID, 0)
	last := evs[len(evs)-1].Seq
	stop, fails, seen := loop(p, d.URL)
	if _, err := p.api.Rollback(ctx, d.ID, ""); err != nil {
		t.Fatal(err)
	}
	waitReady(t, p, d.ID, r1)
	if _, body, _ := p.get(t, d.URL); !strings.Contains(body, "one") {
		t.Fatalf("after the rollback: %q", body)
	}
	time.Sleep(DrainMargin)
	if n := stop(); fails.Load() != 0 {
		t.Fatalf("%d of %d requests failed during the rollback; last: %v", fails.Load(), n, seen.Load())
	}
	ids = containersAre(t, d.ID, "after the rollback", r1+" running", r2+" paused")
	if ids[r1] != first || ids[r2] != second {
		t.Fatalf("the rollback made containers: %v, want %s serving and %s frozen", ids, first, second)
	}
	evs, _ = p.api.Events(ctx, d.ID, last)
	var types []string
	for _, e := range evs {
		types = append(types, e.Type+": "+e.Message)
	}
	if !slices.ContainsFunc(types, func(s string) bool { return strings.Contains(s, "waking the standby container of release "+r1) }) ||
		slices.ContainsFunc(types, func(s string) bool { return strings.HasPrefix(s, "deployment.building") }) {
		t.Fatalf("events of the rollback: %q", types)
	}

	// A new release replaces the standby: what served becomes it.
	deploy(r3, nil)
	ids = containersAre(t, d.ID, "after the third deploy", r3+" running", r1+" paused")
	if ids[r1] != first {
		t.Fatalf("the standby is %s, want the container of release one %s", ids[r1], first)
	}

	// New variables: the same release restarts (its old container goes,
	// the standby stays), and the standby, made without them, is not
	// woken: a rollback makes a new container that has them.
	deploy(r3, map[string]string{"GREETING": "hello"})
	ids = containersAre(t, d.ID, "after new variables", r3+" running", r1+" paused")
	if env := containerEnv(t, ids[r3]); !strings.Contains(env, "GREETING=hello\n") {
		t.Fatalf("the restarted container lacks the new variable:\n%s", env)
	}
	if _, err := p.api.Rollback(ctx, d.ID, r1); err != nil {
		t.Fatal(err)
	}
	waitReady(t, p, d.ID, r1)
	ids = containersAre(t, d.ID, "after a rollback with new variables", r1+" running", r3+" paused")
	if ids[r1] == first || !strings.Contains(containerEnv(t, ids[r1]), "GREETING=hello\n") {
		t.Fatalf("the rollback woke a standby made without the new variables (%s)", ids[r1])
	}
	third := ids[r3]

	// Paused, every container stops; a rollback after the resume starts
	// the stopped standby rather than making one.
	if _, err := p.api.PauseDeployment(ctx, d.ID); err != nil {
		t.Fatal(err)
	}
	containersAre(t, d.ID, "paused", r1+" exited", r3+" exited")
	if _, err := p.api.ResumeDeployment(ctx, d.ID); err != nil {
		t.Fatal(err)
	}
	waitReady(t, p, d.ID, r1)
	if _, err := p.api.Rollback(ctx, d.ID, r3); err != nil {
		t.Fatal(err)
	}
	waitReady(t, p, d.ID, r3)
	if ids = containersAre(t, d.ID, "after a rollback to a stopped standby", r3+" running", r1+" paused"); ids[r3] != third {
		t.Fatalf("the rollback made %s instead of starting the standby %s", ids[r3], third)
	}
	if _, body, _ := p.get(t, d.URL); !strings.Contains(body, "three") {
		t.Fatalf("after the rollback to three: %q", body)
	}

	// A standby removed behind Berth's back is forgotten: the rollback
	// makes a new container.
	gone := ids[r1]
	if out, err := exec.Command("docker", "rm", "-f", gone).CombinedOutput(); err != nil {
		t.Fatalf("docker rm: %v %s", err, out)
	}
	if _, err := p.api.Rollback(ctx, d.ID, r1); err != nil {
		t.Fatal(err)
	}
	waitReady(t, p, d.ID, r1)
	if ids = containersAre(t, d.ID, "after a rollback to a removed standby", r1+" running", r3+" paused"); ids[r1] == gone || ids[r3] != third {
		t.Fatalf("containers %v after a rollback to the removed %s", ids, gone)
	}

	if _, err := p.api.DeleteDeployment(ctx, d.ID); err != nil {
		t.Fatal(err)
	}
	containersAre(t, d.ID, "deleted")
	if cur, err := p.api.GetDeployment(ctx, d.ID); err != nil || cur.StandbyReleaseID != "" {
		t.Fatalf("a deleted deployment names a standby: %+v, %v", cur, err)
	}
}

// TestRollbackNoStandby: with --rollback-standby=false the replaced
// container goes, and a rollback makes a new one from the kept image.
func TestRollbackNoStandby(t *testing.T) {
	p := start(t, func(c *up.Config) { c.NoStandby = true })
	ctx := context.Background()
	_, _, pr := p.tenant(t, "Cold Co")
	var d *client.Deployment
	var rels []string
	for _, body := range []string{"one", "two"} {
		rel, err := p.api.CreateRelease(ctx, makeTar(file("index.html", "<h1>"+body+"</h1>")), client.ReleaseOptions{ProjectID: pr.ID})
		if err != nil {
			t.Fatal(err)
		}
		if d, err = p.api.Deploy(ctx, client.CreateDeployment{ProjectID: pr.ID, ReleaseID: rel.ID}); err != nil {
			t.Fatal(err)
		}
		waitReady(t, p, d.ID, rel.ID)
		rels = append(rels, rel.ID)
	}
	containersAre(t, d.ID, "after two deploys", rels[1]+" running")
	if _, err := p.api.Rollback(ctx, d.ID, ""); err != nil {
		t.Fatal(err)
	}
	waitReady(t, p, d.ID, rels[0])
	containersAre(t, d.ID, "after the rollback", rels[0]+" running")
}

// TestDeployDuringRollout: a deploy that arrives while the previous one
// is still rolling out is not lost: the reconciler's write-back of the
// first rollout never puts the first release back, and the second serves.
func TestDeployDuringRollout(t *testing.T) {
	p := start(t)
	ctx := context.Background()
	_, _, pr := p.tenant(t, "Busy Co")
	var rels []*client.Release
	for _, body := range []string{"first", "second"} {
		rel, err := p.api.CreateRelease(ctx, makeTar(file("index.html", "<h1>"+body+"</h1>")), client.ReleaseOptions{ProjectID: pr.ID})
		if err != nil {
			t.Fatal(err)
		}
		rels = append(rels, rel)
	}
	d, err := p.api.Deploy(ctx, client.CreateDeployment{ProjectID: pr.ID, ReleaseID: rels[0].ID})
	if err != nil {
		t.Fatal(err)
	}
	eventually(t, time.Minute, "the first rollout under way", func() bool {
		cur, err := p.api.GetDeployment(ctx, d.ID)
		return err == nil && (cur.Status == "building" || cur.Status == "starting")
	})
	if _, err := p.api.Deploy(ctx, client.CreateDeployment{ProjectID: pr.ID, ReleaseID: rels[1].ID}); err != nil {
		t.Fatal(err)
	}
	cur := waitReady(t, p, d.ID, rels[1].ID)
	if cur.ReleaseID != rels[1].ID {
		t.Fatalf("release_id %s after the second deploy, want %s", cur.ReleaseID, rels[1].ID)
	}
	time.Sleep(DrainMargin)
	if cur, _ = p.api.GetDeployment(ctx, d.ID); cur.ReleaseID != rels[1].ID || cur.ServingReleaseID != rels[1].ID || !cur.Ready {
		t.Fatalf("after the rollouts settled: %+v", cur)
	}
	if _, body, _ := p.get(t, d.URL); !strings.Contains(body, "second") {
		t.Fatalf("serves %q, want the second release", body)
	}
}
