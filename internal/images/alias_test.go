package images_test

import (
	"os/exec"
	"testing"

	"github.com/berth-dev/berth/internal/docker"
	"github.com/berth-dev/berth/internal/images"
	"github.com/berth-dev/berth/internal/templates"
)

func TestAlias(t *testing.T) {
	for in, want := range map[string]string{
		images.Nginx:    "local/nginx:bookworm",
		images.Postgres: "local/postgres:bookworm",
		"plain:tag":     "local/plain:tag",
	} {
		if got := images.Alias(in); got != want {
			t.Errorf("Alias(%q) = %q, want %q", in, got, want)
		}
	}
	// The templates name the aliases of the images Build makes.
	for name, ref := range templates.DefaultImages() {
		found := false
		for _, built := range images.Refs() {
			found = found || images.Alias(built) == ref
		}
		if !found {
			t.Errorf("template image %s = %s is the alias of no image Build makes", name, ref)
		}
	}
}

// TestEnsureAliases tags the images on the real engine that lack their
// alias, and leaves the others: afterwards every image Build made has
// its alias on the same image.
func TestEnsureAliases(t *testing.T) {
	if err := exec.Command("docker", "info").Run(); err != nil {
		t.Skip("no Docker engine answers `docker info`")
	}
	rt, err := docker.New("")
	if err != nil {
		t.Fatal(err)
	}
	if err := images.EnsureAliases(t.Context(), rt); err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, ref := range images.Refs() {
		id, _, err := rt.InspectImage(t.Context(), ref)
		if err != nil {
			continue // not built here
		}
		n++
		aliasID, _, err := rt.InspectImage(t.Context(), images.Alias(ref))
		if err != nil || aliasID != id {
			t.Errorf("%s is %s but its alias is %q (%v)", ref, id, aliasID, err)
		}
	}
	if n == 0 {
		t.Skip("no base image is built on this engine; `berth images build` makes them")
	}
}
