package artifact

import (
	"archive/tar"
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

func writeTree(t *testing.T, root string, files map[string]string) {
	t.Helper()
	for name, body := range files {
		p := filepath.Join(root, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func fromDir(t *testing.T, dir string, opt Options) (Info, error) {
	t.Helper()
	var out bytes.Buffer
	info, err := FromDir(dir, &out, opt)
	if err != nil && out.Len() != 0 {
		t.Errorf("refused directory still wrote %d bytes", out.Len())
	}
	return info, err
}

func TestFromDirMatchesNormalize(t *testing.T) {
	dir := t.TempDir()
	writeTree(t, dir, map[string]string{
		"index.html":            "<h1>hi</h1>",
		"src/app.js":            "console.log(1)",
		"bin/run":               "#!/bin/sh\n",
		".git/HEAD":             "ref: refs/heads/main",
		"node_modules/x/y.js":   "module",
		"web/node_modules/z.js": "module",
	})
	if err := os.Chmod(filepath.Join(dir, "bin/run"), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(filepath.Join(dir, "empty"), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("src/app.js", filepath.Join(dir, "latest")); err != nil {
		t.Fatal(err)
	}
	old := time.Date(2001, 1, 1, 0, 0, 0, 0, time.UTC)
	if err := os.Chtimes(filepath.Join(dir, "index.html"), old, old); err != nil {
		t.Fatal(err)
	}

	got, err := fromDir(t, dir, Options{Exclude: DefaultExclude})
	if err != nil {
		t.Fatal(err)
	}
	_, want := normalize(t, buildTar(t,
		member{name: "index.html", body: "<h1>hi</h1>"},
		member{name: "src/app.js", body: "console.log(1)"},
		member{name: "bin/run", body: "#!/bin/sh\n", mode: 0o755},
		member{name: "empty/", typ: tar.TypeDir},
		member{name: "web/", typ: tar.TypeDir},
		member{name: "latest", typ: tar.TypeSymlink, link: "src/app.js"},
	), Options{})
	if got.Digest != want.Digest {
		t.Fatalf("FromDir digest %s, the same tree as a tar gives %s; files %+v", got.Digest, want.Digest, got.Files)
	}

	// A symlink to the directory freezes the directory.
	link := filepath.Join(t.TempDir(), "link")
	if err := os.Symlink(dir, link); err != nil {
		t.Fatal(err)
	}
	if again, err := fromDir(t, link, Options{Exclude: DefaultExclude}); err != nil || again.Digest != got.Digest {
		t.Fatalf("through a symlink: %v, %v", again.Digest, err)
	}
}

func TestFromDirRefuses(t *testing.T) {
	tests := []struct {
		name  string
		setup func(t *testing.T, dir string)
		opt   Options
		code  string
	}{
		{"escaping symlink", func(t *testing.T, dir string) {
			if err := os.Symlink("../../etc/passwd", filepath.Join(dir, "src", "pw")); err != nil {
				t.Fatal(err)
			}
		}, Options{}, CodeLinkEscape},
		{"absolute symlink", func(t *testing.T, dir string) {
			if err := os.Symlink(filepath.Join(dir, "index.html"), filepath.Join(dir, "abs")); err != nil {
				t.Fatal(err)
			}
		}, Options{}, CodeLinkEscape},
		{"fifo", func(t *testing.T, dir string) {
			if err := syscall.Mkfifo(filepath.Join(dir, "src", "pipe"), 0o644); err != nil {
				t.Skipf("cannot make a fifo here: %v", err)
			}
		}, Options{}, CodeDeviceFile},
		{"file too large", func(t *testing.T, dir string) {
			writeTree(t, dir, map[string]string{"big.bin": strings.Repeat("x", 4096)})
		}, Options{Limits: Limits{MaxFileSize: 1024}}, CodeFileTooLarge},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			writeTree(t, dir, map[string]string{"index.html": "hi", "src/a.js": "a"})
			tt.setup(t, dir)
			_, err := fromDir(t, dir, tt.opt)
			var e *Error
			if !errors.As(err, &e) || e.Code != tt.code {
				t.Fatalf("FromDir error = %v, want %s", err, tt.code)
			}
		})
	}

	// An excluded directory is not even read.
	dir := t.TempDir()
	writeTree(t, dir, map[string]string{"index.html": "hi"})
	if err := os.MkdirAll(filepath.Join(dir, "node_modules"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Mkfifo(filepath.Join(dir, "node_modules", "pipe"), 0o644); err == nil {
		if _, err := fromDir(t, dir, Options{Exclude: DefaultExclude}); err != nil {
			t.Fatalf("excluded fifo refused: %v", err)
		}
	}

	if _, err := fromDir(t, filepath.Join(dir, "index.html"), Options{}); err == nil {
		t.Fatal("FromDir accepted a file")
	}
}
