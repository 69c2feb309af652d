package api

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/berth-dev/berth/client"
	"github.com/berth-dev/berth/internal/id"
	"github.com/berth-dev/berth/internal/problem"
	"github.com/berth-dev/berth/internal/store"
)

// resourceOwner finds who owns a resource by its id prefix.
func (s *Server) resourceOwner(r *http.Request, rid string) (owner, error) {
	ctx := r.Context()
	switch {
	case id.HasPrefix(rid, id.Deployment):
		d, err := s.st.GetDeployment(ctx, rid)
		if err != nil {
			return owner{}, err
		}
		return owner{d.OrgID, d.WorkspaceID, d.ProjectID}, nil
	case id.HasPrefix(rid, id.Sandbox):
		sb, err := s.st.GetSandbox(ctx, rid)
		if err != nil {
			return owner{}, err
		}
		return owner{sb.OrgID, sb.WorkspaceID, sb.ProjectID}, nil
	case id.HasPrefix(rid, id.Release):
		rel, err := s.st.GetRelease(ctx, rid)
		if err != nil {
			return owner{}, err
		}
		return owner{rel.OrgID, rel.WorkspaceID, rel.ProjectID}, nil
	case id.HasPrefix(rid, id.Host):
		return s.hostOwner(r, rid)
	case id.HasPrefix(rid, id.Database):
		return s.databaseOwner(r, rid)
	case id.HasPrefix(rid, id.Org):
		// The certificates of its managed domain.
		o, err := s.st.GetOrg(ctx, rid)
		if err != nil {
			return owner{}, err
		}
		return owner{org: o.ID}, nil
	case id.HasPrefix(rid, id.Domain):
		d, err := s.st.GetDomain(ctx, rid)
		if err != nil {
			return owner{}, err
		}
		return s.domainOwner(r, d)
	}
	return owner{}, problem.BadRequest("invalid_resource_id", "resource_id must be the id of a deployment, sandbox, release, domain, database, Docker Deploy host or org")
}

// events lists a resource's events, or streams them as server-sent events
// when the client accepts text/event-stream.
func (s *Server) events(w http.ResponseWriter, r *http.Request, p *principal) error {
	q := r.URL.Query()
	rid := q.Get("resource_id")
	if rid == "" {
		return problem.BadRequest("missing_resource_id", "give ?resource_id= of a deployment, sandbox, release, domain, database, Docker Deploy host or org")
	}
	o, err := s.resourceOwner(r, rid)
	if err != nil {
		return err
	}
	if err := p.can(o, false); err != nil {
		return err
	}
	after, err := strconv.ParseInt(q.Get("after"), 10, 64)
	if q.Get("after") == "" {
		after, err = 0, nil
	}
	// A reconnecting EventSource says where it stopped.
	if last := r.Header.Get("Last-Event-ID"); last != "" {
		after, err = strconv.ParseInt(last, 10, 64)
	}
	if err != nil || after < 0 {
		return problem.BadRequest("invalid_after", "after (or Last-Event-ID) must be the seq of an event, a number from 0")
	}
	if !strings.Contains(r.Header.Get("Accept"), "text/event-stream") {
		list, err := s.st.ListEvents(r.Context(), rid, after, 1000)
		if err != nil {
			return err
		}
		out := listPage[client.Event]{Data: []client.Event{}}
		for _, e := range list {
			out.Data = append(out.Data, eventView(e))
		}
		writeJSON(w, http.StatusOK, out)
		return nil
	}
	fl, ok := w.(http.Flusher)
	if !ok {
		return errors.New("streaming unsupported")
	}
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusOK)
	fl.Flush()
	tick := time.NewTicker(200 * time.Millisecond)
	defer tick.Stop()
	idle := 0
	for {
		list, err := s.st.ListEvents(r.Context(), rid, after, 100)
		if err != nil {
			return nil
		}
		for _, e := range list {
			b, _ := json.Marshal(eventView(e))
			fmt.Fprintf(w, "id: %d\nevent: %s\ndata: %s\n\n", e.Seq, e.Type, b)
			after = e.Seq
		}
		if len(list) > 0 {
			fl.Flush()
			idle = 0
		} else if idle++; idle%75 == 0 {
			fmt.Fprint(w, ": keep-alive\n\n")
			fl.Flush()
		}
		select {
		case <-r.Context().Done():
			return nil
		case <-tick.C:
		}
	}
}

