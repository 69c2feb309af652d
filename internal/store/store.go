// Package store holds Berth's desired and observed state. One Store
// interface, implemented on SQLite (the embedded default); SQL is kept
// portable so PostgreSQL can implement the same interface later.
package store

import (
	"context"
	"errors"
	"time"
)

// Domain errors. Implementations wrap driver errors into these so callers
// can map them to problem+json in one place.
var (
	ErrNotFound = errors.New("not found")
	// ErrConflict is returned when a unique constraint (slug, external_id,
	// idempotency key) would be violated.
	ErrConflict = errors.New("conflict")
)

// Store is every read and write Berth makes. Methods that take a struct
// pointer for creation fill nothing in: the caller sets the id and times.
type Store interface {
	// InTx runs fn with a Store whose calls share one transaction; it
	// commits when fn returns nil and rolls back otherwise.
	InTx(ctx context.Context, fn func(tx Store) error) error
	Close() error

	CreateOrg(ctx context.Context, o *Org) error
	GetOrg(ctx context.Context, id string) (*Org, error)
	ListOrgs(ctx context.Context, f ListFilter) ([]*Org, error)

	CreateWorkspace(ctx context.Context, w *Workspace) error
	GetWorkspace(ctx context.Context, id string) (*Workspace, error)
	ListWorkspaces(ctx context.Context, f ListFilter) ([]*Workspace, error)

	CreateProject(ctx context.Context, p *Project) error
	GetProject(ctx context.Context, id string) (*Project, error)
	ListProjects(ctx context.Context, f ListFilter) ([]*Project, error)

	CreateAPIKey(ctx context.Context, k *APIKey) error
	// GetAPIKeyByHash finds a key by the sha256 hex of its secret.
	GetAPIKeyByHash(ctx context.Context, hash string) (*APIKey, error)
	CountAPIKeys(ctx context.Context) (int, error)

	HostStore
	DatabaseStore
	DomainStore
	CertStore
	CronStore
	BucketStore
	RouteStore
	ManagedCertStore
	DeploymentStateStore

	CreateSandbox(ctx context.Context, s *Sandbox) error
	GetSandbox(ctx context.Context, id string) (*Sandbox, error)
	// UpdateSandbox writes every mutable field of s (all but id, ids of
	// owners, slug and created_at) and bumps updated_at.
	UpdateSandbox(ctx context.Context, s *Sandbox) error
	// ListSandboxes leaves deleted sandboxes out; GetSandbox still has them.
	ListSandboxes(ctx context.Context, f ListFilter) ([]*Sandbox, error)

	CreateProcess(ctx context.Context, p *Process) error
	ListProcesses(ctx context.Context, sandboxID string) ([]*Process, error)

	// CreateRelease records r. No two releases of a project share a
	// whole second: when r.CreatedAt falls in or before the second of the
	// project's latest release, it becomes the next second (r says so on
	// return). A release's image serves its files with that time, and
	// HTTP's dates (Last-Modified, If-Modified-Since) count whole seconds.
	CreateRelease(ctx context.Context, r *Release) error
	GetRelease(ctx context.Context, id string) (*Release, error)
	ListReleases(ctx context.Context, f ListFilter) ([]*Release, error)

	CreateDeployment(ctx context.Context, d *Deployment) error
	GetDeployment(ctx context.Context, id string) (*Deployment, error)
	// UpdateDeployment records a new request of a deployment: its
	// product, release, env, metadata, external id and status. It bumps
	// the generation (d.Generation gets the new one) and updated_at.
	UpdateDeployment(ctx context.Context, d *Deployment) error
	// UpdateDeploymentRuntime records what the reconciler made of a
	// deployment: its host, the serving and standby containers and the
	// upstream, always; its status only while its generation is still
	// d.Generation, so a status computed for an older request never
	// overwrites a newer one. It bumps updated_at.
	UpdateDeploymentRuntime(ctx context.Context, d *Deployment) error
	ListDeployments(ctx context.Context, f ListFilter) ([]*Deployment, error)

	// AddDeploymentRelease appends to a deployment's release history.
	AddDeploymentRelease(ctx context.Context, r *DeploymentRelease) error
	// ListDeploymentReleases returns the history, oldest first.
	ListDeploymentReleases(ctx context.Context, deploymentID string) ([]*DeploymentRelease, error)

	AppendEvent(ctx context.Context, e *Event) error
	// ListEvents returns events of one resource (all when empty) with
	// Seq > after, oldest first, at most limit (100 when 0).
	ListEvents(ctx context.Context, resourceID string, after int64, limit int) ([]*Event, error)

	// GetIdempotent returns the response recorded for (keyID, idemKey), or
	// ErrNotFound.
	GetIdempotent(ctx context.Context, keyID, idemKey string) (*Idempotent, error)
	PutIdempotent(ctx context.Context, r *Idempotent) error
}

