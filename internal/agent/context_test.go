package agent

import (
	"archive/tar"
	"bytes"
	"errors"
	"io"
	"slices"
	"testing"
)

func TestWithFilesContextDir(t *testing.T) {
	var art bytes.Buffer
	tw := tar.NewWriter(&art)
	for _, name := range []string{"compose.yaml", "api/Dockerfile", "api/server.js", "apiary/x", "web/server.js"} {
		tw.WriteHeader(&tar.Header{Name: name, Mode: 0o644, Size: 1, Typeflag: tar.TypeReg})
		tw.Write([]byte("x"))
	}
	tw.Close()
	r, err := withFiles(&art, "api", map[string]string{"Dockerfile.berth": "FROM x\n"}, ".dockerignore", "Dockerfile.berth")
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
