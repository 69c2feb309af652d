package api

import (
	"errors"
	"net/http"

	"github.com/berth-dev/berth/client"
	"github.com/berth-dev/berth/internal/control/domains"
	"github.com/berth-dev/berth/internal/problem"
	"github.com/berth-dev/berth/internal/store"
)

// domainRoutes registers the branding and custom domain endpoints.
func (s *Server) domainRoutes(h, idem func(string, handlerFunc)) {
	h("PUT /api/v1/orgs/{id}/branding", s.putOrgBranding)
	h("GET /api/v1/orgs/{id}/branding", s.getOrgBranding)
	h("PUT /api/v1/workspaces/{id}/branding", s.putWorkspaceBranding)
	h("GET /api/v1/workspaces/{id}/branding", s.getWorkspaceBranding)
	idem("POST /api/v1/domains", s.createDomain)
	h("GET /api/v1/domains", s.listDomains)
	h("GET /api/v1/domains/{id}", s.getDomain)
	h("DELETE /api/v1/domains/{id}", s.deleteDomain)
	h("POST /api/v1/domains/{id}/verify", s.verifyDomain)
}

func brandingView(f domains.BrandingFields) client.Branding {
	return client.Branding{ProductName: f.ProductName, LogoURL: f.LogoURL, PrimaryColor: f.PrimaryColor,
		AccentColor: f.AccentColor, SupportURL: f.SupportURL, SupportEmail: f.SupportEmail}
}

func brandingFields(b client.Branding) domains.BrandingFields {
	return domains.BrandingFields{ProductName: b.ProductName, LogoURL: b.LogoURL, PrimaryColor: b.PrimaryColor,
		AccentColor: b.AccentColor, SupportURL: b.SupportURL, SupportEmail: b.SupportEmail}
}

func (s *Server) writeBranding(w http.ResponseWriter, r *http.Request, ownerID string, o *store.Org, ws *store.Workspace) error {
	set, eff, err := s.domains.Branding(r.Context(), o, ws)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, client.OwnerBranding{OwnerID: ownerID, Set: brandingView(set), Effective: brandingView(eff)})
	return nil
}

