package api

import (
	"errors"
	"net/http"
	"regexp"
	"strings"
	"time"

	"github.com/berth-dev/berth/client"
	"github.com/berth-dev/berth/internal/id"
	"github.com/berth-dev/berth/internal/problem"
	"github.com/berth-dev/berth/internal/store"
)

var slugRe = regexp.MustCompile(`^[a-z0-9]([a-z0-9-]{0,38}[a-z0-9])?$`)

// slugFor validates a given slug, or derives one from a name.
func slugFor(given, name string) (string, error) {
	if given != "" {
		if !slugRe.MatchString(given) {
			return "", problem.Unprocessable("invalid_slug", "slug %q is not valid: use 1 to 40 lower-case letters, digits and dashes, not starting or ending with a dash", given)
		}
		return given, nil
	}
	var b strings.Builder
	for _, r := range strings.ToLower(name) {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9':
			b.WriteRune(r)
		case b.Len() > 0 && !strings.HasSuffix(b.String(), "-"):
			b.WriteByte('-')
		}
	}
	s := strings.Trim(b.String(), "-")
	if len(s) > 32 {
		s = strings.Trim(s[:32], "-")
	}
	if s == "" {
		s = "app"
	}
	return s + "-" + id.Random(4), nil
}

func conflict(err error, what string) error {
	if errors.Is(err, store.ErrConflict) {
		return problem.Conflict("already_exists", "%s already exists: choose another slug or external_id", what)
	}
	return err
}

func orgView(o *store.Org) client.Org {
	return client.Org{ID: o.ID, Slug: o.Slug, Name: o.Name, ExternalID: o.ExternalID, CreatedAt: o.CreatedAt}
}

func (s *Server) createOrg(w http.ResponseWriter, r *http.Request, p *principal) error {
	if p.key.OrgID != "" || p.key.Role != store.RoleAdmin {
		return problem.New(http.StatusForbidden, "forbidden", "creating orgs needs the platform admin key")
	}
	var req client.CreateOrg
	if err := decode(r, &req); err != nil {
		return err
	}
	if err := requireField("name", req.Name); err != nil {
		return err
	}
	slug, err := slugFor(req.Slug, req.Name)
	if err != nil {
		return err
	}
	o := &store.Org{ID: id.New(id.Org), Slug: slug, Name: req.Name, ExternalID: req.ExternalID, CreatedAt: time.Now().UTC()}
	if err := s.st.CreateOrg(r.Context(), o); err != nil {
		return conflict(err, "an org with this slug or external_id")
	}
	s.edgeRoutes.OrgCreated(o)
	writeJSON(w, http.StatusCreated, orgView(o))
	return nil
}

func (s *Server) listOrgs(w http.ResponseWriter, r *http.Request, p *principal) error {
	f, err := filter(r)
	if err != nil {
		return err
	}
	p.scope(&f)
	if p.key.OrgID != "" {
		f.After = "" // one org at most: a key's own
	}
	list, err := s.st.ListOrgs(r.Context(), f)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, page(list, f, orgView))
	return nil
}

func (s *Server) getOrg(w http.ResponseWriter, r *http.Request, p *principal) error {
	o, err := s.st.GetOrg(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	if err := p.can(owner{org: o.ID, workspace: p.key.WorkspaceID, project: p.key.ProjectID}, false); err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, orgView(o))
	return nil
}

func workspaceView(ws *store.Workspace) client.Workspace {
	return client.Workspace{ID: ws.ID, OrgID: ws.OrgID, Slug: ws.Slug, Name: ws.Name, ExternalID: ws.ExternalID, CreatedAt: ws.CreatedAt}
}

