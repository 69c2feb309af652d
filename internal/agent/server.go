// Package agent is Berth's private API on a host: it receives artifacts,
// builds images and runs containers through a Runtime. Only the control
// plane talks to it, with the host's secret; browsers and customer code
// never do.
package agent

import (
	"bytes"
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/berth-dev/berth/internal/blob"
)

// Server is the agent's HTTP API.
type Server struct {
	rt     Runtime
	blobs  *blob.Store
	secret string
	name   string
	log    *slog.Logger
	mux    *http.ServeMux
	// tunnels are the addresses a CONNECT may reach.
	tunnels *tunnels
}

// Config wires a Server.
type Config struct {
	Runtime Runtime
	Blobs   *blob.Store
	// Secret is the bearer credential the control plane presents.
	Secret string
	// Name identifies this agent on its engine: every container it
	// creates carries it as the value of Label, and its tunnel reaches
	// only those. Empty: no label and no tunnel (the pool agent of
	// `berth up`, whose apps the edge reaches directly).
	Name string
	// Portal is the address of the host's portal (host:port), which the
	// tunnel reaches too; empty: none.
	Portal string
	// Log receives the runtime errors answered with a 500 (nil:
	// discarded).
	Log *slog.Logger
}

// maxOutput bounds what one-shot exec returns per stream.
const maxOutput = 1 << 20

// NewServer returns the agent API over cfg.Runtime.
func NewServer(cfg Config) *Server {
	s := &Server{rt: cfg.Runtime, blobs: cfg.Blobs, secret: cfg.Secret, name: cfg.Name, log: cfg.Log, mux: http.NewServeMux(),
		tunnels: &tunnels{rt: cfg.Runtime, name: cfg.Name, portal: cfg.Portal}}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	s.mux.HandleFunc("GET /v1/health", s.health)
	s.mux.Handle("/v1/blobs/", http.StripPrefix("/v1/blobs", blob.Handler(cfg.Blobs)))
	s.mux.HandleFunc("GET /v1/images", s.imageExists)
	s.mux.HandleFunc("POST /v1/images/build", s.buildImage)
	s.mux.HandleFunc("POST /v1/containers", s.createContainer)
	s.mux.HandleFunc("GET /v1/containers", s.listContainers)
	s.mux.HandleFunc("GET /v1/containers/{id}", s.inspectContainer)
	s.mux.HandleFunc("DELETE /v1/containers/{id}", s.removeContainer)
	s.mux.HandleFunc("POST /v1/containers/{id}/start", s.onContainer(s.rt.StartContainer))
	s.mux.HandleFunc("POST /v1/containers/{id}/stop", s.stopContainer)
	s.mux.HandleFunc("POST /v1/containers/{id}/pause", s.onContainer(s.rt.PauseContainer))
	s.mux.HandleFunc("POST /v1/containers/{id}/unpause", s.onContainer(s.rt.UnpauseContainer))
	s.mux.HandleFunc("GET /v1/containers/{id}/logs", s.logs)
	s.mux.HandleFunc("POST /v1/containers/{id}/exec", s.exec)
	s.mux.HandleFunc("PUT /v1/containers/{id}/archive", s.copyTo)
	s.mux.HandleFunc("GET /v1/containers/{id}/archive", s.copyFrom)
	s.mux.HandleFunc("POST /v1/containers/{id}/probe", s.probe)
	s.mux.HandleFunc("DELETE /v1/volumes/{name}", s.removeVolume)
	s.mux.HandleFunc("POST /v1/containers/{id}/networks", s.connectNetwork)
	s.mux.HandleFunc("DELETE /v1/containers/{id}/networks/{network}", s.disconnectNetwork)
	return s
}

// ServeHTTP answers only requests that carry the host's secret.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	got, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if !ok || subtle.ConstantTimeCompare([]byte(got), []byte(s.secret)) != 1 {
		writeError(w, http.StatusUnauthorized, "unauthorized", "missing or wrong agent credential")
		return
	}
	if r.Method == http.MethodConnect {
		s.tunnel(w, r)
		return
	}
	s.mux.ServeHTTP(w, r)
}

