package sqlite

import (
	"context"

	"github.com/berth-dev/berth/internal/store"
)

const bucketColumns = `id, org_id, workspace_id, project_id, name, s3_name, key_scope, COALESCE(access_key_id, ''),
	secret_key, credentials_version, COALESCE(external_id, ''), created_at, updated_at`

func (d *DB) scanBucket(sc scanner) (*store.Bucket, error) {
	var b store.Bucket
	var secret string
	err := sc.Scan(&b.ID, &b.OrgID, &b.WorkspaceID, &b.ProjectID, &b.Name, &b.S3Name, &b.KeyScope, &b.AccessKeyID,
		&secret, &b.CredentialsVersion, &b.ExternalID, utc{&b.CreatedAt}, utc{&b.UpdatedAt})
	if err != nil {
		return nil, err
	}
	plain, err := d.seal.openValue(secret, bucketSecretAD(b.ID))
	if err != nil {
		return nil, err
	}
	b.SecretKey = string(plain)
	return &b, nil
}

// bucketSecretAD binds a sealed secret key to its bucket.
func bucketSecretAD(id string) string { return "buckets.secret_key " + id }

// CreateBucket records b, its secret key sealed.
func (d *DB) CreateBucket(ctx context.Context, b *store.Bucket) error {
	_, err := d.w.ExecContext(ctx,
		`INSERT INTO buckets (id, org_id, workspace_id, project_id, name, s3_name, key_scope, access_key_id, secret_key,
			credentials_version, external_id, created_at, updated_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)`,
		b.ID, b.OrgID, b.WorkspaceID, b.ProjectID, b.Name, b.S3Name, b.KeyScope, nullable(b.AccessKeyID),
		d.seal.sealValue([]byte(b.SecretKey), bucketSecretAD(b.ID)), b.CredentialsVersion, nullable(b.ExternalID),
		ts(b.CreatedAt), ts(b.UpdatedAt))
	if err != nil {
		return dbError("creating bucket", err)
	}
	return nil
}

// GetBucket returns the bucket with the given id.
func (d *DB) GetBucket(ctx context.Context, id string) (*store.Bucket, error) {
	b, err := d.scanBucket(d.r.QueryRowContext(ctx, `SELECT `+bucketColumns+` FROM buckets WHERE id = $1`, id))
	if err != nil {
		return nil, dbError("getting bucket", err)
	}
	return b, nil
}

// GetBucketByAccessKey returns the bucket whose keys have access.
func (d *DB) GetBucketByAccessKey(ctx context.Context, access string) (*store.Bucket, error) {
	b, err := d.scanBucket(d.r.QueryRowContext(ctx, `SELECT `+bucketColumns+` FROM buckets WHERE access_key_id = $1`, access))
	if err != nil {
		return nil, dbError("getting bucket by access key", err)
	}
	return b, nil
}

// UpdateBucket writes b's keys, credentials version and external id.
func (d *DB) UpdateBucket(ctx context.Context, b *store.Bucket) error {
	t := now()
	err := d.execOne(ctx, "updating bucket",
		`UPDATE buckets SET access_key_id = $1, secret_key = $2, credentials_version = $3, external_id = $4, updated_at = $5
		WHERE id = $6`,
		nullable(b.AccessKeyID), d.seal.sealValue([]byte(b.SecretKey), bucketSecretAD(b.ID)), b.CredentialsVersion,
		nullable(b.ExternalID), ts(t), b.ID)
	if err != nil {
		return err
	}
	b.UpdatedAt = t
	return nil
}

// ListBuckets returns buckets in id order.
func (d *DB) ListBuckets(ctx context.Context, f store.ListFilter) ([]*store.Bucket, error) {
	var q query
	q.filter("org_id = %s", f.OrgID)
	q.filter("workspace_id = %s", f.WorkspaceID)
	q.filter("project_id = %s", f.ProjectID)
	q.filter("external_id = %s", f.ExternalID)
	stmt := q.list(`SELECT `+bucketColumns+` FROM buckets`, f)
	rows, err := d.r.QueryContext(ctx, stmt, q.args...)
	return collect(rows, err, "listing buckets", d.scanBucket)
}

// DeleteBucket removes a bucket and its links, in one transaction.
func (d *DB) DeleteBucket(ctx context.Context, id string) error {
	return d.InTx(ctx, func(tx store.Store) error {
		t := tx.(*DB)
		if _, err := t.w.ExecContext(ctx, `DELETE FROM bucket_links WHERE bucket_id = $1`, id); err != nil {
			return dbError("deleting bucket links", err)
		}
		return t.execOne(ctx, "deleting bucket", `DELETE FROM buckets WHERE id = $1`, id)
	})
}

const bucketLinkColumns = `bucket_id, target_id, project_id, created_at`

func scanBucketLink(sc scanner) (*store.BucketLink, error) {
	var l store.BucketLink
	if err := sc.Scan(&l.BucketID, &l.TargetID, &l.ProjectID, utc{&l.CreatedAt}); err != nil {
		return nil, err
	}
	return &l, nil
}

// CreateBucketLink records l.
func (d *DB) CreateBucketLink(ctx context.Context, l *store.BucketLink) error {
	_, err := d.w.ExecContext(ctx,
		`INSERT INTO bucket_links (bucket_id, target_id, project_id, created_at) VALUES ($1, $2, $3, $4)`,
		l.BucketID, l.TargetID, l.ProjectID, ts(l.CreatedAt))
	if err != nil {
		return dbError("creating bucket link", err)
	}
	return nil
}

// DeleteBucketLink removes one link.
func (d *DB) DeleteBucketLink(ctx context.Context, bucketID, targetID string) error {
	return d.execOne(ctx, "deleting bucket link",
		`DELETE FROM bucket_links WHERE bucket_id = $1 AND target_id = $2`, bucketID, targetID)
}

// ListBucketLinks returns links oldest first (ties in target id order).
func (d *DB) ListBucketLinks(ctx context.Context, f store.BucketLinkFilter) ([]*store.BucketLink, error) {
	var q query
	q.filter("bucket_id = %s", f.BucketID)
	q.filter("target_id = %s", f.TargetID)
	stmt := q.finish(`SELECT `+bucketLinkColumns+` FROM bucket_links`, "created_at, bucket_id, target_id", 10000)
	rows, err := d.r.QueryContext(ctx, stmt, q.args...)
	return collect(rows, err, "listing bucket links", scanBucketLink)
}
