package portal

import (
	"os/exec"
	"strings"
	"testing"
)

// TestTalksOnlyToThePublicAPI pins the dependency direction: the portal is
// a client of the public API, so besides the standard library it may use
// the public client only, never the store, the control plane or an agent.
func TestTalksOnlyToThePublicAPI(t *testing.T) {
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Skip("the go command is not on PATH, so the package's dependencies cannot be listed")
	}
	out, err := exec.Command(goTool, "list", "-deps", "-f", "{{if not .Standard}}{{.ImportPath}}{{end}}", ".").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	for _, pkg := range strings.Fields(string(out)) {
		switch pkg {
		case "github.com/berth-dev/berth/internal/portal", "github.com/berth-dev/berth/client":
		default:
			t.Errorf("package portal depends on %s; it may use the standard library and the public client only", pkg)
		}
	}
}
