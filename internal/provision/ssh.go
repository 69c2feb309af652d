package provision

import (
	"archive/tar"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"net"
	"os"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/berth-dev/berth/internal/agent"
)

// SSHTarget is a server the operator owns, as the SSH provisioner keeps
// it (sealed: it holds a private key).
type SSHTarget struct {
	Address    string `json:"address"`
	User       string `json:"user"`
	PrivateKey string `json:"private_key"`
	// HostKey is the server's pinned host key, in authorized_keys format.
	HostKey string `json:"host_key,omitempty"`
	// AgentPort and PortalPort are where the roles listen; zero lets
	// Provision choose (the defaults when free on the server).
	AgentPort  int `json:"agent_port,omitempty"`
	PortalPort int `json:"portal_port,omitempty"`
}

// Default ports of the roles on a server.
const (
	DefaultAgentPort  = 7443
	DefaultPortalPort = 7790
)

// SSH provisions Docker Deploy hosts on servers the operator owns. It
// logs in with the target's key, pins the server's host key on first
// contact, copies the berth binary into ~/.berth/hosts/<host id>, checks
// that a Docker engine answers there, and runs the agent (mutual TLS, on
// the address the server was reached at) and the portal as services:
// systemd units when the server runs systemd and the user is root, else
// processes that a supervising shell loop restarts, in their own session
// so they outlive the login.
type SSH struct {
	// Binary is the berth binary copied to the servers; it must be built
	// for linux on the servers' CPU.
	Binary string
	// DialTimeout bounds reaching a server (0: 10s).
	DialTimeout time.Duration
	Log         *slog.Logger

	mu     sync.Mutex
	digest string // of Binary, once computed
}

// errHostKey is what the host key callback answers a changed key with.
var errHostKey = errors.New("host key mismatch")

func parseTarget(raw []byte) (SSHTarget, ssh.Signer, error) {
	var t SSHTarget
	if err := json.Unmarshal(raw, &t); err != nil {
		return t, nil, fail(ErrInvalidTarget, "the SSH target is not valid JSON: %v", err)
	}
	if t.Address == "" || t.User == "" || t.PrivateKey == "" {
		return t, nil, fail(ErrInvalidTarget, "an SSH target needs an address, a user and a private key")
	}
	if _, _, err := net.SplitHostPort(t.Address); err != nil {
		t.Address = net.JoinHostPort(strings.Trim(t.Address, "[]"), "22")
	}
	signer, err := ssh.ParsePrivateKey([]byte(t.PrivateKey))
	var missing *ssh.PassphraseMissingError
	switch {
	case errors.As(err, &missing):
		return t, nil, fail(ErrInvalidTarget, "the SSH private key is protected by a passphrase; give one without")
	case err != nil:
		return t, nil, fail(ErrInvalidTarget, "the SSH private key does not parse (%v); give it in OpenSSH or PEM form", err)
	}
	if t.HostKey != "" {
		if _, _, _, _, err := ssh.ParseAuthorizedKey([]byte(t.HostKey)); err != nil {
			return t, nil, fail(ErrInvalidTarget, "the host key to pin does not parse (%v); give it as a line of known_hosts without the host name, e.g. \"ssh-ed25519 AAAA…\"", err)
		}
	}
	return t, signer, nil
}

