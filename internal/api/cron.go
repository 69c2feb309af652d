package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"maps"
	"net/http"
	"slices"
	"time"

	"github.com/berth-dev/berth/client"
	"github.com/berth-dev/berth/internal/control/cron"
	"github.com/berth-dev/berth/internal/problem"
	"github.com/berth-dev/berth/internal/store"
)

// cronRoutes registers the cron job endpoints.
func (s *Server) cronRoutes(h, idem func(string, handlerFunc)) {
	idem("POST /api/v1/cron-jobs", s.createCronJob)
	h("GET /api/v1/cron-jobs", s.listCronJobs)
	h("GET /api/v1/cron-jobs/{id}", s.getCronJob)
	h("PATCH /api/v1/cron-jobs/{id}", s.updateCronJob)
	h("DELETE /api/v1/cron-jobs/{id}", s.deleteCronJob)
	idem("POST /api/v1/cron-jobs/{id}/trigger", s.runCronJob)
	idem("POST /api/v1/cron-jobs/{id}/run", s.runCronJob) // the first name of trigger
	h("GET /api/v1/cron-jobs/{id}/runs", s.listCronRuns)
	h("GET /api/v1/cron-jobs/{id}/runs/{run_id}", s.getCronRun)
}

func cronJobView(j *store.CronJob) client.CronJob {
	v := client.CronJob{
		ID: j.ID, ProjectID: j.ProjectID, DeploymentID: j.DeploymentID, Name: j.Name, Schedule: j.Schedule,
		Timezone: j.TimeZone, Enabled: j.Enabled, Concurrency: j.Concurrency, TimeoutS: int(j.Timeout / time.Second),
		Status: "active", CreatedAt: j.CreatedAt, UpdatedAt: j.UpdatedAt,
	}
	switch j.Target.Type {
	case store.CronTargetHTTP:
		v.Target.HTTP = &client.CronHTTP{Method: j.Target.Method, Path: j.Target.Path, Body: j.Target.Body,
			HeaderNames: slices.Sorted(maps.Keys(j.Target.Headers))}
	case store.CronTargetCommand:
		v.Target.Command = j.Target.Command
	}
	switch {
	case j.Held != "":
		v.Status, v.StatusReason = "paused", "held: "+j.Held
	case !j.Enabled:
		v.Status, v.StatusReason = "paused", "disabled: set enabled to true to resume it"
	}
	if !j.NextRunAt.IsZero() {
		v.NextRunAt = &j.NextRunAt
	}
	return v
}

func cronRunView(r *store.CronRun) client.CronRun {
	v := client.CronRun{ID: r.ID, JobID: r.JobID, Trigger: r.Trigger, Status: r.Status, ScheduledAt: r.ScheduledAt,
		HTTPStatus: r.HTTPStatus, ExitCode: r.ExitCode, Output: r.Output, Reason: r.Reason}
	if !r.StartedAt.IsZero() {
		v.StartedAt = &r.StartedAt
	}
	if !r.FinishedAt.IsZero() {
		v.FinishedAt = &r.FinishedAt
		if !r.StartedAt.IsZero() {
			ms := r.FinishedAt.Sub(r.StartedAt).Milliseconds()
			v.DurationMS = &ms
		}
	}
	return v
}

// cronTarget is the stored form of a target: an http one when it has
// http (the check of both at once is the controller's), else a command
// one when it has a command, else none.
func cronTarget(t client.CronTarget) store.CronTarget {
	switch {
	case t.HTTP != nil:
		return store.CronTarget{Type: store.CronTargetHTTP, Method: t.HTTP.Method, Path: t.HTTP.Path,
			Headers: t.HTTP.Headers, Body: t.HTTP.Body, Command: t.Command}
	case t.Command != nil:
		return store.CronTarget{Type: store.CronTargetCommand, Command: t.Command}
	}
	return store.CronTarget{}
}

// cronRenamed names the fields of the earlier shape of a cron job's body,
// each with what to write instead.
var cronRenamed = map[string]string{
	"time_zone":       `use "timezone"`,
	"timeout_seconds": `use "timeout_s" (seconds)`,
}

// cronTargetRenamed is cronRenamed for the fields of target.
var cronTargetRenamed = map[string]string{
	"type":          `give the target as {"http": {…}} or {"command": […]}`,
	"deployment_id": `give "deployment_id" at the top level of the job`,
	"method":        `put it in "target.http"`,
	"path":          `put it in "target.http"`,
	"headers":       `put it in "target.http"`,
	"body":          `put it in "target.http"`,
}

// decodeCron is decode for a cron job's body. A field of the earlier
// shape is refused with a message saying what replaced it, and a command
// given as one string with how to write it as an argv.
func decodeCron(r *http.Request, v any) error {
	body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20+1))
	if err != nil {
		return problem.BadRequest("invalid_body", "reading the body: %v", err)
	}
	r.Body = io.NopCloser(bytes.NewReader(body))
	// What is not an object here is left for decode to refuse.
	var fields, target map[string]json.RawMessage
	if json.Unmarshal(body, &fields) == nil {
		json.Unmarshal(fields["target"], &target)
	}
	for _, f := range slices.Sorted(maps.Keys(fields)) {
		if hint, ok := cronRenamed[f]; ok {
			return problem.BadRequest("unknown_field", "unknown field %q: %s", f, hint)
		}
	}
	for _, f := range slices.Sorted(maps.Keys(target)) {
		if hint, ok := cronTargetRenamed[f]; ok {
			return problem.BadRequest("unknown_field", "unknown field \"target.%s\": %s", f, hint)
		}
	}
	var command string
	if raw := bytes.TrimSpace(target["command"]); len(raw) > 0 && raw[0] == '"' && json.Unmarshal(raw, &command) == nil {
		return problem.BadRequest("invalid_command", "target.command is an argv, a list of strings run without a shell, as in [\"node\", \"report.js\"]; for a shell write [\"sh\", \"-c\", %q]", command)
	}
	return decode(r, v)
}

