package sandbox

import (
	"archive/tar"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/berth-dev/berth/internal/agent"
	"github.com/berth-dev/berth/internal/control/agents"
	"github.com/berth-dev/berth/internal/control/appenv"
	"github.com/berth-dev/berth/internal/control/names"
	"github.com/berth-dev/berth/internal/id"
	"github.com/berth-dev/berth/internal/problem"
	"github.com/berth-dev/berth/internal/store"
)

// Workdir is where a sandbox's files live inside its container.
const Workdir = "/workspace"

// devPorts are published on every sandbox besides the template's port, so
// a preview of a usual dev-server port needs no rebuild.
var devPorts = []int{3000, 5173, 8000, 8080}

const maxPorts = 10

// Request is what a caller asks for.
type Request struct {
	Project    *store.Project
	TemplateID string
	Env        map[string]string
	Ports      []int
	ExternalID string
}

// CreateSandbox records a sandbox and starts its reconciliation.
func (c *Service) CreateSandbox(ctx context.Context, req Request) (*store.Sandbox, error) {
	t, ok := c.cfg.Templates.Get(req.TemplateID)
	if !ok {
		return nil, problem.Unprocessable("unknown_template",
			"template %q does not exist; use one of: %s", req.TemplateID, strings.Join(c.cfg.Templates.IDs(), ", "))
	}
	if err := appenv.Validate(req.Env); err != nil {
		return nil, err
	}
	ports := []int{t.Port}
	for _, p := range append(req.Ports, devPorts...) {
		if p < 1 || p > 65535 {
			return nil, problem.Unprocessable("invalid_port", "port %d is out of range: use 1 to 65535", p)
		}
		if !slices.Contains(ports, p) {
			ports = append(ports, p)
		}
	}
	if len(ports) > maxPorts {
		return nil, problem.Unprocessable("too_many_ports", "a sandbox publishes at most %d ports, including %v", maxPorts, devPorts)
	}
	sid := id.New(id.Sandbox)
	now := time.Now().UTC()
	s := &store.Sandbox{
		ID: sid, OrgID: req.Project.OrgID, WorkspaceID: req.Project.WorkspaceID, ProjectID: req.Project.ID,
		Slug: req.Project.Slug + "-" + id.Random(6), TemplateID: t.ID, Env: req.Env, Ports: ports,
		Status: store.SandboxPending, Volume: "berth-" + strings.ReplaceAll(sid, "_", "-"),
		PreviewPort: t.Port, Upstreams: map[int]string{}, ExternalID: req.ExternalID,
		CreatedAt: now, UpdatedAt: now,
	}
	err := c.st.InTx(ctx, func(tx store.Store) error {
		if err := tx.CreateSandbox(ctx, s); err != nil {
			return err
		}
		if t.DevCommand != "" {
			return tx.CreateProcess(ctx, &store.Process{ID: id.New(id.Process), SandboxID: s.ID,
				Command: t.DevCommand, Cwd: Workdir, CreatedAt: now})
		}
		return nil
	})
	if errors.Is(err, store.ErrConflict) {
		return nil, problem.Conflict("external_id_taken", "a sandbox with external_id %q already exists", req.ExternalID)
	}
	if err != nil {
		return nil, fmt.Errorf("creating sandbox: %w", err)
	}
	c.events.Record(ctx, s.ID, "sandbox.created", "sandbox created from template %s", t.ID)
	c.routes.Changed(ctx, s.ID)
	c.queue.Kick(s.ID)
	return s, nil
}

