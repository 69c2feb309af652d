package portal

import (
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"

	"github.com/berth-dev/berth/client"
	"github.com/berth-dev/berth/internal/logtest"
)

// TestPasswordFile: a portal started with a password file takes a new
// password written there at the next sign-in, with no restart, and keeps
// the last one when the file is broken; a file that is missing or too
// short at start is refused.
func TestPasswordFile(t *testing.T) {
	w := newWorld(t)
	file := filepath.Join(t.TempDir(), "portal.password")
	write := func(pw string) {
		t.Helper()
		if err := os.WriteFile(file, []byte(pw+"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := New(Config{API: client.New(w.apiURL, w.key), WorkspaceID: w.ws.ID, PasswordFile: file}); err == nil {
		t.Fatal("a portal started without its password file")
	}
	write("short")
	if _, err := New(Config{API: client.New(w.apiURL, w.key), WorkspaceID: w.ws.ID, PasswordFile: file}); err == nil {
		t.Fatal("a portal started with a password of 5 characters")
	}
	write("the first password")
	p, err := New(Config{API: client.New(w.apiURL, w.key), WorkspaceID: w.ws.ID, PasswordFile: file, Log: logtest.New(t)})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(p)
	t.Cleanup(srv.Close)

	wantRedirect(t, newBrowser(t, srv.URL).login("the first password"), "/")
	write("the second password")
	if a := newBrowser(t, srv.URL).login("the first password"); a.status != http.StatusUnauthorized {
		t.Fatalf("the replaced password: %d, want 401", a.status)
	}
	wantRedirect(t, newBrowser(t, srv.URL).login("the second password"), "/")
	os.Remove(file)
	wantRedirect(t, newBrowser(t, srv.URL).login("the second password"), "/")
}
