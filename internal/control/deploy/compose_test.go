package deploy

import (
	"testing"

	"github.com/berth-dev/berth/internal/agent"
	"github.com/berth-dev/berth/internal/store"
)

func TestComposeKeeps(t *testing.T) {
	deps := []*store.Deployment{{ID: "dep_a", ReleaseID: "rel_2", ServingReleaseID: "rel_1"}}
	ct := func(kind, dep, rel string) agent.ContainerInfo {
		return agent.ContainerInfo{Labels: map[string]string{"berth.kind": kind, "berth.deployment": dep, "berth.release": rel}}
	}
	for _, c := range []struct {
		ct   agent.ContainerInfo
		keep bool
	}{
		{ct(composeKind, "dep_a", "rel_1"), true},  // serving
		{ct(composeKind, "dep_a", "rel_2"), true},  // rolling out
		{ct(composeKind, "dep_a", "rel_0"), false}, // replaced
		{ct(composeKind, "dep_b", "rel_1"), false}, // no such deployment
		{ct("deployment", "dep_a", "rel_1"), false},
	} {
		if got := composeKeeps(deps, c.ct); got != c.keep {
			t.Errorf("%v: keep %v, want %v", c.ct.Labels, got, c.keep)
		}
	}
}

func TestComposeRestart(t *testing.T) {
	for in, want := range map[string]string{"": "unless-stopped", "no": "no", "always": "always", "on-failure:3": "on-failure", "unless-stopped": "unless-stopped"} {
		if got := composeRestart(in); got != want {
			t.Errorf("composeRestart(%q) = %q, want %q", in, got, want)
		}
	}
}
