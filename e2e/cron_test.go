package e2e

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/berth-dev/berth/client"
)

// TestCron runs cron jobs against a real deployment: HTTP requests that
// go through the edge as a user's would, commands in one-off containers
// of the serving release with the deployment's env (removed afterwards),
// a forbidden overlap recorded as skipped, a timeout, bad input refused
// with nothing written, and one run the scheduler starts on its own at a
// real minute in a non-UTC zone.
func TestCron(t *testing.T) {
	p := start(t)
	ctx := context.Background()
	_, ws, pr := p.tenant(t, "Cron Co")
	other, err := p.api.CreateProject(ctx, client.CreateProject{WorkspaceID: ws.ID, Name: "Other"})
	if err != nil {
		t.Fatal(err)
	}
	rel, err := p.api.CreateRelease(ctx, makeTar(file("index.html", "<h1>cron target</h1>")), client.ReleaseOptions{ProjectID: pr.ID})
	if err != nil {
		t.Fatal(err)
	}
	d, err := p.api.Deploy(ctx, client.CreateDeployment{ProjectID: pr.ID, ReleaseID: rel.ID, Env: map[string]string{"GREETING": "hello from env"}})
	if err != nil {
		t.Fatal(err)
	}
	waitReady(t, p, d.ID, rel.ID)
	relOther, err := p.api.CreateRelease(ctx, makeTar(file("index.html", "other")), client.ReleaseOptions{ProjectID: other.ID})
	if err != nil {
		t.Fatal(err)
	}
	dOther, err := p.api.Deploy(ctx, client.CreateDeployment{ProjectID: other.ID, ReleaseID: relOther.ID})
	if err != nil {
		t.Fatal(err)
	}

	// Created first, so its minute comes while the rest runs.
	every, err := p.api.CreateCronJob(ctx, client.CreateCronJob{ProjectID: pr.ID, DeploymentID: d.ID, Name: "every-minute",
		Schedule: "* * * * *", Timezone: "Asia/Kolkata", Target: client.CronTarget{HTTP: &client.CronHTTP{Path: "/"}}})
	if err != nil {
		t.Fatal(err)
	}

	job := func(name string, target client.CronTarget, timeout int) *client.CronJob {
		t.Helper()
		j, err := p.api.CreateCronJob(ctx, client.CreateCronJob{ProjectID: pr.ID, DeploymentID: d.ID, Name: name, Schedule: "0 3 1 1 *",
			Timezone: "America/New_York", Target: target, TimeoutS: timeout})
		if err != nil {
			t.Fatalf("creating %s: %v", name, err)
		}
		return j
	}
	finished := func(j *client.CronJob, runID string) *client.CronRun {
		t.Helper()
		var r *client.CronRun
		eventually(t, time.Minute, "run "+runID+" of "+j.Name+" to end", func() bool {
			if r, err = p.api.CronRun(ctx, j.ID, runID); err != nil {
				t.Fatal(err)
			}
			return r.Status != "scheduled" && r.Status != "running"
		})
		return r
	}
	run := func(j *client.CronJob) *client.CronRun {
		t.Helper()
		r, err := p.api.TriggerCronJob(ctx, j.ID)
		if err != nil {
			t.Fatal(err)
		}
		return finished(j, r.ID)
	}
	leftovers := func(runID string) string {
		out, _ := exec.Command("docker", "ps", "-aq", "--filter", "label=berth.cron_run="+runID).Output()
		return strings.TrimSpace(string(out))
	}

	t.Run("http", func(t *testing.T) {
		j := job("home", client.CronTarget{HTTP: &client.CronHTTP{Path: "/", Headers: map[string]string{"X-Token": "s3cret"}}}, 0)
		if j.Concurrency != "forbid" || j.TimeoutS != 60 || j.NextRunAt == nil || j.Target.HTTP == nil || len(j.Target.HTTP.Headers) != 0 ||
			j.Target.HTTP.HeaderNames[0] != "X-Token" || j.DeploymentID != d.ID || j.Timezone != "America/New_York" {
			t.Errorf("created %+v", j)
		}
		r := run(j)
		if r.Status != "succeeded" || r.HTTPStatus != 200 || !strings.Contains(r.Output, "cron target") || r.DurationMS == nil || r.Trigger != "manual" {
			t.Errorf("run %+v", r)
		}
		r = run(job("missing", client.CronTarget{HTTP: &client.CronHTTP{Path: "/nope"}}, 0))
		if r.Status != "failed" || r.HTTPStatus != 404 || !strings.Contains(r.Reason, "404") {
			t.Errorf("a 404 run %+v", r)
		}
	})

	t.Run("command", func(t *testing.T) {
		r := run(job("greet", client.CronTarget{Command: []string{"sh", "-c", `echo "$GREETING"; echo oops >&2; exit 3`}}, 0))
		if r.Status != "failed" || r.ExitCode == nil || *r.ExitCode != 3 || !strings.Contains(r.Output, "hello from env") || !strings.Contains(r.Output, "oops") {
			t.Errorf("run %+v", r)
		}
		if ids := leftovers(r.ID); ids != "" {
			t.Errorf("the run's container is still there: %s", ids)
		}
		// An argv runs as it is: no shell expands $GREETING or splits words.
		r = run(job("ok", client.CronTarget{Command: []string{"echo", "$GREETING", "a  b"}}, 0))
		if r.Status != "succeeded" || r.ExitCode == nil || *r.ExitCode != 0 || r.Output != "$GREETING a  b\n" {
			t.Errorf("run %+v", r)
		}
		r = run(job("no-program", client.CronTarget{Command: []string{"echo ok"}}, 0))
		if r.Status != "failed" || !strings.Contains(r.Reason, `no program "echo ok"`) || !strings.Contains(r.Reason, `"sh", "-c"`) {
			t.Errorf("a run of a program the image lacks %+v", r)
		}
	})

	t.Run("overlap and timeout", func(t *testing.T) {
		j := job("slow", client.CronTarget{Command: []string{"sleep", "30"}}, 3)
		first, err := p.api.TriggerCronJob(ctx, j.ID)
		if err != nil {
			t.Fatal(err)
		}
		eventually(t, 30*time.Second, "the first run to start", func() bool {
			r, _ := p.api.CronRun(ctx, j.ID, first.ID)
			return r != nil && r.Status == "running"
		})
		second, err := p.api.TriggerCronJob(ctx, j.ID)
		if err != nil {
			t.Fatal(err)
		}
		if r := finished(j, second.ID); r.Status != "skipped" || !strings.Contains(r.Reason, first.ID) {
			t.Errorf("overlapping run %+v", r)
		}
		r := finished(j, first.ID)
		if r.Status != "timed_out" || r.DurationMS == nil || *r.DurationMS < 3000 || *r.DurationMS > 20000 {
			t.Errorf("slow run %+v", r)
		}
		eventually(t, 30*time.Second, "the timed-out run's container to go", func() bool { return leftovers(first.ID) == "" })
	})

	t.Run("bad input", func(t *testing.T) {
		before, err := p.api.ListCronJobs(ctx, "")
		if err != nil {
			t.Fatal(err)
		}
		http := client.CronTarget{HTTP: &client.CronHTTP{Path: "/"}}
		for _, c := range []struct {
			in   client.CreateCronJob
			code string
		}{
			{client.CreateCronJob{DeploymentID: d.ID, Schedule: "*/5 * * *", Target: http}, "invalid_schedule"},
			{client.CreateCronJob{DeploymentID: d.ID, Schedule: "99 * * * *", Target: http}, "invalid_schedule"},
			{client.CreateCronJob{DeploymentID: d.ID, Schedule: "* * * * *", Timezone: "Europe/Atlantis", Target: http}, "unknown_time_zone"},
			{client.CreateCronJob{DeploymentID: dOther.ID, Schedule: "* * * * *", Target: http}, "deployment_of_another_project"},
			{client.CreateCronJob{DeploymentID: d.ID, Schedule: "* * * * *", Target: client.CronTarget{HTTP: &client.CronHTTP{}}}, "missing_path"},
			{client.CreateCronJob{DeploymentID: d.ID, Schedule: "* * * * *", Target: client.CronTarget{Command: []string{""}}}, "missing_command"},
			{client.CreateCronJob{DeploymentID: d.ID, Schedule: "* * * * *", Target: client.CronTarget{Command: slices.Repeat([]string{"x"}, 300)}}, "invalid_command"},
			{client.CreateCronJob{DeploymentID: d.ID, Schedule: "* * * * *"}, "missing_target"},
			{client.CreateCronJob{Schedule: "* * * * *", Target: http}, "missing_deployment_id"},
			{client.CreateCronJob{DeploymentID: d.ID, Schedule: "* * * * *", Concurrency: "sometimes", Target: http}, "invalid_concurrency"},
		} {
			c.in.ProjectID, c.in.Name = pr.ID, "bad"
			_, err := p.api.CreateCronJob(ctx, c.in)
			pb, _ := err.(*client.Problem)
			if pb == nil || pb.Code != c.code || pb.Status != 422 {
				t.Errorf("%+v: %v, want 422 %s", c.in, err, c.code)
			}
		}
		if after, _ := p.api.ListCronJobs(ctx, ""); len(after) != len(before) {
			t.Errorf("bad input wrote jobs: %d, then %d", len(before), len(after))
		}
	})

	t.Run("cli", func(t *testing.T) {
		env := append(os.Environ(), "BERTH_API_URL="+p.apiURL, "BERTH_API_KEY="+adminKey, "BERTH_CONFIG="+filepath.Join(t.TempDir(), "c.json"))
		berth := func(args ...string) (string, error) {
			cmd := exec.Command(berthBin, args...)
			cmd.Env = env
			out, err := cmd.CombinedOutput()
			return string(out), err
		}
		common := []string{"--project", pr.ID, "--deployment", d.ID, "--schedule", "0 3 1 1 *", "--timezone", "Europe/Berlin"}
		var argv, shell client.CronJob
		out, err := berth(append(append([]string{"cron", "create", "cli-argv"}, common...), "--", "echo", "$GREETING")...)
		if err != nil || json.Unmarshal([]byte(out), &argv) != nil {
			t.Fatalf("cron create -- echo: %v\n%s", err, out)
		}
		out, err = berth(append(append([]string{"cron", "create", "cli-shell"}, common...), "--shell", `echo "$GREETING"`)...)
		if err != nil || json.Unmarshal([]byte(out), &shell) != nil {
			t.Fatalf("cron create --shell: %v\n%s", err, out)
		}
		if !slices.Equal(argv.Target.Command, []string{"echo", "$GREETING"}) || !slices.Equal(shell.Target.Command, []string{"sh", "-c", `echo "$GREETING"`}) ||
			argv.Timezone != "Europe/Berlin" || argv.DeploymentID != d.ID {
			t.Errorf("created %+v and %+v", argv, shell)
		}
		for job, want := range map[string]string{argv.ID: `"output": "$GREETING\n"`, shell.ID: `"output": "hello from env\n"`} {
			if out, err := berth("cron", "trigger", job); err != nil || !strings.Contains(out, want) || !strings.Contains(out, `"succeeded"`) {
				t.Errorf("cron trigger %s: %v\n%s, want %s", job, err, out, want)
			}
		}
		if out, err := berth("cron", "list", "--project", pr.ID); err != nil || !strings.Contains(out, "sh -c echo") || !strings.Contains(out, d.ID) {
			t.Errorf("cron list: %v\n%s", err, out)
		}
		if out, err := berth(append(append([]string{"cron", "create", "cli-both"}, common...), "--path", "/", "--", "true")...); err == nil {
			t.Errorf("a job with both --path and a command was created: %s", out)
		}
	})

	t.Run("scheduled minute", func(t *testing.T) {
		var runs []client.CronRun
		eventually(t, 90*time.Second, "a scheduled run of the every-minute job", func() bool {
			if runs, err = p.api.CronRuns(ctx, every.ID); err != nil {
				t.Fatal(err)
			}
			return len(runs) > 0 && runs[0].Status == "succeeded"
		})
		r := runs[0]
		if r.Trigger != "schedule" || r.ScheduledAt.Second() != 0 || r.HTTPStatus != 200 || r.StartedAt == nil || r.StartedAt.Sub(r.ScheduledAt) > 3*time.Second {
			t.Errorf("scheduled run %+v", r)
		}
		off := false
		if _, err := p.api.UpdateCronJob(ctx, every.ID, client.UpdateCronJob{Enabled: &off}); err != nil {
			t.Fatal(err)
		}
		if j, _ := p.api.GetCronJob(ctx, every.ID); j.Enabled || j.NextRunAt != nil {
			t.Errorf("paused job %+v", j)
		}
	})
}
