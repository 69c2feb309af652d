package sqlite

import (
	"bytes"
	"context"
	"crypto/rand"
	"io/fs"
	"os"
	pathpkg "path"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
	_ "time/tzdata" // Asia/Kolkata must load on machines without zoneinfo.

	"github.com/berth-dev/berth/internal/store"
	"github.com/berth-dev/berth/internal/store/storetest"
)

// TestMain runs the tests in a local time zone that is not UTC, so a time
// that is written or read in local time instead of UTC shows up.
func TestMain(m *testing.M) {
	loc, err := time.LoadLocation("Asia/Kolkata")
	if err != nil {
		panic(err)
	}
	time.Local = loc
	os.Exit(m.Run())
}

func newKey(t *testing.T) []byte {
	t.Helper()
	key := make([]byte, 32)
	rand.Read(key)
	return key
}

func openTemp(t *testing.T, path string, key []byte) *DB {
	t.Helper()
	db, err := Open(path, key)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func TestStore(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store {
		return openTemp(t, filepath.Join(t.TempDir(), "berth.db"), newKey(t))
	})
}

func TestOpenRejectsKeyLength(t *testing.T) {
	for _, n := range []int{0, 16, 31, 33} {
		if db, err := Open(filepath.Join(t.TempDir(), "berth.db"), make([]byte, n)); err == nil {
			db.Close()
			t.Errorf("Open with a %d-byte key succeeded, want an error", n)
		}
	}
}

// tree makes the rows a sandbox and a deployment hang off.
func tree(t *testing.T, ctx context.Context, db *DB) *store.Project {
	t.Helper()
	now := time.Now()
	o := &store.Org{ID: "org_1", Slug: "acme", Name: "Acme", CreatedAt: now}
	w := &store.Workspace{ID: "ws_1", OrgID: o.ID, Slug: "w", CreatedAt: now}
	p := &store.Project{ID: "prj_1", OrgID: o.ID, WorkspaceID: w.ID, Slug: "p", CreatedAt: now}
	for _, err := range []error{db.CreateOrg(ctx, o), db.CreateWorkspace(ctx, w), db.CreateProject(ctx, p)} {
		if err != nil {
			t.Fatal(err)
		}
	}
	return p
}

func TestSecretsSealedAtRest(t *testing.T) {
	ctx := t.Context()
	dir := t.TempDir()
	path := filepath.Join(dir, "berth.db")
	key := newKey(t)
	db, err := Open(path, key)
	if err != nil {
		t.Fatal(err)
	}
	const (
		sandboxSecret    = "sandbox-plaintext-7f3a9c"
		deploymentSecret = "deployment-plaintext-4b2e1d"
		agentSecret      = "agent-plaintext-9d8c7b"
		envName          = "STRIPE_SECRET_KEY_NAME"
	)
	p := tree(t, ctx, db)
	now := time.Now()
	h := &store.Host{ID: "host_1", Kind: store.HostPool, AgentSecret: agentSecret, CreatedAt: now, UpdatedAt: now}
	s := &store.Sandbox{ID: "sbx_1", OrgID: p.OrgID, WorkspaceID: p.WorkspaceID, ProjectID: p.ID, Slug: "s",
		Env: map[string]string{envName: sandboxSecret}, CreatedAt: now, UpdatedAt: now}
	d := &store.Deployment{ID: "dep_1", OrgID: p.OrgID, WorkspaceID: p.WorkspaceID, ProjectID: p.ID,
		Env: map[string]string{envName: deploymentSecret}, CreatedAt: now, UpdatedAt: now}
	for _, err := range []error{db.CreateHost(ctx, h), db.CreateSandbox(ctx, s), db.CreateDeployment(ctx, d)} {
		if err != nil {
			t.Fatal(err)
		}
	}
	// Updates seal too.
	h.AgentSecret = agentSecret + "-2"
	if err := db.UpdateHost(ctx, h); err != nil {
		t.Fatal(err)
	}
	gotS, err := db.GetSandbox(ctx, s.ID)
	if err != nil {
		t.Fatal(err)
	}
	if gotS.Env[envName] != sandboxSecret {
		t.Errorf("sandbox env = %v, want the secret back", gotS.Env)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}

	// Closing the last connection checkpoints the WAL into the main file,
	// but read every file SQLite may have left, to be sure.
	files, err := filepath.Glob(path + "*")
	if err != nil {
		t.Fatal(err)
	}
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
	for _, secret := range []string{sandboxSecret, deploymentSecret, agentSecret, envName} {
		if bytes.Contains(raw, []byte(secret)) {
			t.Errorf("the database file holds %q in plain text", secret)
		}
	}

	// Another key opens the database but not its secrets.
	other := openTemp(t, path, newKey(t))
	if _, err := other.GetSandbox(ctx, s.ID); err == nil {
		t.Error("GetSandbox with the wrong seal key succeeded, want an error")
	}
	if _, err := other.GetHost(ctx, h.ID); err == nil {
		t.Error("GetHost with the wrong seal key succeeded, want an error")
	}
	if _, err := other.GetOrg(ctx, p.OrgID); err != nil {
		t.Errorf("GetOrg with another seal key: %v", err)
	}

	// The right key reads everything back.
	db = openTemp(t, path, key)
	gotH, err := db.GetHost(ctx, h.ID)
	if err != nil {
		t.Fatal(err)
	}
	if gotH.AgentSecret != h.AgentSecret {
		t.Errorf("agent secret = %q, want %q", gotH.AgentSecret, h.AgentSecret)
	}
	gotD, err := db.GetDeployment(ctx, d.ID)
	if err != nil {
		t.Fatal(err)
	}
	if gotD.Env[envName] != deploymentSecret {
		t.Errorf("deployment env = %v, want the secret back", gotD.Env)
	}
}

