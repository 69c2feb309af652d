package blob

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func digestOf(b []byte) string {
	sum := sha256.Sum256(b)
	return "sha256:" + hex.EncodeToString(sum[:])
}

func openStore(t *testing.T) *Store {
	t.Helper()
	s, err := Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func uploads(t *testing.T, s *Store) []string {
	t.Helper()
	entries, err := os.ReadDir(s.uploadsDir())
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	return names
}

func TestStorePut(t *testing.T) {
	s := openStore(t)
	data := []byte("hello, berth")
	d, n, err := s.Put(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	if d != digestOf(data) || n != int64(len(data)) {
		t.Fatalf("Put = %s, %d", d, n)
	}
	if !s.Has(d) || s.Path(d) != filepath.Join(s.dir, "sha256", strings.TrimPrefix(d, "sha256:")) {
		t.Fatalf("Has(%s) = false or Path = %s", d, s.Path(d))
	}
	f, err := s.Open(d)
	if err != nil {
		t.Fatal(err)
	}
	got, _ := io.ReadAll(f)
	f.Close()
	if !bytes.Equal(got, data) {
		t.Fatalf("Open read %q", got)
	}
	if err := s.Delete(d); err != nil || s.Has(d) {
		t.Fatalf("Delete: %v, still there: %v", err, s.Has(d))
	}
	if err := s.Delete(d); err != nil {
		t.Fatalf("deleting a missing blob: %v", err)
	}
	if _, err := s.Open(d); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Open of a missing blob: %v, want ErrNotFound", err)
	}
	if got := uploads(t, s); len(got) != 0 {
		t.Fatalf("Put left files behind: %v", got)
	}
}

func TestStoreRefusesBadNames(t *testing.T) {
	s := openStore(t)
	good := digestOf(nil)
	for _, d := range []string{
		"", "sha256:", "sha256:abc", "sha512:" + strings.TrimPrefix(good, "sha256:"),
		strings.ToUpper(good[:10]) + good[10:], "sha256:" + strings.ToUpper(good[7:]),
		"sha256:../../../../etc/passwd", good + "/", good[:70] + "g",
	} {
		if _, err := ParseDigest(d); !errors.Is(err, ErrInvalidDigest) {
			t.Errorf("ParseDigest(%q) = %v, want ErrInvalidDigest", d, err)
		}
		if s.Has(d) || s.Path(d) != "" {
			t.Errorf("Has/Path accepted %q", d)
		}
		if _, err := s.Open(d); !errors.Is(err, ErrInvalidDigest) {
			t.Errorf("Open(%q) = %v", d, err)
		}
	}
	id, err := s.StartUpload()
	if err != nil {
		t.Fatal(err)
	}
	for _, bad := range []string{"", "..", "../sha256/x", "put-123", strings.ToUpper(id), id + "/", "/" + id[1:]} {
		if _, err := s.UploadSize(bad); !errors.Is(err, ErrUploadNotFound) {
			t.Errorf("UploadSize(%q) = %v, want ErrUploadNotFound", bad, err)
		}
		if _, err := s.Append(bad, 0, strings.NewReader("x")); !errors.Is(err, ErrUploadNotFound) {
			t.Errorf("Append(%q) = %v, want ErrUploadNotFound", bad, err)
		}
	}
}

func TestStoreUpload(t *testing.T) {
	s := openStore(t)
	data := []byte("0123456789abcdef")
	id, err := s.StartUpload()
	if err != nil {
		t.Fatal(err)
	}
	if !validUploadID(id) {
		t.Fatalf("StartUpload returned %q", id)
	}
	if n, err := s.Append(id, 0, bytes.NewReader(data[:10])); err != nil || n != 10 {
		t.Fatalf("Append = %d, %v", n, err)
	}
	// A chunk that does not start where the upload ends writes nothing.
	n, err := s.Append(id, 4, bytes.NewReader(data[4:]))
	if !errors.Is(err, ErrRangeMismatch) || n != 10 {
		t.Fatalf("Append at a wrong offset = %d, %v; want 10, ErrRangeMismatch", n, err)
	}
	// Bytes that arrive before the reader fails are kept.
	broken := io.MultiReader(bytes.NewReader(data[10:13]), &failingReader{errors.New("connection reset")})
	if n, err := s.Append(id, 10, broken); err == nil || n != 13 {
		t.Fatalf("Append from a broken reader = %d, %v; want 13 and an error", n, err)
	}
	if size, err := s.UploadSize(id); err != nil || size != 13 {
		t.Fatalf("UploadSize = %d, %v", size, err)
	}
	if _, err := s.Append(id, 13, bytes.NewReader(data[13:])); err != nil {
		t.Fatal(err)
	}
	if err := s.Commit(id, digestOf(data)); err != nil {
		t.Fatal(err)
	}
	if !s.Has(digestOf(data)) || len(uploads(t, s)) != 0 {
		t.Fatalf("after Commit: has %v, uploads %v", s.Has(digestOf(data)), uploads(t, s))
	}
	// A commit retried after its answer was lost succeeds.
	if err := s.Commit(id, digestOf(data)); err != nil {
		t.Fatalf("retried Commit: %v", err)
	}

	// Committing a digest the store has drops the upload.
	id2, _ := s.StartUpload()
	if _, err := s.Append(id2, 0, bytes.NewReader(data)); err != nil {
		t.Fatal(err)
	}
	if err := s.Commit(id2, digestOf(data)); err != nil || len(uploads(t, s)) != 0 {
		t.Fatalf("Commit of a known digest: %v, uploads %v", err, uploads(t, s))
	}
}

func TestStoreCommitRefusesWrongDigest(t *testing.T) {
	s := openStore(t)
	id, _ := s.StartUpload()
	if _, err := s.Append(id, 0, strings.NewReader("what was sent")); err != nil {
		t.Fatal(err)
	}
	claimed := digestOf([]byte("what was meant"))
	if err := s.Commit(id, claimed); !errors.Is(err, ErrDigestMismatch) {
		t.Fatalf("Commit = %v, want ErrDigestMismatch", err)
	}
	if s.Has(claimed) || s.Has(digestOf([]byte("what was sent"))) {
		t.Fatal("a refused upload was stored")
	}
	if got := uploads(t, s); len(got) != 0 {
		t.Fatalf("a refused upload was kept: %v", got)
	}
	if err := s.Commit(id, claimed); !errors.Is(err, ErrUploadNotFound) {
		t.Fatalf("Commit after refusal = %v, want ErrUploadNotFound", err)
	}
}

func TestStorePruneUploads(t *testing.T) {
	s := openStore(t)
	stale, _ := s.StartUpload()
	fresh, _ := s.StartUpload()
	old := time.Now().Add(-48 * time.Hour)
	if err := os.Chtimes(filepath.Join(s.uploadsDir(), stale), old, old); err != nil {
		t.Fatal(err)
	}
	if err := s.PruneUploads(24 * time.Hour); err != nil {
		t.Fatal(err)
	}
	if _, err := s.UploadSize(stale); !errors.Is(err, ErrUploadNotFound) {
		t.Errorf("stale upload kept: %v", err)
	}
	if _, err := s.UploadSize(fresh); err != nil {
		t.Errorf("fresh upload pruned: %v", err)
	}
	if err := s.CancelUpload(fresh); err != nil {
		t.Fatal(err)
	}
	if err := s.CancelUpload(fresh); !errors.Is(err, ErrUploadNotFound) {
		t.Fatalf("cancelling twice: %v", err)
	}
}

type failingReader struct{ err error }

func (r *failingReader) Read([]byte) (int, error) { return 0, r.err }