// dial logs in to the target's server. With no pinned host key it pins
// the one the server shows.
func (s *SSH) dial(ctx context.Context, t *SSHTarget, signer ssh.Signer) (*ssh.Client, error) {
	timeout := s.DialTimeout
	if timeout == 0 {
		timeout = 10 * time.Second
	}
	var seen ssh.PublicKey
	cfg := &ssh.ClientConfig{
		User:    t.User,
		Auth:    []ssh.AuthMethod{ssh.PublicKeys(signer)},
		Timeout: timeout,
		HostKeyCallback: func(_ string, _ net.Addr, key ssh.PublicKey) error {
			seen = key
			if t.HostKey == "" {
				return nil
			}
			pinned, _, _, _, err := ssh.ParseAuthorizedKey([]byte(t.HostKey))
			if err != nil || !bytes.Equal(pinned.Marshal(), key.Marshal()) {
				return errHostKey
			}
			return nil
		},
	}
	d := net.Dialer{Timeout: timeout}
	conn, err := d.DialContext(ctx, "tcp", t.Address)
	if err != nil {
		return nil, fail(ErrUnreachable, "nothing answers SSH at the server's address (%s): check the address and port, and that sshd runs there", netReason(err))
	}
	stop := context.AfterFunc(ctx, func() { conn.Close() })
	conn.SetDeadline(time.Now().Add(timeout))
	c, chans, reqs, err := ssh.NewClientConn(conn, t.Address, cfg)
	if err != nil {
		stop()
		conn.Close()
		switch {
		case errors.Is(err, errHostKey):
			return nil, fail(ErrHostKeyChanged, "the server's SSH host key (%s) is not the pinned one: if the server was reinstalled, check its key and ensure again with it as ssh.host_key", ssh.FingerprintSHA256(seen))
		case strings.Contains(err.Error(), "unable to authenticate"):
			return nil, fail(ErrAuthRefused, "the server refused the SSH key (%s) for user %q: add its public key to that user's ~/.ssh/authorized_keys", ssh.FingerprintSHA256(signer.PublicKey()), t.User)
		}
		return nil, fail(ErrUnreachable, "the SSH handshake with the server failed (%s)", netReason(err))
	}
	conn.SetDeadline(time.Time{})
	if t.HostKey == "" && seen != nil {
		t.HostKey = strings.TrimSpace(string(ssh.MarshalAuthorizedKey(seen)))
	}
	client := ssh.NewClient(c, chans, reqs)
	context.AfterFunc(ctx, func() { client.Close() })
	return client, nil
}

// netReason is an error's cause without the address it names.
func netReason(err error) string {
	var op *net.OpError
	if errors.As(err, &op) && op.Err != nil {
		err = op.Err
	}
	msg := err.Error()
	if i := strings.LastIndex(msg, ": "); i >= 0 {
		msg = msg[i+2:]
	}
	return msg
}

// CheckTarget logs in to the server before anything is recorded, and
// returns the target with the server's host key pinned.
func (s *SSH) CheckTarget(ctx context.Context, raw []byte) ([]byte, error) {
	t, signer, err := parseTarget(raw)
	if err != nil {
		return nil, err
	}
	c, err := s.dial(ctx, &t, signer)
	if err != nil {
		return nil, err
	}
	c.Close()
	return json.Marshal(t)
}

// Provision checks that the server is one the berth binary runs on.
func (s *SSH) Provision(ctx context.Context, m Machine) ([]byte, error) {
	t, signer, err := parseTarget(m.Target)
	if err != nil {
		return nil, err
	}
	c, err := s.dial(ctx, &t, signer)
	if err != nil {
		return nil, err
	}
	defer c.Close()
	out, err := run(c, "uname -sm", nil)
	if err != nil {
		return nil, fail(ErrInvalidTarget, "running a command on the server failed: %s", tail(out, 500))
	}
	want := "Linux " + unameArch(runtime.GOARCH)
	if got := strings.TrimSpace(out); got != want {
		return nil, fail(ErrInvalidTarget, "the server runs %q, and this Berth's binary is for %q: use a server of that kind", got, want)
	}
	// Ports the target leaves to Berth are the defaults when free on the
	// server, else the next free ones: the hosts of two workspaces on one
	// server never collide.
	if t.AgentPort == 0 || t.PortalPort == 0 {
		out, err := run(c, "cat /proc/net/tcp /proc/net/tcp6 2>/dev/null", nil)
		if err != nil && out == "" {
			return nil, fail(ErrInvalidTarget, "reading the server's listening ports failed: %s", tail(out, 500))
		}
		taken := listening(out)
		if t.AgentPort == 0 {
			t.AgentPort = nextFreePort(taken, DefaultAgentPort)
			taken[t.AgentPort] = true
		}
		if t.PortalPort == 0 {
			t.PortalPort = nextFreePort(taken, DefaultPortalPort)
		}
	}
	return json.Marshal(t)
}

