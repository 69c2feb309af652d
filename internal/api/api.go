// Package api is the public REST API, /api/v1: JSON over HTTP, bearer
// keys, problem+json errors. Handlers are thin: the control package owns
// the behaviour.
package api

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"strconv"
	"strings"

	"github.com/berth-dev/berth/internal/control"
	"github.com/berth-dev/berth/internal/control/buckets"
	"github.com/berth-dev/berth/internal/control/cron"
	"github.com/berth-dev/berth/internal/control/databases"
	"github.com/berth-dev/berth/internal/control/deploy"
	"github.com/berth-dev/berth/internal/control/domains"
	"github.com/berth-dev/berth/internal/control/hosts"
	"github.com/berth-dev/berth/internal/control/releases"
	"github.com/berth-dev/berth/internal/control/routes"
	"github.com/berth-dev/berth/internal/control/sandbox"
	"github.com/berth-dev/berth/internal/problem"
	"github.com/berth-dev/berth/internal/store"
	"github.com/berth-dev/berth/internal/templates"
)

// Server is the public API handler.
type Server struct {
	st          store.Store
	deployments *deploy.Service
	sandboxes   *sandbox.Service
	releases    *releases.Service
	hosts       *hosts.Service
	databases   *databases.Service
	buckets     *buckets.Service
	cron        *cron.Scheduler
	domains     *domains.Service
	edgeRoutes  *routes.Service
	templates   *templates.Catalogue
	log         *slog.Logger
	mux         *http.ServeMux
	// patterns are the routes served, for the OpenAPI conformance test.
	patterns []string
}

// New returns the API over a store and the control plane's services.
func New(st store.Store, p *control.Plane, log *slog.Logger) *Server {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	s := &Server{st: st, deployments: p.Deployments, sandboxes: p.Sandboxes, releases: p.Releases, hosts: p.Hosts,
		databases: p.Databases, buckets: p.Buckets, cron: p.Cron, domains: p.Domains, edgeRoutes: p.Routes, templates: p.Templates, log: log, mux: http.NewServeMux()}
	s.routes()
	return s
}

