package api

import (
	"encoding/json"
	"maps"
	"net/http"
	"slices"
	"time"

	"github.com/berth-dev/berth/client"
	"github.com/berth-dev/berth/internal/control/appenv"
	"github.com/berth-dev/berth/internal/control/databases"
	"github.com/berth-dev/berth/internal/id"
	"github.com/berth-dev/berth/internal/problem"
	"github.com/berth-dev/berth/internal/store"
)

// databaseRoutes registers the managed data service endpoints.
func (s *Server) databaseRoutes(h, idem func(string, handlerFunc)) {
	idem("POST /api/v1/databases", s.createDatabase)
	h("GET /api/v1/databases", s.listDatabases)
	h("GET /api/v1/databases/{id}", s.getDatabase)
	h("DELETE /api/v1/databases/{id}", s.deleteDatabase)
	h("POST /api/v1/databases/{id}/credentials/reveal", s.revealCredentials)
	h("POST /api/v1/databases/{id}/credentials/rotate", s.rotateCredentials)
	idem("POST /api/v1/databases/{id}/links", s.linkDatabase)
	h("GET /api/v1/databases/{id}/links", s.listDatabaseLinks)
	h("DELETE /api/v1/databases/{id}/links/{target_id}", s.unlinkDatabase)
}

func (s *Server) databaseView(db *store.Database) client.Database {
	return client.Database{
		ID: db.ID, ProjectID: db.ProjectID, Name: db.Name, Engine: db.Engine, Status: db.Status, StatusReason: db.StatusReason,
		Version: db.Version, SizeBytes: db.SizeBytes, Image: db.Image, Host: db.Name, Port: databases.DatabasePort(db.Engine),
		CredentialsApplied: db.AppliedVersion == db.CredentialsVersion, ExternalID: db.ExternalID,
		CreatedAt: db.CreatedAt, UpdatedAt: db.UpdatedAt,
	}
}

func (s *Server) credentialsView(db *store.Database) client.DatabaseCredentials {
	internal, published := s.databases.DatabaseURL(db)
	return client.DatabaseCredentials{
		Username: db.Username, Password: db.Password, Database: db.DatabaseName, Host: db.Name,
		Port: databases.DatabasePort(db.Engine), URL: internal, PublishedURL: published, Env: s.databases.DatabaseEnv(db),
	}
}

// database loads a data service the key may act on.
func (s *Server) database(r *http.Request, p *principal, write bool) (*store.Database, error) {
	db, err := s.st.GetDatabase(r.Context(), r.PathValue("id"))
	if err != nil {
		return nil, err
	}
	if err := p.can(owner{org: db.OrgID, workspace: db.WorkspaceID, project: db.ProjectID}, write); err != nil {
		return nil, err
	}
	return db, nil
}

// writeSecret answers with a body that carries credentials. When the
// answer is recorded for Idempotency-Key replays, the record gets the
// body without them: recorded answers are not sealed, and credentials
// are, at rest. A replay shows the service; reveal shows its credentials.
func writeSecret(w http.ResponseWriter, status int, v client.Database) {
	rec, ok := w.(*recorder)
	if !ok {
		writeJSON(w, status, v)
		return
	}
	full, _ := json.Marshal(v)
	v.Credentials = client.DatabaseCredentials{}
	redacted, _ := json.Marshal(v)
	rec.ResponseWriter.Header().Set("Content-Type", "application/json")
	rec.WriteHeader(status)
	rec.ResponseWriter.Write(append(full, '\n'))
	rec.body.Reset()
	rec.body.Write(append(redacted, '\n'))
}

func (s *Server) createDatabase(w http.ResponseWriter, r *http.Request, p *principal) error {
	var req client.CreateDatabase
	if err := decode(r, &req); err != nil {
		return err
	}
	if err := requireField("project_id", req.ProjectID); err != nil {
		return err
	}
	if err := requireField("name", req.Name); err != nil {
		return err
	}
	pr, err := s.projectRef(r, p, req.ProjectID)
	if err != nil {
		return err
	}
	db, err := s.databases.CreateDatabase(r.Context(), databases.DatabaseRequest{Project: pr, Engine: req.Engine, Name: req.Name, ExternalID: req.ExternalID})
	if err != nil {
		return err
	}
	v := s.databaseView(db)
	v.Credentials = s.credentialsView(db)
	writeSecret(w, http.StatusCreated, v)
	return nil
}

func (s *Server) listDatabases(w http.ResponseWriter, r *http.Request, p *principal) error {
	f, err := filter(r)
	if err != nil {
		return err
	}
	f.ProjectID = r.URL.Query().Get("project_id")
	p.scope(&f)
	list, err := s.st.ListDatabases(r.Context(), f)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, page(list, f, s.databaseView))
	return nil
}

func (s *Server) getDatabase(w http.ResponseWriter, r *http.Request, p *principal) error {
	db, err := s.database(r, p, false)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, s.databaseView(db))
	return nil
}

