package hosts

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"time"

	"github.com/berth-dev/berth/internal/agent"
	"github.com/berth-dev/berth/internal/control/agents"
	"github.com/berth-dev/berth/internal/control/names"
	"github.com/berth-dev/berth/internal/id"
	"github.com/berth-dev/berth/internal/pki"
	"github.com/berth-dev/berth/internal/problem"
	"github.com/berth-dev/berth/internal/provision"
	"github.com/berth-dev/berth/internal/store"
)

// Provisioner makes a workspace's Docker Deploy host exist and runs
// Berth's roles on it: provision.Local and provision.SSH now, a cloud
// API later. The host reconciler calls it, and checks the roles' health
// itself. Both calls may run again after a crash, so both are idempotent.
type Provisioner interface {
	// Provision makes the machine exist and reachable, and returns its
	// target as it should be kept (e.g. with a host key pinned).
	Provision(ctx context.Context, m provision.Machine) (target []byte, err error)
	// Bootstrap installs the bundle and (re)starts the agent and portal,
	// and returns where they listen.
	Bootstrap(ctx context.Context, m provision.Machine, b provision.Bundle) (provision.Endpoint, error)
}

// exitWatcher is a provisioner that runs a host's roles as its own
// processes: it reports one that stopped, so a bootstrap fails at once
// with the cause instead of waiting out its health checks.
type exitWatcher interface {
	Exited(hostID string) error
}

// targetChecker is a provisioner whose targets come with the ensure
// request: it checks one (reaching the machine if it must) before
// anything is recorded, and returns it as it should be kept.
type targetChecker interface {
	CheckTarget(ctx context.Context, target []byte) ([]byte, error)
}

// Config wires Docker Deploy hosts.
type Config struct {
	// Provisioners by name ("local", "ssh"); Default is the one an
	// ensure without a target uses.
	Provisioners map[string]Provisioner
	Default      string
	// CA issues the agents' certificates and the control plane's client
	// certificate.
	CA *pki.CA
	// APIURL is the public API as the hosts' portals reach it.
	APIURL string
	// HealthTimeout bounds the wait for a bootstrapped host's health
	// checks (0: 60s).
	HealthTimeout time.Duration
	// Names makes the portals' URLs.
	Names names.Names
	// Limits are the resources every app container reserves, which a
	// host's usage adds up.
	Limits agents.Limits
}

// bootstrapBudget bounds a whole provisioning and bootstrap run.
const bootstrapBudget = 10 * time.Minute

// transitionsKept bounds a host's transition history.
const transitionsKept = 50

// EnsureHostRequest asks for a workspace's Docker Deploy host.
type EnsureHostRequest struct {
	Workspace *store.Workspace
	// Provisioner names the provisioner; empty takes the default.
	Provisioner string
	// Target is the provisioner's target (JSON); nil for local.
	Target []byte
}

