package layers

import (
	"os/exec"
	"slices"
	"strings"
	"testing"
)

// shared are the control plane's packages with one mechanical job each,
// which any domain may use; they use no domain.
var shared = []string{"agents", "appenv", "events", "names", "work"}

// domains are the control plane's domain packages. A domain imports the
// shared packages and, of the domains, only those named here: a
// release's shape (releases) is a type the deployments and sandboxes
// speak in. Everything else one domain needs of another it asks through
// an interface it declares, which the root package control wires.
var domains = map[string][]string{
	"buckets":      nil,
	"certificates": nil,
	"cron":         nil,
	"databases":    nil,
	"deploy":       {"releases"},
	"domains":      nil,
	"hosts":        nil,
	"releases":     nil,
	"routes":       nil,
	"sandbox":      {"releases"},
}

// TestControlPlaneBoundaries pins the split of the control plane: the
// domains never import each other (beyond the list above) nor the root
// that wires them, the shared packages import no domain, and every
// package under internal/control is one of the two kinds (or the root,
// or its test helpers), so a new package has to be placed here on
// purpose.
func TestControlPlaneBoundaries(t *testing.T) {
	out, err := exec.Command("go", "list", "-f", "{{.ImportPath}} {{join .Imports \" \"}}", mod+"internal/control/...").CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	const ctl = mod + "internal/control"
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		fields := strings.Fields(line)
		pkg := strings.TrimPrefix(strings.TrimPrefix(fields[0], ctl), "/")
		var uses []string
		for _, imp := range fields[1:] {
			if imp == ctl {
				uses = append(uses, "control")
			} else if rest, ok := strings.CutPrefix(imp, ctl+"/"); ok {
				uses = append(uses, rest)
			}
		}
		allowed, isDomain := domains[pkg]
		switch {
		case pkg == "" || pkg == "controltest":
			continue
		case isDomain:
			for _, u := range uses {
				if !slices.Contains(shared, u) && !slices.Contains(allowed, u) {
					t.Errorf("domain %s imports %s: ask through an interface of %s instead", pkg, u, pkg)
				}
			}
		case slices.Contains(shared, pkg):
			for _, u := range uses {
				if !slices.Contains(shared, u) {
					t.Errorf("shared package %s imports %s", pkg, u)
				}
			}
		default:
			t.Errorf("internal/control/%s is neither a domain nor a shared package: add it to the lists in this test", pkg)
		}
	}
}
