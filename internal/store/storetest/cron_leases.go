package storetest

import (
	"errors"
	"sync"
	"time"

	"github.com/berth-dev/berth/internal/store"
)

// testCronLeases holds the scheduler's claims to what several schedulers
// sharing a store need: of two claims of one thing, exactly one wins.
func testCronLeases(f *fixture) {
	t, st, ctx := f.t, f.st, f.ctx
	o, w, p := f.tree()
	d := f.deployment(p)
	j := &store.CronJob{
		ID: f.id("cron"), OrgID: o.ID, WorkspaceID: w.ID, ProjectID: p.ID, Name: "tick", Schedule: "* * * * *",
		TimeZone: "UTC", Enabled: true, Concurrency: store.CronForbid, Timeout: time.Minute,
		DeploymentID: d.ID, Target: store.CronTarget{Type: store.CronTargetHTTP, Method: "GET", Path: "/"},
		NextRunAt: at(10), CreatedAt: at(0), UpdatedAt: at(0),
	}
	ok(t, st.CreateCronJob(ctx, j))

	// Many claim the same fire time at once: one run is recorded.
	var wg sync.WaitGroup
	var mu sync.Mutex
	won := 0
	for range 8 {
		wg.Go(func() {
			r := &store.CronRun{ID: f.id("crun"), JobID: j.ID, ProjectID: p.ID, Trigger: "schedule", Status: store.CronScheduled, ScheduledAt: at(10)}
			claimed, err := st.ClaimCronFire(ctx, j.ID, at(10), at(11), r)
			if err != nil {
				t.Errorf("claiming: %v", err)
			}
			if claimed {
				mu.Lock()
				won++
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	runs, err := st.ListCronRuns(ctx, store.CronRunFilter{JobID: j.ID})
	ok(t, err)
	if won != 1 || len(runs) != 1 {
		t.Fatalf("8 claims of one fire time: %d won, %d runs recorded", won, len(runs))
	}
	got, err := st.GetCronJob(ctx, j.ID)
	ok(t, err)
	if !got.NextRunAt.Equal(at(11)) {
		t.Errorf("next run after the claim: %v, want %v", got.NextRunAt, at(11))
	}
	if claimed, err := st.ClaimCronFire(ctx, j.ID, at(10), at(11), &store.CronRun{ID: f.id("crun"), JobID: j.ID, ProjectID: p.ID,
		Trigger: "schedule", Status: store.CronScheduled, ScheduledAt: at(10)}); err != nil || claimed {
		t.Errorf("claiming a fire time already claimed: %v %v", claimed, err)
	}

	// A held job's fire time cannot be claimed.
	got.Held = "deployment paused"
	ok(t, st.UpdateCronJob(ctx, got))
	if claimed, err := st.ClaimCronFire(ctx, j.ID, at(11), at(12), &store.CronRun{ID: f.id("crun"), JobID: j.ID, ProjectID: p.ID,
		Trigger: "schedule", Status: store.CronScheduled, ScheduledAt: at(11)}); err != nil || claimed {
		t.Errorf("claiming a held job's fire time: %v %v", claimed, err)
	}
	held, err := st.ListCronJobsOfDeployment(ctx, d.ID)
	ok(t, err)
	if len(held) != 1 || held[0].Held != "deployment paused" {
		t.Errorf("jobs of the deployment: %+v", held)
	}
	if due, _ := st.ListDueCronJobs(ctx, at(100), 0); len(due) != 0 {
		t.Errorf("a held job is due: %+v", due)
	}

	// One start wins; the lease is the winner's.
	r := runs[0]
	ok(t, st.LockCronJob(ctx, j.ID))
	is(t, st.LockCronJob(ctx, "cron_missing"), store.ErrNotFound, "locking a missing job")
	started, err := st.StartCronRun(ctx, r.ID, "a", at(10), at(12))
	ok(t, err)
	again, err := st.StartCronRun(ctx, r.ID, "b", at(10), at(12))
	ok(t, err)
	if !started || again {
		t.Fatalf("two starts of one run: %v, %v", started, again)
	}
	g, err := st.GetCronRun(ctx, r.ID)
	ok(t, err)
	if g.Status != store.CronRunning || g.LeaseOwner != "a" || !g.LeaseExpiresAt.Equal(at(12)) || !g.StartedAt.Equal(at(10)) {
		t.Errorf("started run %+v", g)
	}
	is(t, st.RenewCronLease(ctx, r.ID, "b", at(20)), store.ErrLeaseLost, "renewing another's lease")
	ok(t, st.RenewCronLease(ctx, r.ID, "a", at(14)))

	// Not expired before its end; expired after, once.
	exp, err := st.ExpireCronLeases(ctx, at(13), "lease ended")
	ok(t, err)
	if len(exp) != 0 {
		t.Errorf("a renewed lease expired early: %+v", exp)
	}
	exp, err = st.ExpireCronLeases(ctx, at(15), "lease ended")
	ok(t, err)
	if len(exp) != 1 || exp[0].ID != r.ID || exp[0].Status != store.CronFailed {
		t.Fatalf("expired: %+v", exp)
	}
	if exp, _ := st.ExpireCronLeases(ctx, at(16), "lease ended"); len(exp) != 0 {
		t.Errorf("expired twice: %+v", exp)
	}
	g, err = st.GetCronRun(ctx, r.ID)
	ok(t, err)
	if g.Status != store.CronFailed || g.Reason != "lease ended" || !g.FinishedAt.Equal(at(15)) {
		t.Errorf("expired run %+v", g)
	}
	// The old owner, back, cannot overwrite what was recorded.
	late := *g
	late.Status, late.FinishedAt, late.HTTPStatus = store.CronSucceeded, at(17), 200
	if err := st.FinishCronRun(ctx, &late, "a"); !errors.Is(err, store.ErrLeaseLost) {
		t.Errorf("finishing an expired run: %v", err)
	}
	is(t, st.RenewCronLease(ctx, r.ID, "a", at(30)), store.ErrLeaseLost, "renewing an expired lease")

	// A run finished under its lease keeps its result.
	r2 := &store.CronRun{ID: f.id("crun"), JobID: j.ID, ProjectID: p.ID, Trigger: "manual", Status: store.CronScheduled, ScheduledAt: at(20)}
	ok(t, st.CreateCronRun(ctx, r2))
	if started, err := st.StartCronRun(ctx, r2.ID, "b", at(20), at(22)); err != nil || !started {
		t.Fatalf("starting: %v %v", started, err)
	}
	code := 0
	r2.Status, r2.FinishedAt, r2.ExitCode, r2.Output = store.CronSucceeded, at(21), &code, "ok"
	ok(t, st.FinishCronRun(ctx, r2, "b"))
	g, err = st.GetCronRun(ctx, r2.ID)
	ok(t, err)
	if g.Status != store.CronSucceeded || g.Output != "ok" || g.ExitCode == nil || !g.FinishedAt.Equal(at(21)) || !g.LeaseExpiresAt.IsZero() {
		t.Errorf("finished run %+v", g)
	}
	if exp, _ := st.ExpireCronLeases(ctx, at(100), "lease ended"); len(exp) != 0 {
		t.Errorf("a finished run expired: %+v", exp)
	}
	is(t, st.FinishCronRun(ctx, r2, "b"), store.ErrLeaseLost, "finishing twice")
}

// testDeploymentDesired: the desired state is written only by
// SetDeploymentDesired, never by UpdateDeployment or
// UpdateDeploymentRuntime.
func testDeploymentDesired(f *fixture) {
	t, st, ctx := f.t, f.st, f.ctx
	_, _, p := f.tree()
	d := f.deployment(p)
	if d.Desired != "" {
		t.Fatalf("a new deployment's desired state: %q", d.Desired)
	}
	ok(t, st.SetDeploymentDesired(ctx, d.ID, store.DesiredPaused))
	d.Status = store.DeploymentReady
	ok(t, st.UpdateDeploymentRuntime(ctx, d)) // a stale copy, as a reconciler holds one
	ok(t, st.UpdateDeployment(ctx, d))
	got, err := st.GetDeployment(ctx, d.ID)
	ok(t, err)
	if got.Desired != store.DesiredPaused || got.Status != store.DeploymentReady {
		t.Errorf("after a pause and a stale update: desired %q, status %q", got.Desired, got.Status)
	}
	ok(t, st.SetDeploymentDesired(ctx, d.ID, store.DesiredDeleted))
	ok(t, st.SetDeploymentDesired(ctx, d.ID, ""))
	if got, _ = st.GetDeployment(ctx, d.ID); got.Desired != "" {
		t.Errorf("after resuming: %q", got.Desired)
	}
	if err := st.SetDeploymentDesired(ctx, d.ID, "sleeping"); err == nil {
		t.Error("an unknown desired state was written")
	}
	is(t, st.SetDeploymentDesired(ctx, "dep_missing", store.DesiredPaused), store.ErrNotFound, "pausing a missing deployment")
}
