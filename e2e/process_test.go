package e2e

import (
	"bytes"
	"context"
	"fmt"
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
)

var berthBin string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "berth-e2e-bin")
	if err != nil {
		panic(err)
	}
	berthBin = filepath.Join(dir, "berth")
	if out, err := exec.Command("go", "build", "-o", berthBin, "../cmd/berth").CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "building berth: %v\n%s", err, out)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

func freePort(t testing.TB) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// upProcess is `berth up` as its own process, to be killed.
type upProcess struct {
	cmd                       *exec.Cmd
	dataDir, apiAddr, edgeAdr string
	env                       []string
	log                       *bytes.Buffer
}

func startProcess(t testing.TB, u *upProcess) {
	t.Helper()
	u.cmd = exec.Command(berthBin, "up", "--data-dir", u.dataDir, "--listen", u.apiAddr, "--edge-listen", u.edgeAdr)
	u.cmd.Env = u.env
	u.log = &bytes.Buffer{}
	u.cmd.Stdout, u.cmd.Stderr = u.log, u.log
	if err := u.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	eventually(t, 30*time.Second, "berth up answering", func() bool {
		resp, err := http.Get("http://" + u.apiAddr + "/api/v1/healthz")
		if err == nil {
			resp.Body.Close()
		}
		return err == nil && resp.StatusCode == 200
	})
}

// TestKillMidDeploy kills `berth up` with SIGKILL during a build and
// starts it again: records survive, the running app kept running, the
// interrupted deployment finishes, and nothing is orphaned.
func TestKillMidDeploy(t *testing.T) {
	requireDocker(t)
	ctx := context.Background()
	home := t.TempDir()
	u := &upProcess{dataDir: t.TempDir(), apiAddr: freePort(t), edgeAdr: freePort(t),
		env: append(os.Environ(), "BERTH_BOOTSTRAP_KEY="+adminKey, "BERTH_CONFIG="+filepath.Join(home, "config.json"))}
	startProcess(t, u)
	t.Cleanup(func() {
		u.cmd.Process.Kill()
		u.cmd.Wait()
		removeContainers(t, u.dataDir)
	})
	p := &platform{api: client.New("http://"+u.apiAddr, adminKey), apiURL: "http://" + u.apiAddr, edgeAddr: u.edgeAdr}
	p.web = webClient(u.edgeAdr)
	_, _, pr := p.tenant(t, "Crash Co")

	relA, err := p.api.CreateRelease(ctx, makeTar(file("index.html", "release A")), client.ReleaseOptions{ProjectID: pr.ID})
	if err != nil {
		t.Fatal(err)
	}
	d, err := p.api.Deploy(ctx, client.CreateDeployment{ProjectID: pr.ID, ReleaseID: relA.ID})
	if err != nil {
		t.Fatal(err)
	}
	d = waitReady(t, p, d.ID, relA.ID)

	// Release B builds slowly: kill berth while it builds.
	dockerfile := "FROM berth/nginx:bookworm\nRUN sleep 4\nCOPY index.html /usr/share/nginx/html/index.html\n"
	relB, err := p.api.CreateRelease(ctx, makeTar(file("Dockerfile", dockerfile), file("index.html", "release B")), client.ReleaseOptions{ProjectID: pr.ID})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.api.Deploy(ctx, client.CreateDeployment{ProjectID: pr.ID, ReleaseID: relB.ID}); err != nil {
		t.Fatal(err)
	}
	eventually(t, time.Minute, "deployment building", func() bool {
		cur, err := p.api.GetDeployment(ctx, d.ID)
		return err == nil && cur.Status == "building"
	})
	time.Sleep(time.Second)
	u.cmd.Process.Signal(syscall.SIGKILL)
	u.cmd.Wait()

	// The app kept running without berth.
	out, err := exec.Command("docker", "ps", "--filter", "label=berth.deployment="+d.ID, "--format", "{{.Names}}").Output()
	if err != nil || !strings.Contains(string(out), relA.ID) {
		t.Fatalf("release A's container is not running after the kill: %q %v", out, err)
	}

	startProcess(t, u)
	cur := waitReady(t, p, d.ID, relB.ID)
	if _, body, _ := p.get(t, cur.URL); !strings.Contains(body, "release B") {
		t.Fatalf("after recovery: %q", body)
	}
	// Nothing orphaned: the containers left are the serving one and the
	// recorded standby of release A, frozen; the half-made ones are gone.
	containersAre(t, d.ID, "after the recovery", relB.ID+" running", relA.ID+" paused")
	if _, err := p.api.GetRelease(ctx, relA.ID); err != nil {
		t.Fatalf("release A lost: %v", err)
	}

	// A second berth on the same data dir refuses to start and leaves the
	// running one alone.
	second := exec.Command(berthBin, "up", "--data-dir", u.dataDir, "--listen", freePort(t), "--edge-listen", freePort(t))
	second.Env = u.env
	out, err = second.CombinedOutput()
	if err == nil || !strings.Contains(string(out), "another berth is running") {
		t.Fatalf("second berth up: %v\n%s", err, out)
	}
	if _, body, _ := p.get(t, cur.URL); !strings.Contains(body, "release B") {
		t.Fatalf("after a refused second start: %q", body)
	}
	if _, err := p.api.CreateSandbox(ctx, client.CreateSandbox{ProjectID: pr.ID, TemplateID: "static-html"}); err != nil {
		t.Fatalf("the running berth broke after a refused second start: %v", err)
	}
}

// TestCLIDeploy runs `berth deploy DIR` against a running berth and
// checks it prints the URL, with plain progress lines off a terminal.
func TestCLIDeploy(t *testing.T) {
	p := start(t)
	ctx := context.Background()
	_, _, pr := p.tenant(t, "CLI Co")
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "index.html"), []byte("<h1>from the cli</h1>"), 0o644)
	os.MkdirAll(filepath.Join(dir, "node_modules", "x"), 0o755)
	os.WriteFile(filepath.Join(dir, "node_modules", "x", "big.js"), []byte("ignored"), 0o644)
	cmd := exec.CommandContext(ctx, berthBin, "deploy", dir, "--project", pr.ID)
	cmd.Env = append(os.Environ(), "BERTH_API_URL="+p.apiURL, "BERTH_API_KEY="+adminKey, "BERTH_CONFIG="+filepath.Join(t.TempDir(), "c.json"))
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("berth deploy: %v\n%s", err, stderr.String())
	}
	url := strings.TrimSpace(stdout.String())
	if !strings.HasPrefix(url, "http://") || strings.Contains(stderr.String(), "\r") || !strings.Contains(stderr.String(), "ready") {
		t.Fatalf("stdout %q, stderr %q", url, stderr.String())
	}
	if code, body, _ := p.get(t, url); code != 200 || !strings.Contains(body, "from the cli") {
		t.Fatalf("%s served %d %q", url, code, body)
	}
}
