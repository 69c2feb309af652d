package s3server

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"
)

// optionsEnv carries Options to the child: the environment, not argv,
// so the root secret is not in the process list.
const optionsEnv = "BERTH_S3_SERVER_OPTIONS"

// StartConfig is how `berth up` starts its S3 server.
type StartConfig struct {
	// Binary is the berth executable; its hidden `s3-server` role runs
	// the gateway.
	Binary string
	// Dir is the server's data (buckets and their metadata).
	Dir    string
	Region string
	// ContainerIP, when set, is a second address the S3 API listens on
	// for containers (the Docker bridge's gateway); the first is on
	// loopback, for the edge and Berth itself.
	ContainerIP string
	// Accounts and AccountsToken: where the gateway looks keys up.
	Accounts, AccountsToken string
	// Log receives the server's output (nil: discarded).
	Log *slog.Logger
}

// Server is a running S3 server child.
type Server struct {
	// Loopback is the S3 API on 127.0.0.1 (host:port).
	Loopback string
	// Container is the S3 API on StartConfig.ContainerIP, or "".
	Container string
	// Admin is the admin API on loopback.
	Admin                  string
	RootAccess, RootSecret string
	Region                 string
	cmd                    *exec.Cmd
	exited                 chan struct{}
	err                    error
}

// ports are the server's ports, kept across restarts so that the
// endpoint the running containers got at boot stays right.
type ports struct {
	Loopback  int `json:"loopback"`
	Container int `json:"container"`
	Admin     int `json:"admin"`
}

// Start runs the S3 server as a child process and waits until it answers.
func Start(ctx context.Context, cfg StartConfig) (*Server, error) {
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	if err := os.MkdirAll(cfg.Dir, 0o700); err != nil {
		return nil, fmt.Errorf("making the S3 data dir: %w", err)
	}
	portsFile := filepath.Join(cfg.Dir, "ports.json")
	var p ports
	if b, err := os.ReadFile(portsFile); err == nil {
		json.Unmarshal(b, &p)
	}
	var lastErr error
	for attempt := 0; attempt < 4; attempt++ {
		if attempt > 0 || !free(p, cfg.ContainerIP) {
			var err error
			if p, err = pickPorts(cfg.ContainerIP); err != nil {
				return nil, err
			}
		}
		s, err := start(ctx, cfg, p)
		if err == nil {
			b, _ := json.Marshal(p)
			os.WriteFile(portsFile, b, 0o600)
			return s, nil
		}
		lastErr = err
	}
	return nil, lastErr
}

func start(ctx context.Context, cfg StartConfig, p ports) (*Server, error) {
	s := &Server{
		Loopback: fmt.Sprintf("127.0.0.1:%d", p.Loopback), Admin: fmt.Sprintf("127.0.0.1:%d", p.Admin),
		RootAccess: "BERTHROOT" + strings.ToUpper(randomHex(6)), RootSecret: randomHex(20), Region: cfg.Region,
		exited: make(chan struct{}),
	}
	listen := []string{s.Loopback}
	if cfg.ContainerIP != "" {
		s.Container = net.JoinHostPort(cfg.ContainerIP, fmt.Sprint(p.Container))
		listen = append(listen, s.Container)
	}
	opts, _ := json.Marshal(Options{
		Dir: cfg.Dir, Listen: listen, AdminListen: s.Admin, Region: cfg.Region,
		RootAccess: s.RootAccess, RootSecret: s.RootSecret, Accounts: cfg.Accounts, AccountsToken: cfg.AccountsToken,
	})
	s.cmd = exec.Command(cfg.Binary, "s3-server")
	s.cmd.Env = append(os.Environ(), optionsEnv+"="+string(opts))
	s.cmd.Dir = cfg.Dir
	out := &logWriter{log: cfg.Log}
	s.cmd.Stdout, s.cmd.Stderr = out, out
	s.cmd.SysProcAttr = childAttr()
	if err := s.cmd.Start(); err != nil {
		return nil, fmt.Errorf("starting the S3 server: %w", err)
	}
	go func() {
		s.err = s.cmd.Wait()
		close(s.exited)
	}()
	deadline := time.Now().Add(30 * time.Second)
	hc := &http.Client{Timeout: time.Second}
	for {
		resp, err := hc.Get("http://" + s.Loopback + HealthPath)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return s, nil
			}
		}
		select {
		case <-s.exited:
			return nil, fmt.Errorf("the S3 server exited at start (%v): %s", s.err, out.last())
		case <-ctx.Done():
			s.Close()
			return nil, ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			s.Close()
			return nil, errors.New("the S3 server did not answer within 30s")
		}
	}
}

