package e2e

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/berth-dev/berth/client"
	"github.com/berth-dev/berth/internal/images"
)

// linkedBucket makes a bucket in project pr holding hello.txt, put with
// its own keys through the edge.
func linkedBucket(t *testing.T, p *platform, pr *client.Project, name string) *client.Bucket {
	t.Helper()
	ctx := context.Background()
	b, err := p.api.CreateBucket(ctx, client.CreateBucket{ProjectID: pr.ID, Name: name})
	if err != nil {
		t.Fatalf("bucket: %v", err)
	}
	c := sdk(b.Endpoint, b.Credentials.AccessKeyID, b.Credentials.SecretAccessKey, p.web)
	if _, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: &b.S3Name, Key: aws.String("hello.txt"),
		Body: bytes.NewReader([]byte("hello, bucket"))}); err != nil {
		t.Fatalf("put: %v", err)
	}
	return b
}

// containerEnv is the env of a running container, one NAME=value a line.
func containerEnv(t *testing.T, id string) string {
	t.Helper()
	out, err := exec.Command("docker", "inspect", "--format", `{{range .Config.Env}}{{println .}}{{end}}`, id).Output()
	if err != nil {
		t.Fatalf("docker inspect %s: %v", id, err)
	}
	return string(out)
}

// runCommandOnce makes a cron job of the deployment that runs argv (on a
// schedule that never comes in a test), triggers it and returns the run
// once it has ended.
func runCommandOnce(t *testing.T, p *platform, projectID, deploymentID string, argv ...string) *client.CronRun {
	t.Helper()
	ctx := context.Background()
	j, err := p.api.CreateCronJob(ctx, client.CreateCronJob{ProjectID: projectID, DeploymentID: deploymentID, Name: "once", Schedule: "0 3 1 1 *",
		Target: client.CronTarget{Command: argv}})
	if err != nil {
		t.Fatal(err)
	}
	r, err := p.api.TriggerCronJob(ctx, j.ID)
	if err != nil {
		t.Fatal(err)
	}
	eventually(t, time.Minute, "the run of "+argv[0]+" to end", func() bool {
		r, _ = p.api.CronRun(ctx, j.ID, r.ID)
		return r != nil && r.Status != "scheduled" && r.Status != "running"
	})
	return r
}

// TestBucketCronCommand: a cron command's one-off container of a
// deployment linked to a bucket gets the bucket's variables and the
// hosts entry of s3.berth.internal, so a program of the image (python3)
// lists the bucket with them.
func TestBucketCronCommand(t *testing.T) {
	requireDocker(t)
	ensureImages(t, images.Python)
	p := start(t)
	ctx := context.Background()
	_, _, pr := p.tenant(t, "Cron Buckets")
	b := linkedBucket(t, p, pr, "reports")
	script, err := os.ReadFile(filepath.Join("testdata", "s3app", "s3get.py"))
	if err != nil {
		t.Fatal(err)
	}
	rel, err := p.api.CreateRelease(ctx, makeTar(
		file("Dockerfile", "FROM "+images.Python+"\nCOPY s3get.py /app/s3get.py\nCMD [\"python3\", \"-m\", \"http.server\", \"8080\"]\n"),
		file("s3get.py", string(script))), client.ReleaseOptions{ProjectID: pr.ID, Port: 8080})
	if err != nil {
		t.Fatal(err)
	}
	d, err := p.api.Deploy(ctx, client.CreateDeployment{ProjectID: pr.ID, ReleaseID: rel.ID})
	if err != nil {
		t.Fatal(err)
	}
	waitReady(t, p, d.ID, rel.ID)
	if _, err := p.api.LinkBucket(ctx, b.ID, client.CreateBucketLink{DeploymentID: d.ID}); err != nil {
		t.Fatalf("link: %v", err)
	}
	waitReady(t, p, d.ID, rel.ID)
	r := runCommandOnce(t, p, pr.ID, d.ID, "sh", "-c", "grep s3.berth.internal /etc/hosts >/dev/null && echo hosts=ok; python3 /app/s3get.py")
	if r.Status != "succeeded" || !strings.Contains(r.Output, "hosts=ok") || !strings.Contains(r.Output, "status=200") ||
		!strings.Contains(r.Output, "<Key>hello.txt</Key>") || !strings.Contains(r.Output, "<Name>"+b.S3Name+"</Name>") {
		t.Fatalf("the cron run listing the bucket: %+v", r)
	}
}

