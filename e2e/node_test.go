package e2e

import (
	"bufio"
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/berth-dev/berth/client"
)

// TestNodeTemplate runs the dynamic template: its dev server starts with
// the sandbox, previews on its port, and its release deploys.
func TestNodeTemplate(t *testing.T) {
	p := start(t)
	ctx := context.Background()
	_, _, pr := p.tenant(t, "Node Co")
	sb, err := p.api.CreateSandbox(ctx, client.CreateSandbox{ProjectID: pr.ID, TemplateID: "express-api", Env: map[string]string{"GREETING": "hi"}})
	if err != nil {
		t.Fatalf("create: %v", err)
	}
	prev, err := p.api.Preview(ctx, sb.ID, 3000)
	if err != nil || !prev.Ready {
		t.Fatalf("preview = %+v, %v", prev, err)
	}
	if code, body, _ := p.get(t, prev.URL+"/hello"); code != 200 || !strings.Contains(body, `"path":"/hello"`) {
		t.Fatalf("preview served %d %q", code, body)
	}
	res, err := p.api.Exec(ctx, sb.ID, client.Exec{Command: "echo $GREETING; node -e 'console.log(6*7)'"})
	if err != nil || res.Stdout != "hi\n42\n" {
		t.Fatalf("exec = %+v, %v", res, err)
	}
	rel, err := p.api.Publish(ctx, sb.ID)
	if err != nil {
		t.Fatalf("publish: %v", err)
	}
	if rel.Build.TemplateID != "express-api" || rel.Build.Port != 3000 {
		t.Fatalf("build shape = %+v", rel.Build)
	}
	found := false
	for _, n := range rel.EnvNames {
		found = found || n == "GREETING"
	}
	if !found {
		t.Fatalf("env manifest %v lacks GREETING", rel.EnvNames)
	}
	d, err := p.api.Deploy(ctx, client.CreateDeployment{ProjectID: pr.ID, ReleaseID: rel.ID, Env: map[string]string{"GREETING": "hello"}})
	if err != nil {
		t.Fatalf("deploy: %v", err)
	}
	d = waitReady(t, p, d.ID, rel.ID)
	if code, body, _ := p.get(t, d.URL+"/health"); code != 200 || !strings.Contains(body, `"ok":true`) {
		t.Fatalf("deployment served %d %q", code, body)
	}
	for _, e := range d.EnvNames {
		if e == "hello" {
			t.Fatal("deployment view shows an env value")
		}
	}

	// The deployment's events stream as server-sent events.
	sctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(sctx, "GET", p.apiURL+"/api/v1/events?resource_id="+d.ID, nil)
	req.Header.Set("Authorization", "Bearer "+adminKey)
	req.Header.Set("Accept", "text/event-stream")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if ct := resp.Header.Get("Content-Type"); ct != "text/event-stream" {
		t.Fatalf("events content type %q", ct)
	}
	var seen []string
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		if typ, ok := strings.CutPrefix(sc.Text(), "event: "); ok {
			seen = append(seen, typ)
			if typ == "deployment.ready" {
				break
			}
		}
	}
	if len(seen) < 3 || seen[len(seen)-1] != "deployment.ready" || seen[0] != "deployment.pending" {
		t.Fatalf("streamed events %v", seen)
	}
}