func (s *Server) putOrgBranding(w http.ResponseWriter, r *http.Request, p *principal) error {
	var req client.Branding
	if err := decode(r, &req); err != nil {
		return err
	}
	o, err := s.st.GetOrg(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	if err := p.admin(owner{org: o.ID}); err != nil {
		return err
	}
	if _, err := s.domains.SetBranding(r.Context(), o.ID, o.ID, brandingFields(req)); err != nil {
		return err
	}
	return s.writeBranding(w, r, o.ID, o, nil)
}

func (s *Server) getOrgBranding(w http.ResponseWriter, r *http.Request, p *principal) error {
	o, err := s.st.GetOrg(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	if err := p.can(owner{org: o.ID, workspace: p.key.WorkspaceID, project: p.key.ProjectID}, false); err != nil {
		return err
	}
	return s.writeBranding(w, r, o.ID, o, nil)
}

// workspaceAndOrg loads the workspace named in the path and its org.
func (s *Server) workspaceAndOrg(r *http.Request) (*store.Workspace, *store.Org, error) {
	ws, err := s.st.GetWorkspace(r.Context(), r.PathValue("id"))
	if err != nil {
		return nil, nil, err
	}
	o, err := s.st.GetOrg(r.Context(), ws.OrgID)
	if err != nil {
		return nil, nil, err
	}
	return ws, o, nil
}

func (s *Server) putWorkspaceBranding(w http.ResponseWriter, r *http.Request, p *principal) error {
	var req client.Branding
	if err := decode(r, &req); err != nil {
		return err
	}
	ws, o, err := s.workspaceAndOrg(r)
	if err != nil {
		return err
	}
	if err := p.admin(owner{org: o.ID, workspace: ws.ID}); err != nil {
		return err
	}
	if _, err := s.domains.SetBranding(r.Context(), ws.ID, o.ID, brandingFields(req)); err != nil {
		return err
	}
	return s.writeBranding(w, r, ws.ID, o, ws)
}

func (s *Server) getWorkspaceBranding(w http.ResponseWriter, r *http.Request, p *principal) error {
	ws, o, err := s.workspaceAndOrg(r)
	if err != nil {
		return err
	}
	if err := p.can(owner{org: o.ID, workspace: ws.ID, project: p.key.ProjectID}, false); err != nil {
		return err
	}
	return s.writeBranding(w, r, ws.ID, o, ws)
}

func (s *Server) domainView(d *store.Domain) client.Domain {
	v := client.Domain{ID: d.ID, Hostname: d.Hostname, OrgID: d.OrgID, WorkspaceID: d.WorkspaceID,
		DeploymentID: d.DeploymentID, Level: "org", Status: d.Status, StatusReason: d.StatusReason,
		Records: []client.DNSRecord{}, URL: s.domains.DomainURL(d), CreatedAt: d.CreatedAt, UpdatedAt: d.UpdatedAt}
	switch {
	case d.DeploymentID != "":
		v.Level = "deployment"
	case d.WorkspaceID != "":
		v.Level = "workspace"
	}
	if !d.VerifiedAt.IsZero() {
		v.VerifiedAt = d.VerifiedAt
	}
	for _, rec := range s.domains.DomainRecords(d) {
		v.Records = append(v.Records, client.DNSRecord{Type: rec.Type, Name: rec.Name, Value: rec.Value})
	}
	return v
}

// domainOwner is what authorization checks of a domain: a deployment
// domain belongs to the deployment's project too.
func (s *Server) domainOwner(r *http.Request, d *store.Domain) (owner, error) {
	o := owner{org: d.OrgID, workspace: d.WorkspaceID}
	if d.DeploymentID != "" {
		dep, err := s.st.GetDeployment(r.Context(), d.DeploymentID)
		if err != nil {
			return o, err
		}
		o.project = dep.ProjectID
	}
	return o, nil
}

// domain loads a domain the key may act on.
func (s *Server) domain(r *http.Request, p *principal, write bool) (*store.Domain, error) {
	d, err := s.st.GetDomain(r.Context(), r.PathValue("id"))
	if err != nil {
		return nil, err
	}
	o, err := s.domainOwner(r, d)
	if err != nil {
		return nil, err
	}
	if err := p.can(o, write); err != nil {
		return nil, err
	}
	return d, nil
}

func (s *Server) createDomain(w http.ResponseWriter, r *http.Request, p *principal) error {
	var req client.CreateDomain
	if err := decode(r, &req); err != nil {
		return err
	}
	if err := requireField("hostname", req.Hostname); err != nil {
		return err
	}
	n := 0
	for _, v := range []string{req.OrgID, req.WorkspaceID, req.DeploymentID} {
		if v != "" {
			n++
		}
	}
	switch n {
	case 0:
		return problem.Unprocessable("missing_owner", "give one of org_id, workspace_id and deployment_id")
	case 1:
	default:
		return problem.Unprocessable("multiple_owners", "give only one of org_id, workspace_id and deployment_id")
	}
	ctx := r.Context()
	var dr domains.DomainRequest
	notFound := func(err error, what, id string) error {
		if errors.Is(err, store.ErrNotFound) {
			return problem.Unprocessable("owner_not_found", "%s %q does not exist", what, id)
		}
		return err
	}
	var err error
	switch {
	case req.OrgID != "":
		if dr.Org, err = s.st.GetOrg(ctx, req.OrgID); err == nil {
			err = p.admin(owner{org: dr.Org.ID})
		}
		if err != nil {
			return notFound(err, "org", req.OrgID)
		}
	case req.WorkspaceID != "":
		if dr.Workspace, err = s.st.GetWorkspace(ctx, req.WorkspaceID); err == nil {
			err = p.admin(owner{org: dr.Workspace.OrgID, workspace: dr.Workspace.ID})
		}
		if err != nil {
			return notFound(err, "workspace", req.WorkspaceID)
		}
		dr.Org, err = s.st.GetOrg(ctx, dr.Workspace.OrgID)
	default:
		if dr.Deployment, err = s.st.GetDeployment(ctx, req.DeploymentID); err == nil {
			err = p.can(owner{org: dr.Deployment.OrgID, workspace: dr.Deployment.WorkspaceID, project: dr.Deployment.ProjectID}, true)
		}
		if err != nil {
			return notFound(err, "deployment", req.DeploymentID)
		}
		dr.Org, err = s.st.GetOrg(ctx, dr.Deployment.OrgID)
	}
	if err != nil {
		return err
	}
	dr.Hostname = req.Hostname
	d, err := s.domains.CreateDomain(ctx, dr)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, s.domainView(d))
	return nil
}

func (s *Server) listDomains(w http.ResponseWriter, r *http.Request, p *principal) error {
	f, err := filter(r)
	if err != nil {
		return err
	}
	f.OrgID = r.URL.Query().Get("org_id")
	f.WorkspaceID = r.URL.Query().Get("workspace_id")
	p.scope(&f)
	list, err := s.st.ListDomains(r.Context(), f)
	if err != nil {
		return err
	}
	visible := list[:0:0]
	for _, d := range list {
		o, err := s.domainOwner(r, d)
		if err == nil && p.can(o, false) == nil {
			visible = append(visible, d)
		}
	}
	out := page(visible, f, s.domainView)
	if len(list) == f.Limit && len(list) > 0 {
		out.NextCursor = list[len(list)-1].ID
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

func (s *Server) getDomain(w http.ResponseWriter, r *http.Request, p *principal) error {
	d, err := s.domain(r, p, false)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, s.domainView(d))
	return nil
}

func (s *Server) deleteDomain(w http.ResponseWriter, r *http.Request, p *principal) error {
	d, err := s.domain(r, p, true)
	if err != nil {
		return err
	}
	if err := s.domains.DeleteDomain(r.Context(), d); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Server) verifyDomain(w http.ResponseWriter, r *http.Request, p *principal) error {
	d, err := s.domain(r, p, true)
	if err != nil {
		return err
	}
	if d, err = s.domains.VerifyDomain(r.Context(), d); err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, s.domainView(d))
	return nil
}