// TestSealedValueBoundToRow checks that a sealed value copied into another
// row does not open there.
func TestSealedValueBoundToRow(t *testing.T) {
	ctx := t.Context()
	db := openTemp(t, filepath.Join(t.TempDir(), "berth.db"), newKey(t))
	now := time.Now()
	for _, h := range []*store.Host{
		{ID: "host_1", Kind: store.HostPool, AgentSecret: "one", CreatedAt: now, UpdatedAt: now},
		{ID: "host_2", Kind: store.HostPool, AgentSecret: "two", CreatedAt: now, UpdatedAt: now},
	} {
		if err := db.CreateHost(ctx, h); err != nil {
			t.Fatal(err)
		}
	}
	_, err := db.pools.write.ExecContext(ctx,
		`UPDATE hosts SET agent_secret = (SELECT agent_secret FROM hosts WHERE id = 'host_1') WHERE id = 'host_2'`)
	if err != nil {
		t.Fatal(err)
	}
	if h, err := db.GetHost(ctx, "host_2"); err == nil {
		t.Errorf("GetHost of a row holding another row's sealed secret returned %q, want an error", h.AgentSecret)
	}
}

func TestReopenKeepsData(t *testing.T) {
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "berth.db")
	key := newKey(t)
	db, err := Open(path, key)
	if err != nil {
		t.Fatal(err)
	}
	p := tree(t, ctx, db)
	e := &store.Event{ID: "evt_1", ResourceID: p.ID, Type: "t", CreatedAt: time.Now()}
	if err := db.AppendEvent(ctx, e); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}

	// Opening again runs the migrations again: they must see they are
	// applied and change nothing.
	for range 2 {
		db, err = Open(path, key)
		if err != nil {
			t.Fatalf("reopening: %v", err)
		}
		got, err := db.GetProject(ctx, p.ID)
		if err != nil {
			t.Fatalf("getting the project after reopening: %v", err)
		}
		if got.Slug != p.Slug || !got.CreatedAt.Equal(p.CreatedAt) {
			t.Errorf("after reopening got %+v, want %+v", got, p)
		}
		// Sequences carry on from where they were.
		e2 := &store.Event{ID: "evt_2", ResourceID: p.ID, Type: "t", CreatedAt: time.Now()}
		if err := db.AppendEvent(ctx, e2); err != nil {
			t.Fatal(err)
		}
		if e2.Seq <= e.Seq {
			t.Errorf("event appended after reopening has Seq %d, want more than %d", e2.Seq, e.Seq)
		}
		e = e2
		var version int64
		if err := db.pools.read.QueryRowContext(ctx, `SELECT MAX(version_id) FROM goose_db_version`).Scan(&version); err != nil {
			t.Fatal(err)
		}
		// The newest migration applied, once: numbers are handed out per
		// branch, so the files may have gaps until every branch is in.
		files, _ := fs.Glob(migrationFiles, "migrations/*.sql")
		newest := int64(cronArgvVersion) // the Go migration
		for _, f := range files {
			n, _ := strconv.ParseInt(strings.SplitN(pathpkg.Base(f), "_", 2)[0], 10, 64)
			newest = max(newest, n)
		}
		if version != newest {
			t.Errorf("schema version = %d, want %d", version, newest)
		}
		if err := db.Close(); err != nil {
			t.Fatal(err)
		}
	}
}

