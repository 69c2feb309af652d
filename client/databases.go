package client

import (
	"context"
	"net/http"
	"net/url"
	"time"
)

// Database is a managed data service: Postgres, MySQL or Redis.
type Database struct {
	ID           string `json:"id"`
	ProjectID    string `json:"project_id"`
	Name         string `json:"name"`
	Engine       string `json:"engine"`
	Status       string `json:"status"`
	StatusReason string `json:"status_reason,omitempty"`
	// Version is the server's own, once a login has read it.
	Version   string `json:"version,omitempty"`
	SizeBytes int64  `json:"size_bytes"`
	Image     string `json:"image"`
	// Host and Port are where linked apps reach the service.
	Host string `json:"host"`
	Port int    `json:"port"`
	// CredentialsApplied is false while rotated credentials are not yet
	// enforced by the running server.
	CredentialsApplied bool      `json:"credentials_applied"`
	ExternalID         string    `json:"external_id,omitempty"`
	CreatedAt          time.Time `json:"created_at"`
	UpdatedAt          time.Time `json:"updated_at"`
	// Credentials are present only in the answers that issue them
	// (creation, rotation).
	Credentials DatabaseCredentials `json:"credentials,omitempty,omitzero"`
}

// DatabaseCredentials are what Berth issued for a data service.
type DatabaseCredentials struct {
	Username string `json:"username"`
	Password string `json:"password"`
	// Database is empty for Redis.
	Database string `json:"database,omitempty"`
	Host     string `json:"host"`
	Port     int    `json:"port"`
	// URL is the connection URL on the project's network, the password
	// percent-encoded.
	URL string `json:"url"`
	// PublishedURL reaches the service from the machine it runs on
	// (127.0.0.1 and a port of the host), once it runs.
	PublishedURL string `json:"published_url,omitempty"`
	// Env is what a linked sandbox or deployment gets at boot.
	Env map[string]string `json:"env"`
}

// DatabaseLink gives a sandbox or deployment a data service's variables.
type DatabaseLink struct {
	DatabaseID   string `json:"database_id"`
	SandboxID    string `json:"sandbox_id,omitempty"`
	DeploymentID string `json:"deployment_id,omitempty"`
	// EnvNames are the variables the target gets.
	EnvNames []string `json:"env_names"`
	// Applied is true once the target was restarted with them.
	Applied   bool      `json:"applied"`
	CreatedAt time.Time `json:"created_at"`
}

// CreateDatabase creates a data service.
type CreateDatabase struct {
	ProjectID string `json:"project_id"`
	// Engine is postgres (the default), mysql or redis.
	Engine     string `json:"engine,omitempty"`
	Name       string `json:"name"`
	ExternalID string `json:"external_id,omitempty"`
}

// CreateDatabaseLink links a data service to one sandbox or deployment.
type CreateDatabaseLink struct {
	SandboxID    string `json:"sandbox_id,omitempty"`
	DeploymentID string `json:"deployment_id,omitempty"`
}

// CreateDatabase creates a data service; the answer carries its
// credentials, this once.
func (c *Client) CreateDatabase(ctx context.Context, in CreateDatabase) (*Database, error) {
	var out Database
	return &out, c.create(ctx, "/databases", in, &out)
}

// GetDatabase shows a data service.
func (c *Client) GetDatabase(ctx context.Context, id string) (*Database, error) {
	var out Database
	return &out, c.json(ctx, http.MethodGet, "/databases/"+url.PathEscape(id), nil, &out)
}

// ListDatabases lists data services, of one project when projectID is set.
func (c *Client) ListDatabases(ctx context.Context, projectID string) ([]Database, error) {
	var out List[Database]
	path := "/databases?limit=1000"
	if projectID != "" {
		path += "&project_id=" + url.QueryEscape(projectID)
	}
	return out.Data, c.json(ctx, http.MethodGet, path, nil, &out)
}

// DeleteDatabase removes a data service's container and record; with
// purge, its data too.
func (c *Client) DeleteDatabase(ctx context.Context, id string, purge bool) error {
	path := "/databases/" + url.PathEscape(id)
	if purge {
		path += "?purge=true"
	}
	return c.Do(ctx, http.MethodDelete, path, nil, "", nil)
}

// RevealCredentials shows a data service's credentials (admin keys).
func (c *Client) RevealCredentials(ctx context.Context, id string) (*DatabaseCredentials, error) {
	var out DatabaseCredentials
	return &out, c.json(ctx, http.MethodPost, "/databases/"+url.PathEscape(id)+"/credentials/reveal", nil, &out)
}

// RotateCredentials issues new credentials and applies them (admin keys);
// the answer carries them, this once.
func (c *Client) RotateCredentials(ctx context.Context, id string) (*Database, error) {
	var out Database
	return &out, c.json(ctx, http.MethodPost, "/databases/"+url.PathEscape(id)+"/credentials/rotate", nil, &out)
}

// LinkDatabase links a data service to a sandbox or deployment.
func (c *Client) LinkDatabase(ctx context.Context, id string, in CreateDatabaseLink) (*DatabaseLink, error) {
	var out DatabaseLink
	return &out, c.create(ctx, "/databases/"+url.PathEscape(id)+"/links", in, &out)
}

// DatabaseLinks lists a data service's links.
func (c *Client) DatabaseLinks(ctx context.Context, id string) ([]DatabaseLink, error) {
	var out List[DatabaseLink]
	return out.Data, c.json(ctx, http.MethodGet, "/databases/"+url.PathEscape(id)+"/links", nil, &out)
}

// UnlinkDatabase removes the link of a data service to a sandbox or
// deployment.
func (c *Client) UnlinkDatabase(ctx context.Context, id, targetID string) error {
	return c.Do(ctx, http.MethodDelete, "/databases/"+url.PathEscape(id)+"/links/"+url.PathEscape(targetID), nil, "", nil)
}
