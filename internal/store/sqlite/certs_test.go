package sqlite

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/berth-dev/berth/internal/store"
)

// TestCertificateKeysSealedAtRest checks that a certificate's private key
// never reaches the database file in the clear, and that a sealed value
// moved under another key does not open.
func TestCertificateKeysSealedAtRest(t *testing.T) {
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "berth.db")
	key := newKey(t)
	db, err := Open(path, key)
	if err != nil {
		t.Fatal(err)
	}
	const privateKey = "-----BEGIN EC PRIVATE KEY-----\nplaintext-key-3c5e7a\n-----END EC PRIVATE KEY-----\n"
	k := "certificates/acme-v02/shop.example/shop.example.key"
	if err := db.PutCertObject(ctx, &store.CertObject{Key: k, Value: []byte(privateKey), UpdatedAt: time.Now()}); err != nil {
		t.Fatal(err)
	}
	// A second row to move the sealed value into.
	if err := db.PutCertObject(ctx, &store.CertObject{Key: k + ".other", Value: []byte("x"), UpdatedAt: time.Now()}); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
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
	if !bytes.Contains(raw, []byte(k)) {
		t.Fatal("the database files do not hold the plain key name: the test reads the wrong files")
	}
	if bytes.Contains(raw, []byte("plaintext-key-3c5e7a")) {
		t.Error("the database file holds the private key in plain text")
	}

	db = openTemp(t, path, key)
	got, err := db.GetCertObject(ctx, k)
	if err != nil || string(got.Value) != privateKey {
		t.Fatalf("GetCertObject = %v, %v; want the key back", got, err)
	}
	if _, err := db.pools.write.Exec(`UPDATE cert_objects SET value = (SELECT value FROM cert_objects WHERE key = $1) WHERE key = $2`, k, k+".other"); err != nil {
		t.Fatal(err)
	}
	if got, err := db.GetCertObject(ctx, k+".other"); err == nil {
		t.Errorf("a sealed value moved to another key opened: %q", got.Value)
	}
}
