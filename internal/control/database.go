package control

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"math/big"
	"net"
	"regexp"
	"strconv"
	"strings"
	"time"

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

// passwordAlphabet is what issued passwords are made of: letters and
// digits, 32 of them (190 bits), so that a password needs no quoting in a
// shell, a config file or a URL, even where an app builds one by hand.
// URLs Berth builds percent-encode whatever the password holds.
const passwordAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"

// newPassword returns a fresh random password.
func newPassword() string {
	b := make([]byte, 32)
	for i := range b {
		n, err := rand.Int(rand.Reader, big.NewInt(int64(len(passwordAlphabet))))
		if err != nil {
			panic(err) // crypto/rand never fails on Linux.
		}
		b[i] = passwordAlphabet[n.Int64()]
	}
	return string(b)
}

// projectNetwork is the bridge network a project's sandboxes,
// deployments and data services share: a data service answers there by
// its name.
func projectNetwork(projectID string) string {
	return "berth-" + strings.ReplaceAll(projectID, "_", "-")
}

// appNetwork is the network a sandbox or deployment (targetID) joins: its
// project's when a data service is linked to it, so that it reaches the
// service by name; else none, which is the engine's default bridge. A
// link or an unlink restarts the target, which then joins or leaves.
func (c *Control) appNetwork(ctx context.Context, projectID, targetID string) string {
	links, err := c.st.ListDatabaseLinks(ctx, store.DatabaseLinkFilter{TargetID: targetID})
	if err != nil || len(links) == 0 {
		return ""
	}
	return projectNetwork(projectID)
}

// dbContainer names a data service's container.
func dbContainer(db *store.Database) string { return "berth-" + db.ID }

// dbVolume names a data service's data volume after its project, engine
// and name: deleting a service without purge keeps the volume, and a new
// service of the same engine and name in the project starts on it (with
// its own credentials, which the boot enforces).
func dbVolume(projectID, engine, name string) string {
	return "berth-" + strings.ReplaceAll(projectID, "_", "-") + "-" + engine + "-" + name
}

// dataImage is the image of an engine: the one configured for it (the
// same NAME=REF list as the templates' images, under the engine's name),
// else Berth's local one.
func (c *Control) dataImage(engine string) string {
	if c.cfg.Templates != nil {
		if ref := c.cfg.Templates.ImageRef(&templates.Template{Image: engine}); ref != "" {
			return ref
		}
	}
	return engines[engine].defaultImage()
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
func (c *Control) CreateDatabase(ctx context.Context, req DatabaseRequest) (*store.Database, error) {
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
		Name: req.Name, Engine: req.Engine, Image: c.dataImage(req.Engine), Status: store.DatabaseProvisioning,
		Volume:   dbVolume(req.Project.ID, req.Engine, req.Name),
		Username: dbUsername, Password: newPassword(), DatabaseName: dbDatabase, CredentialsVersion: 1,
		ExternalID: req.ExternalID, CreatedAt: now, UpdatedAt: now,
	}
	if req.Engine == store.EngineRedis {
		db.DatabaseName = "" // Redis has numbered databases; apps use 0
	}
	err := c.st.InTx(ctx, func(tx store.Store) error {
		existing, err := listAll(ctx, func(ctx context.Context, f store.ListFilter) ([]*store.Database, error) {
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
		return nil, wrapConflict(err, "creating data service")
	}
	c.event(ctx, db.ID, "database.provisioning", "provisioning %s %q", db.Engine, db.Name)
	c.queue.kick(db.ID)
	return db, nil
}

// wrapConflict passes problems through, and turns a conflict the store
// found (a race with another create) into one.
func wrapConflict(err error, what string) error {
	var p *problem.Error
	switch {
	case errors.As(err, &p):
		return err
	case errors.Is(err, store.ErrConflict):
		return problem.Conflict("name_taken", "the name or external_id is taken in the project; choose another")
	}
	return fmt.Errorf("%s: %w", what, err)
}

// WaitDatabase waits until done(db) holds, the service is gone
// (ErrNotFound), or timeout passes; it returns the last record seen.
func (c *Control) WaitDatabase(ctx context.Context, dbID string, timeout time.Duration, done func(*store.Database) bool) (*store.Database, error) {
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
func (c *Control) RotateDatabase(ctx context.Context, dbID string, wait time.Duration) (*store.Database, error) {
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
	c.event(ctx, db.ID, "database.rotating", "issued credentials version %d; applying them to the running server", db.CredentialsVersion)
	c.queue.kick(db.ID)
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
func (c *Control) DeleteDatabase(ctx context.Context, dbID string, purge bool, wait time.Duration) (*store.Database, error) {
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
	c.event(ctx, db.ID, "database.deleting", "deleting %s %q (purge: %v)", db.Engine, db.Name, db.Purge)
	c.queue.kick(db.ID)
	cur, err := c.WaitDatabase(ctx, db.ID, wait, func(*store.Database) bool { return false })
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil
	}
	return cur, err
}

// LinkRequest links a data service to a sandbox or a deployment.
type LinkRequest struct {
	SandboxID    string
	DeploymentID string
}

// LinkDatabase records a link; the target is restarted with the
// service's variables once the service is healthy.
func (c *Control) LinkDatabase(ctx context.Context, dbID string, req LinkRequest) (*store.DatabaseLink, error) {
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
		projectID, err := targetProject(ctx, tx, req)
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
	c.event(ctx, dbID, "database.linked", "linked to %s", target)
	c.queue.kick(dbID)
	return l, nil
}

// targetProject returns the project of a link's target, or a problem
// naming the field.
func targetProject(ctx context.Context, st store.Store, req LinkRequest) (string, error) {
	if req.SandboxID != "" {
		s, err := st.GetSandbox(ctx, req.SandboxID)
		if errors.Is(err, store.ErrNotFound) {
			return "", problem.Unprocessable("target_not_found", "sandbox %q does not exist", req.SandboxID)
		}
		if err != nil {
			return "", err
		}
		return s.ProjectID, nil
	}
	d, err := st.GetDeployment(ctx, req.DeploymentID)
	if errors.Is(err, store.ErrNotFound) {
		return "", problem.Unprocessable("target_not_found", "deployment %q does not exist", req.DeploymentID)
	}
	if err != nil {
		return "", err
	}
	return d.ProjectID, nil
}

// UnlinkDatabase removes a link and restarts the target without the
// service's variables.
func (c *Control) UnlinkDatabase(ctx context.Context, dbID, targetID string) error {
	err := c.st.DeleteDatabaseLink(ctx, dbID, targetID)
	if errors.Is(err, store.ErrNotFound) {
		return problem.NotFound("link_not_found", "the data service is not linked to %q", targetID)
	}
	if err != nil {
		return err
	}
	c.event(ctx, dbID, "database.unlinked", "unlinked from %s", targetID)
	_, err = c.restartTarget(ctx, targetID, "a data service was unlinked", true)
	return err
}

// DatabaseEnv is what a linked app of the service gets at boot.
func (c *Control) DatabaseEnv(db *store.Database) map[string]string {
	return engines[db.Engine].env(credentialsOf(db), db.Name)
}

// DatabaseURL is the service's URL on the project network, and the one
// of its published address on its host (empty until it runs).
func (c *Control) DatabaseURL(db *store.Database) (internal, published string) {
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
