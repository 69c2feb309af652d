package edge

import (
	"os/exec"
	"strings"
	"testing"
)

// TestImportsOnlyStandardLibrary pins the dependency direction: the edge
// is handed its routes and must not reach for the store, the container
// runtime or any module outside the standard library, but for the token
// buckets of its rate limit (golang.org/x/time/rate).
func TestImportsOnlyStandardLibrary(t *testing.T) {
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Skip("the go command is not on PATH, so the package's dependencies cannot be listed")
	}
	out, err := exec.Command(goTool, "list", "-deps", "-f", "{{if not .Standard}}{{.ImportPath}}{{end}}", ".").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	for _, pkg := range strings.Fields(string(out)) {
		if pkg != "github.com/berth-dev/berth/internal/edge" && pkg != "golang.org/x/time/rate" {
			t.Errorf("package edge depends on %s; it may use the standard library and golang.org/x/time/rate only", pkg)
		}
	}
}
