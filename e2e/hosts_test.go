package e2e

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/berth-dev/berth/client"
	"github.com/berth-dev/berth/internal/control/agents"
	"github.com/berth-dev/berth/internal/pki"
	"github.com/berth-dev/berth/internal/up"
)

// gatedAgent writes a stand-in for the berth binary that runs it, except
// that `berth agent` waits while the file hold exists in dir, and exits
// with an error while the file crash does: a bootstrap held in the
// middle, and an agent that crashes at start.
func gatedAgent(t testing.TB) (bin, dir string) {
	t.Helper()
	dir = t.TempDir()
	bin = filepath.Join(dir, "berth")
	script := fmt.Sprintf(`#!/bin/sh
if [ "$1" = agent ]; then
  while [ -e %[1]s/hold ]; do sleep 0.05; done
  if [ -e %[1]s/crash ]; then echo "agent: cannot open the docker socket: permission denied (simulated)" >&2; exit 3; fi
fi
exec %[2]s "$@"
`, dir, berthBin)
	if err := os.WriteFile(bin, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	return bin, dir
}

func touch(t testing.TB, path string) {
	t.Helper()
	if err := os.WriteFile(path, nil, 0o644); err != nil {
		t.Fatal(err)
	}
}

// waitHost waits until a host is in one of the states.
func waitHost(t testing.TB, p *platform, hostID string, d time.Duration, states ...string) *client.Host {
	t.Helper()
	var h *client.Host
	eventually(t, d, "host "+hostID+" in "+strings.Join(states, "|"), func() bool {
		var err error
		if h, err = p.api.GetHost(context.Background(), hostID); err != nil {
			t.Fatalf("get host: %v", err)
		}
		for _, s := range states {
			if h.State == s {
				return true
			}
		}
		return false
	})
	return h
}

// recorder keeps every body the public API answered, to look for leaks.
type recorder struct {
	mu     sync.Mutex
	bodies []string
	next   http.RoundTripper
}

func (r *recorder) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := r.next.RoundTrip(req)
	if err != nil {
		return nil, err
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	resp.Body = io.NopCloser(bytes.NewReader(b))
	var hdr bytes.Buffer
	resp.Header.Write(&hdr)
	r.mu.Lock()
	r.bodies = append(r.bodies, req.Method+" "+req.URL.Path+"\n"+hdr.String()+"\n"+string(b))
	r.mu.Unlock()
	return resp, nil
}

func (r *recorder) all() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.bodies...)
}

