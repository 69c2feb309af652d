package api

import (
	"encoding/json"
	"net/http"
	"testing"

	"github.com/berth-dev/berth/client"
)

// TestDeploymentPauseResumeDelete: the answers record the desired state
// at once and hold or release the deployment's cron jobs; a deleted
// deployment cannot be resumed or rolled back.
func TestDeploymentPauseResumeDelete(t *testing.T) {
	f := newDBFixture(t)
	status, _, b := f.h.do(http.MethodPost, "/cron-jobs", client.CreateCronJob{ProjectID: f.prj, DeploymentID: f.dep, Name: "tick", Schedule: "*/5 * * * *",
		Target: client.CronTarget{HTTP: &client.CronHTTP{Path: "/tick"}}}, nil)
	if status != http.StatusCreated {
		t.Fatalf("create job: %d %s", status, b)
	}
	var j client.CronJob
	json.Unmarshal(b, &j)
	if j.Status != "active" || j.NextRunAt == nil {
		t.Fatalf("created %s", b)
	}
	job := func() client.CronJob {
		t.Helper()
		_, _, b := f.h.do(http.MethodGet, "/cron-jobs/"+j.ID, nil, nil)
		var j client.CronJob
		json.Unmarshal(b, &j)
		return j
	}
	change := func(method, path string, want int) client.Deployment {
		t.Helper()
		status, code, b := f.h.do(method, path, nil, nil)
		if status != want {
			t.Fatalf("%s %s: %d %s %s", method, path, status, code, b)
		}
		var d client.Deployment
		json.Unmarshal(b, &d)
		return d
	}

	if d := change(http.MethodPost, "/deployments/"+f.dep+"/pause", 202); d.DesiredState != "paused" {
		t.Errorf("paused: %+v", d)
	}
	if j := job(); j.Status != "paused" || j.NextRunAt != nil || j.StatusReason == "" || !j.Enabled {
		t.Errorf("a paused deployment's job: %+v", j)
	}
	if status, code, _ := f.h.do(http.MethodPost, "/cron-jobs/"+j.ID+"/trigger", nil, nil); status != 409 || code != "job_held" {
		t.Errorf("trigger of a held job: %d %s", status, code)
	}
	change(http.MethodPost, "/deployments/"+f.dep+"/pause", 202) // again: nothing changes
	if d := change(http.MethodPost, "/deployments/"+f.dep+"/resume", 202); d.DesiredState != "running" {
		t.Errorf("resumed: %+v", d)
	}
	if j := job(); j.Status != "active" || j.NextRunAt == nil || j.StatusReason != "" {
		t.Errorf("a resumed deployment's job: %+v", j)
	}
	if status, _, b := f.h.do(http.MethodPost, "/cron-jobs/"+j.ID+"/trigger", nil, nil); status != 202 {
		t.Errorf("trigger: %d %s", status, b)
	}
	if status, _, b := f.h.do(http.MethodPost, "/cron-jobs/"+j.ID+"/run", nil, nil); status != 202 {
		t.Errorf("run (the old name of trigger): %d %s", status, b)
	}

	// A disabled job stays disabled through a pause and a resume.
	off := false
	f.h.do(http.MethodPatch, "/cron-jobs/"+j.ID, client.UpdateCronJob{Enabled: &off}, nil)
	change(http.MethodPost, "/deployments/"+f.dep+"/pause", 202)
	change(http.MethodPost, "/deployments/"+f.dep+"/resume", 202)
	if j := job(); j.Status != "paused" || j.Enabled || j.NextRunAt != nil {
		t.Errorf("a disabled job after pause and resume: %+v", j)
	}

	if d := change(http.MethodDelete, "/deployments/"+f.dep, 202); d.DesiredState != "deleted" {
		t.Errorf("deleted: %+v", d)
	}
	change(http.MethodDelete, "/deployments/"+f.dep, 202)
	for _, path := range []string{"/pause", "/resume", "/rollback"} {
		if status, code, _ := f.h.do(http.MethodPost, "/deployments/"+f.dep+path, nil, nil); status != 409 || code != "deployment_deleted" {
			t.Errorf("%s of a deleted deployment: %d %s", path, status, code)
		}
	}
	if status, code, _ := f.h.do(http.MethodPost, "/cron-jobs", client.CreateCronJob{ProjectID: f.prj, DeploymentID: f.dep, Name: "late", Schedule: "* * * * *",
		Target: client.CronTarget{HTTP: &client.CronHTTP{Path: "/"}}}, nil); status != 422 || code != "deployment_deleted" {
		t.Errorf("a job for a deleted deployment: %d %s", status, code)
	}
	if j := job(); j.Status != "paused" || j.StatusReason == "" {
		t.Errorf("a deleted deployment's job: %+v", j)
	}
	if status, code, _ := f.h.do(http.MethodPost, "/deployments/dep_nope/pause", nil, nil); status != 404 {
		t.Errorf("pausing a missing deployment: %d %s", status, code)
	}
}
