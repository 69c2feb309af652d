package provision

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/berth-dev/berth/internal/agent"
)

// Local provisions Docker Deploy hosts on the machine of the control
// plane: each host's agent (and portal) is its own process of the berth
// binary, with its own directory, certificate and credential, in front of
// the Docker engine there. Two workspaces never share an agent.
//
// The processes are the control plane's children: Close stops them, and
// the kernel does when the control plane dies, so none outlives it; the
// next bootstrap starts them again. The apps' containers outlive both.
type Local struct {
	// Binary is the berth binary the roles run from.
	Binary string
	// Dir holds one directory per host.
	Dir string
	// DockerHost is the engine's address; empty uses the environment.
	DockerHost string
	Log        *slog.Logger

	mu     sync.Mutex
	procs  map[string]*process
	portal *portalSupport
}

type portalSupport struct{ skipped string }

// process is a started role.
type process struct {
	cmd  *exec.Cmd
	done chan struct{}
	err  error // the exit, once done is closed
	out  *ring
}

// Provision makes the host's directory: the machine already exists.
func (l *Local) Provision(ctx context.Context, m Machine) ([]byte, error) {
	if err := os.MkdirAll(l.hostDir(m.HostID), 0o700); err != nil {
		return nil, fmt.Errorf("making the host's directory: %w", err)
	}
	return m.Target, nil
}

func (l *Local) hostDir(hostID string) string { return filepath.Join(l.Dir, hostID) }

// Bootstrap writes the host's certificate and credential, and (re)starts
// its agent and portal. It returns once the agent listens; the caller
// checks both roles' health.
func (l *Local) Bootstrap(ctx context.Context, m Machine, b Bundle) (Endpoint, error) {
	dir := l.hostDir(m.HostID)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return Endpoint{}, fmt.Errorf("making the host's directory: %w", err)
	}
	files := map[string][]byte{
		agent.CertFile: b.AgentCert, agent.KeyFile: b.AgentKey, agent.ClientCAFile: b.ClientCA,
		agent.SecretFile: []byte(b.AgentSecret + "\n"),
	}
	for name, body := range files {
		if err := writeFile(filepath.Join(dir, name), body); err != nil {
			return Endpoint{}, err
		}
	}
	l.stop(m.HostID + "/agent")
	args := []string{"agent", "--dir", dir, "--listen", "127.0.0.1:0"}
	if l.DockerHost != "" {
		args = append(args, "--docker-host", l.DockerHost)
	}
	os.Remove(filepath.Join(dir, agent.AddrFile))
	p, err := l.start(m.HostID+"/agent", args, nil, filepath.Join(dir, "agent.log"))
	if err != nil {
		return Endpoint{}, err
	}
	addr, err := waitAddr(ctx, filepath.Join(dir, agent.AddrFile), p)
	if err != nil {
		return Endpoint{}, err
	}
	ep := Endpoint{AgentAddr: addr}

	if ep.PortalSkipped = l.portalSkipped(ctx); ep.PortalSkipped != "" {
		return ep, nil
	}
	if err := writeFile(filepath.Join(dir, "portal.password"), []byte(b.Portal.Password+"\n")); err != nil {
		return Endpoint{}, err
	}
	l.stop(m.HostID + "/portal")
	port, err := freePort()
	if err != nil {
		return Endpoint{}, err
	}
	ep.PortalAddr = net.JoinHostPort("127.0.0.1", port)
	_, err = l.start(m.HostID+"/portal", []string{"portal", "--listen", ep.PortalAddr, "--api", b.Portal.APIURL,
		"--workspace", b.Portal.WorkspaceID, "--password-file", filepath.Join(dir, "portal.password"),
		"--session-secret-file", filepath.Join(dir, "portal.session")},
		[]string{"BERTH_PORTAL_KEY=" + b.Portal.Key}, filepath.Join(dir, "portal.log"))
	if err != nil {
		return Endpoint{}, err
	}
	return ep, nil
}

// SetPortalPassword writes the portal's sign-in password in the host's
// directory; the portal reads it at each sign-in.
func (l *Local) SetPortalPassword(ctx context.Context, m Machine, password string) error {
	return writeFile(filepath.Join(l.hostDir(m.HostID), "portal.password"), []byte(password+"\n"))
}

// Exited reports a role of the host that has stopped running, with what
// it printed last, so a bootstrap waiting for its health fails at once
// with the cause.
func (l *Local) Exited(hostID string) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, role := range []string{"agent", "portal"} {
		p := l.procs[hostID+"/"+role]
		if p == nil {
			continue
		}
		select {
		case <-p.done:
			return exitError(role, p)
		default:
		}
	}
	return nil
}

