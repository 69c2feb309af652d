package agent

import (
	"archive/tar"
	"bytes"
	"errors"
	"io"
	"slices"
	"testing"
	"time"
)

func TestWithFilesContextDir(t *testing.T) {
	var art bytes.Buffer
	tw := tar.NewWriter(&art)
	for _, name := range []string{"compose.yaml", "api/Dockerfile", "api/server.js", "apiary/x", "web/server.js"} {
		tw.WriteHeader(&tar.Header{Name: name, Mode: 0o644, Size: 1, Typeflag: tar.TypeReg})
		tw.Write([]byte("x"))
	}
	tw.Close()
	r, err := withFiles(&art, "api", map[string]string{"Dockerfile.berth": "FROM x\n"}, time.Time{}, ".dockerignore", "Dockerfile.berth")
	if err != nil {
		t.Fatal(err)
	}
	tr := tar.NewReader(r)
	var names []string
	for {
		hdr, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		names = append(names, hdr.Name)
	}
	want := []string{"Dockerfile", "server.js", "Dockerfile.berth", ".dockerignore"}
	if !slices.Equal(names, want) {
		t.Fatalf("context %v, want %v", names, want)
	}
}

// TestWithFilesModTime: every entry of the context, the artifact's and
// the added ones, carries the time asked for, to the second; without one
// the artifact's times stay.
func TestWithFilesModTime(t *testing.T) {
	artifact := func() *bytes.Buffer {
		var art bytes.Buffer
		tw := tar.NewWriter(&art)
		tw.WriteHeader(&tar.Header{Name: "assets/", Mode: 0o755, Typeflag: tar.TypeDir, ModTime: time.Unix(0, 0), Format: tar.FormatPAX})
		tw.WriteHeader(&tar.Header{Name: "index.html", Mode: 0o644, Size: 1, Typeflag: tar.TypeReg, ModTime: time.Unix(0, 0),
			Format: tar.FormatPAX})
		tw.Write([]byte("x"))
		tw.Close()
		return &art
	}
	times := func(r io.Reader) map[string]time.Time {
		t.Helper()
		got := map[string]time.Time{}
		tr := tar.NewReader(r)
		for {
			hdr, err := tr.Next()
			if errors.Is(err, io.EOF) {
				return got
			}
			if err != nil {
				t.Fatal(err)
			}
			got[hdr.Name] = hdr.ModTime
		}
	}
	release := time.Date(2026, 5, 4, 3, 2, 1, 987654321, time.UTC)
	r, err := withFiles(artifact(), "", map[string]string{"Dockerfile.berth": "FROM x\n"}, release, ".dockerignore", "Dockerfile.berth")
	if err != nil {
		t.Fatal(err)
	}
	got := times(r)
	for _, name := range []string{"assets/", "index.html", "Dockerfile.berth", ".dockerignore"} {
		if want := release.Truncate(time.Second); !got[name].Equal(want) {
			t.Errorf("%s dated %v, want %v", name, got[name], want)
		}
	}
	r, err = withFiles(artifact(), "", map[string]string{"Dockerfile.berth": "FROM x\n"}, time.Time{}, ".dockerignore", "Dockerfile.berth")
	if err != nil {
		t.Fatal(err)
	}
	if got := times(r); !got["assets/"].Equal(time.Unix(0, 0)) || !got["index.html"].Equal(time.Unix(0, 0)) {
		t.Errorf("without a time asked for: %v", got)
	}
}

func TestContextDirStaysInside(t *testing.T) {
	for in, want := range map[string]string{"": "", ".": "", "./api": "api", "api/": "api", "a/../b": "b"} {
		if got, err := contextDir(in); err != nil || got != want {
			t.Errorf("contextDir(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, in := range []string{"..", "../x", "/etc", "a/../../x"} {
		if _, err := contextDir(in); err == nil {
			t.Errorf("contextDir(%q) accepted", in)
		}
	}
}