// EnsureHost returns the workspace's Docker Deploy host, creating it on
// first use (provisioning) and retrying it when it failed. The work runs
// in the host reconciler; this returns at once. created says whether the
// host is new.
func (c *Service) EnsureHost(ctx context.Context, req EnsureHostRequest) (h *store.Host, created bool, err error) {
	hc := c.cfg
	existing, err := c.st.GetWorkspaceHost(ctx, req.Workspace.ID)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return nil, false, err
	}
	// Without a provisioner named, a host keeps the one that made it.
	name := req.Provisioner
	switch {
	case name == "" && existing != nil:
		name = existing.Provisioner
	case name == "":
		name = hc.Default
	}
	prov, ok := hc.Provisioners[name]
	if !ok || hc.CA == nil {
		return nil, false, problem.Unprocessable("provisioner_unavailable", "this Berth cannot provision Docker Deploy hosts with %q; ask its operator which provisioners it runs", name)
	}
	if existing != nil && existing.State != store.HostFailed {
		if existing.Provisioner != name {
			return nil, false, problem.Conflict("host_exists", "the workspace already has a Docker Deploy host, made by another provisioner; it has one host at a time")
		}
		c.queue.Kick(existing.ID)
		return existing, false, nil
	}
	target := req.Target
	if existing != nil && target == nil && existing.Provisioner == name {
		target = existing.Target // a retry keeps the target it had
	}
	if tc, ok := prov.(targetChecker); ok && target != nil {
		if target, err = tc.CheckTarget(ctx, target); err != nil {
			return nil, false, targetProblem(err)
		}
	}
	now := time.Now().UTC()
	if existing != nil {
		return c.retryHost(ctx, existing.ID, name, target, now)
	}
	h = &store.Host{
		ID: id.New(id.Host), Kind: store.HostDockerDeploy, WorkspaceID: req.Workspace.ID,
		AgentSecret: id.Random(48), Provisioner: name, Target: target, CreatedAt: now, UpdatedAt: now,
	}
	transition(h, store.HostProvisioning, "", now)
	if err := c.st.CreateHost(ctx, h); errors.Is(err, store.ErrConflict) {
		// Another ensure of the same workspace won the race: its host is
		// the workspace's.
		h, err = c.st.GetWorkspaceHost(ctx, req.Workspace.ID)
		return h, false, err
	} else if err != nil {
		return nil, false, fmt.Errorf("recording host: %w", err)
	}
	c.events.Record(ctx, h.ID, "host.provisioning", "making the workspace's Docker Deploy host")
	c.queue.Kick(h.ID)
	return h, true, nil
}

// retryHost provisions a failed host again, under the host's lock so that
// a reconciler run still finishing cannot write its older state over the
// retry. A host that is no longer failed by then is left as it is.
func (c *Service) retryHost(ctx context.Context, hostID, provisioner string, target []byte, now time.Time) (*store.Host, bool, error) {
	unlock, err := c.hostLocks.Lock(ctx, hostID)
	if err != nil {
		return nil, false, err
	}
	defer unlock()
	h, err := c.st.GetHost(ctx, hostID)
	if err != nil {
		return nil, false, err
	}
	if h.State == store.HostFailed {
		h.Provisioner, h.Target = provisioner, target
		h.AgentHealth, h.PortalHealth = store.Health{}, store.Health{}
		transition(h, store.HostProvisioning, "retried: ensure was called after the host failed", now)
		if err := c.st.UpdateHost(ctx, h); err != nil {
			return nil, false, fmt.Errorf("retrying host: %w", err)
		}
		c.events.Record(ctx, h.ID, "host.provisioning", "retrying the host after it failed")
	}
	c.queue.Kick(h.ID)
	return h, false, nil
}

// targetProblem turns a refused target into the answer to ensure.
func targetProblem(err error) error {
	var pe *provision.Error
	if !errors.As(err, &pe) {
		return fmt.Errorf("checking the target: %w", err)
	}
	switch {
	case errors.Is(err, provision.ErrAuthRefused):
		return problem.Unprocessable("ssh_auth_refused", "%s", pe.Reason)
	case errors.Is(err, provision.ErrHostKeyChanged):
		return problem.Unprocessable("ssh_host_key_mismatch", "%s", pe.Reason)
	case errors.Is(err, provision.ErrUnreachable):
		return problem.Unprocessable("ssh_unreachable", "%s", pe.Reason)
	}
	return problem.Unprocessable("invalid_ssh_target", "%s", pe.Reason)
}

// transition records a state change in h (not in the store).
func transition(h *store.Host, state, reason string, at time.Time) {
	h.State, h.StateReason = state, reason
	h.Transitions = append(h.Transitions, store.HostTransition{State: state, Reason: reason, At: at})
	if n := len(h.Transitions); n > transitionsKept {
		h.Transitions = append([]store.HostTransition(nil), h.Transitions[n-transitionsKept:]...)
	}
}

