package databases

import (
	"archive/tar"
	"bytes"
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/berth-dev/berth/internal/agent"
	"github.com/berth-dev/berth/internal/control/names"
	"github.com/berth-dev/berth/internal/store"
)

// Data service timings.
const (
	// dbBootTimeout is how long a starting server has to accept the
	// issued login before it is reported failed (first boot) or
	// unhealthy (later ones).
	dbBootTimeout = 2 * time.Minute
	// dbStopTimeout is how long a server has to shut down cleanly.
	dbStopTimeout = 30 * time.Second
	// dbLogTail is how many lines of a failed server's output its status
	// reason carries.
	dbLogTail = 15
	// dbWatchInterval is how often Watch looks for servers that
	// went down.
	dbWatchInterval = 2 * time.Second
)

// placeDatabase returns the agent of the host that runs db, choosing one
// (and recording it in db.HostID) on first use. Data services run on the
// project's host, where its apps run too, since they reach each other on
// the project's network: the workspace's Docker Deploy host when the
// workspace has one, else the pool. A service of a workspace with a host
// waits while that host is not active (waiting says why) and never falls
// back to the pool; the host reconciler kicks it when the host turns
// active.
func (c *Service) placeDatabase(ctx context.Context, db *store.Database) (a *agent.Client, waiting string, err error) {
	if db.HostID != "" {
		a, err := c.agents.ForHost(ctx, db.HostID)
		return a, "", err
	}
	switch _, err := c.st.GetWorkspaceHost(ctx, db.WorkspaceID); {
	case err == nil:
		h, waiting, err := c.agents.WorkspaceHost(ctx, db.WorkspaceID)
		if err != nil || waiting != "" {
			return nil, waiting, err
		}
		db.HostID = h.ID
		return c.agents.Agent(h), "", nil
	case !errors.Is(err, store.ErrNotFound):
		return nil, "", err
	}
	h, a, err := c.agents.PoolHost(ctx)
	if err != nil {
		return nil, "waiting for a host with free capacity", nil
	}
	db.HostID = h.ID
	return a, "", nil
}

// KickWorkspace reconciles the data services of a workspace:
// those waiting for its Docker Deploy host proceed.
func (c *Service) KickWorkspace(ctx context.Context, workspaceID string) {
	dbs, err := store.ListAll(ctx, func(ctx context.Context, f store.ListFilter) ([]*store.Database, error) {
		f.WorkspaceID = workspaceID
		return c.st.ListDatabases(ctx, f)
	})
	if err != nil {
		c.log.Warn("listing data services failed", "workspace", workspaceID, "err", err)
		return
	}
	for _, db := range dbs {
		if db.HostID == "" {
			c.queue.Kick(db.ID)
		}
	}
}

// wentDown says whether the server in info went down since db was last
// seen healthy: it is not running, restarting, or started after that.
func wentDown(info agent.ContainerInfo, db *store.Database) bool {
	return !info.Running || info.State == "restarting" || info.StartedAt.After(db.UpdatedAt)
}

// Watch notices within dbWatchInterval a data service whose
// server went down (a SIGKILL, a crash, an engine restart) and reconciles
// it, which reports it unhealthy at once and healthy again once its issued
// login works; an unhealthy one is re-checked at the same pace. The
// periodic resync's real logins stay at their own, slower pace.
func (c *Service) Watch(ctx context.Context) {
	t := time.NewTicker(dbWatchInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		dbs, err := store.ListAll(ctx, c.st.ListDatabases)
		if err != nil {
			continue
		}
		for _, db := range dbs {
			if db.HostID == "" {
				continue
			}
			switch db.Status {
			case store.DatabaseUnhealthy:
				c.queue.Kick(db.ID)
			case store.DatabaseHealthy, store.DatabaseFailed:
				a, err := c.agents.ForHost(ctx, db.HostID)
				if err != nil {
					continue
				}
				info, err := a.InspectContainer(ctx, dbContainer(db))
				switch {
				case db.Status == store.DatabaseHealthy && (errors.Is(err, agent.ErrNotFound) || err == nil && wentDown(info, db)):
					c.queue.Kick(db.ID)
				case db.Status == store.DatabaseFailed && err == nil && !info.Running && info.State != "restarting":
					// Failed, then stopped (a kill during its first boot):
					// the reconciler starts it again.
					c.queue.Kick(db.ID)
				}
			}
		}
	}
}