func (s *Server) deleteDatabase(w http.ResponseWriter, r *http.Request, p *principal) error {
	purge := false
	switch v := r.URL.Query().Get("purge"); v {
	case "", "false":
	case "true":
		purge = true
	default:
		return problem.BadRequest("invalid_purge", "purge must be true or false, not %q", v)
	}
	db, err := s.database(r, p, true)
	if err != nil {
		return err
	}
	if purge {
		if err := p.admin(owner{org: db.OrgID, workspace: db.WorkspaceID, project: db.ProjectID}); err != nil {
			return err
		}
	}
	cur, err := s.databases.DeleteDatabase(r.Context(), db.ID, purge, 30*time.Second)
	if err != nil {
		return err
	}
	if cur != nil {
		// Still removing: the record says so until it is gone.
		writeJSON(w, http.StatusAccepted, s.databaseView(cur))
		return nil
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Server) revealCredentials(w http.ResponseWriter, r *http.Request, p *principal) error {
	db, err := s.database(r, p, false)
	if err != nil {
		return err
	}
	if err := p.admin(owner{org: db.OrgID, workspace: db.WorkspaceID, project: db.ProjectID}); err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, s.credentialsView(db))
	return nil
}

func (s *Server) rotateCredentials(w http.ResponseWriter, r *http.Request, p *principal) error {
	db, err := s.database(r, p, true)
	if err != nil {
		return err
	}
	if err := p.admin(owner{org: db.OrgID, workspace: db.WorkspaceID, project: db.ProjectID}); err != nil {
		return err
	}
	if db, err = s.databases.RotateDatabase(r.Context(), db.ID, 30*time.Second); err != nil {
		return err
	}
	v := s.databaseView(db)
	v.Credentials = s.credentialsView(db)
	writeSecret(w, http.StatusOK, v)
	return nil
}

func (s *Server) linkView(db *store.Database, l *store.DatabaseLink) client.DatabaseLink {
	v := client.DatabaseLink{DatabaseID: l.DatabaseID, EnvNames: slices.Sorted(maps.Keys(s.databases.DatabaseEnv(db))),
		Applied: l.Version == db.AppliedVersion && l.Version > 0, CreatedAt: l.CreatedAt}
	if id.HasPrefix(l.TargetID, id.Sandbox) {
		v.SandboxID = l.TargetID
	} else {
		v.DeploymentID = l.TargetID
	}
	return v
}

func (s *Server) linkDatabase(w http.ResponseWriter, r *http.Request, p *principal) error {
	var req client.CreateDatabaseLink
	if err := decode(r, &req); err != nil {
		return err
	}
	db, err := s.database(r, p, true)
	if err != nil {
		return err
	}
	// The key must see the target too: a target it cannot see is as
	// missing as one that does not exist.
	if err := s.visibleTarget(r, p, req); err != nil {
		return err
	}
	l, err := s.databases.LinkDatabase(r.Context(), db.ID, appenv.LinkRequest{SandboxID: req.SandboxID, DeploymentID: req.DeploymentID})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, s.linkView(db, l))
	return nil
}

// visibleTarget answers target_not_found for a link target outside the
// key's scope.
func (s *Server) visibleTarget(r *http.Request, p *principal, req client.CreateDatabaseLink) error {
	var o owner
	switch {
	case req.SandboxID != "" && req.DeploymentID == "":
		sb, err := s.st.GetSandbox(r.Context(), req.SandboxID)
		if err != nil {
			return nil // the control plane names what is wrong
		}
		o = owner{org: sb.OrgID, workspace: sb.WorkspaceID, project: sb.ProjectID}
	case req.DeploymentID != "" && req.SandboxID == "":
		d, err := s.st.GetDeployment(r.Context(), req.DeploymentID)
		if err != nil {
			return nil
		}
		o = owner{org: d.OrgID, workspace: d.WorkspaceID, project: d.ProjectID}
	default:
		return nil
	}
	if err := p.can(o, true); err != nil {
		return problem.Unprocessable("target_not_found", "%s%s does not exist", req.SandboxID, req.DeploymentID)
	}
	return nil
}

func (s *Server) listDatabaseLinks(w http.ResponseWriter, r *http.Request, p *principal) error {
	db, err := s.database(r, p, false)
	if err != nil {
		return err
	}
	links, err := s.st.ListDatabaseLinks(r.Context(), store.DatabaseLinkFilter{DatabaseID: db.ID})
	if err != nil {
		return err
	}
	out := listPage[client.DatabaseLink]{Data: []client.DatabaseLink{}}
	for _, l := range links {
		out.Data = append(out.Data, s.linkView(db, l))
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

func (s *Server) unlinkDatabase(w http.ResponseWriter, r *http.Request, p *principal) error {
	db, err := s.database(r, p, true)
	if err != nil {
		return err
	}
	if err := s.databases.UnlinkDatabase(r.Context(), db.ID, r.PathValue("target_id")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// databaseOwner is who owns a data service, for its events.
func (s *Server) databaseOwner(r *http.Request, dbID string) (owner, error) {
	db, err := s.st.GetDatabase(r.Context(), dbID)
	if err != nil {
		return owner{}, err
	}
	return owner{db.OrgID, db.WorkspaceID, db.ProjectID}, nil
}
