package sqlite

import (
	"context"

	"github.com/berth-dev/berth/internal/store"
)

const databaseColumns = `id, org_id, workspace_id, project_id, name, engine, image, status, status_reason, version,
	size_bytes, COALESCE(host_id, ''), container_id, volume, upstream, username, password, previous_password,
	database_name, credentials_version, applied_version, purge, COALESCE(external_id, ''), created_at, updated_at`

func (d *DB) scanDatabase(sc scanner) (*store.Database, error) {
	var db store.Database
	var password, previous string
	err := sc.Scan(&db.ID, &db.OrgID, &db.WorkspaceID, &db.ProjectID, &db.Name, &db.Engine, &db.Image, &db.Status,
		&db.StatusReason, &db.Version, &db.SizeBytes, &db.HostID, &db.ContainerID, &db.Volume, &db.Upstream,
		&db.Username, &password, &previous, &db.DatabaseName, &db.CredentialsVersion, &db.AppliedVersion, &db.Purge,
		&db.ExternalID, utc{&db.CreatedAt}, utc{&db.UpdatedAt})
	if err != nil {
		return nil, err
	}
	plain, err := d.seal.openValue(password, databasePasswordAD(db.ID))
	if err != nil {
		return nil, err
	}
	db.Password = string(plain)
	if plain, err = d.seal.openValue(previous, databasePreviousAD(db.ID)); err != nil {
		return nil, err
	}
	db.PreviousPassword = string(plain)
	return &db, nil
}

// databasePasswordAD binds a sealed password to its database.
func databasePasswordAD(id string) string { return "databases.password " + id }

// databasePreviousAD binds a sealed previous password to its database.
func databasePreviousAD(id string) string { return "databases.previous_password " + id }

// CreateDatabase records db, its password sealed.
func (d *DB) CreateDatabase(ctx context.Context, db *store.Database) error {
	_, err := d.w.ExecContext(ctx,
		`INSERT INTO databases (id, org_id, workspace_id, project_id, name, engine, image, status, status_reason,
			version, size_bytes, host_id, container_id, volume, upstream, username, password, previous_password,
			database_name, credentials_version, applied_version, purge, external_id, created_at, updated_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21,
			$22, $23, $24, $25)`,
		db.ID, db.OrgID, db.WorkspaceID, db.ProjectID, db.Name, db.Engine, db.Image, db.Status, db.StatusReason,
		db.Version, db.SizeBytes, nullable(db.HostID), db.ContainerID, db.Volume, db.Upstream, db.Username,
		d.seal.sealValue([]byte(db.Password), databasePasswordAD(db.ID)),
		d.seal.sealValue([]byte(db.PreviousPassword), databasePreviousAD(db.ID)), db.DatabaseName,
		db.CredentialsVersion, db.AppliedVersion, db.Purge, nullable(db.ExternalID), ts(db.CreatedAt), ts(db.UpdatedAt))
	if err != nil {
		return dbError("creating database", err)
	}
	return nil
}

// GetDatabase returns the database with the given id.
func (d *DB) GetDatabase(ctx context.Context, id string) (*store.Database, error) {
	db, err := d.scanDatabase(d.r.QueryRowContext(ctx, `SELECT `+databaseColumns+` FROM databases WHERE id = $1`, id))
	if err != nil {
		return nil, dbError("getting database", err)
	}
	return db, nil
}

// UpdateDatabase writes every field of db but its id, owners, name,
// engine and creation time, and sets db.UpdatedAt to now.
func (d *DB) UpdateDatabase(ctx context.Context, db *store.Database) error {
	t := now()
	err := d.execOne(ctx, "updating database",
		`UPDATE databases SET image = $1, status = $2, status_reason = $3, version = $4, size_bytes = $5,
			host_id = $6, container_id = $7, volume = $8, upstream = $9, username = $10, password = $11,
			previous_password = $12, database_name = $13, credentials_version = $14, applied_version = $15,
			purge = $16, external_id = $17, updated_at = $18
		WHERE id = $19`,
		db.Image, db.Status, db.StatusReason, db.Version, db.SizeBytes,
		nullable(db.HostID), db.ContainerID, db.Volume, db.Upstream, db.Username,
		d.seal.sealValue([]byte(db.Password), databasePasswordAD(db.ID)),
		d.seal.sealValue([]byte(db.PreviousPassword), databasePreviousAD(db.ID)),
		db.DatabaseName, db.CredentialsVersion, db.AppliedVersion, db.Purge,
		nullable(db.ExternalID), ts(t),
		db.ID)
	if err != nil {
		return err
	}
	db.UpdatedAt = t
	return nil
}