// cronJob loads a cron job the key may act on.
func (s *Server) cronJob(r *http.Request, p *principal, write bool) (*store.CronJob, error) {
	j, err := s.st.GetCronJob(r.Context(), r.PathValue("id"))
	if err != nil {
		return nil, err
	}
	if err := p.can(owner{org: j.OrgID, workspace: j.WorkspaceID, project: j.ProjectID}, write); err != nil {
		return nil, err
	}
	return j, nil
}

func timeoutOf(seconds int) time.Duration {
	if seconds < 0 {
		return -1
	}
	return time.Duration(seconds) * time.Second
}

func (s *Server) createCronJob(w http.ResponseWriter, r *http.Request, p *principal) error {
	var req client.CreateCronJob
	if err := decodeCron(r, &req); err != nil {
		return err
	}
	if err := requireField("project_id", req.ProjectID); err != nil {
		return err
	}
	if err := requireField("schedule", req.Schedule); err != nil {
		return err
	}
	if err := requireField("deployment_id", req.DeploymentID); err != nil {
		return err
	}
	pr, err := s.projectRef(r, p, req.ProjectID)
	if err != nil {
		return err
	}
	j, err := s.cron.CreateCronJob(r.Context(), cron.CronJobRequest{Project: pr, DeploymentID: req.DeploymentID, Name: req.Name,
		Schedule: req.Schedule, TimeZone: req.Timezone, Target: cronTarget(req.Target), Enabled: req.Enabled,
		Concurrency: req.Concurrency, Timeout: timeoutOf(req.TimeoutS)})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, cronJobView(j))
	return nil
}

func (s *Server) listCronJobs(w http.ResponseWriter, r *http.Request, p *principal) error {
	f, err := filter(r)
	if err != nil {
		return err
	}
	f.ProjectID = r.URL.Query().Get("project_id")
	p.scope(&f)
	list, err := s.st.ListCronJobs(r.Context(), f)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, page(list, f, cronJobView))
	return nil
}

func (s *Server) getCronJob(w http.ResponseWriter, r *http.Request, p *principal) error {
	j, err := s.cronJob(r, p, false)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, cronJobView(j))
	return nil
}

func (s *Server) updateCronJob(w http.ResponseWriter, r *http.Request, p *principal) error {
	var req client.UpdateCronJob
	if err := decodeCron(r, &req); err != nil {
		return err
	}
	j, err := s.cronJob(r, p, true)
	if err != nil {
		return err
	}
	patch := cron.CronJobPatch{DeploymentID: req.DeploymentID, Name: req.Name, Schedule: req.Schedule,
		TimeZone: req.Timezone, Enabled: req.Enabled, Concurrency: req.Concurrency}
	if req.Target != nil {
		t := cronTarget(*req.Target)
		patch.Target = &t
	}
	if req.TimeoutS != nil {
		d := timeoutOf(*req.TimeoutS)
		patch.Timeout = &d
	}
	j, err = s.cron.UpdateCronJob(r.Context(), j.ID, patch)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, cronJobView(j))
	return nil
}

func (s *Server) deleteCronJob(w http.ResponseWriter, r *http.Request, p *principal) error {
	j, err := s.cronJob(r, p, true)
	if err != nil {
		return err
	}
	if err := s.cron.DeleteCronJob(r.Context(), j.ID); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Server) runCronJob(w http.ResponseWriter, r *http.Request, p *principal) error {
	j, err := s.cronJob(r, p, true)
	if err != nil {
		return err
	}
	run, err := s.cron.RunCronJob(r.Context(), j)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusAccepted, cronRunView(run))
	return nil
}

func (s *Server) listCronRuns(w http.ResponseWriter, r *http.Request, p *principal) error {
	f, err := filter(r)
	if err != nil {
		return err
	}
	j, err := s.cronJob(r, p, false)
	if err != nil {
		return err
	}
	list, err := s.st.ListCronRuns(r.Context(), store.CronRunFilter{JobID: j.ID, After: f.After, Limit: f.Limit})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, page(list, f, cronRunView))
	return nil
}

func (s *Server) getCronRun(w http.ResponseWriter, r *http.Request, p *principal) error {
	j, err := s.cronJob(r, p, false)
	if err != nil {
		return err
	}
	run, err := s.st.GetCronRun(r.Context(), r.PathValue("run_id"))
	if errors.Is(err, store.ErrNotFound) || (err == nil && run.JobID != j.ID) {
		return problem.NotFound("run_not_found", "job %s has no run %q", j.ID, r.PathValue("run_id"))
	}
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, cronRunView(run))
	return nil
}
