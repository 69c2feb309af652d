package e2e

import (
	"bufio"
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/berth-dev/berth/client"
	"github.com/berth-dev/berth/internal/pki"
	"github.com/berth-dev/berth/internal/up"
)

// sshHostApps deploys an app to the active SSH host h and checks that
// the edge reaches it, and the host's portal, only through the agent's
// tunnel: the app answers 200 at its URL, over few pooled tunnel
// connections; with the agent frozen it does not answer; the tunnel
// refuses what is not its containers' and clients without the
// certificate; nothing answered names the agent.
func sshHostApps(t *testing.T, p *platform, sn *sshNet, h *client.Host, ws *client.Workspace, addrFile, secret string) {
	ctx := context.Background()
	pr, err := p.api.CreateProject(ctx, client.CreateProject{WorkspaceID: ws.ID, Name: "Remote Site"})
	if err != nil {
		t.Fatal(err)
	}
	rel, err := p.api.CreateRelease(ctx, makeTar(file("index.html", "<h1>served from the ssh host</h1>")), client.ReleaseOptions{ProjectID: pr.ID})
	if err != nil {
		t.Fatal(err)
	}
	t0 := time.Now()
	d, err := p.api.Deploy(ctx, client.CreateDeployment{ProjectID: pr.ID, ReleaseID: rel.ID, DeploymentProduct: "docker_deploy"})
	if err != nil {
		t.Fatalf("deploy to the ssh host: %v", err)
	}
	d = waitReady(t, p, d.ID, rel.ID)
	t.Logf("deploy to the ssh host → serving in %s", time.Since(t0).Round(time.Millisecond))
	var answers []string
	record := func(resp *http.Response, body string) {
		var hdr strings.Builder
		resp.Header.Write(&hdr)
		answers = append(answers, hdr.String()+"\n"+body)
	}
	countTunnels := func() int {
		out, _ := exec.Command("ip", "netns", "exec", sn.ns, "ss", "-Htn", "state", "established", "( sport = :7443 )").Output()
		return len(strings.Split(strings.TrimSpace(string(out)), "\n"))
	}
	before := countTunnels()
	for i := range 30 {
		resp, err := p.web.Get(d.URL)
		if err != nil {
			t.Fatalf("request %d to the app on the ssh host: %v", i, err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || !strings.Contains(string(b), "served from the ssh host") {
			t.Fatalf("request %d to the app on the ssh host: %d %q", i, resp.StatusCode, b)
		}
		if i == 0 {
			record(resp, string(b))
		}
	}
	if after := countTunnels(); after-before > 2 {
		t.Errorf("30 requests opened %d connections to the agent; keep-alive should carry them on one or two", after-before)
	}

	// A new release takes over through the tunnel with no failed request.
	rel2, err := p.api.CreateRelease(ctx, makeTar(file("index.html", "<h1>served from the ssh host, again</h1>")), client.ReleaseOptions{ProjectID: pr.ID})
	if err != nil {
		t.Fatal(err)
	}
	stop, fails, last := loop(p, d.URL)
	if _, err := p.api.Deploy(ctx, client.CreateDeployment{ProjectID: pr.ID, ReleaseID: rel2.ID, DeploymentProduct: "docker_deploy"}); err != nil {
		t.Fatal(err)
	}
	d = waitReady(t, p, d.ID, rel2.ID)
	time.Sleep(3 * time.Second) // past the old container's drain and stop
	if n, f := stop(), fails.Load(); f != 0 || n < 20 {
		t.Fatalf("%d of %d requests failed while a new release took over on the ssh host; last failure: %v", f, n, last.Load())
	} else {
		t.Logf("redeploy on the ssh host: %d requests through the tunnel, 0 failed", n)
	}

	// The way is the agent: frozen, it takes the app with it.
	out, _ := exec.Command("pgrep", "-f", "berth agent --dir "+filepath.Dir(addrFile)).Output()
	pid := 0
	fmt.Sscan(string(out), &pid)
	if pid == 0 {
		t.Fatalf("no agent process: %q", out)
	}
	syscall.Kill(pid, syscall.SIGSTOP)
	short := webClient(p.edgeAddr)
	short.Timeout = 2 * time.Second
	if resp, err := short.Get(d.URL); err == nil {
		resp.Body.Close()
		if resp.StatusCode == 200 {
			syscall.Kill(pid, syscall.SIGCONT)
			t.Fatal("the app answered through the edge while the host's agent was stopped: the edge reaches it another way")
		}
	}
	syscall.Kill(pid, syscall.SIGCONT)
	eventually(t, 20*time.Second, "the app answering again once the agent runs", func() bool {
		resp, err := short.Get(d.URL)
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == 200
	})

	// The tunnel refuses what is not a port of the agent's containers:
	// an app of the pool, the agent itself; and a client without the
	// control plane's certificate.
	addrB, _ := os.ReadFile(addrFile)
	agentAddr := strings.TrimSpace(string(addrB))
	_, _, poolPr := p.tenant(t, "Pool Co")
	poolRel, err := p.api.CreateRelease(ctx, makeTar(file("index.html", "pool app")), client.ReleaseOptions{ProjectID: poolPr.ID})
	if err != nil {
		t.Fatal(err)
	}
	poolDep, err := p.api.Deploy(ctx, client.CreateDeployment{ProjectID: poolPr.ID, ReleaseID: poolRel.ID})
	if err != nil {
		t.Fatal(err)
	}
	waitReady(t, p, poolDep.ID, poolRel.ID)
	poolUp := containerPort(t, poolDep.ID)
	for _, target := range []string{poolUp, agentAddr, "127.0.0.1:22", sn.serverIP + ":22"} {
		if status := connect(t, p.dataDir, h.ID, agentAddr, secret, target, true); status != http.StatusForbidden {
			t.Errorf("CONNECT %s through the ssh host's agent: %d, want 403", target, status)
		}
	}
	appUp := containerPort(t, d.ID)
	if status := connect(t, p.dataDir, h.ID, agentAddr, secret, appUp, true); status != http.StatusOK {
		t.Errorf("CONNECT to the app's own port: %d, want 200", status)
	}
	if status := connect(t, p.dataDir, h.ID, agentAddr, secret, appUp, false); status != 0 {
		t.Errorf("CONNECT without the client certificate: %d, want a refused handshake", status)
	}

	// The portal, on the server's loopback, through the same tunnel.
	h, err = p.api.GetHost(ctx, h.ID)
	if err != nil || h.PortalURL == "" {
		t.Fatalf("host %+v has no portal_url (%v)", h, err)
	}
	resp, err := p.web.Get(h.PortalURL + "/login")
	if err != nil {
		t.Fatalf("the ssh host's portal through the edge: %v", err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(b), `name="password"`) {
		t.Fatalf("the ssh host's portal login page: %d %.300q", resp.StatusCode, b)
	}
	record(resp, string(b))
	pw, err := p.api.SetPortalPassword(ctx, h.ID, "")
	if err != nil {
		t.Fatalf("setting the ssh host's portal password: %v", err)
	}
	page := portalSignIn(t, p, h.PortalURL, pw)
	if !strings.Contains(page, "Remote Site") {
		t.Fatalf("the ssh host's portal after sign-in does not list the project: %.500q", page)
	}
	answers = append(answers, page)
	for _, a := range answers {
		for _, leak := range []string{sn.serverIP, agentAddr, ":7443", "7790", secret} {
			if strings.Contains(a, leak) {
				t.Errorf("an answer through the edge names %q:\n%.500s", leak, a)
			}
		}
	}
}

// containerPort is the published address of a deployment's container,
// as the engine reports it.
func containerPort(t *testing.T, depID string) string {
	t.Helper()
	out, err := exec.Command("docker", "ps", "--filter", "label=berth.deployment="+depID, "--format", "{{.Ports}}").Output()
	if err != nil {
		t.Fatal(err)
	}
	// "127.0.0.1:49153->80/tcp"
	addr, _, ok := strings.Cut(strings.TrimSpace(string(out)), "->")
	if !ok {
		t.Fatalf("no published port for %s: %q", depID, out)
	}
	return addr
}

// connect asks the agent at agentAddr for a tunnel to target, as the
// control plane would (with its certificate when withCert), and returns
// the status of the answer, 0 when the handshake is refused.
func connect(t *testing.T, dataDir, hostID, agentAddr, secret, target string, withCert bool) int {
	t.Helper()
	caPEM, _ := os.ReadFile(filepath.Join(dataDir, "pki", "ca.crt"))
	roots := x509.NewCertPool()
	roots.AppendCertsFromPEM(caPEM)
	cfg := &tls.Config{RootCAs: roots, ServerName: pki.AgentServerName(hostID)}
	if withCert {
		cert, err := tls.LoadX509KeyPair(filepath.Join(dataDir, "pki", "control.crt"), filepath.Join(dataDir, "pki", "control.key"))
		if err != nil {
			t.Fatal(err)
		}
		cfg.Certificates = []tls.Certificate{cert}
	}
	conn, err := tls.DialWithDialer(&net.Dialer{Timeout: 5 * time.Second}, "tcp", agentAddr, cfg)
	if err != nil {
		return 0
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(5 * time.Second))
	fmt.Fprintf(conn, "CONNECT %s HTTP/1.1\r\nHost: %s\r\nAuthorization: Bearer %s\r\n\r\n", target, target, secret)
	resp, err := http.ReadResponse(bufio.NewReader(conn), &http.Request{Method: http.MethodConnect})
	if err != nil {
		return 0 // TLS 1.3 reports a refused client certificate on the first read
	}
	return resp.StatusCode
}

// TestComposeOnSSHHost runs the compose starter on a Docker Deploy host
// reached over SSH: its web service answers through the agent's tunnel,
// the API reaches Postgres by name, and a redeploy under load keeps the
// database in place and loses no request.
func TestComposeOnSSHHost(t *testing.T) {
	ensureTemplateImages(t)
	ensureDataImages(t)
	sn := newSSHNet(t)
	sn.sshd(t, 22, true)
	p := start(t, withBuildCA(t), func(c *up.Config) { c.Listen = sn.hostIP + ":0" })
	ctx := context.Background()
	_, ws, pr := p.tenant(t, "Compose SSH Co")
	h, err := p.api.EnsureHost(ctx, client.EnsureHost{WorkspaceID: ws.ID,
		SSH: client.SSHTarget{Address: sn.serverIP, User: "root", PrivateKey: sn.clientKey}})
	if err != nil {
		t.Fatal(err)
	}
	home, _ := os.UserHomeDir()
	t.Cleanup(func() { os.RemoveAll(filepath.Join(home, ".berth", "hosts", h.ID)) })
	if h = waitHost(t, p, h.ID, 2*time.Minute, "active", "failed"); h.State != "active" {
		t.Fatalf("ssh host = %+v", h)
	}
	rel, err := p.api.CreateRelease(ctx, starterTar(t, "compose-full-stack", nil), client.ReleaseOptions{ProjectID: pr.ID})
	if err != nil {
		t.Fatal(err)
	}
	d, err := p.api.Deploy(ctx, client.CreateDeployment{ProjectID: pr.ID, ReleaseID: rel.ID, DeploymentProduct: "docker_deploy"})
	if err != nil {
		t.Fatal(err)
	}
	d = waitReadyFor(t, p, d.ID, rel.ID, 6*time.Minute)
	if code, body, _ := p.get(t, d.URL+"/"); code != http.StatusOK || !strings.Contains(body, "It works.") {
		t.Fatalf("GET / on the ssh host: %d %.300q", code, body)
	}
	if visits := p.postVisit(t, d.URL); visits != 1 {
		t.Fatalf("the API on the ssh host counted %d visits, want 1", visits)
	}
	db := serviceIDs(t, d.ID)["db"]

	edited := map[string]string{"web/server.js": strings.Replace(starterFile(t, "web/server.js"), "It works.", "It works again.", 1)}
	rel2, err := p.api.CreateRelease(ctx, starterTar(t, "compose-full-stack", edited), client.ReleaseOptions{ProjectID: pr.ID})
	if err != nil {
		t.Fatal(err)
	}
	stop, fails, last := loop(p, d.URL+"/api/stats")
	if _, err := p.api.Deploy(ctx, client.CreateDeployment{ProjectID: pr.ID, ReleaseID: rel2.ID, DeploymentProduct: "docker_deploy"}); err != nil {
		t.Fatal(err)
	}
	d = waitReadyFor(t, p, d.ID, rel2.ID, 6*time.Minute)
	eventually(t, time.Minute, "the old release's services to be retired", func() bool { return serviceContainers(t, d.ID) == 5 })
	if n, f := stop(), fails.Load(); f != 0 || n < 20 {
		t.Fatalf("%d of %d requests to /api/stats on the ssh host failed during the redeploy; last failure: %v", f, n, last.Load())
	} else {
		t.Logf("compose redeploy on the ssh host: %d requests through the tunnel, 0 failed", n)
	}
	if code, body, _ := p.get(t, d.URL+"/"); code != http.StatusOK || !strings.Contains(body, "It works again.") {
		t.Fatalf("GET / after the redeploy: %d %.300q", code, body)
	}
	if now := serviceIDs(t, d.ID)["db"]; now != db {
		t.Fatalf("the redeploy replaced the unchanged database (%s, then %s)", db, now)
	}
	if s := p.stats(t, d.URL); s.Visits != 1 {
		t.Fatalf("after the redeploy: %+v, want the visit of before", s)
	}
}
