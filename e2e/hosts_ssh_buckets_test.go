package e2e

import (
	"context"
	"net"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/berth-dev/berth/client"
	"github.com/berth-dev/berth/internal/images"
	"github.com/berth-dev/berth/internal/up"
)

// TestDockerDeploySSHBuckets links a bucket of the embedded S3 server to
// a deployment on a Docker Deploy host of another machine (a real sshd in
// a network namespace): the app and a cron command there reach the
// bucket at the endpoint browsers use, s3.{org domain} at the edge, and
// never at s3.berth.internal, the Docker bridge of the control plane's
// machine. The edge listens on the address the namespace routes to, and
// --s3-remote-edge-ip stands in for the DNS of s3.{org domain} there.
func TestDockerDeploySSHBuckets(t *testing.T) {
	requireDocker(t)
	ensureImages(t, images.Python)
	sn := newSSHNet(t)
	sn.sshd(t, 22, true)
	p := start(t, func(c *up.Config) {
		c.Listen, c.EdgeListen, c.S3.RemoteEdgeIP = sn.hostIP+":0", sn.hostIP+":0", sn.hostIP
	})
	u, _ := url.Parse(p.info.EdgeURL)
	p.edgeAddr = net.JoinHostPort(sn.hostIP, u.Port())
	p.web = webClient(p.edgeAddr)
	ctx := context.Background()
	_, ws, pr := p.tenant(t, "SSH Buckets")
	h, err := p.api.EnsureHost(ctx, client.EnsureHost{WorkspaceID: ws.ID,
		SSH: client.SSHTarget{Address: sn.serverIP, User: "root", PrivateKey: sn.clientKey}})
	if err != nil {
		t.Fatalf("ensure: %v", err)
	}
	home, _ := os.UserHomeDir()
	t.Cleanup(func() { os.RemoveAll(filepath.Join(home, ".berth", "hosts", h.ID)) })
	if h = waitHost(t, p, h.ID, 2*time.Minute, "active", "failed"); h.State != "active" {
		t.Fatalf("ssh host = %+v", h)
	}

	b := linkedBucket(t, p, pr, "remote")
	script, err := os.ReadFile(filepath.Join("testdata", "s3app", "s3get.py"))
	if err != nil {
		t.Fatal(err)
	}
	server, err := os.ReadFile(filepath.Join("testdata", "s3app", "server.py"))
	if err != nil {
		t.Fatal(err)
	}
	rel, err := p.api.CreateRelease(ctx, makeTar(
		file("Dockerfile", "FROM "+images.Python+"\nCOPY s3get.py server.py /app/\nCMD [\"python3\", \"/app/server.py\"]\n"),
		file("s3get.py", string(script)), file("server.py", string(server))), client.ReleaseOptions{ProjectID: pr.ID, Port: 8080})
	if err != nil {
		t.Fatal(err)
	}
	d, err := p.api.Deploy(ctx, client.CreateDeployment{ProjectID: pr.ID, ReleaseID: rel.ID, DeploymentProduct: "docker_deploy"})
	if err != nil {
		t.Fatal(err)
	}
	d = waitReady(t, p, d.ID, rel.ID) // on the workspace's host, the ssh one: docker_deploy never takes the pool
	if _, err := p.api.LinkBucket(ctx, b.ID, client.CreateBucketLink{DeploymentID: d.ID}); err != nil {
		t.Fatalf("link: %v", err)
	}
	var body string
	eventually(t, 2*time.Minute, "the app on the ssh host to read the object", func() bool {
		_, body, _ = p.get(t, d.URL+"/object")
		return strings.TrimSpace(body) == "status=200 body=hello, bucket"
	})

	var ct string
	eventually(t, 30*time.Second, "the container from before the link to go", func() bool {
		out, _ := exec.Command("docker", "ps", "-q", "--filter", "label=berth.kind=deployment", "--filter", "label=berth.deployment="+d.ID).Output()
		ct = strings.TrimSpace(string(out))
		return len(strings.Fields(ct)) == 1
	})
	s3Host := strings.TrimPrefix(b.Endpoint, "http://")
	s3Host, _, _ = strings.Cut(s3Host, ":")
	if env := containerEnv(t, ct); !strings.Contains(env, "S3_ENDPOINT="+b.Endpoint+"\n") || strings.Contains(env, "s3.berth.internal") {
		t.Errorf("the app's env names another endpoint than %s:\n%s", b.Endpoint, env)
	}
	hosts, _ := exec.Command("docker", "inspect", "--format", "{{json .HostConfig.ExtraHosts}}", ct).Output()
	if !strings.Contains(string(hosts), s3Host+":"+sn.hostIP) || strings.Contains(string(hosts), "s3.berth.internal") {
		t.Errorf("the app's hosts entries: %s, want %s:%s alone", hosts, s3Host, sn.hostIP)
	}

	// A cron command on that host reaches it the same way.
	r := runCommandOnce(t, p, pr.ID, d.ID, "python3", "/app/s3get.py")
	if r.Status != "succeeded" || !strings.Contains(r.Output, "status=200") || !strings.Contains(r.Output, "<Key>hello.txt</Key>") {
		t.Errorf("the cron run on the ssh host: %+v", r)
	}
}