// TestDockerDeployHost is the story of a workspace's Docker Deploy host on
// the local provisioner: ensure (idempotent), a publish that waits while
// the host bootstraps and proceeds on its own once it is active, an agent
// that answers only over mutual TLS, nothing of the agent in any answer,
// a second release that leaves the first frozen as the standby (counted
// in the host's usage), an agent crash that fails the host with its
// cause, and a retry.
func TestDockerDeployHost(t *testing.T) {
	bin, gate := gatedAgent(t)
	p := start(t, func(c *up.Config) {
		c.AgentBinary = bin
		c.Limits = agents.Limits{MemoryBytes: 256 << 20, NanoCPUs: 5e8}
	})
	rec := &recorder{next: http.DefaultTransport}
	p.api.HTTP = &http.Client{Transport: rec}
	ctx := context.Background()
	o, ws, pr := p.tenant(t, "Docker Co")
	_, otherWS, _ := p.tenant(t, "Other Co")

	// Bad input creates nothing.
	orgKey, err := p.api.CreateAPIKey(ctx, client.CreateAPIKey{Name: "org", OrgID: o.ID, Role: "admin"})
	if err != nil {
		t.Fatal(err)
	}
	orgAPI := client.New(p.apiURL, orgKey.Secret)
	orgAPI.HTTP = p.api.HTTP
	for _, tc := range []struct {
		api  *client.Client
		in   client.EnsureHost
		code string
	}{
		{p.api, client.EnsureHost{WorkspaceID: "ws_01m000000000000000000000x0"}, "workspace_not_found"},
		{orgAPI, client.EnsureHost{WorkspaceID: otherWS.ID}, "workspace_not_found"},
		{p.api, client.EnsureHost{}, "missing_workspace_id"},
	} {
		_, err := tc.api.EnsureHost(ctx, tc.in)
		var prob *client.Problem
		if !asProblem(err, &prob) || prob.Code != tc.code || prob.Status != 422 {
			t.Errorf("ensure %+v: %v, want 422 %s", tc.in, err, tc.code)
		}
	}
	if hosts, err := p.api.ListHosts(ctx, ""); err != nil || len(hosts) != 0 {
		t.Fatalf("refused ensures left hosts: %+v %v", hosts, err)
	}

	// Ensure while the agent is held: the host stays in bootstrapping.
	touch(t, filepath.Join(gate, "hold"))
	h, err := orgAPI.EnsureHost(ctx, client.EnsureHost{WorkspaceID: ws.ID})
	if err != nil {
		t.Fatalf("ensure: %v", err)
	}
	if h.State != "provisioning" || h.WorkspaceID != ws.ID {
		t.Fatalf("new host = %+v", h)
	}
	waitHost(t, p, h.ID, 10*time.Second, "bootstrapping")
	again, err := p.api.EnsureHost(ctx, client.EnsureHost{WorkspaceID: ws.ID})
	if err != nil || again.ID != h.ID {
		t.Fatalf("second ensure = %+v, %v; want host %s", again, err, h.ID)
	}
	if hosts, _ := p.api.ListHosts(ctx, ws.ID); len(hosts) != 1 {
		t.Fatalf("ensuring twice made %d hosts", len(hosts))
	}

	// A docker_deploy deployment waits for the host, and never runs on
	// the pool.
	rel, err := p.api.CreateRelease(ctx, makeTar(file("index.html", "<h1>on the dedicated host</h1>")), client.ReleaseOptions{ProjectID: pr.ID})
	if err != nil {
		t.Fatal(err)
	}
	d, err := p.api.Deploy(ctx, client.CreateDeployment{ProjectID: pr.ID, ReleaseID: rel.ID, DeploymentProduct: "docker_deploy"})
	if err != nil {
		t.Fatalf("deploy: %v", err)
	}
	if d.Ready || d.Status != "pending" || !strings.Contains(d.StatusReason, "Docker Deploy host") {
		t.Fatalf("deployment while the host bootstraps = %+v", d)
	}
	time.Sleep(1500 * time.Millisecond) // time enough for a wrong placement to start a container
	if d, err = p.api.GetDeployment(ctx, d.ID); err != nil || d.Ready || d.Status != "pending" || !strings.Contains(d.StatusReason, "bootstrapping") {
		t.Fatalf("deployment while the host bootstraps = %+v, %v", d, err)
	}
	if out, _ := exec.Command("docker", "ps", "-aq", "--filter", "label=berth.deployment="+d.ID).Output(); len(bytes.TrimSpace(out)) != 0 {
		t.Fatalf("a container runs for the waiting deployment: %s", out)
	}
	if code, body, _ := p.get(t, d.URL); strings.Contains(body, "on the dedicated host") {
		t.Fatalf("the URL serves the app before its host is active: %d %q", code, body)
	}

	// Let the agent start: the host turns active and the deployment
	// proceeds on its own.
	t0 := time.Now()
	os.Remove(filepath.Join(gate, "hold"))
	h = waitHost(t, p, h.ID, 30*time.Second, "active", "failed")
	if h.State != "active" {
		t.Fatalf("host = %+v", h)
	}
	t.Logf("held host active %s after release", time.Since(t0).Round(time.Millisecond))
	if h.Agent.Status != "healthy" || (h.Portal.Status != "healthy" && h.Portal.Status != "skipped") || h.Agent.CheckedAt.IsZero() {
		t.Fatalf("host health = agent %+v portal %+v", h.Agent, h.Portal)
	}
	var states []string
	for _, tr := range h.Transitions {
		states = append(states, tr.State)
	}
	if strings.Join(states, ",") != "provisioning,bootstrapping,active" {
		t.Fatalf("transitions = %v", states)
	}
	d = waitReady(t, p, d.ID, rel.ID)
	if code, body, _ := p.get(t, d.URL); code != 200 || !strings.Contains(body, "on the dedicated host") {
		t.Fatalf("%s served %d %q", d.URL, code, body)
	}
	if h, _ = p.api.GetHost(ctx, h.ID); h.Usage.Containers != 1 {
		t.Fatalf("host usage = %+v, want 1 container", h.Usage)
	}
	evs, err := p.api.Events(ctx, h.ID, 0)
	if err != nil || len(evs) < 3 || evs[len(evs)-1].Type != "host.active" {
		t.Fatalf("host events = %+v, %v", evs, err)
	}

	// The agent answers only the control plane: mutual TLS and the
	// host's credential.
	hostDir := filepath.Join(p.dataDir, "hosts", h.ID)
	addrB, err := os.ReadFile(filepath.Join(hostDir, "agent.addr"))
	if err != nil {
		t.Fatal(err)
	}
	agentAddr := strings.TrimSpace(string(addrB))
	secretB, _ := os.ReadFile(filepath.Join(hostDir, "secret"))
	secret := strings.TrimSpace(string(secretB))
	checkAgentTLS(t, p.dataDir, h.ID, agentAddr, secret)

	// Nothing the API or the edge answered names the agent.
	_, port, _ := strings.Cut(agentAddr, ":")
	rec.mu.Lock()
	for _, u := range []string{d.URL, strings.Replace(d.URL, pr.Slug, "nope", 1)} {
		resp, err := p.web.Get(u)
		if err == nil {
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			var hdr bytes.Buffer
			resp.Header.Write(&hdr)
			rec.bodies = append(rec.bodies, "edge "+u+"\n"+hdr.String()+string(b))
		}
	}
	rec.mu.Unlock()
	p.api.ListHosts(ctx, "")
	p.api.Events(ctx, d.ID, 0)
	var evList bytes.Buffer
	p.api.Do(ctx, "GET", "/events?resource_id="+h.ID, nil, "", &evList)
	for _, b := range rec.all() {
		for _, leak := range []string{agentAddr, ":" + port, secret, "docker.sock", hostDir, "https://127.0.0.1"} {
			if strings.Contains(b, leak) {
				t.Errorf("an answer shows %q:\n%s", leak, b)
			}
		}
	}

	// A second release: the first one's container stays on the host as
	// the frozen standby, and counts in the host's usage (memory, not
	// CPU).
	rel2, err := p.api.CreateRelease(ctx, makeTar(file("index.html", "<h1>second on the host</h1>")), client.ReleaseOptions{ProjectID: pr.ID})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.api.Deploy(ctx, client.CreateDeployment{ProjectID: pr.ID, ReleaseID: rel2.ID, DeploymentProduct: "docker_deploy"}); err != nil {
		t.Fatal(err)
	}
	if d = waitReady(t, p, d.ID, rel2.ID); d.StandbyReleaseID != rel.ID {
		t.Fatalf("standby_release_id = %q, want %s", d.StandbyReleaseID, rel.ID)
	}
	containersAre(t, d.ID, "on the host after a second release", rel2.ID+" running", rel.ID+" paused")
	if h, _ = p.api.GetHost(ctx, h.ID); h.Usage.Containers != 2 || h.Usage.MemoryBytes != 2*256<<20 || h.Usage.CPUs != 0.5 {
		t.Fatalf("host usage = %+v, want 2 containers, 512 MiB, 0.5 CPUs", h.Usage)
	}

	// An agent that crashes at start fails the host with its output, and
	// a later ensure retries it.
	_, ws2, _ := p.tenant(t, "Crash Co")
	touch(t, filepath.Join(gate, "crash"))
	h2, err := p.api.EnsureHost(ctx, client.EnsureHost{WorkspaceID: ws2.ID})
	if err != nil {
		t.Fatal(err)
	}
	h2 = waitHost(t, p, h2.ID, 30*time.Second, "failed", "active")
	if h2.State != "failed" || !strings.Contains(h2.StateReason, "agent exited") || !strings.Contains(h2.StateReason, "simulated") {
		t.Fatalf("crashed host = %+v", h2)
	}
	os.Remove(filepath.Join(gate, "crash"))
	retried, err := p.api.EnsureHost(ctx, client.EnsureHost{WorkspaceID: ws2.ID})
	if err != nil || retried.ID != h2.ID || retried.State != "provisioning" {
		t.Fatalf("retry = %+v, %v", retried, err)
	}
	h2 = waitHost(t, p, h2.ID, 30*time.Second, "active", "failed")
	if h2.State != "active" || h2.StateReason != "" {
		t.Fatalf("retried host = %+v", h2)
	}
}