// Close stops the server and waits for it.
func (s *Server) Close() error {
	if s.cmd.Process != nil {
		s.cmd.Process.Signal(os.Interrupt)
		select {
		case <-s.exited:
		case <-time.After(5 * time.Second):
			s.cmd.Process.Kill()
			<-s.exited
		}
	}
	return nil
}

// ServeFromEnv runs the child role with the options its parent put in the
// environment.
func ServeFromEnv(ctx context.Context) error {
	raw := os.Getenv(optionsEnv)
	if raw == "" {
		return fmt.Errorf("%s is not set: this role is started by `berth up`", optionsEnv)
	}
	var o Options
	if err := json.Unmarshal([]byte(raw), &o); err != nil {
		return fmt.Errorf("reading %s: %w", optionsEnv, err)
	}
	os.Unsetenv(optionsEnv)
	return Serve(ctx, o)
}

// ChildEnv is the environment that makes the `s3-server` role run with o:
// for a test that starts one by hand, as an "external" S3 endpoint.
func ChildEnv(o Options) string {
	b, _ := json.Marshal(o)
	return optionsEnv + "=" + string(b)
}

func free(p ports, containerIP string) bool {
	if p.Loopback == 0 || p.Admin == 0 || (containerIP != "" && p.Container == 0) {
		return false
	}
	addrs := []string{fmt.Sprintf("127.0.0.1:%d", p.Loopback), fmt.Sprintf("127.0.0.1:%d", p.Admin)}
	if containerIP != "" {
		addrs = append(addrs, net.JoinHostPort(containerIP, fmt.Sprint(p.Container)))
	}
	for _, a := range addrs {
		ln, err := net.Listen("tcp", a)
		if err != nil {
			return false
		}
		ln.Close()
	}
	return true
}

// pickPorts finds free ports. Another process may take one before the
// child binds it; Start then tries again.
func pickPorts(containerIP string) (ports, error) {
	var p ports
	pick := func(host string) (int, error) {
		ln, err := net.Listen("tcp", net.JoinHostPort(host, "0"))
		if err != nil {
			return 0, fmt.Errorf("finding a port for the S3 server on %s: %w", host, err)
		}
		defer ln.Close()
		return ln.Addr().(*net.TCPAddr).Port, nil
	}
	var err error
	if p.Loopback, err = pick("127.0.0.1"); err != nil {
		return p, err
	}
	if p.Admin, err = pick("127.0.0.1"); err != nil {
		return p, err
	}
	if containerIP != "" {
		if p.Container, err = pick(containerIP); err != nil {
			return p, err
		}
	}
	return p, nil
}

func randomHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// logWriter sends the child's output to the log, keeping the last lines
// for an error at start.
type logWriter struct {
	log  *slog.Logger
	tail []string
}

func (l *logWriter) Write(b []byte) (int, error) {
	for _, line := range strings.Split(strings.TrimRight(string(b), "\n"), "\n") {
		if line == "" {
			continue
		}
		l.log.Info("s3 server output", "line", line)
		l.tail = append(l.tail, line)
		if len(l.tail) > 5 {
			l.tail = l.tail[1:]
		}
	}
	return len(b), nil
}

func (l *logWriter) last() string { return strings.Join(l.tail, "; ") }