// Reconcile drives a Docker Deploy host through provisioning and
// bootstrapping to active, or to failed with a reason, and keeps an
// active host's roles healthy. Every step can run again: a crash in the
// middle leaves the host in provisioning or bootstrapping, and the next
// run finishes or fails it.
func (c *Service) Reconcile(ctx context.Context, hostID string) error {
	unlock, err := c.hostLocks.Lock(ctx, hostID)
	if err != nil {
		return err
	}
	defer unlock()
	h, err := c.st.GetHost(ctx, hostID)
	if err != nil {
		return err
	}
	if h.Kind != store.HostDockerDeploy {
		return nil
	}
	switch h.State {
	case store.HostProvisioning, store.HostBootstrapping:
		return c.bringUp(ctx, h)
	case store.HostActive:
		return c.checkHost(ctx, h)
	}
	return nil
}

func (c *Service) bringUp(parent context.Context, h *store.Host) error {
	prov, ok := c.cfg.Provisioners[h.Provisioner]
	if !ok || c.cfg.CA == nil {
		return c.hostFailed(parent, parent, h, fmt.Errorf("this control plane no longer runs the %q provisioner the host was made with; ask the operator", h.Provisioner))
	}
	ctx, cancel := context.WithTimeout(parent, bootstrapBudget)
	defer cancel()
	if h.State == store.HostProvisioning {
		target, err := prov.Provision(ctx, c.machine(h))
		if err != nil {
			return c.hostFailed(parent, ctx, h, err)
		}
		h.Target = target
		transition(h, store.HostBootstrapping, "", time.Now().UTC())
		if err := c.st.UpdateHost(ctx, h); err != nil {
			return err
		}
	}
	c.events.Record(ctx, h.ID, "host.bootstrapping", "installing and starting the agent and the portal")
	if err := c.bootstrap(ctx, h, prov); err != nil {
		return c.hostFailed(parent, ctx, h, err)
	}
	transition(h, store.HostActive, "", time.Now().UTC())
	if err := c.st.UpdateHost(ctx, h); err != nil {
		return err
	}
	c.events.Record(ctx, h.ID, "host.active", "the host is active: its agent and portal answer their health checks")
	c.routes.AllChanged()
	c.kickWorkspaceDeployments(ctx, h.WorkspaceID)
	c.databases.KickWorkspace(ctx, h.WorkspaceID)
	return nil
}

// bootstrap installs and starts the host's roles and waits until the
// agent answers its authenticated health check and the portal its own.
// It records where they listen in h.
func (c *Service) bootstrap(ctx context.Context, h *store.Host, prov Provisioner) error {
	if err := c.ensurePortalKey(ctx, h); err != nil {
		return err
	}
	certPEM, keyPEM, err := c.cfg.CA.IssueAgent(h.ID)
	if err != nil {
		return err
	}
	ep, err := prov.Bootstrap(ctx, c.machine(h), provision.Bundle{
		AgentCert: certPEM, AgentKey: keyPEM, ClientCA: c.cfg.CA.CertPEM(), AgentSecret: h.AgentSecret,
		Portal:   provision.Portal{APIURL: c.cfg.APIURL, WorkspaceID: h.WorkspaceID, Key: h.PortalKey, Password: h.PortalPassword},
		Progress: func(step string) { c.events.Record(ctx, h.ID, "host.step", "%s", step) },
	})
	if err != nil {
		return err
	}
	h.AgentURL, h.PortalURL = "https://"+ep.AgentAddr, ""
	if ep.PortalAddr != "" {
		h.PortalURL = "http://" + ep.PortalAddr
	}
	if err := c.st.UpdateHost(ctx, h); err != nil {
		return err
	}
	c.events.Record(ctx, h.ID, "host.agent_started", "the agent started; waiting for its health check over mutual TLS")
	if err := c.waitHealthy(ctx, h, prov, "agent", c.agentHealth); err != nil {
		return err
	}
	if ep.PortalSkipped != "" {
		h.PortalHealth = store.Health{Status: store.HealthSkipped, Detail: ep.PortalSkipped, CheckedAt: time.Now().UTC()}
		c.events.Record(ctx, h.ID, "host.portal_skipped", "no portal: %s", ep.PortalSkipped)
		return nil
	}
	c.events.Record(ctx, h.ID, "host.portal_started", "the agent is healthy; waiting for the portal's health check")
	return c.waitHealthy(ctx, h, prov, "portal", c.portalHealth)
}

