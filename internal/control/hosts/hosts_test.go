package hosts_test

import (
	"context"
	"errors"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/berth-dev/berth/internal/agent"
	"github.com/berth-dev/berth/internal/control"
	"github.com/berth-dev/berth/internal/control/agents"
	"github.com/berth-dev/berth/internal/control/hosts"
	"github.com/berth-dev/berth/internal/pki"
	"github.com/berth-dev/berth/internal/provision"
	"github.com/berth-dev/berth/internal/store"
	"github.com/berth-dev/berth/internal/store/sqlite"
)

// pingRuntime is a container runtime that can only answer health checks:
// enough for an agent whose health the host reconciler checks.
type pingRuntime struct{ agent.Runtime }

func (pingRuntime) Ping(context.Context) error { return nil }

// loopbackProvisioner bootstraps a host by serving a real agent, with the
// bundle's certificate and credential, on loopback in this process.
type loopbackProvisioner struct {
	mu   sync.Mutex
	fail error // Bootstrap fails with it while set
	runs int
	stop []context.CancelFunc
}

func (p *loopbackProvisioner) Provision(ctx context.Context, m provision.Machine) ([]byte, error) {
	return m.Target, nil
}

func (p *loopbackProvisioner) Bootstrap(ctx context.Context, m provision.Machine, b provision.Bundle) (provision.Endpoint, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.runs++
	if p.fail != nil {
		return provision.Endpoint{}, p.fail
	}
	cfg, err := pki.ServerTLS(b.AgentCert, b.AgentKey, b.ClientCA)
	if err != nil {
		return provision.Endpoint{}, err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return provision.Endpoint{}, err
	}
	sctx, cancel := context.WithCancel(context.Background())
	p.stop = append(p.stop, cancel)
	go agent.NewServer(agent.Config{Runtime: pingRuntime{}, Secret: b.AgentSecret}).ListenTLS(sctx, ln, cfg)
	return provision.Endpoint{AgentAddr: ln.Addr().String(), PortalSkipped: "no portal in this test"}, nil
}

func (p *loopbackProvisioner) close() {
	for _, c := range p.stop {
		c()
	}
}

