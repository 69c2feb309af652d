package e2e

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/berth-dev/berth/client"
)

// TestCoreLoop is the whole user story of the core loop: sandbox, live
// preview, files, exec, publish, deploy, zero-downtime promote, rollback.
func TestCoreLoop(t *testing.T) {
	p := start(t)
	ctx := context.Background()
	o, _, pr := p.tenant(t, "Clinic IQ")

	// external_id filters lists.
	var orgs client.List[client.Org]
	if err := p.api.Do(ctx, "GET", "/orgs?external_id=ext-Clinic%20IQ", nil, "", &orgs); err != nil || len(orgs.Data) != 1 || orgs.Data[0].ID != o.ID {
		t.Fatalf("orgs by external_id = %+v, %v", orgs, err)
	}
	var projects client.List[client.Project]
	if err := p.api.Do(ctx, "GET", "/projects?external_id=nope", nil, "", &projects); err != nil || len(projects.Data) != 0 {
		t.Fatalf("projects by unknown external_id = %+v, %v", projects, err)
	}

	// A static sandbox and its preview.
	sb, err := p.api.CreateSandbox(ctx, client.CreateSandbox{ProjectID: pr.ID, TemplateID: "static-html"})
	if err != nil {
		t.Fatalf("create sandbox: %v", err)
	}
	if sb.Status != "running" {
		t.Fatalf("sandbox status = %s (%s)", sb.Status, sb.StatusReason)
	}
	prev, err := p.api.Preview(ctx, sb.ID, 8080)
	if err != nil || !prev.Ready {
		t.Fatalf("preview = %+v, %v", prev, err)
	}
	if !strings.Contains(prev.URL, ".sandbox.") || !strings.HasSuffix(strings.Split(prev.URL, ":")[1], ".localhost") {
		t.Fatalf("preview URL %q is not a sandbox URL under the org domain", prev.URL)
	}
	if code, body, _ := p.get(t, prev.URL); code != 200 || !strings.Contains(body, "It works") {
		t.Fatalf("preview served %d %q", code, body)
	}

	// Files: write, read, list, delete; edits show on the same URL.
	if err := p.api.WriteFile(ctx, sb.ID, "index.html", []byte("<h1>version one</h1>")); err != nil {
		t.Fatalf("write: %v", err)
	}
	if err := p.api.WriteFile(ctx, sb.ID, "assets/app.js", []byte("console.log(1)")); err != nil {
		t.Fatalf("write nested: %v", err)
	}
	if b, err := p.api.ReadFile(ctx, sb.ID, "assets/app.js"); err != nil || string(b) != "console.log(1)" {
		t.Fatalf("read = %q, %v", b, err)
	}
	entries, err := p.api.ListFiles(ctx, sb.ID, "")
	if err != nil {
		t.Fatalf("list: %v", err)
	}
	names := map[string]string{}
	for _, e := range entries {
		names[e.Name] = e.Type
	}
	if names["index.html"] != "file" || names["assets"] != "dir" {
		t.Fatalf("listing = %+v", entries)
	}
	if err := p.api.WriteFile(ctx, sb.ID, "junk.txt", []byte("x")); err != nil {
		t.Fatal(err)
	}
	if err := p.api.DeleteFile(ctx, sb.ID, "junk.txt"); err != nil {
		t.Fatalf("delete: %v", err)
	}
	if _, err := p.api.ReadFile(ctx, sb.ID, "junk.txt"); problemCode(err) != "file_not_found" {
		t.Fatalf("read deleted file: %v", err)
	}
	if _, body, _ := p.get(t, prev.URL); !strings.Contains(body, "version one") {
		t.Fatalf("edit not served on the same URL: %q", body)
	}

	// Exec: exit code, stdout, stderr; and a background process.
	res, err := p.api.Exec(ctx, sb.ID, client.Exec{Command: "echo out; echo err >&2; exit 3"})
	if err != nil || res.ExitCode != 3 || res.Stdout != "out\n" || res.Stderr != "err\n" {
		t.Fatalf("exec = %+v, %v", res, err)
	}
	if _, err := p.api.StartProcess(ctx, sb.ID, client.Exec{Command: "while [ ! -e /tmp/stop ]; do echo $TICK_LABEL > tick.txt; sleep 0.2; done; rm -f tick.txt",
		Env: map[string]string{"TICK_LABEL": "label-s3cret"}}); err != nil {
		t.Fatalf("background: %v", err)
	}
	eventually(t, 5*time.Second, "background process writes", func() bool {
		b, err := p.api.ReadFile(ctx, sb.ID, "tick.txt")
		return err == nil && string(b) == "label-s3cret\n"
	})
	var raw bytes.Buffer
	if err := p.api.Do(ctx, "GET", "/sandboxes/"+sb.ID, nil, "", &raw); err != nil || strings.Contains(raw.String(), "label-s3cret") {
		t.Fatalf("the sandbox shows a background process's env value: %s %v", raw.String(), err)
	}
	p.api.DeleteFile(ctx, sb.ID, "tick.txt")

	// Restarting the container keeps the URL and relaunches processes.
	sb2, err := p.api.RestartSandbox(ctx, sb.ID)
	if err != nil || sb2.PreviewURL != sb.PreviewURL {
		t.Fatalf("restart = %+v, %v", sb2, err)
	}
	if prev2, err := p.api.Preview(ctx, sb.ID, 8080); err != nil || !prev2.Ready || prev2.URL != prev.URL {
		t.Fatalf("preview after restart = %+v, %v", prev2, err)
	}
	if _, body, _ := p.get(t, prev.URL); !strings.Contains(body, "version one") {
		t.Fatalf("after restart: %q", body)
	}
	eventually(t, 5*time.Second, "background process relaunched", func() bool {
		b, err := p.api.ReadFile(ctx, sb.ID, "tick.txt")
		return err == nil && len(b) > 0
	})
	p.api.Exec(ctx, sb.ID, client.Exec{Command: "touch /tmp/stop"})
	eventually(t, 5*time.Second, "background process stopped", func() bool {
		_, err := p.api.ReadFile(ctx, sb.ID, "tick.txt")
		return problemCode(err) == "file_not_found"
	})

	// Publish: same files, same digest.
	rel1, err := p.api.Publish(ctx, sb.ID)
	if err != nil {
		t.Fatalf("publish: %v", err)
	}
	if !strings.HasPrefix(rel1.Digest, "sha256:") || rel1.Size == 0 || rel1.Provenance.SourceSandboxID != sb.ID || len(rel1.Provenance.Files) == 0 {
		t.Fatalf("release = %+v", rel1)
	}
	if rel1.EnvNames == nil {
		t.Fatal("release has no env manifest")
	}
	again, err := p.api.Publish(ctx, sb.ID)
	if err != nil || again.Digest != rel1.Digest || again.ID == rel1.ID {
		t.Fatalf("republish = %+v, %v; want same digest %s, new id", again, err, rel1.Digest)
	}

	// Deploy: the response carries the URL and it serves.
	d, err := p.api.Deploy(ctx, client.CreateDeployment{ProjectID: pr.ID, ReleaseID: rel1.ID, DeploymentProduct: "standard"})
	if err != nil {
		t.Fatalf("deploy: %v", err)
	}
	if d.URL == "" || !strings.Contains(d.URL, pr.Slug+"."+o.Slug+".localhost") {
		t.Fatalf("deployment URL %q", d.URL)
	}
	d = waitReady(t, p, d.ID, rel1.ID)
	if code, body, _ := p.get(t, d.URL); code != 200 || !strings.Contains(body, "version one") {
		t.Fatalf("deployment served %d %q", code, body)
	}

	// A second release, promoted while a client loops over the URL.
	if err := p.api.WriteFile(ctx, sb.ID, "index.html", []byte("<h1>version two</h1>")); err != nil {
		t.Fatal(err)
	}
	rel2, err := p.api.Publish(ctx, sb.ID)
	if err != nil {
		t.Fatal(err)
	}
	if rel2.Digest == rel1.Digest {
		t.Fatal("different files gave the same digest")
	}
	stop, fails, seen := loop(p, d.URL)
	if _, err := p.api.Deploy(ctx, client.CreateDeployment{ProjectID: pr.ID, ReleaseID: rel2.ID}); err != nil {
		t.Fatal(err)
	}
	waitReady(t, p, d.ID, rel2.ID)
	eventually(t, 5*time.Second, "version two served", func() bool { _, b, _ := p.get(t, d.URL); return strings.Contains(b, "version two") })
	time.Sleep(DrainMargin)
	n := stop()
	if f := fails.Load(); f != 0 || n == 0 {
		t.Fatalf("%d of %d requests failed during the promote; last failure: %v", f, n, seen.Load())
	}
	t.Logf("promote: %d requests, 0 failed", n)

	// Roll back: the first release serves again without an image build.
	evs, _ := p.api.Events(ctx, d.ID, 0)
	last := evs[len(evs)-1].Seq
	stop, fails, seen = loop(p, d.URL)
	if _, err := p.api.Rollback(ctx, d.ID, ""); err != nil {
		t.Fatalf("rollback: %v", err)
	}
	waitReady(t, p, d.ID, rel1.ID)
	time.Sleep(DrainMargin)
	n = stop()
	if f := fails.Load(); f != 0 {
		t.Fatalf("%d of %d requests failed during the rollback; last failure: %v", f, n, seen.Load())
	}
	if _, body, _ := p.get(t, d.URL); !strings.Contains(body, "version one") {
		t.Fatalf("after rollback: %q", body)
	}
	evs, _ = p.api.Events(ctx, d.ID, last)
	for _, e := range evs {
		if e.Type == "deployment.building" {
			t.Fatalf("rollback rebuilt the image: %+v", e)
		}
	}
}