// Close stops every process it started.
func (l *Local) Close() error {
	l.mu.Lock()
	keys := make([]string, 0, len(l.procs))
	for k := range l.procs {
		keys = append(keys, k)
	}
	l.mu.Unlock()
	var wg sync.WaitGroup
	for _, k := range keys {
		wg.Go(func() { l.stop(k) })
	}
	wg.Wait()
	return nil
}

// portalSkipped says why this binary cannot run a portal ("" when it
// can), asking it once.
func (l *Local) portalSkipped(ctx context.Context) string {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.portal == nil {
		ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		defer cancel()
		out, err := exec.CommandContext(ctx, l.Binary, "portal", "--help").CombinedOutput()
		l.portal = &portalSupport{skipped: portalSkipReason(string(out), err)}
	}
	return l.portal.skipped
}

// portalSkipReason reads the answer of `berth portal --help`: only a
// binary that does not know the command skips the portal.
func portalSkipReason(out string, err error) string {
	if err != nil && strings.Contains(out, `unknown command "portal"`) {
		return `this berth binary has no "portal" command; install a berth release that has one and ensure the host again`
	}
	return ""
}

// start runs the berth binary with args as the role key, its output
// appended to logPath and kept in memory for error messages.
func (l *Local) start(key string, args, env []string, logPath string) (*process, error) {
	logFile, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return nil, fmt.Errorf("opening %s: %w", logPath, err)
	}
	cmd := exec.Command(l.Binary, args...)
	cmd.Env = append(childEnv(), env...)
	p := &process{cmd: cmd, done: make(chan struct{}), out: &ring{max: 4 << 10}}
	w := io.MultiWriter(logFile, p.out)
	cmd.Stdout, cmd.Stderr = w, w
	cmd.SysProcAttr = childAttr()
	if err := cmd.Start(); err != nil {
		logFile.Close()
		return nil, &Error{Kind: ErrRoleFailed, Reason: fmt.Sprintf("starting the berth binary failed (%v): check the control plane's agent binary setting", err)}
	}
	go func() {
		p.err = cmd.Wait()
		logFile.Close()
		close(p.done)
	}()
	l.mu.Lock()
	if l.procs == nil {
		l.procs = map[string]*process{}
	}
	l.procs[key] = p
	l.mu.Unlock()
	return p, nil
}

// stop ends the process of a role, if any: SIGTERM to its process group,
// SIGKILL after 5 seconds.
func (l *Local) stop(key string) {
	l.mu.Lock()
	p := l.procs[key]
	delete(l.procs, key)
	l.mu.Unlock()
	if p == nil {
		return
	}
	pid := p.cmd.Process.Pid
	syscall.Kill(-pid, syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(5 * time.Second):
		syscall.Kill(-pid, syscall.SIGKILL)
		<-p.done
	}
}

// waitAddr waits for the agent to write where it listens.
func waitAddr(ctx context.Context, path string, p *process) (string, error) {
	delay := 5 * time.Millisecond
	for {
		if b, err := os.ReadFile(path); err == nil && len(bytes.TrimSpace(b)) > 0 {
			return string(bytes.TrimSpace(b)), nil
		}
		select {
		case <-p.done:
			return "", exitError("agent", p)
		case <-ctx.Done():
			return "", fail(ErrRoleFailed, "the agent did not start listening in time; its last output:\n%s", tail(p.out.String(), 1500))
		case <-time.After(delay):
		}
		delay = min(2*delay, 100*time.Millisecond)
	}
}

func exitError(role string, p *process) error {
	return fail(ErrRoleFailed, "the %s exited (%v); its last output:\n%s", role, p.err, tail(p.out.String(), 1500))
}

// childEnv is this process's environment without Berth's own variables,
// which hold credentials the roles must not inherit.
func childEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "BERTH_") {
			env = append(env, kv)
		}
	}
	return env
}

// freePort returns a loopback port that was free a moment ago.
func freePort() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", fmt.Errorf("finding a free port: %w", err)
	}
	defer ln.Close()
	_, port, _ := net.SplitHostPort(ln.Addr().String())
	return port, nil
}

func writeFile(path string, b []byte) error {
	if err := os.WriteFile(path+".tmp", b, 0o600); err != nil {
		return fmt.Errorf("writing %s: %w", filepath.Base(path), err)
	}
	if err := os.Rename(path+".tmp", path); err != nil {
		return fmt.Errorf("writing %s: %w", filepath.Base(path), err)
	}
	return nil
}

// ring keeps the last max bytes written to it.
type ring struct {
	mu  sync.Mutex
	max int
	b   []byte
}

func (r *ring) Write(p []byte) (int, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.b = append(r.b, p...)
	if len(r.b) > r.max {
		r.b = append([]byte(nil), r.b[len(r.b)-r.max:]...)
	}
	return len(p), nil
}

func (r *ring) String() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return string(r.b)
}
