package api

import (
	"context"
	"io"
	"maps"
	"net/http"
	"slices"
	"strconv"
	"time"

	"github.com/berth-dev/berth/client"
	"github.com/berth-dev/berth/internal/control/sandbox"
	"github.com/berth-dev/berth/internal/problem"
	"github.com/berth-dev/berth/internal/store"
)

func (s *Server) sandboxView(r *http.Request, sb *store.Sandbox) client.Sandbox {
	v := client.Sandbox{
		ID: sb.ID, ProjectID: sb.ProjectID, TemplateID: sb.TemplateID, Status: sb.Status, StatusReason: sb.StatusReason,
		Ports: sb.Ports, EnvNames: slices.Sorted(maps.Keys(sb.Env)), PreviewURL: s.sandboxes.SandboxURL(r.Context(), sb),
		PreviewPort: sb.PreviewPort, ExternalID: sb.ExternalID, CreatedAt: sb.CreatedAt, UpdatedAt: sb.UpdatedAt,
		Processes: []client.Process{},
	}
	if v.EnvNames == nil {
		v.EnvNames = []string{}
	}
	if v.Ports == nil {
		v.Ports = []int{}
	}
	if procs, err := s.st.ListProcesses(r.Context(), sb.ID); err == nil {
		for _, p := range procs {
			v.Processes = append(v.Processes, client.Process{ID: p.ID, Command: p.Command, Cwd: p.Cwd})
		}
	}
	return v
}

// sandbox loads a sandbox the key may act on.
func (s *Server) sandbox(r *http.Request, p *principal, write bool) (*store.Sandbox, error) {
	sb, err := s.st.GetSandbox(r.Context(), r.PathValue("id"))
	if err != nil {
		return nil, err
	}
	if err := p.can(owner{org: sb.OrgID, workspace: sb.WorkspaceID, project: sb.ProjectID}, write); err != nil {
		return nil, err
	}
	return sb, nil
}

func (s *Server) createSandbox(w http.ResponseWriter, r *http.Request, p *principal) error {
	var req client.CreateSandbox
	if err := decode(r, &req); err != nil {
		return err
	}
	if err := requireField("template_id", req.TemplateID); err != nil {
		return err
	}
	pr, err := s.projectRef(r, p, req.ProjectID)
	if err != nil {
		return err
	}
	sb, err := s.sandboxes.CreateSandbox(r.Context(), sandbox.Request{Project: pr, TemplateID: req.TemplateID, Env: req.Env, Ports: req.Ports, ExternalID: req.ExternalID})
	if err != nil {
		return err
	}
	if r.URL.Query().Get("wait") != "false" {
		if cur, err := s.sandboxes.WaitSandbox(r.Context(), sb.ID, 20*time.Second); err == nil {
			sb = cur
		}
	}
	writeJSON(w, http.StatusCreated, s.sandboxView(r, sb))
	return nil
}

func (s *Server) listSandboxes(w http.ResponseWriter, r *http.Request, p *principal) error {
	f, err := filter(r)
	if err != nil {
		return err
	}
	f.ProjectID = r.URL.Query().Get("project_id")
	p.scope(&f)
	list, err := s.st.ListSandboxes(r.Context(), f)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, page(list, f, func(sb *store.Sandbox) client.Sandbox { return s.sandboxView(r, sb) }))
	return nil
}

func (s *Server) getSandbox(w http.ResponseWriter, r *http.Request, p *principal) error {
	sb, err := s.sandbox(r, p, false)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, s.sandboxView(r, sb))
	return nil
}

func (s *Server) restartSandbox(w http.ResponseWriter, r *http.Request, p *principal) error {
	sb, err := s.sandbox(r, p, true)
	if err != nil {
		return err
	}
	if sb, err = s.sandboxes.RestartSandbox(r.Context(), sb.ID); err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, s.sandboxView(r, sb))
	return nil
}

// sandboxTransition answers a lifecycle call (stop, start, pause, resume)
// with the sandbox after it.
func (s *Server) sandboxTransition(do func(*sandbox.Service, context.Context, string) (*store.Sandbox, error)) func(http.ResponseWriter, *http.Request, *principal) error {
	return func(w http.ResponseWriter, r *http.Request, p *principal) error {
		sb, err := s.sandbox(r, p, true)
		if err != nil {
			return err
		}
		if sb, err = do(s.sandboxes, r.Context(), sb.ID); err != nil {
			return err
		}
		writeJSON(w, http.StatusOK, s.sandboxView(r, sb))
		return nil
	}
}