// DrainMargin lets the loop run past the old container's drain.
const DrainMargin = 2500 * time.Millisecond

func waitReady(t testing.TB, p *platform, depID, relID string) *client.Deployment {
	t.Helper()
	var d *client.Deployment
	eventually(t, 3*time.Minute, "deployment ready on "+relID, func() bool {
		var err error
		d, err = p.api.GetDeployment(context.Background(), depID)
		if err != nil {
			t.Fatalf("get deployment: %v", err)
		}
		if d.Status == "failed" {
			t.Fatalf("deployment failed: %s", d.StatusReason)
		}
		return d.Ready && d.ServingReleaseID == relID
	})
	return d
}

// loop requests url until stop is called, counting failures: transport
// errors and any status other than 200.
func loop(p *platform, url string) (stop func() int, fails *atomic.Int64, last *atomic.Value) {
	fails, last = &atomic.Int64{}, &atomic.Value{}
	var n atomic.Int64
	done := make(chan struct{})
	var wg sync.WaitGroup
	for range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			deadline := time.Now().Add(5 * time.Minute)
			for time.Now().Before(deadline) {
				select {
				case <-done:
					return
				default:
				}
				n.Add(1)
				resp, err := p.web.Get(url)
				if err == nil {
					if resp.StatusCode != 200 {
						err = errors.New(resp.Status)
					}
					resp.Body.Close()
				}
				if err != nil {
					fails.Add(1)
					last.Store(err.Error())
				}
			}
		}()
	}
	return func() int { close(done); wg.Wait(); return int(n.Load()) }, fails, last
}
