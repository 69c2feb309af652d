package client

import "time"

// Org is a customer of the platform.
type Org struct {
	ID         string    `json:"id"`
	Slug       string    `json:"slug"`
	Name       string    `json:"name"`
	ExternalID string    `json:"external_id,omitempty"`
	CreatedAt  time.Time `json:"created_at"`
}

// Workspace is a client or expert inside an org.
type Workspace struct {
	ID         string    `json:"id"`
	OrgID      string    `json:"org_id"`
	Slug       string    `json:"slug"`
	Name       string    `json:"name"`
	ExternalID string    `json:"external_id,omitempty"`
	CreatedAt  time.Time `json:"created_at"`
}

// Project is one app.
type Project struct {
	ID          string    `json:"id"`
	OrgID       string    `json:"org_id"`
	WorkspaceID string    `json:"workspace_id"`
	Slug        string    `json:"slug"`
	Name        string    `json:"name"`
	ExternalID  string    `json:"external_id,omitempty"`
	CreatedAt   time.Time `json:"created_at"`
}

// Sandbox is an editable workspace with a preview URL.
type Sandbox struct {
	ID           string    `json:"id"`
	ProjectID    string    `json:"project_id"`
	TemplateID   string    `json:"template_id"`
	Status       string    `json:"status"`
	StatusReason string    `json:"status_reason,omitempty"`
	Ports        []int     `json:"ports"`
	EnvNames     []string  `json:"env_names"`
	PreviewURL   string    `json:"preview_url"`
	PreviewPort  int       `json:"preview_port,omitempty"`
	ExternalID   string    `json:"external_id,omitempty"`
	CreatedAt    time.Time `json:"created_at"`
	UpdatedAt    time.Time `json:"updated_at"`
	Processes    []Process `json:"processes"`
}

// Process is a background command of a sandbox.
type Process struct {
	ID      string `json:"id"`
	Command string `json:"command"`
	Cwd     string `json:"cwd,omitempty"`
}

// Preview is the answer to a preview request.
type Preview struct {
	URL   string `json:"url"`
	Port  int    `json:"port"`
	Ready bool   `json:"ready"`
	// Reason says why the preview is not ready yet.
	Reason string `json:"reason,omitempty"`
}

// ExecResult is what a one-shot command produced.
type ExecResult struct {
	ExitCode  int    `json:"exit_code"`
	Stdout    string `json:"stdout"`
	Stderr    string `json:"stderr"`
	Truncated bool   `json:"truncated,omitempty"`
}

// FileEntry is one entry of a directory listing.
type FileEntry struct {
	Name    string    `json:"name"`
	Type    string    `json:"type"` // "file", "dir", "symlink"
	Size    int64     `json:"size"`
	ModTime time.Time `json:"mod_time"`
}

// Release is an immutable artifact.
type Release struct {
	ID         string     `json:"id"`
	ProjectID  string     `json:"project_id"`
	Digest     string     `json:"sha256"`
	Size       int64      `json:"size"`
	EnvNames   []string   `json:"env_manifest"`
	Build      Build      `json:"build"`
	Provenance Provenance `json:"provenance"`
	ExternalID string     `json:"external_id,omitempty"`
	CreatedAt  time.Time  `json:"created_at"`
}

// Build is how a release becomes an image.
type Build struct {
	TemplateID string `json:"template_id,omitempty"`
	Dockerfile string `json:"dockerfile,omitempty"`
	Command    string `json:"command,omitempty"`
	Port       int    `json:"port"`
}

// Provenance says where a release came from.
type Provenance struct {
	Source          string       `json:"source"`
	SourceSandboxID string       `json:"source_sandbox_id,omitempty"`
	CreatedBy       string       `json:"created_by"`
	CreatedAt       time.Time    `json:"created_at"`
	Files           []FileDigest `json:"files"`
}

// FileDigest is one file of a release.
type FileDigest struct {
	Path   string `json:"path"`
	Size   int64  `json:"size"`
	Digest string `json:"sha256"`
}

// Deployment is a release running at a stable URL.
type Deployment struct {
	ID                string `json:"id"`
	ProjectID         string `json:"project_id"`
	DeploymentProduct string `json:"deployment_product"`
	ReleaseID         string `json:"release_id"`
	ServingReleaseID  string `json:"serving_release_id,omitempty"`
	// StandbyReleaseID is the release whose container is kept frozen: a
	// rollback to it switches at once, starting nothing.
	StandbyReleaseID string            `json:"standby_release_id,omitempty"`
	Status           string            `json:"status"`
	StatusReason     string            `json:"status_reason,omitempty"`
	Ready            bool              `json:"ready"`
	URL              string            `json:"url"`
	EnvNames         []string          `json:"env_names"`
	Metadata         map[string]string `json:"metadata"`
	History          []HistoryEntry    `json:"history"`
	ExternalID       string            `json:"external_id,omitempty"`
	DesiredState     string            `json:"desired_state"` // running, paused or deleted; Status says when it is so
	CreatedAt        time.Time         `json:"created_at"`
	UpdatedAt        time.Time         `json:"updated_at"`
}

