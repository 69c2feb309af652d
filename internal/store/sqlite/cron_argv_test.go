package sqlite

import (
	"context"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/berth-dev/berth/internal/store"
)

// TestCronArgvMigration writes cron jobs as a data dir of the previous
// schema holds them (the command one string for sh -c, the deployment in
// the target), takes the database back to before the migration, and opens
// it again: the command is then the argv that runs it as before, and a
// job already in the new shape is left alone.
func TestCronArgvMigration(t *testing.T) {
	ctx := context.Background()
	path, key := filepath.Join(t.TempDir(), "berth.db"), newKey(t)
	db, err := Open(path, key)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now().UTC().Truncate(time.Second)
	o := &store.Org{ID: "org_1", Slug: "o", Name: "O", CreatedAt: now}
	w := &store.Workspace{ID: "ws_1", OrgID: o.ID, Slug: "w", Name: "W", CreatedAt: now}
	p := &store.Project{ID: "prj_1", OrgID: o.ID, WorkspaceID: w.ID, Slug: "p", Name: "P", CreatedAt: now}
	d := &store.Deployment{ID: "dep_1", OrgID: o.ID, WorkspaceID: w.ID, ProjectID: p.ID, Product: store.ProductStandard,
		Status: store.DeploymentPending, CreatedAt: now, UpdatedAt: now}
	for _, err := range []error{db.CreateOrg(ctx, o), db.CreateWorkspace(ctx, w), db.CreateProject(ctx, p), db.CreateDeployment(ctx, d)} {
		if err != nil {
			t.Fatal(err)
		}
	}
	job := func(id string, target store.CronTarget) *store.CronJob {
		j := &store.CronJob{ID: id, OrgID: o.ID, WorkspaceID: w.ID, ProjectID: p.ID, DeploymentID: d.ID, Name: id[5:],
			Schedule: "* * * * *", TimeZone: "UTC", Target: target, Enabled: true, Concurrency: store.CronForbid,
			Timeout: time.Minute, CreatedAt: now, UpdatedAt: now}
		if err := db.CreateCronJob(ctx, j); err != nil {
			t.Fatal(err)
		}
		return j
	}
	job("cron_old", store.CronTarget{Type: store.CronTargetCommand})
	job("cron_web", store.CronTarget{Type: store.CronTargetHTTP, Path: "/tick"})
	job("cron_new", store.CronTarget{Type: store.CronTargetCommand, Command: []string{"node", "report.js"}})
	// The targets of the old schema, sealed as it sealed them.
	for id, target := range map[string]string{
		"cron_old": `{"type":"command","deployment_id":"dep_1","command":"echo \"$GREETING\" | tr a-z A-Z"}`,
		"cron_web": `{"type":"http","deployment_id":"dep_1","method":"GET","path":"/tick"}`,
	} {
		if _, err := db.pools.write.ExecContext(ctx, `UPDATE cron_jobs SET target = $1 WHERE id = $2`,
			db.seal.sealValue([]byte(target), cronTargetAD(id)), id); err != nil {
			t.Fatal(err)
		}
	}
	// Back to the schema before the migration (the later ones undone too).
	prov, err := migrations(db.pools.write, db.seal)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := prov.DownTo(ctx, cronArgvVersion-1); err != nil {
		t.Fatal(err)
	}
	if _, err := db.GetCronJob(ctx, "cron_old"); err == nil {
		t.Fatal("a string command decoded before the migration: the test does not hold the old shape")
	}
	db.Close()

	db = openTemp(t, path, key)
	for id, want := range map[string]store.CronTarget{
		"cron_old": {Type: store.CronTargetCommand, Command: []string{"sh", "-c", `echo "$GREETING" | tr a-z A-Z`}},
		"cron_web": {Type: store.CronTargetHTTP, Method: "GET", Path: "/tick"},
		"cron_new": {Type: store.CronTargetCommand, Command: []string{"node", "report.js"}},
	} {
		j, err := db.GetCronJob(ctx, id)
		if err != nil {
			t.Fatalf("%s after the migration: %v", id, err)
		}
		if j.DeploymentID != d.ID || j.Target.Type != want.Type || j.Target.Method != want.Method ||
			j.Target.Path != want.Path || !slices.Equal(j.Target.Command, want.Command) {
			t.Errorf("%s after the migration: deployment %q, target %+v; want %s, %+v", id, j.DeploymentID, j.Target, d.ID, want)
		}
	}
}
