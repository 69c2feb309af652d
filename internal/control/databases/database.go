package databases

import (
	"context"
	"errors"
	"net"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/berth-dev/berth/internal/control/appenv"
	"github.com/berth-dev/berth/internal/id"
	"github.com/berth-dev/berth/internal/problem"
	"github.com/berth-dev/berth/internal/store"
	"github.com/berth-dev/berth/internal/templates"
)

// dbName is a data service's name: a DNS label, since linked apps reach
// the service by it.
var dbName = regexp.MustCompile(`^[a-z]([a-z0-9-]{0,30}[a-z0-9])?$`)

// The user and database Berth issues on every data service; the password
// is new for each service and each rotation.
const (
	dbUsername = "app"
	dbDatabase = "app"
)

// newPassword returns a fresh random password: 32 letters and digits
// (190 bits). URLs Berth builds percent-encode whatever a password holds.
func newPassword() string { return id.Secret(id.Alphanumeric, 32) }

// dbContainer names a data service's container.
func dbContainer(db *store.Database) string { return "berth-" + db.ID }

// dbVolume names a data service's data volume after its project, engine
// and name: deleting a service without purge keeps the volume, and a new
// service of the same engine and name in the project starts on it (with
// its own credentials, which the boot enforces).
func dbVolume(projectID, engine, name string) string {
	return "berth-" + strings.ReplaceAll(projectID, "_", "-") + "-" + engine + "-" + name
}

func credentialsOf(db *store.Database) dbCredentials {
	return dbCredentials{Username: db.Username, Password: db.Password, Database: db.DatabaseName}
}

// DatabaseRequest asks for a managed data service.
type DatabaseRequest struct {
	Project    *store.Project
	Engine     string
	Name       string
	ExternalID string
}

// CreateDatabase records a data service with new credentials and starts
// provisioning it; the answer is at once, with status provisioning.
func (c *Service) CreateDatabase(ctx context.Context, req DatabaseRequest) (*store.Database, error) {
	if req.Engine == "" {
		req.Engine = store.EnginePostgres
	}
	if _, ok := engines[req.Engine]; !ok {
		return nil, problem.Unprocessable("unknown_engine", "engine %q is not offered: use postgres, mysql or redis", req.Engine)
	}
	if !dbName.MatchString(req.Name) || req.Name == "localhost" {
		return nil, problem.Unprocessable("invalid_name",
			"name %q is not valid: use 1 to 32 lower-case letters, digits and dashes, starting with a letter and not ending with a dash (apps reach the service by this name)", req.Name)
	}
	now := time.Now().UTC()
	db := &store.Database{
		ID: id.New(id.Database), OrgID: req.Project.OrgID, WorkspaceID: req.Project.WorkspaceID, ProjectID: req.Project.ID,
		Name: req.Name, Engine: req.Engine, Image: c.DataImage(req.Engine), Status: store.DatabaseProvisioning,
		Volume:   dbVolume(req.Project.ID, req.Engine, req.Name),
		Username: dbUsername, Password: newPassword(), DatabaseName: dbDatabase, CredentialsVersion: 1,
		ExternalID: req.ExternalID, CreatedAt: now, UpdatedAt: now,
	}
	if req.Engine == store.EngineRedis {
		db.DatabaseName = "" // Redis has numbered databases; apps use 0
	}
	err := c.st.InTx(ctx, func(tx store.Store) error {
		existing, err := store.ListAll(ctx, func(ctx context.Context, f store.ListFilter) ([]*store.Database, error) {
			f.ProjectID = req.Project.ID
			return tx.ListDatabases(ctx, f)
		})
		if err != nil {
			return err
		}
		for _, e := range existing {
			if e.Name == req.Name {
				return problem.Conflict("name_taken", "the project already has a data service named %q (%s); choose another name", req.Name, e.ID)
			}
			if req.ExternalID != "" && e.ExternalID == req.ExternalID {
				return problem.Conflict("external_id_taken", "a data service with external_id %q already exists", req.ExternalID)
			}
		}
		return tx.CreateDatabase(ctx, db)
	})
	if err != nil {
		return nil, appenv.WrapConflict(err, "creating data service")
	}
	c.events.Record(ctx, db.ID, "database.provisioning", "provisioning %s %q", db.Engine, db.Name)
	c.queue.Kick(db.ID)
	return db, nil
}