// listening reads the TCP ports in LISTEN state from /proc/net/tcp and
// tcp6 lines ("sl local_address rem_address st …", the address as
// hex IP:port, the state 0A).
func listening(procNet string) map[int]bool {
	ports := map[int]bool{}
	for _, line := range strings.Split(procNet, "\n") {
		f := strings.Fields(line)
		if len(f) < 4 || f[3] != "0A" {
			continue
		}
		_, hexPort, ok := strings.Cut(f[1], ":")
		if port, err := strconv.ParseUint(hexPort, 16, 16); ok && err == nil {
			ports[int(port)] = true
		}
	}
	return ports
}

// nextFreePort is the first port from want on that is not taken.
func nextFreePort(taken map[int]bool, want int) int {
	for taken[want] && want < 65535 {
		want++
	}
	return want
}

func unameArch(goarch string) string {
	switch goarch {
	case "amd64":
		return "x86_64"
	case "arm64":
		return "aarch64"
	}
	return goarch
}

// Bootstrap copies the berth binary and the bundle to the server, checks
// its Docker engine, and (re)starts the agent and the portal as services.
// It returns once the agent listens.
func (s *SSH) Bootstrap(ctx context.Context, m Machine, b Bundle) (Endpoint, error) {
	t, signer, err := parseTarget(m.Target)
	if err != nil {
		return Endpoint{}, err
	}
	c, err := s.dial(ctx, &t, signer)
	if err != nil {
		return Endpoint{}, err
	}
	defer c.Close()

	// One session per step: each costs a round of sshd's process setup.
	out, err := run(c, `printf '%s\n%s\n' "$HOME" "$SSH_CONNECTION"`, nil)
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if err != nil || len(lines) != 2 || len(strings.Fields(lines[1])) < 3 {
		return Endpoint{}, fail(ErrInvalidTarget, "the server's shell did not say where home is and which address it was reached at: %s", tail(out, 500))
	}
	ip := strings.Fields(lines[1])[2]
	dir := strings.TrimRight(lines[0], "/") + "/.berth/hosts/" + m.HostID
	q := shellQuote
	bin := q(dir + "/berth")
	out, err = run(c, "mkdir -p "+q(dir)+" && chmod 700 "+q(dir)+" && { sha256sum "+bin+" 2>/dev/null || true; }", nil)
	if err != nil {
		return Endpoint{}, fail(ErrInvalidTarget, "making the host's directory on the server failed: %s", tail(out, 500))
	}
	if err := s.copyBinary(c, dir, out, b); err != nil {
		return Endpoint{}, err
	}

	b.step("checking the server's Docker engine")
	out, err = run(c, bin+" agent --check-docker", nil)
	if err != nil {
		// The engine's own message names its socket: say what to do
		// instead.
		if strings.Contains(out, "permission denied") {
			return Endpoint{}, fail(ErrNoDocker, "the SSH user may not use the server's Docker engine: add it to the docker group, or log in as root, and ensure the host again")
		}
		return Endpoint{}, fail(ErrNoDocker, "no Docker engine answers on the server: install docker.io there, start dockerd and ensure the host again")
	}
	if t.AgentPort == 0 {
		t.AgentPort = DefaultAgentPort // a target from before Provision chose ports
	}
	if t.PortalPort == 0 {
		t.PortalPort = DefaultPortalPort
	}
	ep := Endpoint{AgentAddr: net.JoinHostPort(ip, strconv.Itoa(t.AgentPort))}
	out, err = run(c, bin+" portal --help", nil)
	ep.PortalSkipped = portalSkipReason(out, err)

	// The portal listens on the server's loopback only: the edge reaches
	// it through the agent's tunnel, as it reaches the apps.
	portalFlag := ""
	if ep.PortalSkipped == "" {
		ep.PortalAddr = net.JoinHostPort("127.0.0.1", strconv.Itoa(t.PortalPort))
		portalFlag = " --portal " + q(ep.PortalAddr)
	}
	files := map[string][]byte{
		agent.CertFile: b.AgentCert, agent.KeyFile: b.AgentKey, agent.ClientCAFile: b.ClientCA,
		agent.SecretFile: []byte(b.AgentSecret + "\n"),
		"run-agent":      []byte("#!/bin/sh\nexec " + bin + " agent --dir " + q(dir) + " --listen " + q(ep.AgentAddr) + portalFlag + "\n"),
	}
	roles := []string{"agent"}
	if ep.PortalSkipped == "" {
		roles = append(roles, "portal")
		files["portal.password"] = []byte(b.Portal.Password + "\n")
		files["portal.env"] = []byte("BERTH_PORTAL_KEY=" + q(b.Portal.Key) + "\n")
		files["run-portal"] = []byte("#!/bin/sh\nset -a\n. " + q(dir+"/portal.env") + "\nset +a\nexec " + bin +
			" portal --listen " + q(ep.PortalAddr) + " --api " + q(b.Portal.APIURL) + " --workspace " + q(b.Portal.WorkspaceID) +
			" --password-file " + q(dir+"/portal.password") + " --session-secret-file " + q(dir+"/portal.session") + "\n")
	}
	bundle, err := tarFiles(files)
	if err != nil {
		return Endpoint{}, err
	}
	if out, err := run(c, "umask 077 && tar -x -o -f - -C "+q(dir), bytes.NewReader(bundle)); err != nil {
		return Endpoint{}, fail(ErrInvalidTarget, "writing the agent's files on the server failed (is tar there?): %s", tail(out, 500))
	}

	b.step("starting the %s as services", strings.Join(roles, " and "))
	script := "rm -f " + q(dir+"/"+agent.AddrFile) + "\n"
	for _, role := range roles {
		script += serviceScript(dir, m.HostID, role)
	}
	if out, err := run(c, script, nil); err != nil {
		return Endpoint{}, fail(ErrRoleFailed, "starting the roles as services failed: %s", tail(out, 800))
	}
	// The agent writes its address once it listens.
	deadline := time.Now().Add(30 * time.Second)
	for {
		out, err := run(c, "cat "+q(dir+"/"+agent.AddrFile)+" 2>/dev/null", nil)
		if err == nil && strings.TrimSpace(out) != "" {
			return ep, nil
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			logTail, _ := run(c, "tail -n 20 "+q(dir+"/agent.log")+" 2>/dev/null; journalctl -n 20 -u "+q(unitName(m.HostID, "agent"))+" 2>/dev/null", nil)
			return Endpoint{}, fail(ErrRoleFailed, "the agent did not start listening on the server; its last output:\n%s", tail(logTail, 1500))
		}
		select {
		case <-ctx.Done():
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// Tunneled reports that the apps and the portal of an SSH host are on
// another machine, on its loopback: the edge and the control plane reach
// them only through the host's agent.
func (s *SSH) Tunneled() bool { return true }

// SetPortalPassword writes the portal's sign-in password on the server;
// the portal reads it at each sign-in.
func (s *SSH) SetPortalPassword(ctx context.Context, m Machine, password string) error {
	t, signer, err := parseTarget(m.Target)
	if err != nil {
		return err
	}
	c, err := s.dial(ctx, &t, signer)
	if err != nil {
		return err
	}
	defer c.Close()
	dir := `"$HOME"/` + shellQuote(".berth/hosts/"+m.HostID)
	cmd := "umask 077 && cat > " + dir + "/portal.password.new && mv " + dir + "/portal.password.new " + dir + "/portal.password"
	if out, err := run(c, cmd, strings.NewReader(password+"\n")); err != nil {
		return fail(ErrRoleFailed, "writing the portal's password on the server failed: %s", tail(out, 500))
	}
	return nil
}

// tarFiles packs files (mode 0600, run-* scripts 0700) for `tar -x`.
func tarFiles(files map[string][]byte) ([]byte, error) {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, name := range slices.Sorted(maps.Keys(files)) {
		mode := int64(0o600)
		if strings.HasPrefix(name, "run-") {
			mode = 0o700
		}
		body := files[name]
		if err := tw.WriteHeader(&tar.Header{Name: name, Mode: mode, Size: int64(len(body)), Typeflag: tar.TypeReg, ModTime: time.Now()}); err != nil {
			return nil, err
		}
		if _, err := tw.Write(body); err != nil {
			return nil, err
		}
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

func unitName(hostID, role string) string {
	return "berth-" + role + "-" + strings.ReplaceAll(hostID, "_", "-")
}

// serviceScript (re)starts a role as a service: a systemd unit when the
// server runs systemd and the user is root, else a supervising loop in a
// session of its own that restarts the role when it exits.
func serviceScript(dir, hostID, role string) string {
	q := shellQuote
	unit := unitName(hostID, role)
	run := q(dir + "/run-" + role)
	pid := q(dir + "/" + role + ".pid")
	log := q(dir + "/" + role + ".log")
	unitFile := "[Unit]\nDescription=Berth " + role + " of Docker Deploy host " + hostID + "\nAfter=network-online.target docker.service\n\n" +
		"[Service]\nExecStart=" + dir + "/run-" + role + "\nRestart=always\nRestartSec=1\n\n[Install]\nWantedBy=multi-user.target\n"
	// A subshell per role: the scripts of both roles run in one session.
	return `(
set -e
if [ -d /run/systemd/system ] && command -v systemctl >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
  printf '%s' ` + q(unitFile) + ` > /etc/systemd/system/` + unit + `.service
  systemctl daemon-reload
  systemctl enable ` + unit + ` >/dev/null 2>&1
  systemctl restart ` + unit + `
  exit 0
fi
if [ -f ` + pid + ` ]; then
  old=$(cat ` + pid + `)
  kill -TERM "-$old" 2>/dev/null || true
  i=0
  while kill -0 "-$old" 2>/dev/null && [ $i -lt 50 ]; do sleep 0.1; i=$((i+1)); done
  kill -KILL "-$old" 2>/dev/null || true
fi
setsid sh -c ` + q("while :; do "+run+"; sleep 1; done") + ` >>` + log + ` 2>&1 </dev/null &
echo $! > ` + pid + `
)
`
}

// copyBinary puts the berth binary at dir/berth unless the server has the
// same one (remote is the output of sha256sum there).
func (s *SSH) copyBinary(c *ssh.Client, dir, remote string, b Bundle) error {
	digest, err := s.binaryDigest()
	if err != nil {
		return err
	}
	if strings.HasPrefix(remote, digest) {
		return nil
	}
	f, err := os.Open(s.Binary)
	if err != nil {
		return fmt.Errorf("opening the berth binary: %w", err)
	}
	defer f.Close()
	if st, err := f.Stat(); err == nil {
		b.step("copying the berth binary to the server (%d MiB)", st.Size()>>20)
	}
	q := shellQuote
	cmd := "cat > " + q(dir+"/berth.new") + " && chmod 755 " + q(dir+"/berth.new") + " && mv " + q(dir+"/berth.new") + " " + q(dir+"/berth")
	if out, err := run(c, cmd, f); err != nil {
		return fail(ErrInvalidTarget, "copying the berth binary to the server failed (is its disk full?): %s", tail(out, 500))
	}
	return nil
}

func (s *SSH) binaryDigest() (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.digest != "" {
		return s.digest, nil
	}
	f, err := os.Open(s.Binary)
	if err != nil {
		return "", fmt.Errorf("opening the berth binary: %w", err)
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", fmt.Errorf("reading the berth binary: %w", err)
	}
	s.digest = hex.EncodeToString(h.Sum(nil))
	return s.digest, nil
}

// run runs a command in a new session and returns its output, stdout
// then stderr.
func run(c *ssh.Client, cmd string, stdin io.Reader) (string, error) {
	sess, err := c.NewSession()
	if err != nil {
		return "", err
	}
	defer sess.Close()
	var stdout, stderr bytes.Buffer
	sess.Stdout, sess.Stderr, sess.Stdin = &stdout, &stderr, stdin
	err = sess.Run(cmd)
	return stdout.String() + stderr.String(), err
}

// shellQuote quotes s for a POSIX shell.
func shellQuote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
