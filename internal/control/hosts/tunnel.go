package hosts

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/berth-dev/berth/internal/control/names"
	"github.com/berth-dev/berth/internal/edge"
	"github.com/berth-dev/berth/internal/id"
	"github.com/berth-dev/berth/internal/problem"
	"github.com/berth-dev/berth/internal/provision"
	"github.com/berth-dev/berth/internal/store"
)

// tunneled is a provisioner whose hosts are other machines (provision.SSH):
// their apps and portal listen on that machine's loopback, and the edge
// and the control plane reach them only through the host's agent, over
// its mutual TLS.
type tunneled interface {
	Tunneled() bool
}

// portalPasswordSetter is a provisioner that can change the sign-in
// password of a host's running portal.
type portalPasswordSetter interface {
	SetPortalPassword(ctx context.Context, m provision.Machine, password string) error
}

// ViaAgent reports whether h's apps and portal are reached through its
// agent's tunnel.
func (c *Service) ViaAgent(h *store.Host) bool {
	if h.Kind != store.HostDockerDeploy {
		return false
	}
	t, ok := c.cfg.Provisioners[h.Provisioner].(tunneled)
	return ok && t.Tunneled()
}

// DialHost connects to addr, the published address of a container (or
// the portal) on a Docker Deploy host, through the host's agent: the way
// the edge reaches routes whose Via is a host id.
func (c *Service) DialHost(ctx context.Context, hostID, addr string) (net.Conn, error) {
	h, err := c.st.GetHost(ctx, hostID)
	if err != nil {
		return nil, &net.OpError{Op: "dial", Net: "tcp", Err: fmt.Errorf("host %s: %w", hostID, err)}
	}
	return c.agents.Agent(h).DialTunnel(ctx, addr)
}

// hostHTTP is the HTTP client that reaches what listens on h's side:
// through the agent's tunnel when h is on another machine.
func (c *Service) hostHTTP(h *store.Host) *http.Client {
	if !c.ViaAgent(h) {
		return c.probe
	}
	a := c.agents.Agent(h)
	return &http.Client{
		Timeout:       c.probe.Timeout,
		CheckRedirect: c.probe.CheckRedirect,
		Transport: &http.Transport{
			Proxy:             nil,
			DisableKeepAlives: true,
			DialContext: func(ctx context.Context, _, addr string) (net.Conn, error) {
				return a.DialTunnel(ctx, addr)
			},
		},
	}
}

// Vias maps the id of every host reached through its agent to
// itself, the Via of its routes.
func (c *Service) Vias(hosts []*store.Host) map[string]string {
	via := map[string]string{}
	for _, h := range hosts {
		if c.ViaAgent(h) {
			via[h.ID] = h.ID
		}
	}
	return via
}

// PortalRoute is the route of a host's portal, through the host's agent
// when the host is another machine.
func (c *Service) PortalRoute(h *store.Host) *edge.Route {
	r := &edge.Route{Via: c.Vias([]*store.Host{h})[h.ID]}
	switch {
	case h.State == store.HostActive && h.PortalURL != "":
		r.State, r.Upstream = edge.Ready, strings.TrimPrefix(h.PortalURL, "http://")
	case h.State == store.HostProvisioning || h.State == store.HostBootstrapping:
		r.State = edge.Deploying
	default:
		r.State = edge.Down
	}
	return r
}

// PortalURL is the URL of a host's portal, through the edge: under the
// workspace's deployment domain. Empty when the host runs no portal.
func (c *Service) PortalURL(ctx context.Context, h *store.Host) string {
	if h.Kind != store.HostDockerDeploy || h.PortalHealth.Status == store.HealthSkipped {
		return ""
	}
	w, err := c.st.GetWorkspace(ctx, h.WorkspaceID)
	if err != nil {
		return ""
	}
	slug := names.OrgSlug(ctx, c.st, w.OrgID)
	D := c.cfg.Names.OrgDomain(slug)
	if cd, err := c.hostnames.Verified(ctx, w.OrgID); err == nil {
		D = cd.DeploymentDomain(c.cfg.Names, w.OrgID, slug, w.ID)
	}
	return c.cfg.Names.URL(c.cfg.Names.PortalHostIn(D, w.Slug))
}

// Bounds of a portal password a person chooses.
const (
	minPortalPassword = 8
	maxPortalPassword = 256
)

// portalPasswordWait bounds how long setting a password waits for a
// reconcile of the host that holds it.
const portalPasswordWait = 15 * time.Second

// SetPortalPassword sets the sign-in password of a host's portal: the
// one given, or a new random one when password is empty. It returns the
// password in effect. The portal reads it at its next sign-in.
func (c *Service) SetPortalPassword(ctx context.Context, hostID, password string) (string, error) {
	if password != "" {
		if n := len(password); n < minPortalPassword || n > maxPortalPassword {
			return "", problem.Unprocessable("invalid_password", "a portal password has %d to %d characters", minPortalPassword, maxPortalPassword)
		}
		if strings.ContainsAny(password, "\r\n\x00") {
			return "", problem.Unprocessable("invalid_password", "a portal password is one line: no line breaks or NUL characters")
		}
	} else {
		password = id.Random(24)
	}
	// The host's reconciler writes the whole host record: hold it off so
	// it cannot write the old password back.
	wait, cancel := context.WithTimeout(ctx, portalPasswordWait)
	defer cancel()
	unlock, err := c.hostLocks.Lock(wait, hostID)
	if err != nil {
		return "", problem.Conflict("host_busy", "the host is being repaired or bootstrapped; try again in a minute")
	}
	defer unlock()
	h, err := c.st.GetHost(ctx, hostID)
	if err != nil {
		return "", err
	}
	if h.State != store.HostActive || h.PortalURL == "" || h.PortalKeyID == "" {
		return "", problem.Conflict("portal_unavailable", "the host's portal is not running (host state %s); set its password once the host is active", h.State)
	}
	setter, ok := c.cfg.Provisioners[h.Provisioner].(portalPasswordSetter)
	if !ok {
		return "", problem.Unprocessable("portal_password_unsupported", "the %q provisioner of this host cannot change its portal's password", h.Provisioner)
	}
	sctx, scancel := context.WithTimeout(ctx, 20*time.Second)
	defer scancel()
	if err := setter.SetPortalPassword(sctx, c.machine(h), password); err != nil {
		return "", problem.New(http.StatusServiceUnavailable, "host_unreachable", "the password could not be written on the host: %s", c.hostReason(h, err))
	}
	h.PortalPassword = password
	if err := c.st.UpdateHost(ctx, h); err != nil {
		return "", fmt.Errorf("recording the portal password: %w", err)
	}
	c.events.Record(ctx, h.ID, "host.portal_password", "the portal's password was changed")
	return password, nil
}
