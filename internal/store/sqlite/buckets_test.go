package sqlite

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/berth-dev/berth/internal/store"
)

// TestBucketSecretSealed checks that a bucket's secret key never reaches
// the file in plain text, that it is found by its access key, and that
// names, S3 names and access keys are unique.
func TestBucketSecretSealed(t *testing.T) {
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "berth.db")
	db := openTemp(t, path, newKey(t))
	p := tree(t, ctx, db)
	const secret, rotated = "bucket-secret-5e1d9a77", "bucket-secret-rotated-0c4f"
	now := time.Now()
	b := &store.Bucket{ID: "bkt_1", OrgID: p.OrgID, WorkspaceID: p.WorkspaceID, ProjectID: p.ID, Name: "uploads", S3Name: "x1-uploads",
		KeyScope: store.KeyScopeBucket, AccessKeyID: "BKAAAA", SecretKey: secret, CredentialsVersion: 1, CreatedAt: now, UpdatedAt: now}
	if err := db.CreateBucket(ctx, b); err != nil {
		t.Fatal(err)
	}
	for _, dup := range []store.Bucket{
		{Name: "uploads", S3Name: "x1-other", AccessKeyID: "BKBBBB"},
		{Name: "other", S3Name: "x1-uploads", AccessKeyID: "BKCCCC"},
		{Name: "third", S3Name: "x1-third", AccessKeyID: "BKAAAA"},
	} {
		dup.ID, dup.OrgID, dup.WorkspaceID, dup.ProjectID, dup.KeyScope, dup.CreatedAt, dup.UpdatedAt = "bkt_2", p.OrgID, p.WorkspaceID, p.ID, store.KeyScopeBucket, now, now
		if err := db.CreateBucket(ctx, &dup); !errors.Is(err, store.ErrConflict) {
			t.Errorf("creating %+v: %v, want ErrConflict", dup, err)
		}
	}
	b.AccessKeyID, b.SecretKey, b.CredentialsVersion = "BKDDDD", rotated, 2
	if err := db.UpdateBucket(ctx, b); err != nil {
		t.Fatal(err)
	}
	if got, err := db.GetBucketByAccessKey(ctx, "BKDDDD"); err != nil || got.SecretKey != rotated || got.CredentialsVersion != 2 {
		t.Fatalf("by access key: %+v, %v", got, err)
	}
	if _, err := db.GetBucketByAccessKey(ctx, "BKAAAA"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("old access key: %v, want ErrNotFound", err)
	}
	if err := db.CreateBucketLink(ctx, &store.BucketLink{BucketID: b.ID, TargetID: "dep_1", ProjectID: p.ID, CreatedAt: now}); err != nil {
		t.Fatal(err)
	}
	if err := db.DeleteBucket(ctx, b.ID); err != nil {
		t.Fatal(err)
	}
	if l, err := db.ListBucketLinks(ctx, store.BucketLinkFilter{TargetID: "dep_1"}); err != nil || len(l) != 0 {
		t.Fatalf("links after delete: %v, %v", l, err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	files, _ := filepath.Glob(path + "*")
	var raw []byte
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		raw = append(raw, data...)
	}
	for _, s := range []string{secret, rotated} {
		if bytes.Contains(raw, []byte(s)) {
			t.Errorf("the database file holds %q in plain text", s)
		}
	}
}
