package api

import (
	"io"
	"net/http"

	"github.com/berth-dev/berth/client"
	"github.com/berth-dev/berth/internal/edge"
	"github.com/berth-dev/berth/internal/problem"
	"github.com/berth-dev/berth/internal/store"
)

// pageRoutes registers the custom page endpoints and the routes resync.
func (s *Server) pageRoutes(h func(string, handlerFunc)) {
	h("PUT /api/v1/orgs/{id}/pages/{kind}", s.putOrgPage)
	h("GET /api/v1/orgs/{id}/pages/{kind}", s.getOrgPage)
	h("DELETE /api/v1/orgs/{id}/pages/{kind}", s.deleteOrgPage)
	h("PUT /api/v1/workspaces/{id}/pages/{kind}", s.putWorkspacePage)
	h("GET /api/v1/workspaces/{id}/pages/{kind}", s.getWorkspacePage)
	h("DELETE /api/v1/workspaces/{id}/pages/{kind}", s.deleteWorkspacePage)
	h("POST /api/v1/routes/resync", s.resyncRoutes)
}

func pageView(p *store.Page) client.Page {
	return client.Page{OwnerID: p.OwnerID, Kind: p.Kind, Digest: p.Digest, Size: len(p.Body), UpdatedAt: p.UpdatedAt}
}

// readPage reads a custom page body: text/html, bounded.
func readPage(r *http.Request) (string, error) {
	if !hasType(r, "text/html") {
		return "", problem.New(http.StatusUnsupportedMediaType, "unsupported_media_type", "send the page as Content-Type: text/html")
	}
	b, err := io.ReadAll(io.LimitReader(r.Body, edge.MaxCustomPageBytes+1))
	if err != nil {
		return "", problem.BadRequest("invalid_body", "reading the body: %v", err)
	}
	if len(b) > edge.MaxCustomPageBytes {
		return "", problem.New(http.StatusRequestEntityTooLarge, "page_too_large", "a custom page is at most %d bytes", edge.MaxCustomPageBytes)
	}
	return string(b), nil
}

func (s *Server) putPage(w http.ResponseWriter, r *http.Request, ownerID, orgID string) error {
	src, err := readPage(r)
	if err != nil {
		return err
	}
	pg, err := s.domains.PutPage(r.Context(), ownerID, orgID, r.PathValue("kind"), src)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, pageView(pg))
	return nil
}

func (s *Server) getPage(w http.ResponseWriter, r *http.Request, ownerID string) error {
	pg, err := s.domains.Page(r.Context(), ownerID, r.PathValue("kind"))
	if err != nil {
		return err
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Content-Security-Policy", "default-src 'none'; sandbox")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.Header().Set("ETag", `"`+pg.Digest+`"`)
	io.WriteString(w, pg.Body)
	return nil
}

func (s *Server) putOrgPage(w http.ResponseWriter, r *http.Request, p *principal) error {
	o, err := s.st.GetOrg(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	if err := p.admin(owner{org: o.ID}); err != nil {
		return err
	}
	return s.putPage(w, r, o.ID, o.ID)
}

func (s *Server) getOrgPage(w http.ResponseWriter, r *http.Request, p *principal) error {
	o, err := s.st.GetOrg(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	if err := p.can(owner{org: o.ID, workspace: p.key.WorkspaceID, project: p.key.ProjectID}, false); err != nil {
		return err
	}
	return s.getPage(w, r, o.ID)
}

func (s *Server) deleteOrgPage(w http.ResponseWriter, r *http.Request, p *principal) error {
	o, err := s.st.GetOrg(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	if err := p.admin(owner{org: o.ID}); err != nil {
		return err
	}
	if err := s.domains.DeletePage(r.Context(), o.ID, r.PathValue("kind")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Server) putWorkspacePage(w http.ResponseWriter, r *http.Request, p *principal) error {
	ws, o, err := s.workspaceAndOrg(r)
	if err != nil {
		return err
	}
	if err := p.admin(owner{org: o.ID, workspace: ws.ID}); err != nil {
		return err
	}
	return s.putPage(w, r, ws.ID, o.ID)
}

func (s *Server) getWorkspacePage(w http.ResponseWriter, r *http.Request, p *principal) error {
	ws, o, err := s.workspaceAndOrg(r)
	if err != nil {
		return err
	}
	if err := p.can(owner{org: o.ID, workspace: ws.ID, project: p.key.ProjectID}, false); err != nil {
		return err
	}
	return s.getPage(w, r, ws.ID)
}

func (s *Server) deleteWorkspacePage(w http.ResponseWriter, r *http.Request, p *principal) error {
	ws, o, err := s.workspaceAndOrg(r)
	if err != nil {
		return err
	}
	if err := p.admin(owner{org: o.ID, workspace: ws.ID}); err != nil {
		return err
	}
	if err := s.domains.DeletePage(r.Context(), ws.ID, r.PathValue("kind")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// resyncRoutes re-registers every route from the records: the operator's
// command after an edge is replaced.
func (s *Server) resyncRoutes(w http.ResponseWriter, r *http.Request, p *principal) error {
	if p.key.OrgID != "" || p.key.Role != store.RoleAdmin {
		return problem.New(http.StatusForbidden, "forbidden", "resyncing routes needs the platform admin key")
	}
	res, err := s.edgeRoutes.Resync(r.Context())
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, client.RoutesResync{Version: res.Version, Hostnames: res.Hostnames})
	return nil
}