func (s *Server) routes() {
	h := func(pattern string, fn handlerFunc) {
		s.patterns = append(s.patterns, pattern)
		s.mux.Handle(pattern, s.authed(fn))
	}
	idem := func(pattern string, fn handlerFunc) { h(pattern, s.idempotent(fn)) }
	s.patterns = append(s.patterns, "GET /api/v1/healthz")
	s.mux.HandleFunc("GET /api/v1/healthz", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, map[string]bool{"ok": true})
	})
	idem("POST /api/v1/orgs", s.createOrg)
	h("GET /api/v1/orgs", s.listOrgs)
	h("GET /api/v1/orgs/{id}", s.getOrg)
	idem("POST /api/v1/workspaces", s.createWorkspace)
	h("GET /api/v1/workspaces", s.listWorkspaces)
	h("GET /api/v1/workspaces/{id}", s.getWorkspace)
	idem("POST /api/v1/projects", s.createProject)
	h("GET /api/v1/projects", s.listProjects)
	h("GET /api/v1/projects/{id}", s.getProject)
	idem("POST /api/v1/api-keys", s.createAPIKey)
	h("GET /api/v1/api-keys/self", s.selfAPIKey)

	idem("POST /api/v1/sandboxes", s.createSandbox)
	h("GET /api/v1/sandboxes", s.listSandboxes)
	h("GET /api/v1/sandboxes/{id}", s.getSandbox)
	h("DELETE /api/v1/sandboxes/{id}", s.deleteSandbox)
	h("POST /api/v1/sandboxes/{id}/restart", s.restartSandbox)
	h("POST /api/v1/sandboxes/{id}/stop", s.sandboxTransition((*sandbox.Service).StopSandbox))
	h("POST /api/v1/sandboxes/{id}/start", s.sandboxTransition((*sandbox.Service).StartSandbox))
	h("POST /api/v1/sandboxes/{id}/pause", s.sandboxTransition((*sandbox.Service).PauseSandbox))
	h("POST /api/v1/sandboxes/{id}/resume", s.sandboxTransition((*sandbox.Service).ResumeSandbox))
	h("GET /api/v1/sandboxes/{id}/files", s.readFile)
	h("GET /api/v1/sandboxes/{id}/files/{path...}", s.readFile)
	h("PUT /api/v1/sandboxes/{id}/files", s.uploadTar)
	h("PUT /api/v1/sandboxes/{id}/files/{path...}", s.writeFile)
	h("DELETE /api/v1/sandboxes/{id}/files/{path...}", s.deleteFile)
	h("POST /api/v1/sandboxes/{id}/exec", s.exec)
	h("POST /api/v1/sandboxes/{id}/preview", s.preview)
	idem("POST /api/v1/sandboxes/{id}/publish", s.publish)

	idem("POST /api/v1/releases", s.createRelease)
	h("GET /api/v1/releases", s.listReleases)
	h("GET /api/v1/releases/{id}", s.getRelease)

	idem("POST /api/v1/deployments", s.createDeployment)
	h("GET /api/v1/deployments", s.listDeployments)
	h("GET /api/v1/deployments/{id}", s.getDeployment)
	h("POST /api/v1/deployments/{id}/rollback", s.rollback)
	s.deploymentStateRoutes(h)

	h("GET /api/v1/events", s.events)
	h("GET /api/v1/docker-deploy/templates", s.listTemplates)
	h("GET /api/v1/docker-deploy/templates/{id}", s.getTemplate)
	s.hostRoutes(h, idem)
	s.databaseRoutes(h, idem)
	s.domainRoutes(h, idem)
	s.pageRoutes(h)
	s.cronRoutes(h, idem)
	s.bucketRoutes(h, idem)
	s.mux.HandleFunc("/api/", func(w http.ResponseWriter, r *http.Request) {
		problem.Write(w, problem.NotFound("route_not_found", "no API route %s %s; see api/openapi.yaml", r.Method, r.URL.Path), nil)
	})
}

// Patterns returns the method and path pattern of every route served.
func (s *Server) Patterns() []string { return append([]string(nil), s.patterns...) }

// ServeHTTP serves the API.
// A path with dot segments is refused here, before the mux would clean it
// and redirect somewhere the caller did not name.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if strings.Contains(r.URL.Path+"/", "/../") || strings.Contains(r.URL.Path+"/", "/./") {
		problem.Write(w, problem.BadRequest("path_escape", "the path %q has . or .. segments; name files by their path inside the sandbox", r.URL.Path), nil)
		return
	}
	s.mux.ServeHTTP(w, r)
}

type handlerFunc func(w http.ResponseWriter, r *http.Request, p *principal) error

type principal struct{ key *store.APIKey }

// HashKey is how a key's secret is stored.
func HashKey(secret string) string {
	sum := sha256.Sum256([]byte(secret))
	return hex.EncodeToString(sum[:])
}

func (s *Server) authed(fn handlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		secret, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		if !ok || secret == "" {
			problem.Write(w, problem.New(http.StatusUnauthorized, "unauthorized", "send an API key as \"Authorization: Bearer <key>\""), nil)
			return
		}
		key, err := s.st.GetAPIKeyByHash(r.Context(), HashKey(secret))
		if err != nil {
			problem.Write(w, problem.New(http.StatusUnauthorized, "unauthorized", "the API key is not valid; create a new one or check for typos"), nil)
			return
		}
		if err := fn(w, r, &principal{key: key}); err != nil {
			s.fail(w, err)
		}
	})
}

func (s *Server) fail(w http.ResponseWriter, err error) {
	switch {
	case errors.Is(err, store.ErrNotFound):
		err = problem.NotFound("not_found", "no such resource, or your key cannot see it")
	case errors.Is(err, context.Canceled):
		return
	}
	problem.Write(w, err, s.log)
}