// BuildRequest asks the agent to build an image from a stored blob.
type BuildRequest struct {
	Image  string `json:"image"`
	Digest string `json:"digest"`
	// Dockerfile, when set, is added to the context as Dockerfile.berth
	// and used instead of the artifact's own.
	Dockerfile string `json:"dockerfile,omitempty"`
	// DockerfilePath is the artifact's own Dockerfile when Dockerfile is
	// empty.
	DockerfilePath string            `json:"dockerfile_path,omitempty"`
	Labels         map[string]string `json:"labels,omitempty"`
	// Files are added at the root of the build context, e.g. an extra CA
	// bundle. The engine's classic builder drops only the Dockerfile and
	// .dockerignore when .dockerignore lists them, so a `COPY . .` still
	// copies these: a Dockerfile that uses one removes it after use.
	Files map[string]string `json:"files,omitempty"`
	// ContextDir, when set, is the directory of the artifact the build
	// runs in (a compose service's build context): only its files are
	// sent, and DockerfilePath and Files are relative to it.
	ContextDir string `json:"context_dir,omitempty"`
	// ModTime, when set, is the modification time of every entry of the
	// context, to the second. An artifact's entries are all dated 1970
	// (it is deterministic); dated with their release's time, the files
	// an image copies get HTTP validators that tell releases apart, since
	// file servers (nginx among them) derive Last-Modified and the ETag
	// from a file's time.
	ModTime time.Time `json:"mod_time,omitzero"`
}

// ExecRequest is a one-shot or detached command.
type ExecRequest struct {
	Cmd     []string `json:"cmd"`
	Env     []string `json:"env,omitempty"`
	WorkDir string   `json:"workdir,omitempty"`
	User    string   `json:"user,omitempty"`
	Detach  bool     `json:"detach,omitempty"`
	Stdin   []byte   `json:"stdin,omitempty"`
}

// ExecResult is what a one-shot command produced.
type ExecResult struct {
	ExitCode  int    `json:"exit_code"`
	Stdout    string `json:"stdout"`
	Stderr    string `json:"stderr"`
	Truncated bool   `json:"truncated,omitempty"`
}

// ProbeRequest asks the agent to wait until a container's published port
// answers HTTP.
type ProbeRequest struct {
	Port    int           `json:"port"`
	Path    string        `json:"path"`
	Timeout time.Duration `json:"timeout"`
}

// ProbeResult reports the first HTTP answer.
type ProbeResult struct {
	Status int `json:"status"`
}

func (s *Server) health(w http.ResponseWriter, r *http.Request) {
	if err := s.rt.Ping(r.Context()); err != nil {
		writeError(w, http.StatusServiceUnavailable, "runtime_unavailable", err.Error())
		return
	}
	writeJSON(w, http.StatusOK, map[string]bool{"ok": true})
}