// ListFilter narrows list calls. Empty fields do not filter. Lists are
// ordered by id (creation order); After is the cursor: ids greater than it.
type ListFilter struct {
	OrgID       string
	WorkspaceID string
	ProjectID   string
	ExternalID  string
	After       string
	Limit       int // 100 when 0
}

// Org is a customer of the platform: branding, domains and API keys hang
// off it.
type Org struct {
	ID         string
	Slug       string // unique
	Name       string
	ExternalID string // unique among orgs when set
	CreatedAt  time.Time
}

// Workspace is a client or expert inside an org.
type Workspace struct {
	ID         string
	OrgID      string
	Slug       string // unique within the org
	Name       string
	ExternalID string // unique within the org when set
	CreatedAt  time.Time
}

// Project is one app.
type Project struct {
	ID          string
	OrgID       string
	WorkspaceID string
	Slug        string // unique within the org: it names the app's URL
	Name        string
	ExternalID  string // unique within the workspace when set
	CreatedAt   time.Time
}

// Roles of an API key.
const (
	RoleAdmin    = "admin"
	RoleDeployer = "deployer"
	RoleViewer   = "viewer"
)

// APIKey is a bearer credential. Only the sha256 of the secret is kept.
// A key with no OrgID is a platform key (the bootstrap key).
type APIKey struct {
	ID          string
	Name        string
	Hash        string // sha256 hex of the secret; unique
	Prefix      string // first characters of the secret, to recognise it
	OrgID       string
	WorkspaceID string
	ProjectID   string
	Role        string
	CreatedAt   time.Time
}

// Sandbox statuses.
const (
	SandboxPending = "pending"
	SandboxRunning = "running"
	SandboxFailed  = "failed"
	SandboxStopped = "stopped"
	// SandboxPaused is frozen: memory and processes kept, nothing runs.
	SandboxPaused = "paused"
	// SandboxDeleted has no container or volume left; the record stays
	// for history and is left out of lists.
	SandboxDeleted = "deleted"
)

// Sandbox is an editable workspace: a container, a files volume and a
// preview URL.
type Sandbox struct {
	ID           string
	OrgID        string
	WorkspaceID  string
	ProjectID    string
	Slug         string // unique: names the preview URL
	TemplateID   string
	Env          map[string]string
	Ports        []int // container ports published for previews
	Status       string
	StatusReason string
	HostID       string
	ContainerID  string
	Volume       string
	// StartedAt is the container start time the background processes were
	// launched for; a different start time means they must be launched
	// again.
	ProcsStartedAt string
	PreviewPort    int
	// Upstreams maps a container port to the host address serving it.
	Upstreams  map[int]string
	ExternalID string
	CreatedAt  time.Time
	UpdatedAt  time.Time
}

// Process is a background command of a sandbox, relaunched whenever the
// sandbox's container starts.
type Process struct {
	ID        string
	SandboxID string
	Command   string
	Cwd       string
	// Env is sealed at rest; the command line never carries it.
	Env       map[string]string
	CreatedAt time.Time
}

