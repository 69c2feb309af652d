package api

import (
	"context"
	"net/http"

	"github.com/berth-dev/berth/internal/store"
)

// deploymentStateRoutes registers pause, resume and delete of
// deployments.
func (s *Server) deploymentStateRoutes(h func(string, handlerFunc)) {
	h("POST /api/v1/deployments/{id}/pause", s.changeDeployment(s.deployments.PauseDeployment))
	h("POST /api/v1/deployments/{id}/resume", s.changeDeployment(s.deployments.ResumeDeployment))
	h("DELETE /api/v1/deployments/{id}", s.changeDeployment(s.deployments.DeleteDeployment))
}

// changeDeployment answers a change of a deployment's desired state: 202,
// the reconciler does the work and the status says when it is done.
func (s *Server) changeDeployment(change func(context.Context, string) (*store.Deployment, error)) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request, p *principal) error {
		d, err := s.deployment(r, p, true)
		if err != nil {
			return err
		}
		if d, err = change(r.Context(), d.ID); err != nil {
			return err
		}
		writeJSON(w, http.StatusAccepted, s.deploymentView(r, d))
		return nil
	}
}

// desiredState names a deployment's desired state in the API.
func desiredState(d *store.Deployment) string {
	if d.Desired == "" {
		return "running"
	}
	return d.Desired
}
