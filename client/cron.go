package client

import (
	"context"
	"net/http"
	"net/url"
	"time"
)

// CronJob runs a target against a deployment of a project on a 5-field
// schedule in a time zone.
type CronJob struct {
	ID           string     `json:"id"`
	ProjectID    string     `json:"project_id"`
	DeploymentID string     `json:"deployment_id"`
	Name         string     `json:"name"`
	Schedule     string     `json:"schedule"`
	Timezone     string     `json:"timezone"`
	Target       CronTarget `json:"target"`
	Enabled      bool       `json:"enabled"`
	Concurrency  string     `json:"concurrency"`
	// TimeoutS bounds each run, in seconds; a run that outlasts it is
	// timed_out.
	TimeoutS int `json:"timeout_s"`
	// Status is active, or paused: disabled, or held while its
	// deployment is paused or deleted; StatusReason says which.
	Status       string `json:"status"`
	StatusReason string `json:"status_reason,omitempty"`
	// NextRunAt is absent while the job is paused.
	NextRunAt *time.Time `json:"next_run_at,omitempty"`
	CreatedAt time.Time  `json:"created_at"`
	UpdatedAt time.Time  `json:"updated_at"`
}

// CronTarget is what a run does: exactly one of HTTP, a request to the
// deployment's URL through the edge, or Command, an argv run without a
// shell in a one-off container of the deployment's serving release, with
// its env (for a shell, ["sh", "-c", "…"]).
type CronTarget struct {
	HTTP    *CronHTTP `json:"http,omitempty"`
	Command []string  `json:"command,omitempty"`
}

// CronHTTP is a request a cron job sends: Method (GET, the default, or
// POST), Path (absolute, a query allowed), Headers and, with POST, Body.
type CronHTTP struct {
	Method string `json:"method,omitempty"`
	Path   string `json:"path,omitempty"`
	// Headers are write-only: answers list their names in HeaderNames.
	Headers     map[string]string `json:"headers,omitempty"`
	HeaderNames []string          `json:"header_names,omitempty"`
	Body        string            `json:"body,omitempty"`
}

// CreateCronJob creates a cron job.
type CreateCronJob struct {
	ProjectID    string `json:"project_id"`
	DeploymentID string `json:"deployment_id"`
	Name         string `json:"name,omitempty"`
	Schedule     string `json:"schedule"`
	// Timezone is an IANA name; empty: UTC.
	Timezone string     `json:"timezone,omitempty"`
	Target   CronTarget `json:"target"`
	// Enabled defaults to true.
	Enabled *bool `json:"enabled,omitempty"`
	// Concurrency is forbid (the default: a run due while another runs is
	// skipped and recorded) or allow.
	Concurrency string `json:"concurrency,omitempty"`
	// TimeoutS is in seconds; 0: 60.
	TimeoutS int `json:"timeout_s,omitempty"`
}

// UpdateCronJob changes a cron job; absent fields stay as they are.
type UpdateCronJob struct {
	DeploymentID *string     `json:"deployment_id,omitempty"`
	Name         *string     `json:"name,omitempty"`
	Schedule     *string     `json:"schedule,omitempty"`
	Timezone     *string     `json:"timezone,omitempty"`
	Target       *CronTarget `json:"target,omitempty"`
	Enabled      *bool       `json:"enabled,omitempty"`
	Concurrency  *string     `json:"concurrency,omitempty"`
	TimeoutS     *int        `json:"timeout_s,omitempty"`
}

// CronRun is one run of a cron job.
type CronRun struct {
	ID    string `json:"id"`
	JobID string `json:"job_id"`
	// Trigger is schedule or manual.
	Trigger string `json:"trigger"`
	// Status is scheduled, running, succeeded, failed, timed_out or
	// skipped.
	Status      string     `json:"status"`
	ScheduledAt time.Time  `json:"scheduled_at"`
	StartedAt   *time.Time `json:"started_at,omitempty"`
	FinishedAt  *time.Time `json:"finished_at,omitempty"`
	DurationMS  *int64     `json:"duration_ms,omitempty"`
	HTTPStatus  int        `json:"http_status,omitempty"`
	ExitCode    *int       `json:"exit_code,omitempty"`
	// Output is the first 64 KiB of the answer's body or the command's
	// output (stdout, then stderr).
	Output string `json:"output,omitempty"`
	Reason string `json:"reason,omitempty"`
}

// CreateCronJob creates a cron job.
func (c *Client) CreateCronJob(ctx context.Context, in CreateCronJob) (*CronJob, error) {
	var out CronJob
	return &out, c.create(ctx, "/cron-jobs", in, &out)
}

// GetCronJob shows a cron job.
func (c *Client) GetCronJob(ctx context.Context, id string) (*CronJob, error) {
	var out CronJob
	return &out, c.json(ctx, http.MethodGet, "/cron-jobs/"+url.PathEscape(id), nil, &out)
}

// ListCronJobs lists cron jobs, of one project when projectID is set.
func (c *Client) ListCronJobs(ctx context.Context, projectID string) ([]CronJob, error) {
	var out List[CronJob]
	path := "/cron-jobs?limit=1000"
	if projectID != "" {
		path += "&project_id=" + url.QueryEscape(projectID)
	}
	return out.Data, c.json(ctx, http.MethodGet, path, nil, &out)
}

// UpdateCronJob changes a cron job.
func (c *Client) UpdateCronJob(ctx context.Context, id string, in UpdateCronJob) (*CronJob, error) {
	var out CronJob
	return &out, c.json(ctx, http.MethodPatch, "/cron-jobs/"+url.PathEscape(id), in, &out)
}

// DeleteCronJob removes a cron job and its run history.
func (c *Client) DeleteCronJob(ctx context.Context, id string) error {
	return c.Do(ctx, http.MethodDelete, "/cron-jobs/"+url.PathEscape(id), nil, "", nil)
}

// TriggerCronJob records a run of the job for now; the scheduler starts
// it within a second or so. Follow it with CronRun.
func (c *Client) TriggerCronJob(ctx context.Context, id string) (*CronRun, error) {
	var out CronRun
	return &out, c.create(ctx, "/cron-jobs/"+url.PathEscape(id)+"/trigger", nil, &out)
}

// RunCronJob is TriggerCronJob, by its other name (POST
// /cron-jobs/{id}/run).
func (c *Client) RunCronJob(ctx context.Context, id string) (*CronRun, error) {
	var out CronRun
	return &out, c.create(ctx, "/cron-jobs/"+url.PathEscape(id)+"/run", nil, &out)
}

// CronRuns lists a job's runs, oldest first.
func (c *Client) CronRuns(ctx context.Context, id string) ([]CronRun, error) {
	var out List[CronRun]
	return out.Data, c.json(ctx, http.MethodGet, "/cron-jobs/"+url.PathEscape(id)+"/runs?limit=1000", nil, &out)
}

// CronRun shows one run of a job.
func (c *Client) CronRun(ctx context.Context, id, runID string) (*CronRun, error) {
	var out CronRun
	return &out, c.json(ctx, http.MethodGet, "/cron-jobs/"+url.PathEscape(id)+"/runs/"+url.PathEscape(runID), nil, &out)
}