func (s *Server) deleteSandbox(w http.ResponseWriter, r *http.Request, p *principal) error {
	sb, err := s.sandbox(r, p, true)
	if err != nil {
		return err
	}
	if err := s.sandboxes.DeleteSandbox(r.Context(), sb.ID); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Server) readFile(w http.ResponseWriter, r *http.Request, p *principal) error {
	sb, err := s.sandbox(r, p, false)
	if err != nil {
		return err
	}
	started := false
	entries, err := s.sandboxes.ReadFile(r.Context(), sb.ID, r.PathValue("path"), func() io.Writer {
		w.Header().Set("Content-Type", "application/octet-stream")
		started = true
		return w
	})
	if err != nil {
		if started {
			s.log.Warn("reading sandbox file failed", "path", r.URL.Path, "err", err)
			return nil
		}
		return err
	}
	if entries != nil {
		out := make([]client.FileEntry, len(entries))
		for i, e := range entries {
			out[i] = client.FileEntry{Name: e.Name, Type: e.Type, Size: e.Size, ModTime: e.ModTime}
		}
		slices.SortFunc(out, func(a, b client.FileEntry) int {
			if a.Name < b.Name {
				return -1
			}
			return 1
		})
		writeJSON(w, http.StatusOK, map[string]any{"path": "/" + r.PathValue("path"), "entries": out})
	}
	return nil
}

func (s *Server) writeFile(w http.ResponseWriter, r *http.Request, p *principal) error {
	sb, err := s.sandbox(r, p, true)
	if err != nil {
		return err
	}
	if err := s.sandboxes.WriteFile(r.Context(), sb.ID, r.PathValue("path"), r.Body); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Server) uploadTar(w http.ResponseWriter, r *http.Request, p *principal) error {
	sb, err := s.sandbox(r, p, true)
	if err != nil {
		return err
	}
	if !hasType(r, "application/x-tar") {
		return problem.New(http.StatusUnsupportedMediaType, "unsupported_media_type", "PUT /files takes a tar with Content-Type application/x-tar; write single files at /files/{path}")
	}
	n, err := s.sandboxes.UploadTar(r.Context(), sb.ID, r.Body)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]int{"files": n})
	return nil
}

func (s *Server) deleteFile(w http.ResponseWriter, r *http.Request, p *principal) error {
	sb, err := s.sandbox(r, p, true)
	if err != nil {
		return err
	}
	if err := s.sandboxes.DeleteFile(r.Context(), sb.ID, r.PathValue("path")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Server) exec(w http.ResponseWriter, r *http.Request, p *principal) error {
	var req client.Exec
	if err := decode(r, &req); err != nil {
		return err
	}
	sb, err := s.sandbox(r, p, true)
	if err != nil {
		return err
	}
	res, proc, err := s.sandboxes.Exec(r.Context(), sb.ID, sandbox.ExecRequest{Command: req.Command, Cwd: req.Cwd, Env: req.Env,
		Background: req.Background, Timeout: time.Duration(req.TimeoutSec) * time.Second})
	if err != nil {
		return err
	}
	if proc != nil {
		writeJSON(w, http.StatusAccepted, client.Process{ID: proc.ID, Command: proc.Command, Cwd: proc.Cwd})
		return nil
	}
	writeJSON(w, http.StatusOK, client.ExecResult{ExitCode: res.ExitCode, Stdout: res.Stdout, Stderr: res.Stderr, Truncated: res.Truncated})
	return nil
}

func (s *Server) preview(w http.ResponseWriter, r *http.Request, p *principal) error {
	var req struct {
		Port        int  `json:"port"`
		WaitSeconds *int `json:"wait_seconds,omitempty"`
	}
	if err := decode(r, &req); err != nil {
		return err
	}
	sb, err := s.sandbox(r, p, true)
	if err != nil {
		return err
	}
	wait := 30 * time.Second
	if req.WaitSeconds != nil {
		if *req.WaitSeconds < 0 || *req.WaitSeconds > 120 {
			return problem.Unprocessable("invalid_wait", "wait_seconds must be from 0 to 120")
		}
		wait = time.Duration(*req.WaitSeconds) * time.Second
	}
	sb, ready, reason, err := s.sandboxes.Preview(r.Context(), sb.ID, req.Port, wait)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, client.Preview{URL: s.sandboxes.SandboxURL(r.Context(), sb), Port: req.Port, Ready: ready, Reason: reason})
	return nil
}

func (s *Server) publish(w http.ResponseWriter, r *http.Request, p *principal) error {
	sb, err := s.sandbox(r, p, true)
	if err != nil {
		return err
	}
	rel, err := s.sandboxes.Publish(r.Context(), sb.ID, p.key.ID)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, releaseView(rel))
	return nil
}

func atoiParam(r *http.Request, name string) (int, error) {
	v := r.URL.Query().Get(name)
	if v == "" {
		return 0, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil {
		return 0, problem.BadRequest("invalid_"+name, "%s must be a number", name)
	}
	return n, nil
}
