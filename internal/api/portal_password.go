package api

import (
	"net/http"

	"github.com/berth-dev/berth/client"
	"github.com/berth-dev/berth/internal/problem"
)

// setPortalPassword sets the sign-in password of a host's portal, or
// generates one, and answers it: the only time a generated password is
// shown. Only an admin of the workspace may.
func (s *Server) setPortalPassword(w http.ResponseWriter, r *http.Request, p *principal) error {
	var req client.PortalPassword
	if r.ContentLength != 0 {
		if err := decode(r, &req); err != nil {
			return err
		}
	}
	h, o, err := s.host(r, r.PathValue("id"))
	if err != nil {
		return err
	}
	o.project = p.key.ProjectID
	if err := p.can(o, false); err != nil {
		return err
	}
	if p.key.ProjectID != "" {
		return problem.New(http.StatusForbidden, "forbidden", "the portal serves the whole workspace: its password needs an org or workspace admin key, not a project key")
	}
	if err := p.admin(o); err != nil {
		return err
	}
	pw, err := s.hosts.SetPortalPassword(r.Context(), h.ID, req.Password)
	if err != nil {
		return err
	}
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusOK, client.PortalPassword{Password: pw})
	return nil
}
