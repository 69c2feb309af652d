// Package e2e drives a whole `berth up` (API, agent, edge, store, the
// real Docker engine) the way a user does: through the public API, the
// CLI and the URLs it hands out.
package e2e

import (
	"context"
	"encoding/hex"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/berth-dev/berth/client"
	"github.com/berth-dev/berth/internal/logtest"
	"github.com/berth-dev/berth/internal/up"
)

const adminKey = "sk_e2etestadminkey0000000000000000000000"

// platform is one running `berth up`.
type platform struct {
	api      *client.Client
	apiURL   string
	edgeAddr string
	dataDir  string
	web      *http.Client
	// info is what berth up said when it started.
	info up.Info
}

func requireDocker(t testing.TB) {
	t.Helper()
	if err := exec.Command("docker", "info").Run(); err != nil {
		t.Skip("no Docker engine answers `docker info`; `make test` starts one")
	}
}

// start runs `berth up` in this process until the test ends; opts
// change its configuration.
func start(t testing.TB, opts ...func(*up.Config)) *platform {
	t.Helper()
	requireDocker(t)
	ctx, cancel := context.WithCancel(context.Background())
	ready := make(chan up.Info, 1)
	done := make(chan error, 1)
	dir := t.TempDir()
	cfg := up.Config{
		DataDir: dir, Listen: "127.0.0.1:0", EdgeListen: "127.0.0.1:0", Domain: "localhost",
		BootstrapKey: adminKey, Log: logtest.New(t), Ready: func(i up.Info) { ready <- i }, AgentBinary: berthBin,
	}
	for _, o := range opts {
		o(&cfg)
	}
	dir = cfg.DataDir
	go func() { done <- up.Run(ctx, cfg) }()
	var info up.Info
	select {
	case info = <-ready:
	case err := <-done:
		t.Fatalf("berth up: %v", err)
	case <-time.After(30 * time.Second):
		t.Fatal("berth up did not start in 30s")
	}
	t.Cleanup(func() {
		cancel()
		<-done
		removeContainers(t, dir)
	})
	u, _ := url.Parse(info.EdgeURL)
	p := &platform{api: client.New(info.APIURL, adminKey), apiURL: info.APIURL, edgeAddr: "127.0.0.1:" + u.Port(), dataDir: dir, info: info}
	p.web = webClient(p.edgeAddr)
	return p
}

// webClient sends every request to the edge, as a browser resolving
// *.localhost to loopback would.
func webClient(edgeAddr string) *http.Client {
	d := &net.Dialer{Timeout: 2 * time.Second}
	return &http.Client{
		Timeout: 10 * time.Second,
		Transport: &http.Transport{
			DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
				return d.DialContext(ctx, network, edgeAddr)
			},
			MaxIdleConnsPerHost: 32,
		},
	}
}

// removeContainers removes what a test's berth left on the engine.
func removeContainers(t testing.TB, dataDir string) {
	inst, err := os.ReadFile(filepath.Join(dataDir, "instance"))
	if err != nil {
		return
	}
	label := "berth.instance=" + hex.EncodeToString(inst)
	out, _ := exec.Command("docker", "ps", "-aq", "--filter", "label="+label).Output()
	ids := strings.Fields(string(out))
	if len(ids) > 0 {
		exec.Command("docker", append([]string{"rm", "-f", "-v"}, ids...)...).Run()
	}
	vols, _ := exec.Command("docker", "volume", "ls", "-q", "--filter", "label="+label).Output()
	if v := strings.Fields(string(vols)); len(v) > 0 {
		exec.Command("docker", append([]string{"volume", "rm", "-f"}, v...)...).Run()
	}
	// Networks too: the engine has address pools for about 30.
	nets, _ := exec.Command("docker", "network", "ls", "-q", "--filter", "label="+label).Output()
	if n := strings.Fields(string(nets)); len(n) > 0 {
		exec.Command("docker", append([]string{"network", "rm"}, n...)...).Run()
	}
}

// get fetches a URL through the edge.
func (p *platform) get(t testing.TB, rawURL string) (int, string, http.Header) {
	t.Helper()
	resp, err := p.web.Get(rawURL)
	if err != nil {
		t.Fatalf("GET %s: %v", rawURL, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b), resp.Header
}

// eventually retries f until it returns true or d passes.
func eventually(t testing.TB, d time.Duration, what string, f func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !f() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", d, what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// tenant makes an org, a workspace and a project.
func (p *platform) tenant(t testing.TB, name string) (*client.Org, *client.Workspace, *client.Project) {
	t.Helper()
	ctx := context.Background()
	o, err := p.api.CreateOrg(ctx, client.CreateOrg{Name: name, ExternalID: "ext-" + name})
	if err != nil {
		t.Fatalf("create org: %v", err)
	}
	w, err := p.api.CreateWorkspace(ctx, client.CreateWorkspace{OrgID: o.ID, Name: "Dr Smith", ExternalID: "ws-1"})
	if err != nil {
		t.Fatalf("create workspace: %v", err)
	}
	pr, err := p.api.CreateProject(ctx, client.CreateProject{WorkspaceID: w.ID, Name: "Clinic Site", ExternalID: "prj-1"})
	if err != nil {
		t.Fatalf("create project: %v", err)
	}
	return o, w, pr
}

func problemCode(err error) string {
	if p, ok := err.(*client.Problem); ok {
		return p.Code
	}
	return ""
}
