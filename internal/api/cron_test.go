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
		"CronHTTP":      reflect.TypeFor[client.CronHTTP](),
		"CreateCronJob": reflect.TypeFor[client.CreateCronJob](),
		"UpdateCronJob": reflect.TypeFor[client.UpdateCronJob](),
		"CronRun":       reflect.TypeFor[client.CronRun](),
		"CronRunList":   reflect.TypeFor[client.List[client.CronRun]](),
	} {
		clientSchemas[name] = typ
	}
	requestRequired["CreateCronJob"] = []string{"deployment_id", "project_id", "schedule", "target"}
	requestRequired["UpdateCronJob"] = []string{}
}

func TestCronJobAPI(t *testing.T) {
	f := newDBFixture(t)
	target := client.CronTarget{HTTP: &client.CronHTTP{Method: "POST", Path: "/tick", Headers: map[string]string{"Authorization": "Bearer s3cret"}}}
	status, _, b := f.h.do(http.MethodPost, "/cron-jobs", client.CreateCronJob{ProjectID: f.prj, DeploymentID: f.dep, Name: "tick",
		Schedule: "0 9 * * *", Timezone: "America/New_York", Target: target}, nil)
	if status != http.StatusCreated {
		t.Fatalf("create: %d %s", status, b)
	}
	var j client.CronJob
	json.Unmarshal(b, &j)
	if strings.Contains(string(b), "s3cret") || j.NextRunAt == nil || (j.NextRunAt.UTC().Hour() != 13 && j.NextRunAt.UTC().Hour() != 14) || j.Concurrency != "forbid" || j.TimeoutS != 60 ||
		j.DeploymentID != f.dep || j.Timezone != "America/New_York" {
		t.Errorf("created %s", b)
	}

	// Bad changes are refused and change nothing.
	for _, c := range []struct {
		body any
		code string
	}{
		{map[string]any{"schedule": "0 25 * * *"}, "invalid_schedule"},
		{map[string]any{"timezone": "Nowhere/City"}, "unknown_time_zone"},
		{map[string]any{"timeout_s": 0}, "invalid_timeout"},
		{map[string]any{"target": map[string]any{"command": []string{}}}, "missing_command"},
		{map[string]any{"target": map[string]any{"command": "echo hi"}}, "invalid_command"},
		{map[string]any{"time_zone": "UTC"}, "unknown_field"},
		{map[string]any{"deployment_id": "dep_nope"}, "deployment_not_found"},
		{map[string]any{"schedule": "* * * * *", "frequency": "often"}, "unknown_field"},
	} {
		if status, code, b := f.h.do(http.MethodPatch, "/cron-jobs/"+j.ID, c.body, nil); code != c.code {
			t.Errorf("PATCH %v: %d %s, want %s: %s", c.body, status, code, c.code, b)
		}
	}
	_, _, b = f.h.do(http.MethodGet, "/cron-jobs/"+j.ID, nil, nil)
	var cur client.CronJob
	json.Unmarshal(b, &cur)
	if cur.Schedule != "0 9 * * *" || cur.Timezone != "America/New_York" || cur.Target.HTTP == nil || cur.Target.Command != nil ||
		cur.Target.HTTP.HeaderNames[0] != "Authorization" || cur.DeploymentID != f.dep {
		t.Errorf("after refused changes: %s", b)
	}
	if status, code, _ := f.h.do(http.MethodPost, "/cron-jobs", client.CreateCronJob{ProjectID: f.prj, DeploymentID: f.dep, Name: "tick", Schedule: "* * * * *", Target: target}, nil); status != 409 || code != "name_taken" {
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

// TestCronJobRequestShape: the body of docs/cron.md's shape makes a job, a
// command is an argv; a field of the earlier shape is a 400 that names
// it and says what to write instead; nothing is written by a refusal.
func TestCronJobRequestShape(t *testing.T) {
	f := newDBFixture(t)
	status, _, b := f.h.do(http.MethodPost, "/cron-jobs", map[string]any{
		"project_id": f.prj, "deployment_id": f.dep, "schedule": "*/5 * * * *", "timezone": "Europe/Berlin",
		"target": map[string]any{"command": []string{"python3", "-c", "print('hi')"}}, "timeout_s": 30, "concurrency": "allow",
	}, nil)
	if status != http.StatusCreated {
		t.Fatalf("create: %d %s", status, b)
	}
	var j client.CronJob
	json.Unmarshal(b, &j)
	if !reflect.DeepEqual(j.Target, client.CronTarget{Command: []string{"python3", "-c", "print('hi')"}}) || j.Timezone != "Europe/Berlin" ||
		j.TimeoutS != 30 || j.Concurrency != "allow" || j.DeploymentID != f.dep {
		t.Errorf("created %s", b)
	}
	for _, name := range []string{`"timezone"`, `"timeout_s"`, `"deployment_id"`, `"command":["python3"`} {
		if !strings.Contains(string(b), name) {
			t.Errorf("the answer lacks %s: %s", name, b)
		}
	}
	if status, _, b := f.h.do(http.MethodDelete, "/cron-jobs/"+j.ID, nil, nil); status != 204 {
		t.Fatalf("delete: %d %s", status, b)
	}

	base := func(mod func(map[string]any)) map[string]any {
		m := map[string]any{"project_id": f.prj, "deployment_id": f.dep, "schedule": "* * * * *",
			"target": map[string]any{"http": map[string]any{"path": "/"}}}
		mod(m)
		return m
	}
	for _, c := range []struct {
		body   map[string]any
		status int
		code   string
		says   string
	}{
		{base(func(m map[string]any) { m["time_zone"] = "UTC" }), 400, "unknown_field", `"time_zone": use "timezone"`},
		{base(func(m map[string]any) { m["timeout_seconds"] = 5 }), 400, "unknown_field", `"timeout_seconds": use "timeout_s"`},
		{base(func(m map[string]any) { m["target"] = map[string]any{"type": "http", "path": "/"} }), 400, "unknown_field", `"target.path": put it in "target.http"`},
		{base(func(m map[string]any) { m["target"] = map[string]any{"type": "command", "command": []string{"true"}} }), 400, "unknown_field", `"target.type"`},
		{base(func(m map[string]any) {
			m["target"] = map[string]any{"deployment_id": f.dep, "command": []string{"true"}}
		}), 400, "unknown_field", `at the top level`},
		{base(func(m map[string]any) { m["target"] = map[string]any{"command": "node report.js"} }), 400, "invalid_command", `["sh", "-c", "node report.js"]`},
		{base(func(m map[string]any) {
			m["target"] = map[string]any{"http": map[string]any{"path": "/", "verb": "GET"}}
		}), 400, "unknown_field", `"verb"`},
		{base(func(m map[string]any) { delete(m, "deployment_id") }), 422, "missing_deployment_id", "deployment_id"},
		{base(func(m map[string]any) { m["target"] = map[string]any{} }), 422, "missing_target", `{"http": {`},
		{base(func(m map[string]any) {
			m["target"] = map[string]any{"http": map[string]any{"path": "/"}, "command": []string{"true"}}
		}), 422, "invalid_target", "not both"},
		{base(func(m map[string]any) { m["target"] = map[string]any{"command": []string{}} }), 422, "missing_command", `for a shell, ["sh", "-c", "…"]`},
		{base(func(m map[string]any) { m["target"] = map[string]any{"command": nil} }), 422, "missing_target", `{"command": [`},
		{base(func(m map[string]any) { m["timezone"] = "Mars/Olympus" }), 422, "unknown_time_zone", "IANA"},
		{base(func(m map[string]any) { m["schedule"] = "61 * * * *" }), 422, "invalid_schedule", "61"},
	} {
		status, code, b := f.h.do(http.MethodPost, "/cron-jobs", c.body, nil)
		var prob struct{ Detail string }
		json.Unmarshal(b, &prob)
		if status != c.status || code != c.code || !strings.Contains(prob.Detail, c.says) {
			t.Errorf("POST %v: %d %s %s; want %d %s saying %s", c.body, status, code, b, c.status, c.code, c.says)
		}
	}
	_, _, b = f.h.do(http.MethodGet, "/cron-jobs?project_id="+f.prj, nil, nil)
	var list client.List[client.CronJob]
	json.Unmarshal(b, &list)
	if len(list.Data) != 0 {
		t.Errorf("refused bodies wrote jobs: %s", b)
	}
}
