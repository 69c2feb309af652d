package layers

import (
	"os/exec"
	"strings"
	"testing"
)

const mod = "github.com/berth-dev/berth/"

// forbidden maps a package to import paths (prefixes) it must never
// depend on, directly or not.
var forbidden = map[string][]string{
	// The agent never reaches the control plane's store or logic.
	"internal/agent": {mod + "internal/store", mod + "internal/control", mod + "internal/api", "modernc.org/sqlite"},
	// The control plane reaches hosts only through agents.
	"internal/control": {mod + "internal/docker", "github.com/moby/moby"},
	"internal/api":     {mod + "internal/docker", "github.com/moby/moby"},
	// The edge knows routes, not engines or databases.
	"internal/edge": {mod + "internal/docker", mod + "internal/store", "github.com/moby/moby", "modernc.org/sqlite"},
	// The public client is usable alone.
	"client": {mod + "internal/"},
	// The MCP tools speak to Berth only through the public API, with the
	// caller's key: no second path around its authorization.
	"internal/mcp": {mod + "internal/"},
	// The runtime is the only package that speaks to Docker.
	"internal/docker": {mod + "internal/store", mod + "internal/control"},
}

func TestImportBoundaries(t *testing.T) {
	for pkg, bad := range forbidden {
		out, err := exec.Command("go", "list", "-deps", mod+pkg).CombinedOutput()
		if err != nil {
			t.Fatalf("go list %s: %v\n%s", pkg, err, out)
		}
		for _, dep := range strings.Fields(string(out)) {
			if dep == mod+pkg {
				continue // go list -deps lists the package itself
			}
			for _, b := range bad {
				if strings.HasPrefix(dep, b) {
					t.Errorf("%s depends on %s", pkg, dep)
				}
			}
		}
	}
}