func TestHostLifecycle(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	st, err := sqlite.Open(t.TempDir()+"/berth.db", make([]byte, 32))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	ca, err := pki.LoadOrCreate(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	prov := &loopbackProvisioner{}
	defer prov.close()
	p := control.New(control.Config{Store: st, Resync: time.Hour, Hosts: hosts.Config{
		Provisioners: map[string]hosts.Provisioner{"loop": prov}, Default: "loop", CA: ca, HealthTimeout: 5 * time.Second}})
	c, pool := p.Hosts, agents.New(st, ca)
	done := make(chan error, 1)
	go func() { done <- p.Run(ctx) }()
	defer func() { cancel(); <-done }()

	now := time.Now().UTC()
	ok := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	ok(st.CreateOrg(ctx, &store.Org{ID: "org_1", Slug: "o", Name: "O", CreatedAt: now}))
	ws := &store.Workspace{ID: "ws_1", OrgID: "org_1", Slug: "w", Name: "W", CreatedAt: now}
	ok(st.CreateWorkspace(ctx, ws))
	ws2 := &store.Workspace{ID: "ws_2", OrgID: "org_1", Slug: "w2", Name: "W2", CreatedAt: now}
	ok(st.CreateWorkspace(ctx, ws2))

	if _, waiting, _ := pool.WorkspaceHost(ctx, ws.ID); !strings.Contains(waiting, "has none") {
		t.Fatalf("waiting without a host = %q", waiting)
	}
	wait := func(id string, states ...string) *store.Host {
		t.Helper()
		deadline := time.Now().Add(10 * time.Second)
		for {
			h, err := st.GetHost(ctx, id)
			ok(err)
			for _, s := range states {
				if h.State == s {
					return h
				}
			}
			if time.Now().After(deadline) {
				t.Fatalf("host %s is %s (%s), want %v", id, h.State, h.StateReason, states)
			}
			time.Sleep(10 * time.Millisecond)
		}
	}

	h, created, err := c.EnsureHost(ctx, hosts.EnsureHostRequest{Workspace: ws})
	ok(err)
	if !created || h.State != store.HostProvisioning || h.Provisioner != "loop" {
		t.Fatalf("ensure = %+v, created %v", h, created)
	}
	h = wait(h.ID, store.HostActive, store.HostFailed)
	if h.State != store.HostActive || h.AgentHealth.Status != store.HealthHealthy || h.PortalHealth.Status != store.HealthSkipped {
		t.Fatalf("host = %+v", h)
	}
	if !strings.HasPrefix(h.AgentURL, "https://127.0.0.1:") || h.PortalKeyID == "" || h.PortalKey == "" {
		t.Fatalf("bootstrap did not record the agent and the portal's key: %+v", h)
	}
	if _, err := st.GetAPIKeyByHash(ctx, hosts.HashKey(h.PortalKey)); err != nil {
		t.Fatalf("the portal's key does not authenticate: %v", err)
	}
	if got, waiting, _ := pool.WorkspaceHost(ctx, ws.ID); got == nil || waiting != "" {
		t.Fatalf("an active host makes deployments wait: %q", waiting)
	}
	again, created, err := c.EnsureHost(ctx, hosts.EnsureHostRequest{Workspace: ws})
	ok(err)
	if created || again.ID != h.ID {
		t.Fatalf("second ensure = %+v, created %v", again, created)
	}
	// Health over mutual TLS from the reconciler's client; a check keeps
	// it active.
	ok(c.Reconcile(ctx, h.ID))
	if h = wait(h.ID, store.HostActive); h.AgentHealth.Status != store.HealthHealthy {
		t.Fatalf("checked host = %+v", h.AgentHealth)
	}

	// A failing bootstrap ends failed, with a reason that names no
	// address or credential; an ensure retries it.
	prov.mu.Lock()
	prov.fail = errors.New("dial tcp 10.1.2.3:7443: connect: connection refused")
	prov.mu.Unlock()
	h2, _, err := c.EnsureHost(ctx, hosts.EnsureHostRequest{Workspace: ws2})
	ok(err)
	h2 = wait(h2.ID, store.HostFailed, store.HostActive)
	if h2.State != store.HostFailed || strings.Contains(h2.StateReason, "10.1.2.3") || !strings.Contains(h2.StateReason, "connection refused") {
		t.Fatalf("failed host = %+v", h2)
	}
	if _, waiting, _ := pool.WorkspaceHost(ctx, ws2.ID); !strings.Contains(waiting, "failed") {
		t.Fatalf("waiting on a failed host = %q", waiting)
	}
	prov.mu.Lock()
	prov.fail = nil
	prov.mu.Unlock()
	h2, created, err = c.EnsureHost(ctx, hosts.EnsureHostRequest{Workspace: ws2})
	ok(err)
	if created || h2.State != store.HostProvisioning {
		t.Fatalf("retry = %+v", h2)
	}
	h2 = wait(h2.ID, store.HostActive, store.HostFailed)
	var states []string
	for _, tr := range h2.Transitions {
		states = append(states, tr.State)
	}
	if got := strings.Join(states, ","); got != "provisioning,bootstrapping,failed,provisioning,bootstrapping,active" {
		t.Fatalf("transitions = %s", got)
	}

	// An unknown provisioner is refused before anything is recorded.
	if _, _, err := c.EnsureHost(ctx, hosts.EnsureHostRequest{Workspace: &store.Workspace{ID: "ws_1"}, Provisioner: "cloud"}); err == nil {
		t.Fatal("an ensure naming an unknown provisioner was accepted")
	}
}

func TestHostReason(t *testing.T) {
	c := hosts.New(hosts.Config{}, hosts.Deps{})
	h := &store.Host{AgentURL: "https://agent.internal:7443", AgentSecret: "s3cr3t-value", PortalKey: "sk_portalkey"}
	got := c.HostReason(h, errors.New(`Get "https://agent.internal:7443/v1/health": s3cr3t-value sk_portalkey [::1]:99 192.168.1.20:22`))
	for _, leak := range []string{"agent.internal", "s3cr3t", "sk_portal", "::1", "192.168"} {
		if strings.Contains(got, leak) {
			t.Errorf("reason %q shows %q", got, leak)
		}
	}
	pe := &provision.Error{Kind: provision.ErrNoDocker, Reason: "no Docker engine answers"}
	if got := c.HostReason(h, pe); got != pe.Reason {
		t.Errorf("a provisioner's reason became %q", got)
	}
}