// WaitDatabase waits until done(db) holds, the service is gone
// (ErrNotFound), or timeout passes; it returns the last record seen.
func (c *Service) WaitDatabase(ctx context.Context, dbID string, timeout time.Duration, done func(*store.Database) bool) (*store.Database, error) {
	deadline := time.Now().Add(timeout)
	for {
		db, err := c.st.GetDatabase(ctx, dbID)
		if err != nil {
			return nil, err
		}
		if done(db) || time.Now().After(deadline) {
			return db, nil
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// RotateDatabase issues new credentials and waits (up to wait) until the
// running server enforces them; the reconciler applies them and then
// restarts every linked sandbox and deployment.
func (c *Service) RotateDatabase(ctx context.Context, dbID string, wait time.Duration) (*store.Database, error) {
	var db *store.Database
	err := c.st.InTx(ctx, func(tx store.Store) error {
		var err error
		if db, err = tx.GetDatabase(ctx, dbID); err != nil {
			return err
		}
		switch db.Status {
		case store.DatabaseProvisioning:
			return problem.Conflict("database_provisioning", "the data service is still provisioning; rotate once it is healthy")
		case store.DatabaseDeleting:
			return problem.Conflict("database_deleting", "the data service is being deleted")
		}
		if db.AppliedVersion == db.CredentialsVersion {
			// Until the new password is applied, the server takes this one.
			db.PreviousPassword = db.Password
		}
		db.Password = newPassword()
		db.CredentialsVersion++
		return tx.UpdateDatabase(ctx, db)
	})
	if err != nil {
		return nil, err
	}
	c.events.Record(ctx, db.ID, "database.rotating", "issued credentials version %d; applying them to the running server", db.CredentialsVersion)
	c.queue.Kick(db.ID)
	want := db.CredentialsVersion
	cur, err := c.WaitDatabase(ctx, db.ID, wait, func(d *store.Database) bool { return d.AppliedVersion >= want || d.CredentialsVersion != want })
	if err != nil {
		return nil, err
	}
	return cur, nil
}

// DeleteDatabase removes a data service's container (and with purge its
// data volume) and its record, waiting up to wait. A service still linked
// to a sandbox or deployment is refused: unlink it first.
func (c *Service) DeleteDatabase(ctx context.Context, dbID string, purge bool, wait time.Duration) (*store.Database, error) {
	var db *store.Database
	err := c.st.InTx(ctx, func(tx store.Store) error {
		var err error
		if db, err = tx.GetDatabase(ctx, dbID); err != nil {
			return err
		}
		links, err := tx.ListDatabaseLinks(ctx, store.DatabaseLinkFilter{DatabaseID: dbID})
		if err != nil {
			return err
		}
		if len(links) > 0 {
			var targets []string
			for _, l := range links {
				targets = append(targets, l.TargetID)
			}
			return problem.Conflict("database_linked", "the data service is linked to %s; unlink it first (DELETE /databases/%s/links/{target_id})", strings.Join(targets, ", "), dbID)
		}
		db.Status, db.StatusReason, db.Purge = store.DatabaseDeleting, "", db.Purge || purge
		return tx.UpdateDatabase(ctx, db)
	})
	if err != nil {
		return nil, err
	}
	c.events.Record(ctx, db.ID, "database.deleting", "deleting %s %q (purge: %v)", db.Engine, db.Name, db.Purge)
	c.queue.Kick(db.ID)
	cur, err := c.WaitDatabase(ctx, db.ID, wait, func(*store.Database) bool { return false })
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil
	}
	return cur, err
}

// LinkDatabase records a link; the target is restarted with the
// service's variables once the service is healthy.
func (c *Service) LinkDatabase(ctx context.Context, dbID string, req appenv.LinkRequest) (*store.DatabaseLink, error) {
	target := req.SandboxID + req.DeploymentID
	switch {
	case target == "":
		return nil, problem.Unprocessable("missing_target", "give the sandbox_id or the deployment_id to link")
	case req.SandboxID != "" && req.DeploymentID != "":
		return nil, problem.Unprocessable("invalid_target", "give one of sandbox_id and deployment_id, not both")
	}
	var l *store.DatabaseLink
	err := c.st.InTx(ctx, func(tx store.Store) error {
		db, err := tx.GetDatabase(ctx, dbID)
		if err != nil {
			return err
		}
		if db.Status == store.DatabaseDeleting {
			return problem.Conflict("database_deleting", "the data service is being deleted")
		}
		projectID, err := appenv.TargetProject(ctx, tx, req)
		if err != nil {
			return err
		}
		if projectID != db.ProjectID {
			return problem.Unprocessable("target_of_another_project",
				"%s belongs to another project; link data services to sandboxes and deployments of project %s", target, db.ProjectID)
		}
		links, err := tx.ListDatabaseLinks(ctx, store.DatabaseLinkFilter{TargetID: target})
		if err != nil {
			return err
		}
		for _, e := range links {
			if e.DatabaseID == db.ID {
				return problem.Conflict("already_linked", "the data service is already linked to %s", target)
			}
			other, err := tx.GetDatabase(ctx, e.DatabaseID)
			if err != nil {
				return err
			}
			if other.Engine == db.Engine {
				return problem.Conflict("engine_already_linked",
					"%s already gets a %s service (%s, %q) and its variables; unlink that one first", target, db.Engine, other.ID, other.Name)
			}
		}
		l = &store.DatabaseLink{DatabaseID: db.ID, TargetID: target, ProjectID: db.ProjectID, CreatedAt: time.Now().UTC()}
		return tx.CreateDatabaseLink(ctx, l)
	})
	if err != nil {
		return nil, err
	}
	c.events.Record(ctx, dbID, "database.linked", "linked to %s", target)
	c.queue.Kick(dbID)
	return l, nil
}

// UnlinkDatabase removes a link and restarts the target without the
// service's variables.
func (c *Service) UnlinkDatabase(ctx context.Context, dbID, targetID string) error {
	err := c.st.DeleteDatabaseLink(ctx, dbID, targetID)
	if errors.Is(err, store.ErrNotFound) {
		return problem.NotFound("link_not_found", "the data service is not linked to %q", targetID)
	}
	if err != nil {
		return err
	}
	c.events.Record(ctx, dbID, "database.unlinked", "unlinked from %s", targetID)
	_, err = c.targets.Restart(ctx, targetID, "a data service was unlinked", true)
	return err
}

// DatabaseEnv is what a linked app of the service gets at boot.
func (c *Service) DatabaseEnv(db *store.Database) map[string]string {
	return engines[db.Engine].env(credentialsOf(db), db.Name)
}

// DatabaseURL is the service's URL on the project network, and the one
// of its published address on its host (empty until it runs).
func (c *Service) DatabaseURL(db *store.Database) (internal, published string) {
	e := engines[db.Engine]
	internal = e.url(credentialsOf(db), db.Name, e.port())
	if host, port, err := net.SplitHostPort(db.Upstream); err == nil {
		if p, err := strconv.Atoi(port); err == nil {
			published = e.url(credentialsOf(db), host, p)
		}
	}
	return internal, published
}

// DatabasePort is the engine's port on the project network.
func DatabasePort(engine string) int {
	if e, ok := engines[engine]; ok {
		return e.port()
	}
	return 0
}

// DataImage is the image of an engine: the one configured for it (the
// same NAME=REF list as the templates' images, under the engine's name),
// else Berth's local one.
func (c *Service) DataImage(engine string) string {
	if c.cfg.Templates != nil {
		if ref := c.cfg.Templates.ImageRef(&templates.Template{Image: engine}); ref != "" {
			return ref
		}
	}
	return engines[engine].defaultImage()
}