func TestPragmas(t *testing.T) {
	db := openTemp(t, filepath.Join(t.TempDir(), "berth.db"), newKey(t))
	ctx := t.Context()
	for _, pool := range []*struct {
		name string
		q    querier
	}{{"write", db.pools.write}, {"read", db.pools.read}} {
		var mode string
		var fk, busy, sync int
		row := pool.q.QueryRowContext(ctx, `SELECT * FROM pragma_journal_mode, pragma_foreign_keys, pragma_busy_timeout, pragma_synchronous`)
		if err := row.Scan(&mode, &fk, &busy, &sync); err != nil {
			t.Fatal(err)
		}
		if mode != "wal" || fk != 1 || busy != 10000 || sync != 1 {
			t.Errorf("%s pool: journal_mode=%s foreign_keys=%d busy_timeout=%d synchronous=%d, want wal 1 10000 1",
				pool.name, mode, fk, busy, sync)
		}
	}
	// The read pool refuses writes, so a write sent to it by mistake fails
	// loudly instead of racing the writer.
	if _, err := db.pools.read.ExecContext(ctx, `DELETE FROM orgs`); err == nil {
		t.Error("a write through the read pool succeeded")
	}
}

func TestCloseInsideTx(t *testing.T) {
	db := openTemp(t, filepath.Join(t.TempDir(), "berth.db"), newKey(t))
	err := db.InTx(t.Context(), func(tx store.Store) error { return tx.Close() })
	if err == nil {
		t.Error("closing the store of a transaction succeeded, want an error")
	}
}

// TestTimestampText pins the stored form: fixed-width UTC text, so text
// order is time order, with every nanosecond kept.
func TestTimestampText(t *testing.T) {
	ctx := t.Context()
	db := openTemp(t, filepath.Join(t.TempDir(), "berth.db"), newKey(t))
	kolkata := time.Date(2024, 3, 10, 5, 0, 0, 123456789, time.Local)
	o := &store.Org{ID: "org_1", Slug: "a", CreatedAt: kolkata}
	if err := db.CreateOrg(ctx, o); err != nil {
		t.Fatal(err)
	}
	var text string
	if err := db.pools.read.QueryRowContext(ctx, `SELECT created_at FROM orgs`).Scan(&text); err != nil {
		t.Fatal(err)
	}
	if want := "2024-03-09T23:30:00.123456789Z"; text != want {
		t.Errorf("stored created_at = %q, want %q", text, want)
	}
	got, err := db.GetOrg(ctx, o.ID)
	if err != nil {
		t.Fatal(err)
	}
	if !got.CreatedAt.Equal(kolkata) || got.CreatedAt.Location() != time.UTC {
		t.Errorf("CreatedAt = %v, want %v in UTC", got.CreatedAt, kolkata)
	}
	if ts(time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)) >= ts(time.Date(2024, 1, 1, 0, 0, 0, 1, time.UTC)) {
		t.Error("a later time sorts first as text")
	}
}