// waitHealthy waits until check passes, the role exits, or the health
// timeout passes; it records the last health in h.
func (c *Service) waitHealthy(ctx context.Context, h *store.Host, prov Provisioner, role string, check func(context.Context, *store.Host) store.Health) error {
	timeout := c.cfg.HealthTimeout
	if timeout == 0 {
		timeout = time.Minute
	}
	deadline := time.Now().Add(timeout)
	delay := 10 * time.Millisecond
	for {
		hl := check(ctx, h)
		if role == "agent" {
			h.AgentHealth = hl
		} else {
			h.PortalHealth = hl
		}
		if hl.Status == store.HealthHealthy {
			return nil
		}
		if w, ok := prov.(exitWatcher); ok {
			if err := w.Exited(h.ID); err != nil {
				return err
			}
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			return fmt.Errorf("the %s did not pass its health check within %s: %s", role, timeout, hl.Detail)
		}
		select {
		case <-ctx.Done():
		case <-time.After(delay):
		}
		delay = min(2*delay, 250*time.Millisecond)
	}
}

// agentHealth asks the host's agent for its health, over mutual TLS and
// with the host's credential.
func (c *Service) agentHealth(ctx context.Context, h *store.Host) store.Health {
	ctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	now := time.Now().UTC()
	err := c.agents.Agent(h).Health(ctx)
	if err == nil {
		return store.Health{Status: store.HealthHealthy, CheckedAt: now}
	}
	var ae *agent.Error
	detail := "the agent does not answer"
	switch {
	case errors.As(err, &ae) && ae.Code == "runtime_unavailable":
		detail = "the agent answers, but no Docker engine answers it: install docker.io on the host and start dockerd"
	case errors.As(err, &ae) && ae.Status == http.StatusUnauthorized:
		detail = "the agent refused the host's credential"
	case errors.As(err, &ae):
		detail = "the agent answered " + ae.Code
	case strings.Contains(err.Error(), "certificate"):
		detail = "the agent's TLS certificate is not the one this control plane issued for the host"
	case strings.Contains(err.Error(), "connection refused"):
		detail = "nothing listens where the agent should"
	case errors.Is(err, context.DeadlineExceeded) || strings.Contains(err.Error(), "timeout"):
		detail = "the agent did not answer in time"
	}
	return store.Health{Status: store.HealthUnhealthy, Detail: detail, CheckedAt: now}
}

// portalHealth asks the host's portal for its /healthz, which passes once
// the portal has reached the API with its key.
func (c *Service) portalHealth(ctx context.Context, h *store.Host) store.Health {
	now := time.Now().UTC()
	if h.PortalURL == "" {
		return store.Health{Status: store.HealthUnhealthy, Detail: "the portal was not started", CheckedAt: now}
	}
	ctx, cancel := context.WithTimeout(ctx, 6*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, h.PortalURL+"/healthz", nil)
	if err != nil {
		return store.Health{Status: store.HealthUnhealthy, Detail: "the portal's address is not valid", CheckedAt: now}
	}
	resp, err := c.hostHTTP(h).Do(req)
	if err != nil {
		return store.Health{Status: store.HealthUnhealthy, Detail: "the portal does not answer", CheckedAt: now}
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return store.Health{Status: store.HealthUnhealthy, CheckedAt: now,
			Detail: fmt.Sprintf("the portal answers %d: it has not reached the API with its key (is the API URL the hosts are given reachable from the host?)", resp.StatusCode)}
	}
	return store.Health{Status: store.HealthHealthy, CheckedAt: now}
}

