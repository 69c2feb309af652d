package sqlite

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/berth-dev/berth/internal/store"
)

// TestDatabasePasswordSealed checks that an issued password, at creation
// and after a rotation, never reaches the file in plain text, and opens
// only with the key and in the row it was written for.
func TestDatabasePasswordSealed(t *testing.T) {
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "berth.db")
	key := newKey(t)
	db := openTemp(t, path, key)
	p := tree(t, ctx, db)
	const first, second = "issued-pw-3c9d1e", "rotated-pw-8a7f6b"
	now := time.Now()
	rec := &store.Database{ID: "db_1", OrgID: p.OrgID, WorkspaceID: p.WorkspaceID, ProjectID: p.ID, Name: "main",
		Engine: store.EnginePostgres, Password: first, CreatedAt: now, UpdatedAt: now}
	if err := db.CreateDatabase(ctx, rec); err != nil {
		t.Fatal(err)
	}
	other := &store.Database{ID: "db_2", OrgID: p.OrgID, WorkspaceID: p.WorkspaceID, ProjectID: p.ID, Name: "other",
		Engine: store.EngineRedis, Password: "x", CreatedAt: now, UpdatedAt: now}
	if err := db.CreateDatabase(ctx, other); err != nil {
		t.Fatal(err)
	}
	rec.Password, rec.PreviousPassword = second, first
	if err := db.UpdateDatabase(ctx, rec); err != nil {
		t.Fatal(err)
	}
	if got, err := db.GetDatabase(ctx, rec.ID); err != nil || got.Password != second || got.PreviousPassword != first {
		t.Fatalf("passwords = %q %q, %v", got.Password, got.PreviousPassword, err)
	}
	if _, err := db.pools.write.ExecContext(ctx, `UPDATE databases SET password = (SELECT password FROM databases WHERE id = 'db_1') WHERE id = 'db_2'`); err != nil {
		t.Fatal(err)
	}
	if got, err := db.GetDatabase(ctx, "db_2"); err == nil {
		t.Errorf("a row holding another row's sealed password opened to %q", got.Password)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	files, _ := filepath.Glob(path + "*")
	var raw []byte
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		raw = append(raw, b...)
	}
	if !bytes.Contains(raw, []byte("acme")) {
		t.Fatal("the database files do not hold the plain org slug: the test reads the wrong files")
	}
	for _, secret := range []string{first, second} {
		if bytes.Contains(raw, []byte(secret)) {
			t.Errorf("the database file holds %q in plain text", secret)
		}
	}
	if _, err := openTemp(t, path, newKey(t)).GetDatabase(ctx, rec.ID); err == nil {
		t.Error("GetDatabase with another seal key succeeded, want an error")
	}
}