func (s *Server) createWorkspace(w http.ResponseWriter, r *http.Request, p *principal) error {
	var req client.CreateWorkspace
	if err := decode(r, &req); err != nil {
		return err
	}
	if err := requireField("org_id", req.OrgID); err != nil {
		return err
	}
	if err := requireField("name", req.Name); err != nil {
		return err
	}
	o, err := s.st.GetOrg(r.Context(), req.OrgID)
	if errors.Is(err, store.ErrNotFound) {
		return problem.Unprocessable("org_not_found", "org %q does not exist", req.OrgID)
	}
	if err != nil {
		return err
	}
	if p.key.OrgID == o.ID && (p.key.WorkspaceID != "" || p.key.ProjectID != "") {
		return problem.New(http.StatusForbidden, "forbidden", "creating workspaces needs an org-wide admin key")
	}
	if err := p.admin(owner{org: o.ID}); err != nil {
		return orgMissing(err, req.OrgID)
	}
	slug, err := slugFor(req.Slug, req.Name)
	if err != nil {
		return err
	}
	ws := &store.Workspace{ID: id.New(id.Workspace), OrgID: o.ID, Slug: slug, Name: req.Name, ExternalID: req.ExternalID, CreatedAt: time.Now().UTC()}
	if err := s.st.CreateWorkspace(r.Context(), ws); err != nil {
		return conflict(err, "a workspace with this slug or external_id in the org")
	}
	writeJSON(w, http.StatusCreated, workspaceView(ws))
	return nil
}

func orgMissing(err error, orgID string) error {
	if errors.Is(err, store.ErrNotFound) {
		return problem.Unprocessable("org_not_found", "org %q does not exist", orgID)
	}
	return err
}

func (s *Server) listWorkspaces(w http.ResponseWriter, r *http.Request, p *principal) error {
	f, err := filter(r)
	if err != nil {
		return err
	}
	f.OrgID = r.URL.Query().Get("org_id")
	p.scope(&f)
	list, err := s.st.ListWorkspaces(r.Context(), f)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, page(list, f, workspaceView))
	return nil
}

func (s *Server) getWorkspace(w http.ResponseWriter, r *http.Request, p *principal) error {
	ws, err := s.st.GetWorkspace(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	if err := p.can(owner{org: ws.OrgID, workspace: ws.ID, project: p.key.ProjectID}, false); err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, workspaceView(ws))
	return nil
}

func projectView(pr *store.Project) client.Project {
	return client.Project{ID: pr.ID, OrgID: pr.OrgID, WorkspaceID: pr.WorkspaceID, Slug: pr.Slug, Name: pr.Name, ExternalID: pr.ExternalID, CreatedAt: pr.CreatedAt}
}

func (s *Server) createProject(w http.ResponseWriter, r *http.Request, p *principal) error {
	var req client.CreateProject
	if err := decode(r, &req); err != nil {
		return err
	}
	if err := requireField("workspace_id", req.WorkspaceID); err != nil {
		return err
	}
	if err := requireField("name", req.Name); err != nil {
		return err
	}
	ws, err := s.st.GetWorkspace(r.Context(), req.WorkspaceID)
	if err == nil {
		err = p.can(owner{org: ws.OrgID, workspace: ws.ID, project: p.key.ProjectID}, true)
	}
	if errors.Is(err, store.ErrNotFound) {
		return problem.Unprocessable("workspace_not_found", "workspace %q does not exist", req.WorkspaceID)
	}
	if err != nil {
		return err
	}
	if p.key.ProjectID != "" || p.key.Role == store.RoleViewer {
		return problem.New(http.StatusForbidden, "forbidden", "creating projects needs an org or workspace key")
	}
	slug, err := slugFor(req.Slug, req.Name)
	if err != nil {
		return err
	}
	pr := &store.Project{ID: id.New(id.Project), OrgID: ws.OrgID, WorkspaceID: ws.ID, Slug: slug, Name: req.Name, ExternalID: req.ExternalID, CreatedAt: time.Now().UTC()}
	if err := s.st.CreateProject(r.Context(), pr); err != nil {
		return conflict(err, "a project with this slug in the org, or this external_id in the workspace,")
	}
	writeJSON(w, http.StatusCreated, projectView(pr))
	return nil
}

func (s *Server) listProjects(w http.ResponseWriter, r *http.Request, p *principal) error {
	f, err := filter(r)
	if err != nil {
		return err
	}
	q := r.URL.Query()
	f.OrgID, f.WorkspaceID = q.Get("org_id"), q.Get("workspace_id")
	p.scope(&f)
	list, err := s.st.ListProjects(r.Context(), f)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, page(list, f, projectView))
	return nil
}

func (s *Server) getProject(w http.ResponseWriter, r *http.Request, p *principal) error {
	pr, err := s.project(r, p, r.PathValue("id"), false)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, projectView(pr))
	return nil
}