// Pending lists the data services the periodic resync
// kicks: all of them, since a health check is a real login each time.
func (c *Service) Pending(ctx context.Context) []string {
	dbs, err := store.ListAll(ctx, c.st.ListDatabases)
	if err != nil {
		c.log.Warn("listing data services failed", "err", err)
		return nil
	}
	ids := make([]string, len(dbs))
	for i, db := range dbs {
		ids[i] = db.ID
	}
	return ids
}

// Reconcile drives a data service toward a running server that
// enforces the last credentials issued, reports its health from a real
// login with them, and restarts linked apps that booted with older ones.
func (c *Service) Reconcile(ctx context.Context, dbID string) error {
	db, err := c.st.GetDatabase(ctx, dbID)
	if errors.Is(err, store.ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	before := *db
	a, waiting, err := c.placeDatabase(ctx, db)
	if err != nil {
		return err
	}
	if db.Status == store.DatabaseDeleting {
		return c.removeDatabase(ctx, a, db)
	}
	if waiting != "" {
		db.StatusReason = waiting
		return c.saveDatabase(ctx, &before, db)
	}
	eng := engines[db.Engine]
	name := dbContainer(db)
	info, err := a.InspectContainer(ctx, name)
	restarted := false
	if err == nil && db.Status == store.DatabaseHealthy && wentDown(info, db) {
		// The server went down since it was last seen healthy (killed,
		// crashed, restarted by hand): say so now rather than at the next
		// failed login, then wait for its boot below.
		restarted = true
		why := "the server restarted unexpectedly (killed or crashed)"
		if !info.Running {
			why = fmt.Sprintf("the server stopped (exit code %d)", info.ExitCode)
		}
		if err := c.databaseDown(ctx, &before, db, "%s; Berth is bringing it back and reports it healthy once the issued login works again", why); err != nil {
			return err
		}
		before = *db
	}
	started := false
	switch {
	case errors.Is(err, agent.ErrNotFound):
		if err := c.createDatabaseContainer(ctx, a, db, eng); err != nil {
			return c.databaseFailed(ctx, &before, db, "%v", err)
		}
		started = true
	case err != nil:
		return err
	case !info.Running && info.State != "restarting":
		// Stopped by hand or by an engine restart that gave up on it: write
		// the boot files again (the credentials may have been rotated
		// since) and start it.
		if err := c.writeBootFiles(ctx, a, name, db, eng); err != nil {
			return err
		}
		if err := a.StartContainer(ctx, name); err != nil {
			return c.databaseDown(ctx, &before, db, "starting the server: %v", err)
		}
		c.events.Record(ctx, db.ID, "database.starting", "the server was stopped; starting it")
		started = true
	}
	if !started && db.AppliedVersion < db.CredentialsVersion && db.AppliedVersion > 0 {
		if started, err = c.applyRotation(ctx, a, name, db, eng); err != nil {
			return err
		}
	}
	wait := time.Duration(0)
	switch {
	case started || restarted || db.Status == store.DatabaseProvisioning:
		wait = dbBootTimeout
	case db.Status == store.DatabaseUnhealthy && time.Since(info.StartedAt) < dbBootTimeout:
		// A server that went down and came back gets a moment to boot;
		// only a moment, so that a delete or a rotation does not wait
		// behind it: the watch checks an unhealthy service again soon.
		wait = min(dbBootTimeout-time.Since(info.StartedAt), 5*time.Second)
	}
	version, err := c.checkDatabase(ctx, a, name, db, eng, wait)
	if err != nil && wait == 0 && db.Status == store.DatabaseHealthy {
		if now, ierr := a.InspectContainer(ctx, name); ierr == nil && wentDown(now, db) {
			// The server went down during the login: that, not the login,
			// is what to report; the next run waits for its boot.
			c.queue.Kick(db.ID)
			return c.databaseDown(ctx, &before, db, "the server restarted unexpectedly (killed or crashed); Berth is bringing it back and reports it healthy once the issued login works again")
		}
	}
	if err != nil {
		if db.Status == store.DatabaseProvisioning || db.Status == store.DatabaseFailed {
			return c.databaseFailed(ctx, &before, db, "%v", err)
		}
		return c.databaseDown(ctx, &before, db, "%v", err)
	}
	if info, err = a.InspectContainer(ctx, name); err != nil {
		return err
	}
	db.ContainerID, db.Upstream, db.Version = info.ID, info.Ports[eng.port()], version
	if size, err := dataSize(ctx, a, name, eng); err == nil {
		db.SizeBytes = size
	}
	if db.Status != store.DatabaseHealthy {
		c.events.Record(ctx, db.ID, "database.healthy", "a login with the issued credentials succeeded (%s %s)", db.Engine, version)
	}
	if db.AppliedVersion != db.CredentialsVersion {
		if db.AppliedVersion > 0 {
			c.events.Record(ctx, db.ID, "database.rotated", "the server enforces credentials version %d; restarting linked apps", db.CredentialsVersion)
		}
		db.AppliedVersion, db.PreviousPassword = db.CredentialsVersion, ""
	}
	db.Status, db.StatusReason = store.DatabaseHealthy, ""
	if err := c.saveDatabase(ctx, &before, db); err != nil {
		return err
	}
	return c.restartLinked(ctx, db)
}

// saveDatabase writes db unless nothing changed since before. A delete or
// a rotation the API recorded while the reconciler worked wins: db is
// then not written, and the service is reconciled again from the record.
func (c *Service) saveDatabase(ctx context.Context, before, db *store.Database) error {
	if *before == *db {
		return nil
	}
	return c.st.InTx(ctx, func(tx store.Store) error {
		cur, err := tx.GetDatabase(ctx, db.ID)
		if errors.Is(err, store.ErrNotFound) {
			return nil
		}
		if err != nil {
			return err
		}
		if cur.Status == store.DatabaseDeleting && db.Status != store.DatabaseDeleting || cur.CredentialsVersion != db.CredentialsVersion {
			c.queue.Kick(db.ID)
			return nil
		}
		return tx.UpdateDatabase(ctx, db)
	})
}

// databaseFailed reports that the service cannot run.
func (c *Service) databaseFailed(ctx context.Context, before, db *store.Database, format string, args ...any) error {
	reason := redact(fmt.Sprintf(format, args...), db.Password)
	if db.Status != store.DatabaseFailed || db.StatusReason != reason {
		c.events.Record(ctx, db.ID, "database.failed", "%s", reason)
	}
	db.Status, db.StatusReason = store.DatabaseFailed, reason
	return c.saveDatabase(ctx, before, db)
}

// databaseDown reports that a service that ran is not answering the
// issued login.
func (c *Service) databaseDown(ctx context.Context, before, db *store.Database, format string, args ...any) error {
	reason := redact(fmt.Sprintf(format, args...), db.Password)
	if db.Status != store.DatabaseUnhealthy {
		c.events.Record(ctx, db.ID, "database.unhealthy", "%s", reason)
	}
	db.Status, db.StatusReason = store.DatabaseUnhealthy, reason
	return c.saveDatabase(ctx, before, db)
}

// redact keeps a secret out of a message whatever printed it.
func redact(s, secret string) string {
	if secret == "" {
		return s
	}
	return strings.ReplaceAll(s, secret, "[redacted]")
}

// createDatabaseContainer creates the service's container on the
// project's network, writes its boot files and starts it.
func (c *Service) createDatabaseContainer(ctx context.Context, a *agent.Client, db *store.Database, eng dbEngine) error {
	ok, err := a.ImageExists(ctx, db.Image)
	if err != nil {
		return fmt.Errorf("looking for the image %s: %w", db.Image, err)
	}
	if !ok {
		return fmt.Errorf("the image %s is not on the host: build the local images with `berth images build`, or configure one with --image %s=REF", db.Image, db.Engine)
	}
	name := dbContainer(db)
	spec := agent.ContainerSpec{
		Name: name, Image: db.Image, User: "0",
		Entrypoint: []string{"/bin/sh", bootDir + "/boot.sh"}, Cmd: []string{},
		Ports: []int{eng.port()}, Init: true, Restart: "unless-stopped",
		MemoryBytes: c.cfg.Limits.MemoryBytes, NanoCPUs: c.cfg.Limits.NanoCPUs, PidsLimit: c.cfg.Limits.PidsLimit,
		Volumes: []agent.Mount{{Volume: db.Volume, Target: eng.dataDir()}},
		Network: names.ProjectNetwork(db.ProjectID), Aliases: []string{db.Name},
		Labels: c.labels.Of("berth.kind", "database", "berth.database", db.ID, "berth.project", db.ProjectID),
	}
	if _, err := a.CreateContainer(ctx, spec); err != nil && !errors.Is(err, agent.ErrConflict) {
		return fmt.Errorf("creating the server's container: %w", err)
	}
	if err := c.writeBootFiles(ctx, a, name, db, eng); err != nil {
		return err
	}
	if err := a.StartContainer(ctx, name); err != nil {
		return fmt.Errorf("starting the server's container: %w", err)
	}
	c.events.Record(ctx, db.ID, "database.starting", "starting %s on %s", db.Engine, db.Image)
	return nil
}

// writeBootFiles writes bootDir into the container (created, stopped or
// running): the boot script and the credentials it enforces, readable by
// root only.
func (c *Service) writeBootFiles(ctx context.Context, a *agent.Client, name string, db *store.Database, eng dbEngine) error {
	files := eng.bootFiles(credentialsOf(db))
	var b bytes.Buffer
	tw := tar.NewWriter(&b)
	dir := strings.TrimPrefix(bootDir, "/")
	tw.WriteHeader(&tar.Header{Name: dir + "/", Typeflag: tar.TypeDir, Mode: 0o700})
	for _, n := range slices.Sorted(maps.Keys(files)) {
		tw.WriteHeader(&tar.Header{Name: dir + "/" + n, Typeflag: tar.TypeReg, Mode: 0o600, Size: int64(len(files[n]))})
		tw.Write([]byte(files[n]))
	}
	tw.Close()
	if err := a.CopyTo(ctx, name, "/", &b); err != nil {
		return fmt.Errorf("writing the boot files: %w", err)
	}
	return nil
}

// applyRotation makes the running server enforce db's credentials: it
// writes them for the next boots, then applies them live (ALTER ROLE,
// ALTER USER, ACL SETUSER); when that fails, it restarts the server,
// whose boot enforces them. restarted says whether it did.
func (c *Service) applyRotation(ctx context.Context, a *agent.Client, name string, db *store.Database, eng dbEngine) (restarted bool, err error) {
	if err := c.writeBootFiles(ctx, a, name, db, eng); err != nil {
		return false, err
	}
	res, err := a.Exec(ctx, name, eng.rotate(previousCredentials(db), credentialsOf(db)))
	if err == nil && res.ExitCode == 0 {
		if _, err := c.checkDatabase(ctx, a, name, db, eng, 5*time.Second); err == nil {
			return false, nil
		}
	}
	c.events.Record(ctx, db.ID, "database.restarting", "applying the new credentials live failed; restarting the server, whose boot enforces them")
	if err := a.StopContainer(ctx, name, dbStopTimeout); err != nil && !errors.Is(err, agent.ErrNotFound) {
		return false, fmt.Errorf("stopping the server: %w", err)
	}
	if err := a.StartContainer(ctx, name); err != nil {
		return false, fmt.Errorf("starting the server: %w", err)
	}
	return true, nil
}

// previousCredentials are the ones the server enforces until the
// rotation is applied: what a live rotation that needs a login (Redis's)
// logs in with.
func previousCredentials(db *store.Database) dbCredentials {
	cr := credentialsOf(db)
	if db.PreviousPassword != "" {
		cr.Password = db.PreviousPassword
	}
	return cr
}

// checkDatabase logs in with the issued credentials through the agent and
// returns the server's version. With wait, it retries until the login
// works, the container stops, or wait passes.
func (c *Service) checkDatabase(ctx context.Context, a *agent.Client, name string, db *store.Database, eng dbEngine, wait time.Duration) (string, error) {
	deadline := time.Now().Add(wait)
	delay := 100 * time.Millisecond
	// A server seen restarting on several polls is in a crash loop (the
	// engine's restart delay doubles each time), not in one restart after
	// a kill: waiting out the boot time would only hide why.
	restarts := 0
	for {
		res, err := a.Exec(ctx, name, eng.check(credentialsOf(db)))
		if err == nil {
			v, verr := eng.version(res)
			if verr == nil {
				return v, nil
			}
			err = fmt.Errorf("a login with the issued credentials failed: %v", verr)
		}
		info, ierr := a.InspectContainer(ctx, name)
		if ierr != nil {
			return "", ierr
		}
		stopped := !info.Running && info.State != "restarting" && info.State != "created"
		if info.State == "restarting" {
			restarts++
		}
		looping := restarts >= 4
		if stopped || looping || time.Now().After(deadline) {
			logs, _ := a.Logs(ctx, name, dbLogTail)
			switch {
			case stopped:
				return "", fmt.Errorf("the server exited with code %d; %s; its last output:\n%s", info.ExitCode, damagedHint(db), strings.TrimSpace(logs))
			case looping || info.State == "restarting":
				return "", fmt.Errorf("the server keeps exiting (code %d); %s; its last output:\n%s", info.ExitCode, damagedHint(db), strings.TrimSpace(logs))
			case wait > 0:
				return "", fmt.Errorf("%v (waited %s); the server's last output:\n%s", err, wait, strings.TrimSpace(logs))
			}
			return "", fmt.Errorf("%v; a restart of the service re-applies the issued credentials, and rotating them issues new ones", err)
		}
		select {
		case <-ctx.Done():
			return "", ctx.Err()
		case <-time.After(delay):
		}
		delay = min(delay*2, 500*time.Millisecond)
	}
}

// damagedHint says what to do about a server that exits on start, which
// after a first boot that worked usually means damaged data.
func damagedHint(db *store.Database) string {
	return fmt.Sprintf("if its output names the data directory, the data volume %s is damaged or was written by another version: restore it from a backup, or delete the service with ?purge=true and create it again", db.Volume)
}

// dataSize is the size of the service's data directory on disk.
func dataSize(ctx context.Context, a *agent.Client, name string, eng dbEngine) (int64, error) {
	res, err := a.Exec(ctx, name, agent.ExecRequest{Cmd: []string{"du", "-sk", eng.dataDir()}})
	if err != nil {
		return 0, err
	}
	f := strings.Fields(res.Stdout)
	if res.ExitCode != 0 || len(f) == 0 {
		return 0, fmt.Errorf("du: %s", strings.TrimSpace(res.Stderr))
	}
	kb, err := strconv.ParseInt(f[0], 10, 64)
	return kb * 1024, err
}

// removeDatabase finishes a deletion: the container, the data volume when
// purging, then the record.
func (c *Service) removeDatabase(ctx context.Context, a *agent.Client, db *store.Database) error {
	if a != nil && db.HostID != "" {
		if err := a.StopContainer(ctx, dbContainer(db), dbStopTimeout); err != nil && !errors.Is(err, agent.ErrNotFound) {
			return fmt.Errorf("stopping the server: %w", err)
		}
		if err := a.RemoveContainer(ctx, dbContainer(db)); err != nil {
			return fmt.Errorf("removing the server's container: %w", err)
		}
		if db.Purge {
			if err := a.RemoveVolume(ctx, db.Volume); err != nil && !errors.Is(err, agent.ErrNotFound) {
				return fmt.Errorf("removing the data volume: %w", err)
			}
		}
	}
	if err := c.st.DeleteDatabase(ctx, db.ID); err != nil && !errors.Is(err, store.ErrNotFound) {
		return err
	}
	if db.Purge {
		c.events.Record(ctx, db.ID, "database.deleted", "deleted %s %q and its data", db.Engine, db.Name)
	} else {
		c.events.Record(ctx, db.ID, "database.deleted", "deleted %s %q; its data volume %s is kept", db.Engine, db.Name, db.Volume)
	}
	return nil
}

// restartLinked restarts the linked sandboxes and deployments that booted
// with credentials older than the ones the server now enforces.
func (c *Service) restartLinked(ctx context.Context, db *store.Database) error {
	links, err := c.st.ListDatabaseLinks(ctx, store.DatabaseLinkFilter{DatabaseID: db.ID})
	if err != nil {
		return err
	}
	for _, l := range links {
		if l.Version == db.AppliedVersion {
			continue
		}
		why := "a data service was linked"
		if l.Version > 0 {
			why = "its data service's credentials were rotated"
		}
		done, err := c.targets.Restart(ctx, l.TargetID, why, false)
		if err != nil {
			return err
		}
		if !done {
			continue // the next resync tries again
		}
		l.Version = db.AppliedVersion
		if err := c.st.UpdateDatabaseLink(ctx, l); err != nil && !errors.Is(err, store.ErrNotFound) {
			return err
		}
	}
	return nil
}
