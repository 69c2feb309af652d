package certs

import (
	"context"
	"crypto/rand"
	"errors"
	"io/fs"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/berth-dev/berth/internal/store/sqlite"
)

func openStore(t *testing.T) *sqlite.DB {
	t.Helper()
	key := make([]byte, 32)
	rand.Read(key)
	db, err := sqlite.Open(filepath.Join(t.TempDir(), "berth.db"), key)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// TestStorage holds the storage to what certmagic expects of one: files
// and folders, fs.ErrNotExist for what is missing.
func TestStorage(t *testing.T) {
	ctx := t.Context()
	s := NewStorage(openStore(t))
	for _, k := range []string{"certificates/ca/a.example/a.example.crt", "certificates/ca/a.example/a.example.key",
		"certificates/ca/b.example/b.example.crt", "acme/ca/users/ops/ops.json"} {
		if err := s.Store(ctx, k, []byte("v:"+k)); err != nil {
			t.Fatal(err)
		}
	}
	if b, err := s.Load(ctx, "acme/ca/users/ops/ops.json"); err != nil || string(b) != "v:acme/ca/users/ops/ops.json" {
		t.Errorf("Load = %q, %v", b, err)
	}
	if _, err := s.Load(ctx, "nope"); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("Load of a missing key: %v, want fs.ErrNotExist", err)
	}
	got, err := s.List(ctx, "certificates", false)
	if want := []string{"certificates/ca"}; err != nil || !slices.Equal(got, want) {
		t.Errorf("List(certificates) = %q, %v; want %q", got, err, want)
	}
	got, err = s.List(ctx, "certificates/ca", false)
	if want := []string{"certificates/ca/a.example", "certificates/ca/b.example"}; err != nil || !slices.Equal(got, want) {
		t.Errorf("List(certificates/ca) = %q, %v; want %q", got, err, want)
	}
	got, err = s.List(ctx, "certificates/ca", true)
	if want := []string{"certificates/ca/a.example", "certificates/ca/a.example/a.example.crt", "certificates/ca/a.example/a.example.key",
		"certificates/ca/b.example", "certificates/ca/b.example/b.example.crt"}; err != nil || !slices.Equal(got, want) {
		t.Errorf("List(certificates/ca, recursive) = %q, %v; want %q", got, err, want)
	}
	if _, err := s.List(ctx, "acme/other", false); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("List of an empty folder: %v, want fs.ErrNotExist", err)
	}
	if !s.Exists(ctx, "certificates/ca/a.example") || !s.Exists(ctx, "certificates/ca/a.example/a.example.crt") || s.Exists(ctx, "certificates/ca/c.example") {
		t.Error("Exists is wrong about a folder, a file or a missing key")
	}
	if ki, err := s.Stat(ctx, "certificates/ca/a.example/a.example.key"); err != nil || !ki.IsTerminal || ki.Size != int64(len("v:certificates/ca/a.example/a.example.key")) || ki.Modified.IsZero() {
		t.Errorf("Stat of a file = %+v, %v", ki, err)
	}
	if ki, err := s.Stat(ctx, "certificates/ca"); err != nil || ki.IsTerminal {
		t.Errorf("Stat of a folder = %+v, %v", ki, err)
	}
	if err := s.Delete(ctx, "certificates/ca/a.example"); err != nil {
		t.Fatal(err)
	}
	if s.Exists(ctx, "certificates/ca/a.example/a.example.key") || !s.Exists(ctx, "certificates/ca/b.example/b.example.crt") {
		t.Error("Delete of a folder removed the wrong keys")
	}
}

// TestStorageLock checks that two edges on one store (two Storages) take
// a lock in turn.
func TestStorageLock(t *testing.T) {
	ctx := t.Context()
	db := openStore(t)
	a, b := NewStorage(db), NewStorage(db)
	if err := a.Lock(ctx, "issue_cert_x"); err != nil {
		t.Fatal(err)
	}
	if ok, err := b.TryLock(ctx, "issue_cert_x"); err != nil || ok {
		t.Fatalf("the second edge took a held lock: %v, %v", ok, err)
	}
	if ok, err := a.TryLock(ctx, "issue_cert_x"); err != nil || ok {
		t.Fatalf("a second caller on the first edge took a held lock: %v, %v", ok, err)
	}
	got := make(chan error, 1)
	go func() { got <- b.Lock(ctx, "issue_cert_x") }()
	select {
	case err := <-got:
		t.Fatalf("the second edge's Lock returned while the lock was held: %v", err)
	case <-time.After(3 * lockPoll):
	}
	if err := a.Unlock(ctx, "issue_cert_x"); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-got:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the second edge did not get the released lock")
	}
	if err := b.Unlock(ctx, "issue_cert_x"); err != nil {
		t.Fatal(err)
	}
	short, cancel := context.WithTimeout(ctx, 100*time.Millisecond)
	defer cancel()
	a.Lock(ctx, "issue_cert_y")
	if err := b.Lock(short, "issue_cert_y"); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Lock past its context: %v, want the deadline", err)
	}
	a.Unlock(ctx, "issue_cert_y")
}