// project loads a project the key may act on.
func (s *Server) project(r *http.Request, p *principal, projectID string, write bool) (*store.Project, error) {
	pr, err := s.st.GetProject(r.Context(), projectID)
	if err != nil {
		return nil, err
	}
	if err := p.can(owner{org: pr.OrgID, workspace: pr.WorkspaceID, project: pr.ID}, write); err != nil {
		return nil, err
	}
	return pr, nil
}

// projectRef loads the project named in a request body: a missing or
// hidden one is a 422 about the field, not a 404 about the URL.
func (s *Server) projectRef(r *http.Request, p *principal, projectID string) (*store.Project, error) {
	if err := requireField("project_id", projectID); err != nil {
		return nil, err
	}
	pr, err := s.project(r, p, projectID, true)
	if errors.Is(err, store.ErrNotFound) {
		return nil, problem.Unprocessable("project_not_found", "project %q does not exist", projectID)
	}
	return pr, err
}

func (s *Server) createAPIKey(w http.ResponseWriter, r *http.Request, p *principal) error {
	var req client.CreateAPIKey
	if err := decode(r, &req); err != nil {
		return err
	}
	switch req.Role {
	case store.RoleAdmin, store.RoleDeployer, store.RoleViewer:
	default:
		return problem.Unprocessable("invalid_role", "role must be admin, deployer or viewer")
	}
	if err := requireField("org_id", req.OrgID); err != nil {
		return err
	}
	o := owner{org: req.OrgID, workspace: req.WorkspaceID, project: req.ProjectID}
	if req.ProjectID != "" {
		pr, err := s.st.GetProject(r.Context(), req.ProjectID)
		if err != nil || pr.OrgID != req.OrgID {
			return problem.Unprocessable("project_not_found", "project %q is not in org %q", req.ProjectID, req.OrgID)
		}
		o.workspace = pr.WorkspaceID
		if req.WorkspaceID != "" && req.WorkspaceID != pr.WorkspaceID {
			return problem.Unprocessable("project_not_found", "project %q is not in workspace %q", req.ProjectID, req.WorkspaceID)
		}
		req.WorkspaceID = pr.WorkspaceID
	} else if req.WorkspaceID != "" {
		ws, err := s.st.GetWorkspace(r.Context(), req.WorkspaceID)
		if err != nil || ws.OrgID != req.OrgID {
			return problem.Unprocessable("workspace_not_found", "workspace %q is not in org %q", req.WorkspaceID, req.OrgID)
		}
	} else if _, err := s.st.GetOrg(r.Context(), req.OrgID); err != nil {
		return orgMissing(err, req.OrgID)
	}
	if err := p.admin(o); err != nil {
		return orgMissing(err, req.OrgID)
	}
	// A key can only make keys as narrow as itself.
	if (p.key.WorkspaceID != "" && req.WorkspaceID == "") || (p.key.ProjectID != "" && req.ProjectID == "") {
		return problem.New(http.StatusForbidden, "forbidden", "a scoped key cannot create a wider key")
	}
	secret := NewSecret()
	k := &store.APIKey{ID: id.New(id.APIKey), Name: req.Name, Hash: HashKey(secret), Prefix: secret[:12],
		OrgID: req.OrgID, WorkspaceID: req.WorkspaceID, ProjectID: req.ProjectID, Role: req.Role, CreatedAt: time.Now().UTC()}
	if err := s.st.CreateAPIKey(r.Context(), k); err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, client.APIKey{ID: k.ID, Name: k.Name, Prefix: k.Prefix, OrgID: k.OrgID,
		WorkspaceID: k.WorkspaceID, ProjectID: k.ProjectID, Role: k.Role, Secret: secret, CreatedAt: k.CreatedAt})
	return nil
}

// selfAPIKey shows the key the request is made with: its role and scope,
// never its secret. It is how a client learns what it may do.
func (s *Server) selfAPIKey(w http.ResponseWriter, r *http.Request, p *principal) error {
	k := p.key
	writeJSON(w, http.StatusOK, client.APIKey{ID: k.ID, Name: k.Name, Prefix: k.Prefix, OrgID: k.OrgID,
		WorkspaceID: k.WorkspaceID, ProjectID: k.ProjectID, Role: k.Role, CreatedAt: k.CreatedAt})
	return nil
}

// NewSecret returns a new API key secret.
func NewSecret() string { return "sk_" + id.Random(40) }
