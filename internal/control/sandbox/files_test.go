package sandbox

import "testing"

func TestCleanPath(t *testing.T) {
	ok := map[string]string{
		"":              "/workspace",
		"index.html":    "/workspace/index.html",
		"/a/b.txt":      "/workspace/a/b.txt",
		"a//b/./c.txt":  "/workspace/a/b/c.txt",
		"dir/":          "/workspace/dir",
		"with space.md": "/workspace/with space.md",
	}
	for in, want := range ok {
		got, err := CleanPath(in)
		if err != nil || got != want {
			t.Errorf("CleanPath(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, bad := range []string{"..", "../x", "a/../../x", "a/..", "x\x00y"} {
		if got, err := CleanPath(bad); err == nil {
			t.Errorf("CleanPath(%q) = %q, want an error", bad, got)
		}
	}
}
