package e2e

import (
	"context"
	"crypto/rand"
	"fmt"
	"math/big"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/berth-dev/berth/client"
	"github.com/berth-dev/berth/internal/up"
)

// sshNet is a network namespace the test makes, joined to this one by a
// veth pair: a "server" with its own addresses that shares this machine's
// files and Docker engine, where a real sshd runs.
type sshNet struct {
	ns         string
	hostIP     string // this side of the pair
	serverIP   string // the namespace's side
	dir        string
	clientKey  string // a private key the servers accept
	strangeKey string // one they do not
}

// newSSHNet makes the namespace, or skips when this machine cannot.
func newSSHNet(t *testing.T) *sshNet {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("the ssh provisioner's test makes a network namespace, which needs root")
	}
	for _, tool := range []string{"ip", "ssh-keygen", "/usr/sbin/sshd", "unshare"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("the ssh provisioner's test needs %s (scripts/ensure-deps.sh installs openssh-server)", tool)
		}
	}
	n, _ := rand.Int(rand.Reader, big.NewInt(60000))
	id := int(n.Int64())
	s := &sshNet{
		ns:       fmt.Sprintf("berth-e2e-%d", id),
		hostIP:   fmt.Sprintf("10.231.%d.%d", id/64%256, id%64*4+1),
		serverIP: fmt.Sprintf("10.231.%d.%d", id/64%256, id%64*4+2),
		dir:      t.TempDir(),
	}
	vethA, vethB := fmt.Sprintf("bte%da", id), fmt.Sprintf("bte%db", id)
	must := func(args ...string) {
		t.Helper()
		if out, err := exec.Command(args[0], args[1:]...).CombinedOutput(); err != nil {
			t.Fatalf("%s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
	must("ip", "netns", "add", s.ns)
	t.Cleanup(func() {
		// Whatever the test started in the namespace (sshd, the agents and
		// portals it ran as services) ends with it.
		out, _ := exec.Command("ip", "netns", "pids", s.ns).Output()
		for _, pid := range strings.Fields(string(out)) {
			exec.Command("kill", "-9", pid).Run()
		}
		exec.Command("ip", "link", "del", vethA).Run()
		exec.Command("ip", "netns", "del", s.ns).Run()
	})
	must("ip", "link", "add", vethA, "type", "veth", "peer", "name", vethB)
	must("ip", "link", "set", vethB, "netns", s.ns)
	must("ip", "addr", "add", s.hostIP+"/30", "dev", vethA)
	must("ip", "link", "set", vethA, "up")
	must("ip", "netns", "exec", s.ns, "ip", "addr", "add", s.serverIP+"/30", "dev", vethB)
	must("ip", "netns", "exec", s.ns, "ip", "link", "set", vethB, "up")
	must("ip", "netns", "exec", s.ns, "ip", "link", "set", "lo", "up")
	// The server shares this machine's Docker engine, whose containers sit
	// on bridges of this side: its agent reaches them through the pair,
	// as an agent beside its engine reaches them on its own bridges.
	must("ip", "netns", "exec", s.ns, "ip", "route", "add", "default", "via", s.hostIP)
	os.MkdirAll("/run/sshd", 0o755)

	s.clientKey = s.keygen(t, "client")
	s.strangeKey = s.keygen(t, "stranger")
	pub, _ := os.ReadFile(filepath.Join(s.dir, "client.pub"))
	os.WriteFile(filepath.Join(s.dir, "authorized_keys"), pub, 0o600)
	return s
}

func (s *sshNet) keygen(t *testing.T, name string) string {
	t.Helper()
	path := filepath.Join(s.dir, name)
	os.Remove(path)
	if out, err := exec.Command("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", name, "-f", path).CombinedOutput(); err != nil {
		t.Fatalf("ssh-keygen: %v\n%s", err, out)
	}
	b, _ := os.ReadFile(path)
	return string(b)
}

// sshd runs a real sshd on port in the namespace with a new host key,
// until stop or the test ends. Without docker, the Docker socket is
// hidden from its sessions, as on a server with no engine.
func (s *sshNet) sshd(t *testing.T, port int, docker bool) (hostKey string, stop func()) {
	t.Helper()
	name := "host" + strconv.Itoa(port)
	s.keygen(t, name)
	pub, _ := os.ReadFile(filepath.Join(s.dir, name+".pub"))
	cfg := filepath.Join(s.dir, name+".conf")
	conf := fmt.Sprintf(`ListenAddress %s:%d
HostKey %s
PidFile %s
AuthorizedKeysFile %s
PermitRootLogin prohibit-password
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
StrictModes no
AllowTcpForwarding no
`, s.serverIP, port, filepath.Join(s.dir, name), filepath.Join(s.dir, name+".pid"), filepath.Join(s.dir, "authorized_keys"))
	os.WriteFile(cfg, []byte(conf), 0o600)
	var cmd *exec.Cmd
	if docker {
		cmd = exec.Command("ip", "netns", "exec", s.ns, "/usr/sbin/sshd", "-D", "-e", "-f", cfg)
	} else {
		cmd = exec.Command("ip", "netns", "exec", s.ns, "unshare", "-m", "sh", "-c",
			"mount --bind /dev/null /run/docker.sock && exec /usr/sbin/sshd -D -e -f "+cfg)
	}
	log := &lockedBuffer{}
	cmd.Stdout, cmd.Stderr = log, log
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	stopped := false
	stop = func() {
		if !stopped {
			stopped = true
			cmd.Process.Kill()
			cmd.Wait()
		}
	}
	t.Cleanup(stop)
	eventually(t, 10*time.Second, "sshd listening", func() bool {
		c, err := net.DialTimeout("tcp", net.JoinHostPort(s.serverIP, strconv.Itoa(port)), time.Second)
		if err == nil {
			c.Close()
		}
		return err == nil
	})
	return strings.TrimSpace(string(pub)), stop
}

// TestDockerDeploySSH provisions Docker Deploy hosts on real sshd servers
// in a network namespace: one becomes active (agent over mutual TLS on the
// server's address, portal healthy), a key the server refuses and an
// unreachable server answer 422 and create nothing, a server without
// Docker fails with the reason, and a changed host key is refused.
func TestDockerDeploySSH(t *testing.T) {
	requireDocker(t)
	sn := newSSHNet(t)
	hostKey, _ := sn.sshd(t, 22, true)
	_, stopNoDocker := sn.sshd(t, 2222, false)
	// The API listens where the servers' portals reach it.
	p := start(t, func(c *up.Config) { c.Listen = sn.hostIP + ":0" })
	ctx := context.Background()
	o, ws, _ := p.tenant(t, "SSH Co")
	ws2, err := p.api.CreateWorkspace(ctx, client.CreateWorkspace{OrgID: o.ID, Name: "refused"})
	if err != nil {
		t.Fatal(err)
	}
	ws3, err := p.api.CreateWorkspace(ctx, client.CreateWorkspace{OrgID: o.ID, Name: "no docker"})
	if err != nil {
		t.Fatal(err)
	}
	target := func(port int, key string) client.SSHTarget {
		return client.SSHTarget{Address: net.JoinHostPort(sn.serverIP, strconv.Itoa(port)), User: "root", PrivateKey: key}
	}

	// Refused: a key the server does not accept, nothing listening, a
	// host key that is not the server's.
	for _, tc := range []struct {
		target client.SSHTarget
		code   string
	}{
		{target(22, sn.strangeKey), "ssh_auth_refused"},
		{target(2223, sn.clientKey), "ssh_unreachable"},
		{client.SSHTarget{Address: sn.serverIP, User: "root", PrivateKey: sn.clientKey, HostKey: sn.keygenPub(t)}, "ssh_host_key_mismatch"},
		{client.SSHTarget{Address: sn.serverIP, User: "root", PrivateKey: "not a key"}, "invalid_ssh_target"},
	} {
		_, err := p.api.EnsureHost(ctx, client.EnsureHost{WorkspaceID: ws2.ID, SSH: tc.target})
		var prob *client.Problem
		if !asProblem(err, &prob) || prob.Status != 422 || prob.Code != tc.code {
			t.Errorf("ensure with %s target: %v, want 422 %s", tc.code, err, tc.code)
		} else if strings.Contains(prob.Detail, sn.serverIP) {
			t.Errorf("%s names the server's address: %s", tc.code, prob.Detail)
		}
	}
	if hosts, _ := p.api.ListHosts(ctx, ws2.ID); len(hosts) != 0 {
		t.Fatalf("refused ensures made hosts: %+v", hosts)
	}

	// A server that accepts the key: pinned on first use, bootstrapped,
	// active once the agent answers over mutual TLS and the portal its
	// /healthz.
	t0 := time.Now()
	h, err := p.api.EnsureHost(ctx, client.EnsureHost{WorkspaceID: ws.ID, SSH: target(22, sn.clientKey)})
	if err != nil {
		t.Fatalf("ensure: %v", err)
	}
	h = waitHost(t, p, h.ID, 2*time.Minute, "active", "failed")
	if h.State != "active" {
		t.Fatalf("ssh host = %+v", h)
	}
	t.Logf("ssh host active in %s (binary copied, services started)", time.Since(t0).Round(time.Millisecond))
	if evs, err := p.api.Events(ctx, h.ID, 0); err == nil {
		for _, e := range evs {
			t.Logf("  %s %s: %s", e.CreatedAt.Sub(t0).Round(time.Millisecond), e.Type, e.Message)
		}
	}
	if h.Agent.Status != "healthy" || h.Portal.Status != "healthy" {
		t.Fatalf("ssh host health: agent %+v, portal %+v", h.Agent, h.Portal)
	}
	home, _ := os.UserHomeDir()
	hostDir := filepath.Join(home, ".berth", "hosts", h.ID)
	t.Cleanup(func() { os.RemoveAll(hostDir) })
	secret, err := os.ReadFile(filepath.Join(hostDir, "secret"))
	if err != nil {
		t.Fatalf("the agent's files are not on the server: %v", err)
	}
	agentAddr := net.JoinHostPort(sn.serverIP, "7443")
	checkAgentTLS(t, p.dataDir, h.ID, agentAddr, strings.TrimSpace(string(secret)))
	// The agent runs as a service: killed, it comes back.
	out, _ := exec.Command("pgrep", "-f", "berth agent --dir "+hostDir).Output()
	pids := strings.Fields(string(out))
	if len(pids) != 1 {
		t.Fatalf("agent processes on the server: %q", out)
	}
	exec.Command("kill", "-9", pids[0]).Run()
	eventually(t, 15*time.Second, "the agent restarted by its supervisor", func() bool {
		out, _ := exec.Command("pgrep", "-f", "berth agent --dir "+hostDir).Output()
		now := strings.Fields(string(out))
		return len(now) == 1 && now[0] != pids[0]
	})
	eventually(t, 15*time.Second, "the restarted agent answering", func() bool {
		status, err := agentHealth(t, p.dataDir, h.ID, agentAddr, true, strings.TrimSpace(string(secret)))
		return err == nil && status == 200
	})
	checkAgentTLS(t, p.dataDir, h.ID, agentAddr, strings.TrimSpace(string(secret)))

	// A second ensure returns it, without logging in again.
	if again, err := p.api.EnsureHost(ctx, client.EnsureHost{WorkspaceID: ws.ID}); err != nil || again.ID != h.ID || again.State != "active" {
		t.Fatalf("ensure again = %+v, %v", again, err)
	}
	// Nothing shown names the server, its key or the agent.
	for _, path := range []string{"/docker-deploy/hosts/" + h.ID, "/docker-deploy/hosts", "/events?resource_id=" + h.ID} {
		var b strings.Builder
		if err := p.api.Do(ctx, "GET", path, nil, "", &b); err != nil {
			t.Fatal(err)
		}
		for _, leak := range []string{sn.serverIP, "7443", strings.TrimSpace(string(secret)), "PRIVATE KEY", hostKey} {
			if strings.Contains(b.String(), leak) {
				t.Errorf("GET %s shows %q: %s", path, leak, b.String())
			}
		}
	}

	sshHostApps(t, p, sn, h, ws, filepath.Join(hostDir, "agent.addr"), strings.TrimSpace(string(secret)))

	// A server without a Docker engine: the host fails with the reason.
	h3, err := p.api.EnsureHost(ctx, client.EnsureHost{WorkspaceID: ws3.ID, SSH: target(2222, sn.clientKey)})
	if err != nil {
		t.Fatalf("ensure on the server without docker: %v", err)
	}
	t.Cleanup(func() { os.RemoveAll(filepath.Join(home, ".berth", "hosts", h3.ID)) })
	h3 = waitHost(t, p, h3.ID, 2*time.Minute, "active", "failed")
	if h3.State != "failed" || !strings.Contains(h3.StateReason, "Docker") || strings.Contains(h3.StateReason, sn.serverIP) ||
		strings.Contains(h3.StateReason, "docker.sock") {
		t.Fatalf("host on a server without docker = %+v", h3)
	}
	t.Logf("no docker: %s", h3.StateReason)

	// Its host key was pinned: a server answering with another key is
	// refused when the host is retried.
	stopNoDocker()
	sn.sshd(t, 2222, true) // a new host key, and Docker this time
	_, err = p.api.EnsureHost(ctx, client.EnsureHost{WorkspaceID: ws3.ID})
	var prob *client.Problem
	if !asProblem(err, &prob) || prob.Code != "ssh_host_key_mismatch" {
		t.Fatalf("retry against a changed host key: %v, want ssh_host_key_mismatch", err)
	}
	if cur, _ := p.api.GetHost(ctx, h3.ID); cur.State != "failed" {
		t.Fatalf("a refused retry changed the host: %+v", cur)
	}

	// Another workspace's host on the same server takes the next free
	// ports: both hosts are active, with agents on different ports.
	ws4, err := p.api.CreateWorkspace(ctx, client.CreateWorkspace{OrgID: o.ID, Name: "neighbour"})
	if err != nil {
		t.Fatal(err)
	}
	h4, err := p.api.EnsureHost(ctx, client.EnsureHost{WorkspaceID: ws4.ID, SSH: target(22, sn.clientKey)})
	if err != nil {
		t.Fatalf("ensure a second host on the server: %v", err)
	}
	t.Cleanup(func() { os.RemoveAll(filepath.Join(home, ".berth", "hosts", h4.ID)) })
	if h4 = waitHost(t, p, h4.ID, 2*time.Minute, "active", "failed"); h4.State != "active" || h4.Portal.Status != "healthy" {
		t.Fatalf("the second host on the server = %+v", h4)
	}
	out, _ = exec.Command("pgrep", "-af", "berth agent --dir "+filepath.Join(home, ".berth", "hosts", h4.ID)).Output()
	if strings.Contains(string(out), ":7443") || !strings.Contains(string(out), "--listen") {
		t.Fatalf("the second host's agent: %q, want it off port 7443", out)
	}
	if cur, err := p.api.GetHost(ctx, h.ID); err != nil || cur.State != "active" || cur.Agent.Status != "healthy" {
		t.Fatalf("the first host after the second came up: %+v, %v", cur, err)
	}
}

// keygenPub makes a key pair and returns its public half: a host key no
// server has.
func (s *sshNet) keygenPub(t *testing.T) string {
	s.keygen(t, "other-host")
	b, _ := os.ReadFile(filepath.Join(s.dir, "other-host.pub"))
	return strings.TrimSpace(string(b))
}
