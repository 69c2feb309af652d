package storetest

import (
	"time"

	"github.com/berth-dev/berth/internal/store"
)

// testWorkspaceHosts covers what Docker Deploy hosts add to hosts: one
// per workspace, the provisioner's sealed target, the portal's
// credentials, health, transitions and the scoped list.
func testWorkspaceHosts(f *fixture) {
	t, st, ctx := f.t, f.st, f.ctx
	o, w, p := f.tree()
	w2 := f.workspace(o)
	other, _, _ := f.tree()
	otherWS := f.workspace(other)

	// Nested times go in in UTC: the store keeps instants, and a nested
	// time is compared as a value.
	checked := at(7).UTC()
	h := &store.Host{
		ID: f.id("host"), Kind: store.HostDockerDeploy, WorkspaceID: w.ID, State: store.HostBootstrapping,
		AgentURL: "https://10.0.0.5:7443", AgentSecret: "agent-secret", Provisioner: "ssh",
		Target:    []byte(`{"address":"10.0.0.5:22","private_key":"-----BEGIN OPENSSH PRIVATE KEY-----"}`),
		PortalURL: "http://10.0.0.5:7790", PortalKeyID: "key_1", PortalKey: "sk_portal", PortalPassword: "pw-123456",
		AgentHealth:  store.Health{Status: store.HealthHealthy, CheckedAt: checked},
		PortalHealth: store.Health{Status: store.HealthSkipped, Detail: "no portal command"},
		Transitions: []store.HostTransition{
			{State: store.HostProvisioning, At: at(1).UTC()},
			{State: store.HostBootstrapping, Reason: "", At: at(2).UTC()},
		},
		CreatedAt: at(1), UpdatedAt: at(2),
	}
	ok(t, st.CreateHost(ctx, h))
	got, err := st.GetHost(ctx, h.ID)
	ok(t, err)
	same(t, got, h)
	got, err = st.GetWorkspaceHost(ctx, w.ID)
	ok(t, err)
	same(t, got, h)
	_, err = st.GetWorkspaceHost(ctx, w2.ID)
	is(t, err, store.ErrNotFound, "getting the host of a workspace without one")

	// One Docker Deploy host per workspace.
	dup := &store.Host{ID: f.id("host"), Kind: store.HostDockerDeploy, WorkspaceID: w.ID, State: store.HostProvisioning,
		CreatedAt: at(3), UpdatedAt: at(3)}
	is(t, st.CreateHost(ctx, dup), store.ErrConflict, "a second host for one workspace")
	// Pool hosts have no workspace and never collide.
	for range 2 {
		ok(t, st.CreateHost(ctx, &store.Host{ID: f.id("host"), Kind: store.HostPool, State: store.HostActive,
			AgentSecret: "s", CreatedAt: at(3), UpdatedAt: at(3)}))
	}

	// Update writes the new fields; clearing a sealed field clears it.
	h.State, h.StateReason = store.HostFailed, "the server refused the key"
	h.Target = []byte(`{"address":"10.0.0.6:22"}`)
	h.PortalKey, h.PortalPassword, h.PortalURL = "", "", ""
	h.AgentHealth = store.Health{Status: store.HealthUnhealthy, Detail: "connection refused", CheckedAt: at(8).UTC()}
	h.Transitions = append(h.Transitions, store.HostTransition{State: store.HostFailed, Reason: "refused", At: at(8).UTC()})
	before := h.UpdatedAt
	ok(t, st.UpdateHost(ctx, h))
	if !h.UpdatedAt.After(before) {
		t.Errorf("UpdateHost left UpdatedAt at %v", h.UpdatedAt)
	}
	got, err = st.GetHost(ctx, h.ID)
	ok(t, err)
	same(t, got, h)

	// A time in another zone comes back as the same instant.
	h.AgentHealth.CheckedAt = at(9)
	ok(t, st.UpdateHost(ctx, h))
	got, err = st.GetHost(ctx, h.ID)
	ok(t, err)
	if !got.AgentHealth.CheckedAt.Equal(at(9)) || got.AgentHealth.CheckedAt.Location() != time.UTC {
		t.Errorf("health checked_at %v, want %v in UTC", got.AgentHealth.CheckedAt, at(9))
	}

	h2 := &store.Host{ID: f.id("host"), Kind: store.HostDockerDeploy, WorkspaceID: w2.ID, State: store.HostProvisioning,
		Provisioner: "local", CreatedAt: at(4), UpdatedAt: at(4)}
	ok(t, st.CreateHost(ctx, h2))
	h3 := &store.Host{ID: f.id("host"), Kind: store.HostDockerDeploy, WorkspaceID: otherWS.ID, State: store.HostActive,
		Provisioner: "local", CreatedAt: at(5), UpdatedAt: at(5)}
	ok(t, st.CreateHost(ctx, h3))

	list := func(lf store.ListFilter) []*store.Host {
		t.Helper()
		l, err := st.ListWorkspaceHosts(ctx, lf)
		ok(t, err)
		return l
	}
	hg, _ := st.GetHost(ctx, h.ID)
	sameList(t, "hosts of the org", list(store.ListFilter{OrgID: o.ID}), []*store.Host{hg, h2})
	sameList(t, "hosts of a workspace", list(store.ListFilter{WorkspaceID: w2.ID}), []*store.Host{h2})
	sameList(t, "hosts of a project's workspace", list(store.ListFilter{ProjectID: p.ID}), []*store.Host{hg})
	sameList(t, "hosts of the other org", list(store.ListFilter{OrgID: other.ID}), []*store.Host{h3})
	sameList(t, "a workspace of another org", list(store.ListFilter{OrgID: other.ID, WorkspaceID: w.ID}), nil)
	sameList(t, "every Docker Deploy host", list(store.ListFilter{}), []*store.Host{hg, h2, h3})
	sameList(t, "paged", list(store.ListFilter{After: hg.ID, Limit: 1}), []*store.Host{h2})
}
