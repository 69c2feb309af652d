package api

import (
	"encoding/json"
	"net/http"
	"reflect"
	"strings"
	"testing"

	"github.com/berth-dev/berth/client"
)

// The cron types live in client/cron.go, which the OpenAPI tests' type
// list does not cover: map their schemas here.
func init() {
	for name, typ := range map[string]reflect.Type{
		"CronJob":       reflect.TypeFor[client.CronJob](),
		"CronJobList":   reflect.TypeFor[client.List[client.CronJob]](),
		"CronTarget":    reflect.TypeFor[client.CronTarget](),
		"CreateCronJob": reflect.TypeFor[client.CreateCronJob](),
		"UpdateCronJob": reflect.TypeFor[client.UpdateCronJob](),
		"CronRun":       reflect.TypeFor[client.CronRun](),
		"CronRunList":   reflect.TypeFor[client.List[client.CronRun]](),
	} {
		clientSchemas[name] = typ
	}
	requestRequired["CreateCronJob"] = []string{"project_id", "schedule", "target"}
	requestRequired["UpdateCronJob"] = []string{}
}

func TestCronJobAPI(t *testing.T) {
	f := newDBFixture(t)
	target := client.CronTarget{Type: "http", DeploymentID: f.dep, Method: "POST", Path: "/tick", Headers: map[string]string{"Authorization": "Bearer s3cret"}}
	status, _, b := f.h.do(http.MethodPost, "/cron-jobs", client.CreateCronJob{ProjectID: f.prj, Name: "tick", Schedule: "0 9 * * *",
		TimeZone: "America/New_York", Target: target}, nil)
	if status != http.StatusCreated {
		t.Fatalf("create: %d %s", status, b)
	}
	var j client.CronJob
	json.Unmarshal(b, &j)
	if strings.Contains(string(b), "s3cret") || j.NextRunAt == nil || (j.NextRunAt.UTC().Hour() != 13 && j.NextRunAt.UTC().Hour() != 14) || j.Concurrency != "forbid" || j.TimeoutSeconds != 60 {
		t.Errorf("created %s", b)
	}

	// Bad changes are refused and change nothing.
	for _, c := range []struct {
		body any
		code string
	}{
		{map[string]any{"schedule": "0 25 * * *"}, "invalid_schedule"},
		{map[string]any{"time_zone": "Nowhere/City"}, "unknown_time_zone"},
		{map[string]any{"timeout_seconds": 0}, "invalid_timeout"},
		{map[string]any{"target": map[string]any{"type": "command", "deployment_id": f.dep}}, "missing_command"},
		{map[string]any{"schedule": "* * * * *", "frequency": "often"}, "unknown_field"},
	} {
		if status, code, b := f.h.do(http.MethodPatch, "/cron-jobs/"+j.ID, c.body, nil); code != c.code {
			t.Errorf("PATCH %v: %d %s, want %s: %s", c.body, status, code, c.code, b)
		}
	}
	_, _, b = f.h.do(http.MethodGet, "/cron-jobs/"+j.ID, nil, nil)
	var cur client.CronJob
	json.Unmarshal(b, &cur)
	if cur.Schedule != "0 9 * * *" || cur.TimeZone != "America/New_York" || cur.Target.Type != "http" || cur.Target.HeaderNames[0] != "Authorization" {
		t.Errorf("after refused changes: %s", b)
	}
	if status, code, _ := f.h.do(http.MethodPost, "/cron-jobs", client.CreateCronJob{ProjectID: f.prj, Name: "tick", Schedule: "* * * * *", Target: target}, nil); status != 409 || code != "name_taken" {
		t.Errorf("a second job named tick: %d %s", status, code)
	}

	// Pausing clears the next run; a manual run is recorded.
	status, _, b = f.h.do(http.MethodPatch, "/cron-jobs/"+j.ID, map[string]any{"enabled": false}, nil)
	if status != 200 || strings.Contains(string(b), "next_run_at") {
		t.Errorf("pause: %d %s", status, b)
	}
	status, _, b = f.h.do(http.MethodPost, "/cron-jobs/"+j.ID+"/run", nil, nil)
	var r client.CronRun
	json.Unmarshal(b, &r)
	if status != http.StatusAccepted || r.Status != "scheduled" || r.Trigger != "manual" {
		t.Errorf("run: %d %s", status, b)
	}
	if status, _, b := f.h.do(http.MethodGet, "/cron-jobs/"+j.ID+"/runs/"+r.ID, nil, nil); status != 200 {
		t.Errorf("get run: %d %s", status, b)
	}
	if status, code, _ := f.h.do(http.MethodGet, "/cron-jobs/"+j.ID+"/runs/crun_nope", nil, nil); status != 404 || code != "run_not_found" {
		t.Errorf("a missing run: %d %s", status, code)
	}
	var runs client.List[client.CronRun]
	_, _, b = f.h.do(http.MethodGet, "/cron-jobs/"+j.ID+"/runs", nil, nil)
	json.Unmarshal(b, &runs)
	if len(runs.Data) != 1 || runs.Data[0].ID != r.ID {
		t.Errorf("runs: %s", b)
	}
	if status, _, b := f.h.do(http.MethodDelete, "/cron-jobs/"+j.ID, nil, nil); status != 204 {
		t.Errorf("delete: %d %s", status, b)
	}
	if status, _, _ := f.h.do(http.MethodGet, "/cron-jobs/"+j.ID+"/runs", nil, nil); status != 404 {
		t.Errorf("runs of a deleted job: %d", status)
	}
}