// agentHealth asks the agent at addr for its health, as the control plane
// does (the client certificate in dataDir, the host's credential) or
// without either.
func agentHealth(t testing.TB, dataDir, hostID, addr string, withCert bool, bearer string) (int, error) {
	t.Helper()
	caPEM, err := os.ReadFile(filepath.Join(dataDir, "pki", "ca.crt"))
	if err != nil {
		t.Fatal(err)
	}
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
	c := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{TLSClientConfig: cfg}}
	req, _ := http.NewRequest("GET", "https://"+addr+"/v1/health", nil)
	if bearer != "" {
		req.Header.Set("Authorization", "Bearer "+bearer)
	}
	resp, err := c.Do(req)
	if err != nil {
		return 0, err
	}
	resp.Body.Close()
	return resp.StatusCode, nil
}

// checkAgentTLS checks that the agent at addr refuses a client without
// the control plane's certificate, and answers one with it only with the
// host's credential.
func checkAgentTLS(t *testing.T, dataDir, hostID, addr, secret string) {
	t.Helper()
	if status, err := agentHealth(t, dataDir, hostID, addr, false, secret); err == nil {
		t.Fatalf("the agent answered %d to a client without a certificate", status)
	}
	if resp, err := (&http.Client{Timeout: 5 * time.Second}).Get("http://" + addr + "/v1/health"); err == nil {
		resp.Body.Close()
		if resp.StatusCode < 400 {
			t.Fatalf("the agent answered plain HTTP with %d", resp.StatusCode)
		}
	}
	if status, err := agentHealth(t, dataDir, hostID, addr, true, ""); err != nil || status != 401 {
		t.Fatalf("with the certificate but no credential: %d, %v; want 401", status, err)
	}
	if status, err := agentHealth(t, dataDir, hostID, addr, true, secret); err != nil || status != 200 {
		t.Fatalf("with the certificate and the credential: %d, %v; want 200", status, err)
	}
}