func eventView(e *store.Event) client.Event {
	return client.Event{Seq: e.Seq, ID: e.ID, ResourceID: e.ResourceID, Type: e.Type, Message: e.Message, CreatedAt: e.CreatedAt}
}

func (s *Server) templateView(id string) (client.Template, bool) {
	cat := s.templates
	t, ok := cat.Get(id)
	if !ok {
		return client.Template{}, false
	}
	df, _ := cat.Dockerfile(t, t.Port)
	return client.Template{ID: t.ID, Name: t.Name, Description: t.Description, Runtime: t.Runtime, Dockerfile: df, Compose: cat.Compose(t),
		DevCommand: t.DevCommand, BuildCommand: t.BuildCommand, StartCommand: t.StartCommand, Port: t.Port,
		Env: t.Env, Volumes: t.Volumes, HealthPath: t.HealthPath, DesignContext: t.DesignContext}, true
}

func (s *Server) listTemplates(w http.ResponseWriter, r *http.Request, p *principal) error {
	out := listPage[client.Template]{Data: []client.Template{}}
	for _, tid := range s.templates.IDs() {
		v, _ := s.templateView(tid)
		out.Data = append(out.Data, v)
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

func (s *Server) getTemplate(w http.ResponseWriter, r *http.Request, p *principal) error {
	v, ok := s.templateView(r.PathValue("id"))
	if !ok {
		return problem.NotFound("template_not_found", "template %q does not exist; GET /api/v1/docker-deploy/templates lists them", r.PathValue("id"))
	}
	writeJSON(w, http.StatusOK, v)
	return nil
}

// idempotent replays the recorded answer to a POST retried with the same
// Idempotency-Key by the same API key, instead of creating twice.
func (s *Server) idempotent(fn handlerFunc) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request, p *principal) error {
		key := r.Header.Get("Idempotency-Key")
		if key == "" {
			return fn(w, r, p)
		}
		if len(key) > 255 {
			return problem.BadRequest("invalid_idempotency_key", "Idempotency-Key is at most 255 characters")
		}
		scoped := r.URL.Path + "|" + key
		// The request's digest covers the method, query and body, read as
		// the handler reads it, so a large upload is never held in memory.
		h := sha256.New()
		io.WriteString(h, r.Method+" "+r.URL.RequestURI()+"\n")
		if prev, err := s.st.GetIdempotent(r.Context(), p.key.ID, scoped); err == nil {
			io.Copy(h, r.Body)
			if "sha256:"+hex.EncodeToString(h.Sum(nil)) != prev.Request {
				return problem.Unprocessable("idempotency_key_reused", "Idempotency-Key %q was used for a different request; use a new key for a new request", key)
			}
			w.Header().Set("Content-Type", "application/json")
			w.Header().Set("Idempotent-Replayed", "true")
			w.WriteHeader(prev.Status)
			w.Write(prev.Body)
			return nil
		}
		body := r.Body
		r.Body = struct {
			io.Reader
			io.Closer
		}{io.TeeReader(body, h), body}
		rec := &recorder{ResponseWriter: w}
		if err := fn(rec, r, p); err != nil {
			return err
		}
		io.Copy(h, r.Body)
		if rec.status >= 200 && rec.status < 300 {
			err := s.st.PutIdempotent(r.Context(), &store.Idempotent{KeyID: p.key.ID, IdemKey: scoped, Request: "sha256:" + hex.EncodeToString(h.Sum(nil)),
				Status: rec.status, Body: rec.body.Bytes(), CreatedAt: time.Now().UTC()})
			if err != nil {
				s.log.Error("recording idempotency key failed", "err", err)
			}
		}
		return nil
	}
}

type recorder struct {
	http.ResponseWriter
	status int
	body   bytes.Buffer
}

func (r *recorder) WriteHeader(code int) {
	r.status = code
	r.ResponseWriter.WriteHeader(code)
}

func (r *recorder) Write(b []byte) (int, error) {
	if r.status == 0 {
		r.status = http.StatusOK
	}
	r.body.Write(b)
	return r.ResponseWriter.Write(b)
}