func (s *Server) imageExists(w http.ResponseWriter, r *http.Request) {
	ok, err := s.rt.ImageExists(r.Context(), r.URL.Query().Get("ref"))
	if err != nil {
		s.fail(w, err)
		return
	}
	if !ok {
		writeError(w, http.StatusNotFound, "image_not_found", "no such image")
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (s *Server) buildImage(w http.ResponseWriter, r *http.Request) {
	var req BuildRequest
	if !decode(w, r, &req) {
		return
	}
	f, err := s.blobs.Open(req.Digest)
	if err != nil {
		writeError(w, http.StatusNotFound, "blob_not_found", "upload the artifact before building it")
		return
	}
	defer f.Close()
	dockerfile := req.DockerfilePath
	var ctxTar io.Reader = f
	files := map[string]string{}
	for name, body := range req.Files {
		if name == "" || strings.ContainsAny(name, "/\\") || name == ".dockerignore" {
			writeError(w, http.StatusBadRequest, "invalid_file", "extra build files are plain names at the context root")
			return
		}
		files[name] = body
	}
	if req.Dockerfile != "" {
		dockerfile = "Dockerfile.berth"
		files[dockerfile] = req.Dockerfile
	}
	dir, err := contextDir(req.ContextDir)
	if err != nil {
		writeError(w, http.StatusBadRequest, "invalid_context_dir", err.Error())
		return
	}
	if len(files) > 0 || dir != "" || !req.ModTime.IsZero() {
		ignore := []string{".dockerignore"}
		for name := range files {
			ignore = append(ignore, name)
		}
		ctxTar, err = withFiles(f, dir, files, req.ModTime, ignore...)
		if err != nil {
			s.fail(w, err)
			return
		}
	}
	var log bytes.Buffer
	if err := s.rt.BuildImage(r.Context(), req.Image, ctxTar, dockerfile, req.Labels, &log); err != nil {
		writeError(w, http.StatusUnprocessableEntity, "build_failed", err.Error())
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"image": req.Image})
}

func (s *Server) createContainer(w http.ResponseWriter, r *http.Request) {
	var spec ContainerSpec
	if !decode(w, r, &spec) {
		return
	}
	// The agent's label is its own to give: a spec cannot claim it.
	spec.Labels = maps.Clone(spec.Labels)
	delete(spec.Labels, Label)
	if s.name != "" {
		if spec.Labels == nil {
			spec.Labels = map[string]string{}
		}
		spec.Labels[Label] = s.name
	}
	id, err := s.rt.CreateContainer(r.Context(), spec)
	if err != nil {
		s.fail(w, err)
		return
	}
	writeJSON(w, http.StatusCreated, map[string]string{"id": id})
}

func (s *Server) listContainers(w http.ResponseWriter, r *http.Request) {
	labels := map[string]string{}
	for _, l := range r.URL.Query()["label"] {
		k, v, _ := strings.Cut(l, "=")
		labels[k] = v
	}
	list, err := s.rt.ListContainers(r.Context(), labels)
	if err != nil {
		s.fail(w, err)
		return
	}
	if list == nil {
		list = []ContainerInfo{}
	}
	writeJSON(w, http.StatusOK, list)
}

func (s *Server) inspectContainer(w http.ResponseWriter, r *http.Request) {
	info, err := s.rt.InspectContainer(r.Context(), r.PathValue("id"))
	if err != nil {
		s.fail(w, err)
		return
	}
	writeJSON(w, http.StatusOK, info)
}

func (s *Server) removeContainer(w http.ResponseWriter, r *http.Request) {
	if err := s.rt.RemoveContainer(r.Context(), r.PathValue("id")); err != nil {
		s.fail(w, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// onContainer answers 204 once action has been done to the container the
// path names.
func (s *Server) onContainer(action func(ctx context.Context, id string) error) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if err := action(r.Context(), r.PathValue("id")); err != nil {
			s.fail(w, err)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	}
}

func (s *Server) stopContainer(w http.ResponseWriter, r *http.Request) {
	timeout := 10 * time.Second
	if v := r.URL.Query().Get("timeout"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil {
			writeError(w, http.StatusBadRequest, "invalid_timeout", "timeout must be a duration such as 10s")
			return
		}
		timeout = d
	}
	if err := s.rt.StopContainer(r.Context(), r.PathValue("id"), timeout); err != nil {
		s.fail(w, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (s *Server) logs(w http.ResponseWriter, r *http.Request) {
	tail, _ := strconv.Atoi(r.URL.Query().Get("tail"))
	if tail <= 0 {
		tail = 100
	}
	out, err := s.rt.Logs(r.Context(), r.PathValue("id"), tail)
	if err != nil {
		s.fail(w, err)
		return
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	io.WriteString(w, out)
}

func (s *Server) exec(w http.ResponseWriter, r *http.Request) {
	var req ExecRequest
	if !decode(w, r, &req) {
		return
	}
	spec := ExecSpec{Cmd: req.Cmd, Env: req.Env, WorkDir: req.WorkDir, User: req.User, Detach: req.Detach}
	if req.Stdin != nil {
		spec.Stdin = bytes.NewReader(req.Stdin)
	}
	stdout, stderr := &capped{max: maxOutput}, &capped{max: maxOutput}
	code, err := s.rt.Exec(r.Context(), r.PathValue("id"), spec, stdout, stderr)
	if err != nil {
		s.fail(w, err)
		return
	}
	writeJSON(w, http.StatusOK, ExecResult{
		ExitCode: code, Stdout: stdout.String(), Stderr: stderr.String(),
		Truncated: stdout.dropped || stderr.dropped,
	})
}

func (s *Server) copyTo(w http.ResponseWriter, r *http.Request) {
	if err := s.rt.CopyTo(r.Context(), r.PathValue("id"), r.URL.Query().Get("dir"), r.Body); err != nil {
		s.fail(w, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (s *Server) copyFrom(w http.ResponseWriter, r *http.Request) {
	rc, err := s.rt.CopyFrom(r.Context(), r.PathValue("id"), r.URL.Query().Get("path"))
	if err != nil {
		s.fail(w, err)
		return
	}
	defer rc.Close()
	w.Header().Set("Content-Type", "application/x-tar")
	io.Copy(w, rc)
}

// probe waits until the container's published port answers HTTP, or the
// container stops, or the timeout passes. Any HTTP status counts: the app
// answered.
func (s *Server) probe(w http.ResponseWriter, r *http.Request) {
	var req ProbeRequest
	if !decode(w, r, &req) {
		return
	}
	if req.Timeout <= 0 || req.Timeout > 10*time.Minute {
		req.Timeout = time.Minute
	}
	if req.Path == "" || req.Path[0] != '/' {
		req.Path = "/" + req.Path
	}
	ctx, cancel := context.WithTimeout(r.Context(), req.Timeout)
	defer cancel()
	// Containers are addressed directly: an HTTP_PROXY in the
	// environment must not capture the probe.
	tr := &http.Transport{Proxy: nil, DisableKeepAlives: true}
	defer tr.CloseIdleConnections()
	client := &http.Client{Timeout: 2 * time.Second, Transport: tr, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	delay := 20 * time.Millisecond
	var firstStart time.Time
	for {
		info, err := s.rt.InspectContainer(ctx, r.PathValue("id"))
		if err != nil {
			s.fail(w, err)
			return
		}
		if firstStart.IsZero() && info.Running {
			firstStart = info.StartedAt
		}
		// With a restart policy a crashed app comes back at once: a new
		// start time, or the engine restarting it, means it exited.
		restarted := info.State == "restarting" || (!firstStart.IsZero() && !info.StartedAt.Equal(firstStart))
		if restarted || (!info.Running && info.State != "created") {
			logs, _ := s.rt.Logs(ctx, info.ID, 20)
			writeError(w, http.StatusUnprocessableEntity, "container_exited",
				fmt.Sprintf("the app exited with code %d before answering HTTP; last output:\n%s", info.ExitCode, logs))
			return
		}
		if addr, ok := info.Ports[req.Port]; ok && info.Running {
			if ep := info.Endpoints[req.Port]; ep != "" {
				addr = ep // reached as the tunnel reaches it
			}
			resp, err := client.Get("http://" + addr + req.Path)
			if err == nil {
				resp.Body.Close()
				writeJSON(w, http.StatusOK, ProbeResult{Status: resp.StatusCode})
				return
			}
		}
		select {
		case <-ctx.Done():
			writeError(w, http.StatusUnprocessableEntity, "probe_timeout",
				fmt.Sprintf("the app did not answer HTTP on port %d within %s; check that it listens on 0.0.0.0:%d", req.Port, req.Timeout, req.Port))
			return
		case <-time.After(delay):
		}
		delay = min(delay*2, 250*time.Millisecond)
	}
}

// NetworkRequest joins a container to a network.
type NetworkRequest struct {
	Network string   `json:"network"`
	Aliases []string `json:"aliases,omitempty"`
}

func (s *Server) connectNetwork(w http.ResponseWriter, r *http.Request) {
	var req NetworkRequest
	if !decode(w, r, &req) {
		return
	}
	if err := s.rt.ConnectNetwork(r.Context(), r.PathValue("id"), req.Network, req.Aliases); err != nil {
		s.fail(w, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (s *Server) disconnectNetwork(w http.ResponseWriter, r *http.Request) {
	if err := s.rt.DisconnectNetwork(r.Context(), r.PathValue("id"), r.PathValue("network")); err != nil {
		s.fail(w, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (s *Server) removeVolume(w http.ResponseWriter, r *http.Request) {
	if err := s.rt.RemoveVolume(r.Context(), r.PathValue("name")); err != nil && !errors.Is(err, ErrNotFound) {
		s.fail(w, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (s *Server) fail(w http.ResponseWriter, err error) {
	switch {
	case errors.Is(err, ErrNotFound):
		writeError(w, http.StatusNotFound, "not_found", err.Error())
	case errors.Is(err, ErrConflict):
		writeError(w, http.StatusConflict, "conflict", err.Error())
	default:
		s.log.Error("runtime error", "err", err)
		writeError(w, http.StatusInternalServerError, "runtime_error", err.Error())
	}
}

// Listen serves the agent API on addr until ctx ends.
func (s *Server) Listen(ctx context.Context, ln net.Listener) error {
	srv := &http.Server{Handler: s, ReadHeaderTimeout: 10 * time.Second}
	go func() {
		<-ctx.Done()
		srv.Close()
	}()
	if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("serving agent api: %w", err)
	}
	return nil
}

type problem struct {
	Code   string `json:"code"`
	Detail string `json:"detail"`
	Status int    `json:"status"`
}

func writeError(w http.ResponseWriter, status int, code, detail string) {
	w.Header().Set("Content-Type", "application/problem+json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(problem{Code: code, Detail: detail, Status: status})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

func decode(w http.ResponseWriter, r *http.Request, v any) bool {
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, 4<<20))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		writeError(w, http.StatusBadRequest, "invalid_json", err.Error())
		return false
	}
	return true
}

// capped keeps the first max bytes written to it.
type capped struct {
	bytes.Buffer
	max     int
	dropped bool
}

func (c *capped) Write(p []byte) (int, error) {
	room := c.max - c.Len()
	if len(p) > room {
		c.dropped = true
		c.Buffer.Write(p[:max(room, 0)])
		return len(p), nil
	}
	return c.Buffer.Write(p)
}