// TestBucketCompose: a bucket linked to a compose deployment reaches
// every service but the data services (those that mount a named
// volume): the web service reads an object with the variables it gets,
// the cache keeps its container through the restart the link makes and
// has none of them.
func TestBucketCompose(t *testing.T) {
	requireDocker(t)
	ensureImages(t, images.Python)
	ensureDataImages(t)
	p := start(t)
	ctx := context.Background()
	_, _, pr := p.tenant(t, "Compose Buckets")
	b := linkedBucket(t, p, pr, "assets")
	script, err := os.ReadFile(filepath.Join("testdata", "s3app", "s3get.py"))
	if err != nil {
		t.Fatal(err)
	}
	composeFile := `services:
  web:
    build: ./web
    expose: ["8080"]
  cache:
    image: redis
    volumes: ["cache-data:/data"]
volumes:
  cache-data: {}
`
	server, err := os.ReadFile(filepath.Join("testdata", "s3app", "server.py"))
	if err != nil {
		t.Fatal(err)
	}
	rel, err := p.api.CreateRelease(ctx, makeTar(file("compose.yaml", composeFile),
		file("web/Dockerfile", "FROM python\nCOPY s3get.py server.py /app/\nCMD [\"python3\", \"/app/server.py\"]\n"),
		file("web/s3get.py", string(script)), file("web/server.py", string(server))),
		client.ReleaseOptions{ProjectID: pr.ID, TemplateID: "compose-full-stack"})
	if err != nil {
		t.Fatal(err)
	}
	d, err := p.api.Deploy(ctx, client.CreateDeployment{ProjectID: pr.ID, ReleaseID: rel.ID})
	if err != nil {
		t.Fatal(err)
	}
	d = waitReadyFor(t, p, d.ID, rel.ID, 4*time.Minute)
	before := serviceIDs(t, d.ID)
	if _, err := p.api.LinkBucket(ctx, b.ID, client.CreateBucketLink{DeploymentID: d.ID}); err != nil {
		t.Fatalf("link: %v", err)
	}
	var body string
	eventually(t, 2*time.Minute, "the web service to read the object", func() bool {
		_, body, _ = p.get(t, d.URL+"/object")
		return strings.TrimSpace(body) == "status=200 body=hello, bucket"
	})
	after := serviceIDs(t, d.ID)
	if after["cache"] != before["cache"] || after["web"] == before["web"] {
		t.Errorf("containers before the link %v, after %v: want the cache kept and the web replaced", before, after)
	}
	if env := containerEnv(t, after["web"]); !strings.Contains(env, "S3_BUCKET="+b.S3Name+"\n") || !strings.Contains(env, "S3_ENDPOINT=http://s3.berth.internal:") {
		t.Errorf("the web service's env:\n%s", env)
	}
	if env := containerEnv(t, after["cache"]); strings.Contains(env, "S3_") || strings.Contains(env, "AWS_") {
		t.Errorf("the data service got the bucket's variables:\n%s", env)
	}

	// A cron command runs as `docker compose run web` would: the web
	// service's image and env, on the release's network, where the cache
	// answers by its service name.
	r := runCommandOnce(t, p, pr.ID, d.ID, "python3", "-c",
		"import socket, subprocess; socket.create_connection(('cache', 6379), 5); print('cache=ok'); "+
			"print(subprocess.run(['python3', '/app/s3get.py', 'hello.txt'], capture_output=True, text=True).stdout)")
	if r.Status != "succeeded" || !strings.Contains(r.Output, "cache=ok") || !strings.Contains(r.Output, "status=200 body=hello, bucket") {
		t.Fatalf("a cron command of the compose deployment: %+v", r)
	}
}