// Release is an immutable artifact frozen from a sandbox or a directory.
type Release struct {
	ID          string
	OrgID       string
	WorkspaceID string
	ProjectID   string
	Digest      string // "sha256:<hex>" of the artifact tar
	Size        int64
	EnvNames    []string
	Build       Build
	Provenance  Provenance
	ExternalID  string
	CreatedAt   time.Time
}

// Build is how a release becomes an image.
type Build struct {
	TemplateID string `json:"template_id,omitempty"`
	Dockerfile string `json:"dockerfile,omitempty"` // path inside the artifact
	Command    string `json:"command,omitempty"`
	Port       int    `json:"port,omitempty"`
}

// Provenance says where a release came from.
type Provenance struct {
	SourceSandboxID string       `json:"source_sandbox_id,omitempty"`
	Source          string       `json:"source"` // "sandbox" | "upload"
	CreatedBy       string       `json:"created_by"`
	Files           []FileDigest `json:"files"`
}

// FileDigest is one file of a release.
type FileDigest struct {
	Path   string `json:"path"`
	Size   int64  `json:"size"`
	Digest string `json:"digest"`
}

// Deployment products and statuses.
const (
	ProductStandard     = "standard"
	ProductDockerDeploy = "docker_deploy"

	DeploymentPending  = "pending"
	DeploymentBuilding = "building"
	DeploymentStarting = "starting"
	DeploymentReady    = "ready"
	DeploymentFailed   = "failed"
)

// Deployment is a release running at a stable URL. ReleaseID is the
// desired release; the Serving* fields are what the edge routes to now.
type Deployment struct {
	ID               string
	OrgID            string
	WorkspaceID      string
	ProjectID        string
	Product          string
	ReleaseID        string
	Env              map[string]string
	Metadata         map[string]string
	Status           string
	StatusReason     string
	HostID           string
	ServingReleaseID string
	ContainerID      string
	Upstream         string
	// StandbyContainerID is the container of StandbyReleaseID, the
	// release served before ServingReleaseID, kept frozen so a rollback
	// to it starts nothing; empty when there is none.
	StandbyContainerID string
	StandbyReleaseID   string
	ExternalID         string
	Desired            string // "" (run), DesiredPaused or DesiredDeleted; only SetDeploymentDesired writes it
	// Generation counts the requests made of the deployment (deploys,
	// rollbacks, restarts); only UpdateDeployment changes it.
	Generation int64
	CreatedAt  time.Time
	UpdatedAt  time.Time
}

// DeploymentRelease is one entry of a deployment's history.
type DeploymentRelease struct {
	ID           int64
	DeploymentID string
	ReleaseID    string
	Reason       string // "deploy" | "rollback"
	CreatedAt    time.Time
}

// Event is one step of a long operation.
type Event struct {
	Seq        int64 // assigned by AppendEvent, increasing
	ID         string
	ResourceID string
	Type       string // "deployment.building", …
	Message    string
	CreatedAt  time.Time
}

// Idempotent is the recorded response to a POST with an Idempotency-Key.
type Idempotent struct {
	KeyID   string
	IdemKey string
	// Request is a digest of the request the answer was for; a retry with
	// the same key and another request is refused.
	Request   string
	Status    int
	Body      []byte
	CreatedAt time.Time
}

// ListAll pages through a list call until it has every item.
func ListAll[T interface{ GetID() string }](ctx context.Context, list func(context.Context, ListFilter) ([]T, error)) ([]T, error) {
	var all []T
	f := ListFilter{Limit: 1000}
	for {
		page, err := list(ctx, f)
		if err != nil {
			return nil, err
		}
		all = append(all, page...)
		if len(page) < f.Limit {
			return all, nil
		}
		f.After = page[len(page)-1].GetID()
	}
}