// WaitSandbox waits until the sandbox is running or failed, or timeout.
func (c *Service) WaitSandbox(ctx context.Context, sid string, timeout time.Duration) (*store.Sandbox, error) {
	deadline := time.Now().Add(timeout)
	for {
		s, err := c.st.GetSandbox(ctx, sid)
		if err != nil {
			return nil, err
		}
		if s.Status != store.SandboxPending || time.Now().After(deadline) {
			return s, nil
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// running returns a running sandbox and its agent, waiting briefly for one
// that is still starting.
func (c *Service) running(ctx context.Context, sid string) (*store.Sandbox, *agent.Client, error) {
	s, err := c.WaitSandbox(ctx, sid, 30*time.Second)
	if err != nil {
		return nil, nil, err
	}
	if held(s.Status) {
		return nil, nil, problem.Conflict("sandbox_not_running", "the sandbox is %s (%s)", s.Status, s.StatusReason)
	}
	if s.Status != store.SandboxRunning {
		reason := s.StatusReason
		if reason == "" {
			reason = "it is " + s.Status
		}
		return nil, nil, problem.Conflict("sandbox_not_running", "the sandbox is not running (%s); restart it with POST /sandboxes/%s/restart", reason, s.ID)
	}
	a, err := c.agents.ForHost(ctx, s.HostID)
	if err != nil {
		return nil, nil, err
	}
	return s, a, nil
}

// Reconcile brings a sandbox to what it should be: its container created
// and running with its processes, unless a caller holds it stopped,
// paused or deleted.
func (c *Service) Reconcile(ctx context.Context, sid string) error {
	unlock, err := c.locks.Lock(ctx, sid)
	if err != nil {
		return err
	}
	defer unlock()
	s, err := c.st.GetSandbox(ctx, sid)
	if err != nil {
		return err
	}
	if held(s.Status) {
		return nil
	}
	fail := func(format string, args ...any) error {
		s.Status, s.StatusReason = store.SandboxFailed, fmt.Sprintf(format, args...)
		c.events.Record(ctx, s.ID, "sandbox.failed", "%s", s.StatusReason)
		if err := c.st.UpdateSandbox(ctx, s); err != nil {
			return err
		}
		return c.routes.Changed(ctx, s.ID)
	}
	t, ok := c.cfg.Templates.Get(s.TemplateID)
	if !ok {
		return fail("template %s no longer exists", s.TemplateID)
	}
	var a *agent.Client
	if s.HostID == "" {
		h, ha, err := c.agents.PoolHost(ctx)
		if err != nil {
			return fail("no host can run sandboxes right now; try again later")
		}
		s.HostID, a = h.ID, ha
	} else if a, err = c.agents.ForHost(ctx, s.HostID); err != nil {
		return err
	}
	name := "berth-" + s.ID
	info, err := a.InspectContainer(ctx, name)
	fresh := false
	if errors.Is(err, agent.ErrNotFound) {
		env, err := c.links.Container(ctx, s.ProjectID, s.ID, t.Env, s.Env)
		if err != nil {
			return err
		}
		spec := agent.ContainerSpec{
			Name: name, Image: c.cfg.Templates.ImageRef(t),
			Entrypoint: []string{"sleep"}, Cmd: []string{"infinity"},
			Env: appenv.List(env), WorkDir: Workdir, Ports: s.Ports, Init: true, Restart: "unless-stopped",
			MemoryBytes: c.cfg.Limits.MemoryBytes, NanoCPUs: c.cfg.Limits.NanoCPUs, PidsLimit: c.cfg.Limits.PidsLimit,
			Volumes:    []agent.Mount{{Volume: s.Volume, Target: Workdir}},
			Network:    c.links.Network(ctx, s.ProjectID, s.ID),
			ExtraHosts: c.links.ExtraHosts(ctx, s.ProjectID, s.ID),
			Labels:     c.labels.Of("berth.kind", "sandbox", "berth.sandbox", s.ID),
		}
		if _, err := a.CreateContainer(ctx, spec); err != nil && !errors.Is(err, agent.ErrConflict) {
			return fail("creating the sandbox container: %s", agents.Reason(c.log, err))
		}
		fresh = true
	} else if err != nil {
		return err
	}
	if fresh || !info.Running {
		if err := a.StartContainer(ctx, name); err != nil {
			return fail("starting the sandbox container: %s", agents.Reason(c.log, err))
		}
	}
	if info, err = a.InspectContainer(ctx, name); err != nil {
		return err
	}
	if fresh {
		if err := c.seed(ctx, a, s, t.SystemFiles, s.ContainerID == ""); err != nil {
			return fail("writing the template's files: %s", agents.Reason(c.log, err))
		}
	}
	started := info.StartedAt.UTC().Format(time.RFC3339Nano)
	relaunched := s.ProcsStartedAt != started
	if relaunched {
		procs, err := c.st.ListProcesses(ctx, s.ID)
		if err != nil {
			return err
		}
		for _, p := range procs {
			if err := c.launch(ctx, a, info.ID, p); err != nil {
				c.events.Record(ctx, s.ID, "sandbox.process_failed", "starting %q: %v", p.Command, err)
			}
		}
		s.ProcsStartedAt = started
	}
	changed := s.ContainerID != info.ID || s.Status != store.SandboxRunning || !maps.Equal(s.Upstreams, info.Ports)
	if !changed && !relaunched {
		return nil // the periodic resync found everything as recorded
	}
	s.ContainerID, s.Upstreams = info.ID, info.Ports
	s.Status, s.StatusReason = store.SandboxRunning, ""
	if err := c.st.UpdateSandbox(ctx, s); err != nil {
		return err
	}
	if changed {
		c.events.Record(ctx, s.ID, "sandbox.running", "sandbox is running")
		return c.routes.Changed(ctx, s.ID)
	}
	return nil
}

// seed writes the template's system files, and on first creation its
// starter files into the volume.
func (c *Service) seed(ctx context.Context, a *agent.Client, s *store.Sandbox, system map[string]string, starter bool) error {
	if len(system) > 0 {
		var b bytes.Buffer
		tw := tar.NewWriter(&b)
		for _, p := range slices.Sorted(maps.Keys(system)) {
			writeTarFile(tw, strings.TrimPrefix(p, "/"), []byte(system[p]), 0o644)
		}
		tw.Close()
		if err := a.CopyTo(ctx, "berth-"+s.ID, "/", &b); err != nil {
			return err
		}
	}
	if !starter {
		return nil
	}
	t, _ := c.cfg.Templates.Get(s.TemplateID)
	files, err := c.cfg.Templates.Starter(t)
	if err != nil {
		return err
	}
	var b bytes.Buffer
	tw := tar.NewWriter(&b)
	err = fs.WalkDir(files, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := fs.ReadFile(files, p)
		if err != nil {
			return err
		}
		writeTarFile(tw, p, data, 0o644)
		return nil
	})
	if err != nil {
		return err
	}
	tw.Close()
	return a.CopyTo(ctx, "berth-"+s.ID, Workdir, &b)
}

// writeTarFile adds a file and the directories above it.
func writeTarFile(tw *tar.Writer, name string, data []byte, mode int64) {
	parts := strings.Split(name, "/")
	now := time.Now()
	for i := 1; i < len(parts); i++ {
		tw.WriteHeader(&tar.Header{Name: strings.Join(parts[:i], "/") + "/", Typeflag: tar.TypeDir, Mode: 0o755, ModTime: now})
	}
	tw.WriteHeader(&tar.Header{Name: name, Typeflag: tar.TypeReg, Mode: mode, Size: int64(len(data)), ModTime: now})
	tw.Write(data)
}

// launch starts a background process detached; its output goes to a log
// file beside it.
func (c *Service) launch(ctx context.Context, a *agent.Client, containerID string, p *store.Process) error {
	script := fmt.Sprintf("cd %s && exec sh -c %s >>/tmp/%s.log 2>&1", shellQuote(p.Cwd), shellQuote(p.Command), p.ID)
	_, err := a.Exec(ctx, containerID, agent.ExecRequest{Cmd: []string{"sh", "-c", script}, Env: appenv.List(p.Env), Detach: true})
	return err
}

// RestartSandbox restarts the sandbox's container; the URL, files and
// background processes survive.
func (c *Service) RestartSandbox(ctx context.Context, sid string) (*store.Sandbox, error) {
	if err := c.restart(ctx, sid); err != nil {
		return nil, err
	}
	return c.WaitSandbox(ctx, sid, 30*time.Second)
}

func (c *Service) restart(ctx context.Context, sid string) error {
	unlock, err := c.locks.Lock(ctx, sid)
	if err != nil {
		return err
	}
	defer unlock()
	s, err := c.st.GetSandbox(ctx, sid)
	if err != nil {
		return err
	}
	switch s.Status {
	case store.SandboxDeleted:
		return invalidState(s, "restart", "create a new sandbox")
	case store.SandboxPaused:
		return invalidState(s, "restart", "resume it with POST /sandboxes/"+s.ID+"/resume")
	}
	if s.HostID != "" {
		a, err := c.agents.ForHost(ctx, s.HostID)
		if err != nil {
			return err
		}
		if err := a.StopContainer(ctx, "berth-"+s.ID, 5*time.Second); err != nil && !errors.Is(err, agent.ErrNotFound) {
			return fmt.Errorf("stopping sandbox: %w", err)
		}
	}
	s.Status, s.StatusReason = store.SandboxPending, ""
	if err := c.st.UpdateSandbox(ctx, s); err != nil {
		return err
	}
	c.events.Record(ctx, s.ID, "sandbox.restarting", "sandbox container restarting")
	c.routes.Changed(ctx, s.ID)
	c.queue.Kick(s.ID)
	return nil
}

// Preview points the sandbox's URL at port and waits until a request
// through the edge reaches the app there, or wait passes.
func (c *Service) Preview(ctx context.Context, sid string, port int, wait time.Duration) (*store.Sandbox, bool, string, error) {
	if port < 1 || port > 65535 {
		return nil, false, "", problem.Unprocessable("invalid_port", "port %d is out of range: use 1 to 65535", port)
	}
	s, err := c.previewPort(ctx, sid, port)
	if err != nil {
		return nil, false, "", err
	}
	host := c.cfg.Names.SandboxHost(names.OrgSlug(ctx, c.st, s.OrgID), s.Slug)
	deadline := time.Now().Add(wait)
	delay := 10 * time.Millisecond
	for {
		if c.routes.Reachable(ctx, host) {
			return s, true, "", nil
		}
		if time.Now().After(deadline) {
			cur, err := c.st.GetSandbox(ctx, sid)
			if err != nil {
				return nil, false, "", err
			}
			if cur.Status != store.SandboxRunning {
				return cur, false, "the sandbox is " + cur.Status + " " + cur.StatusReason, nil
			}
			return cur, false, fmt.Sprintf("nothing answers HTTP on port %d yet: start the dev server so it listens on 0.0.0.0:%d", port, port), nil
		}
		select {
		case <-ctx.Done():
			return nil, false, "", ctx.Err()
		case <-time.After(delay):
		}
		delay = min(delay*2, 200*time.Millisecond)
	}
}

// previewPort points the sandbox's route at port.
func (c *Service) previewPort(ctx context.Context, sid string, port int) (*store.Sandbox, error) {
	unlock, err := c.locks.Lock(ctx, sid)
	if err != nil {
		return nil, err
	}
	defer unlock()
	s, err := c.st.GetSandbox(ctx, sid)
	if err != nil {
		return nil, err
	}
	if !slices.Contains(s.Ports, port) {
		return nil, problem.Unprocessable("port_not_exposed",
			"port %d is not published by this sandbox (it publishes %v); create the sandbox with \"ports\": [%d]", port, s.Ports, port)
	}
	if s.PreviewPort != port {
		s.PreviewPort = port
		if err := c.st.UpdateSandbox(ctx, s); err != nil {
			return nil, err
		}
		if err := c.routes.Changed(ctx, s.ID); err != nil {
			return nil, err
		}
	}
	return s, nil
}

// SandboxURL is the sandbox's preview URL.
func (c *Service) SandboxURL(ctx context.Context, s *store.Sandbox) string {
	return c.cfg.Names.URL(c.hostnames.Sandbox(ctx, s))
}

func shellQuote(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }

// Pending lists the sandboxes the periodic resync reconciles: all but
// the stopped, paused and deleted ones.
func (c *Service) Pending(ctx context.Context) []string {
	sbxs, err := store.ListAll(ctx, c.st.ListSandboxes)
	if err != nil {
		c.log.Warn("listing sandboxes failed", "err", err)
	}
	var ids []string
	for _, s := range sbxs {
		if !held(s.Status) {
			ids = append(ids, s.ID)
		}
	}
	return ids
}