// hostFailed marks h failed with a reason a person can act on, unless
// parent ended (the control plane is stopping): then the host stays where
// it was, for the next run to finish.
func (c *Service) hostFailed(parent, ctx context.Context, h *store.Host, cause error) error {
	if parent.Err() != nil {
		return cause
	}
	reason := c.hostReason(h, cause)
	if ctx.Err() != nil && parent.Err() == nil {
		reason = "bootstrapping took longer than " + bootstrapBudget.String() + ": " + reason
	}
	transition(h, store.HostFailed, reason, time.Now().UTC())
	if err := c.st.UpdateHost(context.WithoutCancel(parent), h); err != nil {
		return err
	}
	c.events.Record(context.WithoutCancel(parent), h.ID, "host.failed", "%s", reason)
	c.routes.AllChanged()
	return nil
}

// ipAddr matches IPv4 addresses (with a port) and bracketed IPv6 ones.
var ipAddr = regexp.MustCompile(`\b\d{1,3}(\.\d{1,3}){3}(:\d+)?\b|\[[0-9a-fA-F:.%]+\](:\d+)?`)

// hostReason is err as a reason for the public API: a provisioner's
// message as it is, anything else with the host's addresses and
// credentials blotted out.
func (c *Service) hostReason(h *store.Host, err error) string {
	var pe *provision.Error
	msg := err.Error()
	if errors.As(err, &pe) {
		msg = pe.Reason
	}
	for _, s := range []string{h.AgentURL, strings.TrimPrefix(h.AgentURL, "https://"), h.PortalURL,
		strings.TrimPrefix(h.PortalURL, "http://"), h.AgentSecret, h.PortalKey, h.PortalPassword} {
		if s != "" {
			msg = strings.ReplaceAll(msg, s, "[hidden]")
		}
	}
	return ipAddr.ReplaceAllString(msg, "[address hidden]")
}

// checkHost checks an active host's agent and portal, and bootstraps the
// roles again when one does not answer (after a restart of the control
// plane, a crash of the agent or a reboot of the host). The host stays
// active meanwhile: its containers keep serving.
func (c *Service) checkHost(ctx context.Context, h *store.Host) error {
	h.AgentHealth = c.agentHealth(ctx, h)
	if h.PortalURL != "" {
		h.PortalHealth = c.portalHealth(ctx, h)
	}
	healthy := h.AgentHealth.Status == store.HealthHealthy &&
		(h.PortalURL == "" || h.PortalHealth.Status == store.HealthHealthy)
	if healthy {
		return c.st.UpdateHost(ctx, h)
	}
	prov, ok := c.cfg.Provisioners[h.Provisioner]
	if !ok || c.cfg.CA == nil {
		return c.st.UpdateHost(ctx, h)
	}
	c.events.Record(ctx, h.ID, "host.repairing", "a role of the host does not answer (agent: %s; portal: %s); starting them again",
		orDash(h.AgentHealth.Detail), orDash(h.PortalHealth.Detail))
	rctx, cancel := context.WithTimeout(ctx, bootstrapBudget)
	defer cancel()
	if err := c.bootstrap(rctx, h, prov); err != nil {
		if ctx.Err() != nil {
			return err
		}
		c.events.Record(ctx, h.ID, "host.unhealthy", "%s", c.hostReason(h, err))
		return c.st.UpdateHost(ctx, h)
	}
	if err := c.st.UpdateHost(ctx, h); err != nil {
		return err
	}
	c.events.Record(ctx, h.ID, "host.repaired", "the host's roles answer again")
	c.routes.AllChanged()
	c.kickWorkspaceDeployments(ctx, h.WorkspaceID)
	c.databases.KickWorkspace(ctx, h.WorkspaceID)
	return nil
}

func orDash(s string) string {
	if s == "" {
		return "ok"
	}
	return s
}

func (c *Service) machine(h *store.Host) provision.Machine {
	return provision.Machine{HostID: h.ID, WorkspaceID: h.WorkspaceID, Target: h.Target}
}