// HistoryEntry is one release a deployment was pointed at.
type HistoryEntry struct {
	ReleaseID string    `json:"release_id"`
	Reason    string    `json:"reason"`
	CreatedAt time.Time `json:"created_at"`
}

// Event is one step of a long operation.
type Event struct {
	Seq        int64     `json:"seq"`
	ID         string    `json:"id"`
	ResourceID string    `json:"resource_id"`
	Type       string    `json:"type"`
	Message    string    `json:"message"`
	CreatedAt  time.Time `json:"created_at"`
}

// Template is a curated app shape.
type Template struct {
	ID            string            `json:"id"`
	Name          string            `json:"name"`
	Description   string            `json:"description"`
	Runtime       string            `json:"runtime"`
	Dockerfile    string            `json:"dockerfile"`
	Compose       string            `json:"compose,omitempty"`
	DevCommand    string            `json:"dev_command"`
	BuildCommand  string            `json:"build_command,omitempty"`
	StartCommand  string            `json:"start_command"`
	Port          int               `json:"port"`
	Env           map[string]string `json:"env"`
	Volumes       []string          `json:"volumes"`
	HealthPath    string            `json:"health_path"`
	DesignContext string            `json:"design_context"`
}

// APIKey is a credential; Secret is present only in the answer that
// created it.
type APIKey struct {
	ID          string    `json:"id"`
	Name        string    `json:"name"`
	Prefix      string    `json:"prefix"`
	OrgID       string    `json:"org_id,omitempty"`
	WorkspaceID string    `json:"workspace_id,omitempty"`
	ProjectID   string    `json:"project_id,omitempty"`
	Role        string    `json:"role"`
	Secret      string    `json:"secret,omitempty"`
	CreatedAt   time.Time `json:"created_at"`
}

// List is one page of a list endpoint.
type List[T any] struct {
	Data       []T    `json:"data"`
	NextCursor string `json:"next_cursor,omitempty"`
}

// Problem is an RFC 9457 error body.
type Problem struct {
	Type   string `json:"type"`
	Title  string `json:"title"`
	Status int    `json:"status"`
	Code   string `json:"code"`
	Detail string `json:"detail"`
	// Errors lists field-level problems, when there are several.
	Errors []FieldError `json:"errors,omitempty"`
}

// FieldError is one field-level problem.
type FieldError struct {
	Field  string `json:"field"`
	Detail string `json:"detail"`
}

func (p *Problem) Error() string { return p.Code + ": " + p.Detail }

// Request bodies.

// CreateOrg creates an org.
type CreateOrg struct {
	Name       string `json:"name"`
	Slug       string `json:"slug,omitempty"`
	ExternalID string `json:"external_id,omitempty"`
}

// CreateWorkspace creates a workspace.
type CreateWorkspace struct {
	OrgID      string `json:"org_id"`
	Name       string `json:"name"`
	Slug       string `json:"slug,omitempty"`
	ExternalID string `json:"external_id,omitempty"`
}

// CreateProject creates a project.
type CreateProject struct {
	WorkspaceID string `json:"workspace_id"`
	Name        string `json:"name"`
	Slug        string `json:"slug,omitempty"`
	ExternalID  string `json:"external_id,omitempty"`
}

// CreateSandbox creates a sandbox.
type CreateSandbox struct {
	ProjectID  string            `json:"project_id"`
	TemplateID string            `json:"template_id"`
	Env        map[string]string `json:"env,omitempty"`
	Ports      []int             `json:"ports,omitempty"`
	ExternalID string            `json:"external_id,omitempty"`
}

// Exec runs a command in a sandbox.
type Exec struct {
	Command    string            `json:"command"`
	Cwd        string            `json:"cwd,omitempty"`
	Env        map[string]string `json:"env,omitempty"`
	Background bool              `json:"background,omitempty"`
	TimeoutSec int               `json:"timeout_seconds,omitempty"`
}

// CreateDeployment deploys a release.
type CreateDeployment struct {
	ProjectID         string            `json:"project_id"`
	ReleaseID         string            `json:"release_id"`
	DeploymentProduct string            `json:"deployment_product,omitempty"`
	Env               map[string]string `json:"env,omitempty"`
	Metadata          map[string]string `json:"metadata,omitempty"`
	ExternalID        string            `json:"external_id,omitempty"`
}

// Rollback re-points a deployment to an earlier release.
type Rollback struct {
	ReleaseID string `json:"release_id,omitempty"`
}

// CreateAPIKey creates a scoped key.
type CreateAPIKey struct {
	Name        string `json:"name"`
	OrgID       string `json:"org_id,omitempty"`
	WorkspaceID string `json:"workspace_id,omitempty"`
	ProjectID   string `json:"project_id,omitempty"`
	Role        string `json:"role"`
}