// TestDockerDeployManyApps deploys 20 static apps of one workspace to its
// host: all of them serve.
func TestDockerDeployManyApps(t *testing.T) {
	p := start(t)
	ctx := context.Background()
	_, ws, _ := p.tenant(t, "Many Co")
	h, err := p.api.EnsureHost(ctx, client.EnsureHost{WorkspaceID: ws.ID})
	if err != nil {
		t.Fatal(err)
	}
	const n = 20
	type app struct {
		d    *client.Deployment
		body string
	}
	apps := make([]app, n)
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := range n {
		wg.Go(func() {
			pr, err := p.api.CreateProject(ctx, client.CreateProject{WorkspaceID: ws.ID, Name: fmt.Sprintf("App %02d", i)})
			if err != nil {
				errs <- err
				return
			}
			body := fmt.Sprintf("<h1>app number %02d</h1>", i)
			rel, err := p.api.CreateRelease(ctx, makeTar(file("index.html", body)), client.ReleaseOptions{ProjectID: pr.ID})
			if err != nil {
				errs <- err
				return
			}
			d, err := p.api.Deploy(ctx, client.CreateDeployment{ProjectID: pr.ID, ReleaseID: rel.ID, DeploymentProduct: "docker_deploy"})
			if err != nil {
				errs <- err
				return
			}
			apps[i] = app{d: d, body: body}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	t0 := time.Now()
	for i, a := range apps {
		apps[i].d = waitReady(t, p, a.d.ID, a.d.ReleaseID)
	}
	t.Logf("%d apps ready %s after the last deploy call", n, time.Since(t0).Round(time.Millisecond))
	for _, a := range apps {
		if code, body, _ := p.get(t, a.d.URL); code != 200 || !strings.Contains(body, a.body) {
			t.Errorf("%s served %d %q, want %q", a.d.URL, code, body, a.body)
		}
	}
	h, err = p.api.GetHost(ctx, h.ID)
	if err != nil || h.State != "active" || h.Usage.Containers != n {
		t.Fatalf("host = %+v, %v; want active with %d containers", h, err, n)
	}
}

// TestDockerDeployCLI runs `berth docker-deploy ensure`, `berth
// docker-deploy hosts` and `berth deploy --docker-deploy` against a
// running berth.
func TestDockerDeployCLI(t *testing.T) {
	p := start(t)
	_, ws, pr := p.tenant(t, "CLI DD")
	env := append(os.Environ(), "BERTH_API_URL="+p.apiURL, "BERTH_API_KEY="+adminKey, "BERTH_CONFIG="+filepath.Join(t.TempDir(), "c.json"))
	run := func(args ...string) (string, string) {
		t.Helper()
		cmd := exec.Command(berthBin, args...)
		cmd.Env = env
		var stdout, stderr bytes.Buffer
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		if err := cmd.Run(); err != nil {
			t.Fatalf("berth %s: %v\n%s", strings.Join(args, " "), err, stderr.String())
		}
		return stdout.String(), stderr.String()
	}

	// Deploy before the host exists: the CLI says it waits.
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "index.html"), []byte("<h1>cli on docker deploy</h1>"), 0o644)
	deploy := exec.Command(berthBin, "deploy", dir, "--project", pr.ID, "--docker-deploy", "--timeout", "2m")
	deploy.Env = env
	var dOut, dErr lockedBuffer
	deploy.Stdout, deploy.Stderr = &dOut, &dErr
	if err := deploy.Start(); err != nil {
		t.Fatal(err)
	}
	eventually(t, 20*time.Second, "berth deploy saying it waits for the host", func() bool {
		return strings.Contains(dErr.String(), "waiting for the workspace's Docker Deploy host")
	})

	out, progress := run("docker-deploy", "ensure", "--workspace", ws.ID)
	var h client.Host
	if err := json.Unmarshal([]byte(out), &h); err != nil || h.State != "active" {
		t.Fatalf("ensure printed %q (%v)", out, err)
	}
	if !strings.Contains(progress, "agent") || !strings.Contains(progress, "ready in") {
		t.Fatalf("ensure progress = %q", progress)
	}
	out, _ = run("docker-deploy", "hosts", "--workspace", ws.ID)
	if !strings.Contains(out, h.ID) || !strings.Contains(out, "active") || h.PortalURL == "" || !strings.Contains(out, h.PortalURL) {
		t.Fatalf("hosts printed %q", out)
	}
	// A workspace admin's way in to the portal: generated, or set.
	out, _ = run("docker-deploy", "portal-password", h.ID)
	if pw := strings.TrimSpace(out); len(pw) < 16 || strings.Contains(pw, " ") {
		t.Fatalf("portal-password printed %q", out)
	} else if status, _ := portalTry(t, p, h.PortalURL, pw); status != http.StatusSeeOther {
		t.Fatalf("signing in with the generated password: %d", status)
	}
	set := exec.Command(berthBin, "docker-deploy", "portal-password", h.ID, "--stdin")
	set.Env, set.Stdin = env, strings.NewReader("chosen on the command line\n")
	if b, err := set.CombinedOutput(); err != nil || len(b) != 0 {
		t.Fatalf("portal-password --stdin: %v %q", err, b)
	}
	if status, _ := portalTry(t, p, h.PortalURL, "chosen on the command line"); status != http.StatusSeeOther {
		t.Fatalf("signing in with the password set on the command line: %d", status)
	}
	out, _ = run("docker-deploy", "ensure", "--workspace", ws.ID, "--no-wait")
	if !strings.Contains(out, h.ID) {
		t.Fatalf("ensure --no-wait printed %q", out)
	}

	if err := deploy.Wait(); err != nil {
		t.Fatalf("berth deploy --docker-deploy: %v\n%s", err, dErr.String())
	}
	url := strings.TrimSpace(dOut.String())
	if code, body, _ := p.get(t, url); code != 200 || !strings.Contains(body, "cli on docker deploy") {
		t.Fatalf("%s served %d %q", url, code, body)
	}
}

// BenchmarkDockerDeployEnsure: ensure (local provisioner) → host active,
// a new workspace each run.
func BenchmarkDockerDeployEnsure(b *testing.B) {
	p := start(b)
	ctx := context.Background()
	o, _, _ := p.tenant(b, "Bench DD")
	var d []time.Duration
	i := 0
	for b.Loop() {
		i++
		ws, err := p.api.CreateWorkspace(ctx, client.CreateWorkspace{OrgID: o.ID, Name: fmt.Sprintf("ws %d", i)})
		if err != nil {
			b.Fatal(err)
		}
		t0 := time.Now()
		h, err := p.api.EnsureHost(ctx, client.EnsureHost{WorkspaceID: ws.ID})
		if err != nil {
			b.Fatal(err)
		}
		for h.State != "active" {
			if h.State == "failed" {
				b.Fatalf("host failed: %s", h.StateReason)
			}
			time.Sleep(5 * time.Millisecond)
			if h, err = p.api.GetHost(ctx, h.ID); err != nil {
				b.Fatal(err)
			}
		}
		d = append(d, time.Since(t0))
	}
	reportMedian(b, d)
}

// BenchmarkDockerDeployDeploy: deploy of a static release to an active
// host → the URL serves it (image built each run).
func BenchmarkDockerDeployDeploy(b *testing.B) {
	p := start(b)
	ctx := context.Background()
	_, ws, pr := p.tenant(b, "Bench DD deploy")
	h, err := p.api.EnsureHost(ctx, client.EnsureHost{WorkspaceID: ws.ID})
	if err != nil {
		b.Fatal(err)
	}
	waitHost(b, p, h.ID, 30*time.Second, "active")
	var d []time.Duration
	i := 0
	for b.Loop() {
		i++
		body := fmt.Sprintf("<h1>run %d</h1>", i)
		rel, err := p.api.CreateRelease(ctx, makeTar(file("index.html", body)), client.ReleaseOptions{ProjectID: pr.ID})
		if err != nil {
			b.Fatal(err)
		}
		t0 := time.Now()
		dep, err := p.api.Deploy(ctx, client.CreateDeployment{ProjectID: pr.ID, ReleaseID: rel.ID, DeploymentProduct: "docker_deploy"})
		if err != nil {
			b.Fatal(err)
		}
		for {
			if _, got, _ := p.get(b, dep.URL); strings.Contains(got, body) {
				break
			}
			time.Sleep(10 * time.Millisecond)
		}
		d = append(d, time.Since(t0))
	}
	sort.Slice(d, func(i, j int) bool { return d[i] < d[j] })
	reportMedian(b, d)
}

// lockedBuffer is a bytes.Buffer a process writes while the test reads.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// TestDockerDeployHostResumes stops berth while a host bootstraps: the
// next start of berth on the same data dir finishes the bootstrap (nothing
// of it lived only in memory), and the host's deployment then serves.
func TestDockerDeployHostResumes(t *testing.T) {
	bin, gate := gatedAgent(t)
	dataDir := t.TempDir()
	opts := func(c *up.Config) { c.AgentBinary, c.DataDir = bin, dataDir }
	var hostID, depID, relID string
	touch(t, filepath.Join(gate, "hold"))
	t.Run("stopped while bootstrapping", func(t *testing.T) {
		p := start(t, opts)
		ctx := context.Background()
		_, ws, pr := p.tenant(t, "Resume Co")
		h, err := p.api.EnsureHost(ctx, client.EnsureHost{WorkspaceID: ws.ID})
		if err != nil {
			t.Fatal(err)
		}
		waitHost(t, p, h.ID, 10*time.Second, "bootstrapping")
		rel, err := p.api.CreateRelease(ctx, makeTar(file("index.html", "<h1>resumed</h1>")), client.ReleaseOptions{ProjectID: pr.ID})
		if err != nil {
			t.Fatal(err)
		}
		d, err := p.api.Deploy(ctx, client.CreateDeployment{ProjectID: pr.ID, ReleaseID: rel.ID, DeploymentProduct: "docker_deploy"})
		if err != nil || d.Status != "pending" {
			t.Fatalf("deploy = %+v, %v", d, err)
		}
		hostID, depID, relID = h.ID, d.ID, rel.ID
	})
	os.Remove(filepath.Join(gate, "hold"))
	p := start(t, opts)
	h := waitHost(t, p, hostID, 30*time.Second, "active", "failed")
	if h.State != "active" {
		t.Fatalf("host after the restart = %+v", h)
	}
	d := waitReady(t, p, depID, relID)
	if code, body, _ := p.get(t, d.URL); code != 200 || !strings.Contains(body, "resumed") {
		t.Fatalf("%s served %d %q", d.URL, code, body)
	}
}
