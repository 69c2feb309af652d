package e2e

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/berth-dev/berth/client"
)

// TestCronKillMidRun kills `berth up` with SIGKILL while a command run is
// in its container and starts it again: the run is recorded failed once
// its lease expires (not lost, not run again), its container is removed,
// and the scheduler goes on.
func TestCronKillMidRun(t *testing.T) {
	requireDocker(t)
	ctx := context.Background()
	u := &upProcess{dataDir: t.TempDir(), apiAddr: freePort(t), edgeAdr: freePort(t),
		env: append(os.Environ(), "BERTH_BOOTSTRAP_KEY="+adminKey, "BERTH_CONFIG="+filepath.Join(t.TempDir(), "config.json"))}
	startProcess(t, u)
	t.Cleanup(func() {
		u.cmd.Process.Kill()
		u.cmd.Wait()
		removeContainers(t, u.dataDir)
	})
	p := &platform{api: client.New("http://"+u.apiAddr, adminKey), apiURL: "http://" + u.apiAddr, edgeAddr: u.edgeAdr}
	p.web = webClient(u.edgeAdr)
	_, _, pr := p.tenant(t, "Kill Cron")
	rel, err := p.api.CreateRelease(ctx, makeTar(file("index.html", "<h1>up</h1>")), client.ReleaseOptions{ProjectID: pr.ID})
	if err != nil {
		t.Fatal(err)
	}
	d, err := p.api.Deploy(ctx, client.CreateDeployment{ProjectID: pr.ID, ReleaseID: rel.ID})
	if err != nil {
		t.Fatal(err)
	}
	waitReady(t, p, d.ID, rel.ID)
	slow, err := p.api.CreateCronJob(ctx, client.CreateCronJob{ProjectID: pr.ID, DeploymentID: d.ID, Name: "slow", Schedule: "0 3 1 1 *",
		TimeoutS: 600, Target: client.CronTarget{Command: []string{"sleep", "600"}}})
	if err != nil {
		t.Fatal(err)
	}
	run, err := p.api.TriggerCronJob(ctx, slow.ID)
	if err != nil {
		t.Fatal(err)
	}
	container := func() string {
		out, _ := exec.Command("docker", "ps", "-aq", "--filter", "label=berth.cron_run="+run.ID).Output()
		return strings.TrimSpace(string(out))
	}
	eventually(t, time.Minute, "the run's container", func() bool {
		r, err := p.api.CronRun(ctx, slow.ID, run.ID)
		return err == nil && r.Status == "running" && container() != ""
	})

	u.cmd.Process.Signal(syscall.SIGKILL)
	u.cmd.Wait()
	killed := time.Now()
	startProcess(t, u)

	var r *client.CronRun
	eventually(t, time.Minute, "the interrupted run to be recorded", func() bool {
		r, err = p.api.CronRun(ctx, slow.ID, run.ID)
		return err == nil && r.Status != "running"
	})
	if r.Status != "failed" || !strings.Contains(r.Reason, "lease expired") || r.FinishedAt == nil {
		t.Errorf("the interrupted run: %+v", r)
	}
	if took := time.Since(killed); took > 45*time.Second {
		t.Errorf("recorded %s after the kill; a lease lasts 30 s", took)
	}
	eventually(t, 30*time.Second, "the interrupted run's container to go", func() bool { return container() == "" })
	time.Sleep(2 * time.Second)
	if runs, _ := p.api.CronRuns(ctx, slow.ID); len(runs) != 1 {
		t.Errorf("the job has %d runs after the restart, want the 1 interrupted: %+v", len(runs), runs)
	}

	// The scheduler goes on after the restart.
	ping, err := p.api.CreateCronJob(ctx, client.CreateCronJob{ProjectID: pr.ID, DeploymentID: d.ID, Name: "ping", Schedule: "0 3 1 1 *",
		Target: client.CronTarget{HTTP: &client.CronHTTP{Path: "/"}}})
	if err != nil {
		t.Fatal(err)
	}
	next, err := p.api.TriggerCronJob(ctx, ping.ID)
	if err != nil {
		t.Fatal(err)
	}
	eventually(t, 30*time.Second, "a run after the restart to succeed", func() bool {
		r, err := p.api.CronRun(ctx, ping.ID, next.ID)
		return err == nil && r.Status == "succeeded"
	})
}
