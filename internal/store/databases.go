package store

import (
	"context"
	"time"
)

// DatabaseStore holds managed data services and their links.
type DatabaseStore interface {
	// CreateDatabase records db. A name or external_id taken in the
	// project is ErrConflict.
	CreateDatabase(ctx context.Context, db *Database) error
	GetDatabase(ctx context.Context, id string) (*Database, error)
	// UpdateDatabase writes every mutable field of db (all but id, owners,
	// name, engine and created_at) and bumps updated_at.
	UpdateDatabase(ctx context.Context, db *Database) error
	ListDatabases(ctx context.Context, f ListFilter) ([]*Database, error)
	// DeleteDatabase removes a database and its links.
	DeleteDatabase(ctx context.Context, id string) error

	// CreateDatabaseLink records a link; linking a database to a target
	// twice is ErrConflict.
	CreateDatabaseLink(ctx context.Context, l *DatabaseLink) error
	// UpdateDatabaseLink writes l.Version.
	UpdateDatabaseLink(ctx context.Context, l *DatabaseLink) error
	// DeleteDatabaseLink removes the link of a database to a target, or
	// answers ErrNotFound.
	DeleteDatabaseLink(ctx context.Context, databaseID, targetID string) error
	// ListDatabaseLinks lists the links of a database, or to a target (a
	// sandbox or deployment), or both, oldest first.
	ListDatabaseLinks(ctx context.Context, f DatabaseLinkFilter) ([]*DatabaseLink, error)
}

// Data service engines.
const (
	EnginePostgres = "postgres"
	EngineMySQL    = "mysql"
	EngineRedis    = "redis"
)

// Data service statuses. A service is provisioning until a login with
// the credentials Berth issued first succeeds; healthy while such logins
// succeed; unhealthy when one fails or the server is down; failed when
// it cannot run at all. Deleting is the user's request to remove it.
const (
	DatabaseProvisioning = "provisioning"
	DatabaseHealthy      = "healthy"
	DatabaseUnhealthy    = "unhealthy"
	DatabaseFailed       = "failed"
	DatabaseDeleting     = "deleting"
)

// Database is a managed data service (Postgres, MySQL or Redis) running
// as a container with its own volume on a host.
type Database struct {
	ID          string
	OrgID       string
	WorkspaceID string
	ProjectID   string
	// Name is unique within the project; linked apps reach the service by
	// it on the project's network.
	Name   string
	Engine string
	// Image is what the service's container runs, chosen at creation.
	Image        string
	Status       string
	StatusReason string
	// Version is the server's version, as it reports it.
	Version   string
	SizeBytes int64
	HostID    string
	// ContainerID is the running container's id.
	ContainerID string
	Volume      string
	// Upstream is the "127.0.0.1:port" the service is published at on its
	// host.
	Upstream string
	Username string
	Password string // sealed at rest
	// PreviousPassword, while a rotation is not applied yet, is the one
	// the server still enforces (sealed at rest); empty otherwise.
	PreviousPassword string
	DatabaseName     string
	// CredentialsVersion counts the credentials issued (1 at creation,
	// one more per rotation); AppliedVersion is the last one the server
	// was seen to enforce, by a login.
	CredentialsVersion int
	AppliedVersion     int
	// Purge, with Status deleting, removes the data volume too.
	Purge      bool
	ExternalID string
	CreatedAt  time.Time
	UpdatedAt  time.Time
}

// GetID returns the database's id.
func (db *Database) GetID() string { return db.ID }

// DatabaseLink gives a sandbox or deployment (the target) a database's
// credentials at boot.
type DatabaseLink struct {
	DatabaseID string
	TargetID   string // sbx_… or dep_…
	ProjectID  string
	// Version is the database's credentials version the target was last
	// restarted for; a target behind the applied version is restarted.
	Version   int
	CreatedAt time.Time
}

// DatabaseLinkFilter narrows ListDatabaseLinks; empty fields do not
// filter.
type DatabaseLinkFilter struct {
	DatabaseID string
	TargetID   string
}