// ListDatabases returns databases in id order.
func (d *DB) ListDatabases(ctx context.Context, f store.ListFilter) ([]*store.Database, error) {
	var q query
	q.filter("org_id = %s", f.OrgID)
	q.filter("workspace_id = %s", f.WorkspaceID)
	q.filter("project_id = %s", f.ProjectID)
	q.filter("external_id = %s", f.ExternalID)
	stmt := q.list(`SELECT `+databaseColumns+` FROM databases`, f)
	rows, err := d.r.QueryContext(ctx, stmt, q.args...)
	return collect(rows, err, "listing databases", d.scanDatabase)
}

// DeleteDatabase removes a database and its links, in one transaction.
func (d *DB) DeleteDatabase(ctx context.Context, id string) error {
	return d.InTx(ctx, func(tx store.Store) error {
		t := tx.(*DB)
		if _, err := t.w.ExecContext(ctx, `DELETE FROM database_links WHERE database_id = $1`, id); err != nil {
			return dbError("deleting database links", err)
		}
		return t.execOne(ctx, "deleting database", `DELETE FROM databases WHERE id = $1`, id)
	})
}

const databaseLinkColumns = `database_id, target_id, project_id, version, created_at`

func scanDatabaseLink(sc scanner) (*store.DatabaseLink, error) {
	var l store.DatabaseLink
	if err := sc.Scan(&l.DatabaseID, &l.TargetID, &l.ProjectID, &l.Version, utc{&l.CreatedAt}); err != nil {
		return nil, err
	}
	return &l, nil
}

// CreateDatabaseLink records l.
func (d *DB) CreateDatabaseLink(ctx context.Context, l *store.DatabaseLink) error {
	_, err := d.w.ExecContext(ctx,
		`INSERT INTO database_links (database_id, target_id, project_id, version, created_at) VALUES ($1, $2, $3, $4, $5)`,
		l.DatabaseID, l.TargetID, l.ProjectID, l.Version, ts(l.CreatedAt))
	if err != nil {
		return dbError("creating database link", err)
	}
	return nil
}

// UpdateDatabaseLink writes l.Version.
func (d *DB) UpdateDatabaseLink(ctx context.Context, l *store.DatabaseLink) error {
	return d.execOne(ctx, "updating database link",
		`UPDATE database_links SET version = $1 WHERE database_id = $2 AND target_id = $3`,
		l.Version, l.DatabaseID, l.TargetID)
}

// DeleteDatabaseLink removes one link.
func (d *DB) DeleteDatabaseLink(ctx context.Context, databaseID, targetID string) error {
	return d.execOne(ctx, "deleting database link",
		`DELETE FROM database_links WHERE database_id = $1 AND target_id = $2`, databaseID, targetID)
}

// ListDatabaseLinks returns links oldest first (ties in target id order).
func (d *DB) ListDatabaseLinks(ctx context.Context, f store.DatabaseLinkFilter) ([]*store.DatabaseLink, error) {
	var q query
	q.filter("database_id = %s", f.DatabaseID)
	q.filter("target_id = %s", f.TargetID)
	stmt := q.finish(`SELECT `+databaseLinkColumns+` FROM database_links`, "created_at, database_id, target_id", 10000)
	rows, err := d.r.QueryContext(ctx, stmt, q.args...)
	return collect(rows, err, "listing database links", scanDatabaseLink)
}