// owner is the ownership of a resource that authorization checks.
type owner struct{ org, workspace, project string }

// can reports whether the key may act on a resource owned by o; write
// asks for more than reading.
// Ownership is checked before the role, so a key of another tenant learns
// nothing, not even that an id exists.
func (p *principal) can(o owner, write bool) error {
	k := p.key
	ok := k.OrgID == "" || // platform key
		k.OrgID == o.org &&
			(k.WorkspaceID == "" || k.WorkspaceID == o.workspace) &&
			(k.ProjectID == "" || k.ProjectID == o.project)
	if !ok {
		return store.ErrNotFound
	}
	if write && k.Role == store.RoleViewer {
		return problem.New(http.StatusForbidden, "forbidden", "this key can only read; use a deployer or admin key")
	}
	return nil
}

// admin asks for an admin key over o.
func (p *principal) admin(o owner) error {
	if err := p.can(o, true); err != nil {
		return err
	}
	if p.key.Role != store.RoleAdmin {
		return problem.New(http.StatusForbidden, "forbidden", "this needs an admin key")
	}
	return nil
}

// hasType reports whether the request's media type is want, whatever its
// parameters.
func hasType(r *http.Request, want string) bool {
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	return err == nil && mt == want
}

// decode reads a JSON body strictly: unknown fields and trailing data are
// errors a client can fix.
func decode(r *http.Request, v any) error {
	body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20+1))
	if err != nil {
		return problem.BadRequest("invalid_body", "reading the body: %v", err)
	}
	if len(body) > 1<<20 {
		return problem.New(http.StatusRequestEntityTooLarge, "body_too_large", "a JSON body is at most 1 MiB")
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		if f, ok := strings.CutPrefix(err.Error(), "json: unknown field "); ok {
			return problem.BadRequest("unknown_field", "unknown field %s; see api/openapi.yaml for the fields this endpoint takes", f)
		}
		return problem.BadRequest("invalid_json", "the body is not valid JSON for this endpoint: %v", err)
	}
	if dec.More() {
		return problem.BadRequest("invalid_json", "the body has data after the JSON value")
	}
	return nil
}

// decodeOptional is decode for a body that may be absent.
func decodeOptional(r *http.Request, v any) error {
	br := bufio.NewReader(r.Body)
	if _, err := br.Peek(1); err == io.EOF {
		return nil
	}
	r.Body = io.NopCloser(br)
	return decode(r, v)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

// filter reads the common list query: external_id, cursor, limit.
func filter(r *http.Request) (store.ListFilter, error) {
	q := r.URL.Query()
	f := store.ListFilter{ExternalID: q.Get("external_id"), After: q.Get("cursor"), Limit: 100}
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 1000 {
			return f, problem.BadRequest("invalid_limit", "limit must be a number from 1 to 1000")
		}
		f.Limit = n
	}
	return f, nil
}

// scope narrows a list filter to what the key may see.
func (p *principal) scope(f *store.ListFilter) {
	if p.key.OrgID != "" {
		f.OrgID = p.key.OrgID
	}
	if p.key.WorkspaceID != "" {
		f.WorkspaceID = p.key.WorkspaceID
	}
	if p.key.ProjectID != "" {
		f.ProjectID = p.key.ProjectID
	}
}

type listPage[T any] struct {
	Data       []T    `json:"data"`
	NextCursor string `json:"next_cursor,omitempty"`
}

func page[S interface{ GetID() string }, T any](items []S, f store.ListFilter, view func(S) T) listPage[T] {
	out := listPage[T]{Data: make([]T, 0, len(items))}
	for _, it := range items {
		out.Data = append(out.Data, view(it))
	}
	if len(items) == f.Limit && len(items) > 0 {
		out.NextCursor = items[len(items)-1].GetID()
	}
	return out
}

func requireField(name, value string) error {
	if strings.TrimSpace(value) == "" {
		return problem.Unprocessable("missing_"+name, "give %q", name)
	}
	return nil
}