// ensurePortalKey gives the host's portal its workspace-scoped API key
// and sign-in password, once.
func (c *Service) ensurePortalKey(ctx context.Context, h *store.Host) error {
	if h.PortalKeyID != "" && h.PortalKey != "" && h.PortalPassword != "" {
		return nil
	}
	ws, err := c.st.GetWorkspace(ctx, h.WorkspaceID)
	if err != nil {
		return fmt.Errorf("getting the host's workspace: %w", err)
	}
	secret := "sk_" + id.Random(40)
	k := &store.APIKey{ID: id.New(id.APIKey), Name: "portal of " + h.ID, Hash: hashKey(secret), Prefix: secret[:12],
		OrgID: ws.OrgID, WorkspaceID: ws.ID, Role: store.RoleViewer, CreatedAt: time.Now().UTC()}
	h.PortalKeyID, h.PortalKey, h.PortalPassword = k.ID, secret, id.Random(24)
	return c.st.InTx(ctx, func(tx store.Store) error {
		if err := tx.CreateAPIKey(ctx, k); err != nil {
			return fmt.Errorf("creating the portal's key: %w", err)
		}
		return tx.UpdateHost(ctx, h)
	})
}

// hashKey is how the API stores a key's secret (api.HashKey).
func hashKey(secret string) string {
	sum := sha256.Sum256([]byte(secret))
	return hex.EncodeToString(sum[:])
}

// kickWorkspaceDeployments reconciles the Docker Deploy deployments of a
// workspace: those waiting for its host proceed.
func (c *Service) kickWorkspaceDeployments(ctx context.Context, workspaceID string) {
	deps, err := store.ListAll(ctx, func(ctx context.Context, f store.ListFilter) ([]*store.Deployment, error) {
		f.WorkspaceID = workspaceID
		return c.st.ListDeployments(ctx, f)
	})
	if err != nil {
		c.log.Warn("listing deployments failed", "workspace", workspaceID, "err", err)
		return
	}
	for _, d := range deps {
		if d.Product == store.ProductDockerDeploy {
			c.queue.Kick(d.ID)
		}
	}
}

// Pending lists the Docker Deploy hosts the periodic resync
// kicks: all but failed ones, which wait for an ensure.
func (c *Service) Pending(ctx context.Context) []string {
	hosts, err := store.ListAll(ctx, func(ctx context.Context, f store.ListFilter) ([]*store.Host, error) {
		return c.st.ListWorkspaceHosts(ctx, f)
	})
	if err != nil {
		c.log.Warn("listing hosts failed", "err", err)
		return nil
	}
	var ids []string
	for _, h := range hosts {
		if h.State != store.HostFailed {
			ids = append(ids, h.ID)
		}
	}
	return ids
}

// HostUsage is what a host runs.
type HostUsage struct {
	Containers int
	// MemoryBytes and NanoCPUs are the limits the containers reserve.
	MemoryBytes int64
	NanoCPUs    int64
}

// HostUsage counts the containers a host runs for deployments (serving
// and standby) and what their limits reserve.
func (c *Service) HostUsage(ctx context.Context, h *store.Host) (HostUsage, error) {
	deps, err := store.ListAll(ctx, func(ctx context.Context, f store.ListFilter) ([]*store.Deployment, error) {
		f.WorkspaceID = h.WorkspaceID
		return c.st.ListDeployments(ctx, f)
	})
	if err != nil {
		return HostUsage{}, err
	}
	// A frozen standby holds memory but uses no CPU.
	var u HostUsage
	serving := 0
	for _, d := range deps {
		if d.HostID != h.ID {
			continue
		}
		if d.ContainerID != "" {
			serving++
		}
		if d.StandbyContainerID != "" {
			u.Containers++
		}
	}
	u.Containers += serving
	u.MemoryBytes = int64(u.Containers) * c.cfg.Limits.MemoryBytes
	u.NanoCPUs = int64(serving) * c.cfg.Limits.NanoCPUs
	return u, nil
}
