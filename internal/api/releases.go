package api

import (
	"maps"
	"net/http"
	"slices"

	"github.com/berth-dev/berth/client"
	"github.com/berth-dev/berth/internal/control/deploy"
	"github.com/berth-dev/berth/internal/control/releases"
	"github.com/berth-dev/berth/internal/problem"
	"github.com/berth-dev/berth/internal/store"
)

func releaseView(r *store.Release) client.Release {
	files := make([]client.FileDigest, len(r.Provenance.Files))
	for i, f := range r.Provenance.Files {
		files[i] = client.FileDigest{Path: f.Path, Size: f.Size, Digest: f.Digest}
	}
	env := r.EnvNames
	if env == nil {
		env = []string{}
	}
	return client.Release{
		ID: r.ID, ProjectID: r.ProjectID, Digest: r.Digest, Size: r.Size, EnvNames: env,
		Build: client.Build{TemplateID: r.Build.TemplateID, Dockerfile: r.Build.Dockerfile, Command: r.Build.Command, Port: r.Build.Port},
		Provenance: client.Provenance{Source: r.Provenance.Source, SourceSandboxID: r.Provenance.SourceSandboxID,
			CreatedBy: r.Provenance.CreatedBy, CreatedAt: r.CreatedAt, Files: files},
		ExternalID: r.ExternalID, CreatedAt: r.CreatedAt,
	}
}

// createRelease freezes a tar body into a release: the CLI's publish.
func (s *Server) createRelease(w http.ResponseWriter, r *http.Request, p *principal) error {
	if !hasType(r, "application/x-tar") {
		return problem.New(http.StatusUnsupportedMediaType, "unsupported_media_type", "POST /releases takes the files as a tar with Content-Type application/x-tar")
	}
	q := r.URL.Query()
	pr, err := s.projectRef(r, p, q.Get("project_id"))
	if err != nil {
		return err
	}
	port, err := atoiParam(r, "port")
	if err != nil {
		return err
	}
	rel, err := s.releases.CreateRelease(r.Context(), r.Body, releases.Request{Project: pr, TemplateID: q.Get("template_id"),
		Port: port, Command: q.Get("command"), CreatedBy: p.key.ID, ExternalID: q.Get("external_id")})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, releaseView(rel))
	return nil
}

func (s *Server) listReleases(w http.ResponseWriter, r *http.Request, p *principal) error {
	f, err := filter(r)
	if err != nil {
		return err
	}
	f.ProjectID = r.URL.Query().Get("project_id")
	p.scope(&f)
	list, err := s.st.ListReleases(r.Context(), f)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, page(list, f, releaseView))
	return nil
}

func (s *Server) getRelease(w http.ResponseWriter, r *http.Request, p *principal) error {
	rel, err := s.st.GetRelease(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	if err := p.can(owner{org: rel.OrgID, workspace: rel.WorkspaceID, project: rel.ProjectID}, false); err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, releaseView(rel))
	return nil
}

func (s *Server) deploymentView(r *http.Request, d *store.Deployment) client.Deployment {
	v := client.Deployment{
		ID: d.ID, ProjectID: d.ProjectID, DeploymentProduct: d.Product, ReleaseID: d.ReleaseID, ServingReleaseID: d.ServingReleaseID,
		StandbyReleaseID: d.StandbyReleaseID,
		Status:           d.Status, StatusReason: d.StatusReason, Ready: d.Status == store.DeploymentReady,
		URL: s.deployments.DeploymentURL(r.Context(), d), EnvNames: slices.Sorted(maps.Keys(d.Env)), Metadata: d.Metadata,
		History: []client.HistoryEntry{}, ExternalID: d.ExternalID, DesiredState: desiredState(d),
		CreatedAt: d.CreatedAt, UpdatedAt: d.UpdatedAt,
	}
	if v.EnvNames == nil {
		v.EnvNames = []string{}
	}
	if v.Metadata == nil {
		v.Metadata = map[string]string{}
	}
	if hist, err := s.st.ListDeploymentReleases(r.Context(), d.ID); err == nil {
		for _, h := range hist {
			v.History = append(v.History, client.HistoryEntry{ReleaseID: h.ReleaseID, Reason: h.Reason, CreatedAt: h.CreatedAt})
		}
	}
	return v
}

func (s *Server) createDeployment(w http.ResponseWriter, r *http.Request, p *principal) error {
	var req client.CreateDeployment
	if err := decode(r, &req); err != nil {
		return err
	}
	pr, err := s.projectRef(r, p, req.ProjectID)
	if err != nil {
		return err
	}
	d, created, err := s.deployments.Deploy(r.Context(), deploy.DeployRequest{Project: pr, ReleaseID: req.ReleaseID, Product: req.DeploymentProduct,
		Env: req.Env, Metadata: req.Metadata, ExternalID: req.ExternalID})
	if err != nil {
		return err
	}
	status := http.StatusAccepted
	if created {
		status = http.StatusCreated
	}
	writeJSON(w, status, s.deploymentView(r, d))
	return nil
}

func (s *Server) listDeployments(w http.ResponseWriter, r *http.Request, p *principal) error {
	f, err := filter(r)
	if err != nil {
		return err
	}
	f.ProjectID = r.URL.Query().Get("project_id")
	p.scope(&f)
	list, err := s.st.ListDeployments(r.Context(), f)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, page(list, f, func(d *store.Deployment) client.Deployment { return s.deploymentView(r, d) }))
	return nil
}

func (s *Server) deployment(r *http.Request, p *principal, write bool) (*store.Deployment, error) {
	d, err := s.st.GetDeployment(r.Context(), r.PathValue("id"))
	if err != nil {
		return nil, err
	}
	if err := p.can(owner{org: d.OrgID, workspace: d.WorkspaceID, project: d.ProjectID}, write); err != nil {
		return nil, err
	}
	return d, nil
}

func (s *Server) getDeployment(w http.ResponseWriter, r *http.Request, p *principal) error {
	d, err := s.deployment(r, p, false)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, s.deploymentView(r, d))
	return nil
}

func (s *Server) rollback(w http.ResponseWriter, r *http.Request, p *principal) error {
	var req client.Rollback
	if err := decodeOptional(r, &req); err != nil {
		return err
	}
	d, err := s.deployment(r, p, true)
	if err != nil {
		return err
	}
	if d, err = s.deployments.Rollback(r.Context(), d.ID, req.ReleaseID); err != nil {
		return err
	}
	writeJSON(w, http.StatusAccepted, s.deploymentView(r, d))
	return nil
}
