package storetest

import (
	"time"

	"github.com/berth-dev/berth/internal/store"
)

func testCron(f *fixture) {
	t, st, ctx := f.t, f.st, f.ctx
	o, w, p := f.tree()
	d := f.deployment(p)
	j := &store.CronJob{
		ID: f.id("cron"), OrgID: o.ID, WorkspaceID: w.ID, ProjectID: p.ID, Name: "nightly", Schedule: "30 2 * * *",
		TimeZone: "Europe/Berlin", Enabled: true, Concurrency: store.CronForbid, Timeout: 90 * time.Second,
		DeploymentID: d.ID, Target: store.CronTarget{Type: store.CronTargetHTTP, Method: "POST", Path: "/tasks",
			Headers: map[string]string{"Authorization": "Bearer s3cret"}, Body: `{"a":1}`},
		NextRunAt: at(10), CreatedAt: at(0), UpdatedAt: at(0),
	}
	ok(t, st.CreateCronJob(ctx, j))
	got, err := st.GetCronJob(ctx, j.ID)
	ok(t, err)
	same(t, got, j)
	_, err = st.GetCronJob(ctx, "cron_missing")
	is(t, err, store.ErrNotFound, "getting a missing cron job")
	is(t, st.CreateCronJob(ctx, &store.CronJob{ID: f.id("cron"), OrgID: o.ID, WorkspaceID: w.ID, ProjectID: p.ID, Name: "nightly"}),
		store.ErrConflict, "creating a cron job with a name taken in its project")

	// A disabled job has no next run and is never due.
	off := &store.CronJob{ID: f.id("cron"), OrgID: o.ID, WorkspaceID: w.ID, ProjectID: p.ID, Name: "off", Schedule: "* * * * *",
		TimeZone: "UTC", Concurrency: store.CronAllow, DeploymentID: d.ID, Target: store.CronTarget{Type: store.CronTargetCommand, Command: []string{"true"}},
		CreatedAt: at(0), UpdatedAt: at(0)}
	ok(t, st.CreateCronJob(ctx, off))
	got, err = st.GetCronJob(ctx, off.ID)
	ok(t, err)
	same(t, got, off)

	due, err := st.ListDueCronJobs(ctx, at(9), 0)
	ok(t, err)
	sameList(t, "due before the next run", due, nil)
	due, err = st.ListDueCronJobs(ctx, at(10), 0)
	ok(t, err)
	sameList(t, "due at the next run", due, []*store.CronJob{j})

	j.Enabled, j.NextRunAt, j.Schedule = false, time.Time{}, "0 * * * *"
	ok(t, st.UpdateCronJob(ctx, j))
	got, err = st.GetCronJob(ctx, j.ID)
	ok(t, err)
	same(t, got, j)
	due, err = st.ListDueCronJobs(ctx, at(100), 0)
	ok(t, err)
	sameList(t, "due while disabled", due, nil)
	list, err := st.ListCronJobs(ctx, store.ListFilter{ProjectID: p.ID})
	ok(t, err)
	if len(list) != 2 {
		t.Errorf("listed %d jobs, want 2", len(list))
	}

	code := 3
	r1 := &store.CronRun{ID: f.id("crun"), JobID: j.ID, ProjectID: p.ID, Trigger: "schedule", Status: store.CronScheduled, ScheduledAt: at(10)}
	r2 := &store.CronRun{ID: f.id("crun"), JobID: j.ID, ProjectID: p.ID, Trigger: "manual", Status: store.CronRunning,
		ScheduledAt: at(11), StartedAt: at(11)}
	ok(t, st.CreateCronRun(ctx, r1))
	ok(t, st.CreateCronRun(ctx, r2))
	r2.Status, r2.FinishedAt, r2.ExitCode, r2.Output, r2.Reason = store.CronFailed, at(12), &code, "boom\n", "exit code 3"
	ok(t, st.UpdateCronRun(ctx, r2))
	g, err := st.GetCronRun(ctx, r2.ID)
	ok(t, err)
	same(t, g, r2)
	runs, err := st.ListCronRuns(ctx, store.CronRunFilter{JobID: j.ID})
	ok(t, err)
	sameList(t, "runs", runs, []*store.CronRun{r1, r2})
	runs, err = st.ListCronRuns(ctx, store.CronRunFilter{Status: store.CronScheduled})
	ok(t, err)
	sameList(t, "scheduled runs", runs, []*store.CronRun{r1})

	ok(t, st.DeleteCronJob(ctx, j.ID))
	_, err = st.GetCronRun(ctx, r1.ID)
	is(t, err, store.ErrNotFound, "getting a run of a deleted job")
	is(t, st.DeleteCronJob(ctx, j.ID), store.ErrNotFound, "deleting a deleted job")
}
