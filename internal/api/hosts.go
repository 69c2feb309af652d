package api

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"

	"github.com/berth-dev/berth/client"
	"github.com/berth-dev/berth/internal/control/hosts"
	"github.com/berth-dev/berth/internal/problem"
	"github.com/berth-dev/berth/internal/provision"
	"github.com/berth-dev/berth/internal/store"
)

// hostRoutes registers the Docker Deploy host endpoints.
func (s *Server) hostRoutes(h, idem func(string, handlerFunc)) {
	idem("POST /api/v1/docker-deploy/hosts/ensure", s.ensureHost)
	h("GET /api/v1/docker-deploy/hosts", s.listHosts)
	h("GET /api/v1/docker-deploy/hosts/{id}", s.getHost)
	h("POST /api/v1/docker-deploy/hosts/{id}/portal-password", s.setPortalPassword)
}

// hostView is what the API shows of a host: never where it is, how its
// agent is reached or with what credential.
func (s *Server) hostView(ctx context.Context, h *store.Host) client.Host {
	v := client.Host{
		ID: h.ID, WorkspaceID: h.WorkspaceID, State: h.State, StateReason: h.StateReason,
		Transitions: make([]client.HostTransition, 0, len(h.Transitions)),
		Agent:       healthView(h.AgentHealth), Portal: healthView(h.PortalHealth), PortalURL: s.hosts.PortalURL(ctx, h),
		CreatedAt: h.CreatedAt, UpdatedAt: h.UpdatedAt,
	}
	for _, t := range h.Transitions {
		v.Transitions = append(v.Transitions, client.HostTransition{State: t.State, Reason: t.Reason, At: t.At})
	}
	if u, err := s.hosts.HostUsage(ctx, h); err == nil {
		v.Usage = client.HostUsage{Containers: u.Containers, MemoryBytes: u.MemoryBytes, CPUs: float64(u.NanoCPUs) / 1e9}
	} else {
		s.log.Warn("reading host usage failed", "host", h.ID, "err", err)
	}
	return v
}

func healthView(hl store.Health) client.HostHealth {
	status := hl.Status
	if status == "" {
		status = "unknown"
	}
	return client.HostHealth{Status: status, Detail: hl.Detail, CheckedAt: hl.CheckedAt}
}

// ensureHost returns the workspace's Docker Deploy host, making it on the
// first call: 201 when it was made, 200 when it existed.
func (s *Server) ensureHost(w http.ResponseWriter, r *http.Request, p *principal) error {
	var req client.EnsureHost
	if err := decode(r, &req); err != nil {
		return err
	}
	if err := requireField("workspace_id", req.WorkspaceID); err != nil {
		return err
	}
	ws, err := s.st.GetWorkspace(r.Context(), req.WorkspaceID)
	var o owner
	if err == nil {
		o = owner{org: ws.OrgID, workspace: ws.ID, project: p.key.ProjectID}
		err = p.can(o, true)
	}
	if errors.Is(err, store.ErrNotFound) {
		return problem.Unprocessable("workspace_not_found", "workspace %q does not exist", req.WorkspaceID)
	}
	if err != nil {
		return err
	}
	if p.key.ProjectID != "" {
		return problem.New(http.StatusForbidden, "forbidden", "a workspace's host needs an org or workspace key, not a project key")
	}
	in := hosts.EnsureHostRequest{Workspace: ws}
	if req.SSH != (client.SSHTarget{}) {
		// An SSH target makes the control plane log in to a machine:
		// only admins name one.
		if err := p.admin(o); err != nil {
			return err
		}
		if in.Target, err = sshTarget(req.SSH); err != nil {
			return err
		}
		in.Provisioner = "ssh"
	}
	h, created, err := s.hosts.EnsureHost(r.Context(), in)
	if err != nil {
		return err
	}
	status := http.StatusOK
	if created {
		status = http.StatusCreated
	}
	writeJSON(w, status, s.hostView(r.Context(), h))
	return nil
}

// sshTarget checks the fields of an SSH target and encodes it as the ssh
// provisioner keeps it.
func sshTarget(t client.SSHTarget) ([]byte, error) {
	var missing []string
	for name, v := range map[string]string{"ssh.address": t.Address, "ssh.user": t.User, "ssh.private_key": t.PrivateKey} {
		if strings.TrimSpace(v) == "" {
			missing = append(missing, name)
		}
	}
	if len(missing) > 0 {
		return nil, problem.Unprocessable("invalid_ssh_target", "an SSH target needs ssh.address, ssh.user and ssh.private_key; %s missing", strings.Join(missing, ", "))
	}
	for _, port := range []int{t.AgentPort, t.PortalPort} {
		if port < 0 || port > 65535 {
			return nil, problem.Unprocessable("invalid_ssh_target", "ssh.agent_port and ssh.portal_port are TCP ports, from 1 to 65535")
		}
	}
	b, err := json.Marshal(provision.SSHTarget{Address: t.Address, User: t.User, PrivateKey: t.PrivateKey,
		HostKey: t.HostKey, AgentPort: t.AgentPort, PortalPort: t.PortalPort})
	if err != nil {
		return nil, err
	}
	return b, nil
}

func (s *Server) listHosts(w http.ResponseWriter, r *http.Request, p *principal) error {
	f, err := filter(r)
	if err != nil {
		return err
	}
	f.WorkspaceID = r.URL.Query().Get("workspace_id")
	p.scope(&f)
	list, err := s.st.ListWorkspaceHosts(r.Context(), f)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, page(list, f, func(h *store.Host) client.Host { return s.hostView(r.Context(), h) }))
	return nil
}

func (s *Server) getHost(w http.ResponseWriter, r *http.Request, p *principal) error {
	h, o, err := s.host(r, r.PathValue("id"))
	if err != nil {
		return err
	}
	// A host serves every project of its workspace: a project key of the
	// workspace may read it.
	o.project = p.key.ProjectID
	if err := p.can(o, false); err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, s.hostView(r.Context(), h))
	return nil
}

// host loads a Docker Deploy host and its owner. A pool host is not found:
// it belongs to no tenant.
func (s *Server) host(r *http.Request, hostID string) (*store.Host, owner, error) {
	h, err := s.st.GetHost(r.Context(), hostID)
	if err != nil {
		return nil, owner{}, err
	}
	if h.Kind != store.HostDockerDeploy {
		return nil, owner{}, store.ErrNotFound
	}
	ws, err := s.st.GetWorkspace(r.Context(), h.WorkspaceID)
	if err != nil {
		return nil, owner{}, err
	}
	return h, owner{org: ws.OrgID, workspace: ws.ID}, nil
}

// hostOwner is the owner of a host, for its events.
func (s *Server) hostOwner(r *http.Request, hostID string) (owner, error) {
	_, o, err := s.host(r, hostID)
	return o, err
}
