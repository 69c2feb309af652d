package api

import (
	"errors"
	"maps"
	"net/http"
	"slices"
	"time"

	"github.com/berth-dev/berth/client"
	"github.com/berth-dev/berth/internal/control"
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
		ID: j.ID, ProjectID: j.ProjectID, Name: j.Name, Schedule: j.Schedule, TimeZone: j.TimeZone,
		Target: client.CronTarget{Type: j.Target.Type, DeploymentID: j.Target.DeploymentID, Method: j.Target.Method,
			Path: j.Target.Path, Body: j.Target.Body, Command: j.Target.Command,
			HeaderNames: slices.Sorted(maps.Keys(j.Target.Headers))},
		Enabled: j.Enabled, Concurrency: j.Concurrency, TimeoutSeconds: int(j.Timeout / time.Second),
		Status: "active", CreatedAt: j.CreatedAt, UpdatedAt: j.UpdatedAt,
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

func cronTarget(t client.CronTarget) store.CronTarget {
	return store.CronTarget{Type: t.Type, DeploymentID: t.DeploymentID, Method: t.Method, Path: t.Path,
		Headers: t.Headers, Body: t.Body, Command: t.Command}
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
	if err := decode(r, &req); err != nil {
		return err
	}
	if err := requireField("project_id", req.ProjectID); err != nil {
		return err
	}
	if err := requireField("schedule", req.Schedule); err != nil {
		return err
	}
	if t := req.Target; t.Type == "" && t.DeploymentID == "" && t.Path == "" && t.Command == "" {
		return problem.Unprocessable("missing_target", "give what the job runs in \"target\": {\"type\": \"http\", …} or {\"type\": \"command\", …}")
	}
	pr, err := s.projectRef(r, p, req.ProjectID)
	if err != nil {
		return err
	}
	j, err := s.ctl.CreateCronJob(r.Context(), control.CronJobRequest{Project: pr, Name: req.Name, Schedule: req.Schedule,
		TimeZone: req.TimeZone, Target: cronTarget(req.Target), Enabled: req.Enabled, Concurrency: req.Concurrency,
		Timeout: timeoutOf(req.TimeoutSeconds)})
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
	if err := decode(r, &req); err != nil {
		return err
	}
	j, err := s.cronJob(r, p, true)
	if err != nil {
		return err
	}
	patch := control.CronJobPatch{Name: req.Name, Schedule: req.Schedule, TimeZone: req.TimeZone, Enabled: req.Enabled,
		Concurrency: req.Concurrency}
	if req.Target != nil {
		t := cronTarget(*req.Target)
		patch.Target = &t
	}
	if req.TimeoutSeconds != nil {
		d := timeoutOf(*req.TimeoutSeconds)
		patch.Timeout = &d
	}
	j, err = s.ctl.UpdateCronJob(r.Context(), j.ID, patch)
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
	if err := s.ctl.DeleteCronJob(r.Context(), j.ID); err != nil {
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
	run, err := s.ctl.RunCronJob(r.Context(), j)
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
