package e2e

import (
	"archive/tar"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/berth-dev/berth/client"
)

type tarEntry struct {
	hdr  tar.Header
	body string
}

func makeTar(entries ...tarEntry) *bytes.Buffer {
	var b bytes.Buffer
	tw := tar.NewWriter(&b)
	for _, e := range entries {
		h := e.hdr
		if h.Typeflag == 0 {
			h.Typeflag = tar.TypeReg
		}
		if h.Typeflag == tar.TypeReg {
			h.Size = int64(len(e.body))
		}
		if h.Mode == 0 {
			h.Mode = 0o644
		}
		tw.WriteHeader(&h)
		io.WriteString(tw, e.body)
	}
	tw.Close()
	return &b
}

func file(name, body string) tarEntry { return tarEntry{hdr: tar.Header{Name: name}, body: body} }

// TestBadInput checks that bad requests get a 4xx problem with a stable
// code and write nothing.
func TestBadInput(t *testing.T) {
	p := start(t)
	ctx := context.Background()
	_, _, pr := p.tenant(t, "Bad Input")
	_, _, other := p.tenant(t, "Other Org")

	releases := func() int {
		var l client.List[client.Release]
		if err := p.api.Do(ctx, "GET", "/releases?project_id="+pr.ID, nil, "", &l); err != nil {
			t.Fatal(err)
		}
		return len(l.Data)
	}

	tars := map[string]*bytes.Buffer{
		"artifact_path_escape":    makeTar(file("index.html", "x"), file("../evil", "x")),
		"artifact_absolute_path":  makeTar(file("index.html", "x"), file("/etc/passwd", "x")),
		"artifact_link_escape":    makeTar(file("index.html", "x"), tarEntry{hdr: tar.Header{Name: "link", Typeflag: tar.TypeSymlink, Linkname: "../../etc/passwd"}}),
		"artifact_device_file":    makeTar(file("index.html", "x"), tarEntry{hdr: tar.Header{Name: "dev", Typeflag: tar.TypeChar, Devmajor: 1, Devminor: 3}}),
		"missing_index_html":      makeTar(file("about.html", "x")),
		"artifact_duplicate_path": makeTar(file("index.html", "x"), file("index.html", "y")),
	}
	for code, body := range tars {
		tmpl := ""
		if code == "missing_index_html" {
			tmpl = "static-html"
		}
		_, err := p.api.CreateRelease(ctx, body, client.ReleaseOptions{ProjectID: pr.ID, TemplateID: tmpl})
		var prob *client.Problem
		if !asProblem(err, &prob) || prob.Status != 422 || prob.Code != code || prob.Detail == "" {
			t.Errorf("%s: got %v", code, err)
		}
	}
	if n := releases(); n != 0 {
		t.Fatalf("refused uploads left %d releases", n)
	}

	// A valid release, then one deployed to the wrong project.
	rel, err := p.api.CreateRelease(ctx, makeTar(file("index.html", "<h1>ok</h1>")), client.ReleaseOptions{ProjectID: pr.ID})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.api.Deploy(ctx, client.CreateDeployment{ProjectID: other.ID, ReleaseID: rel.ID}); problemCode(err) != "release_of_another_project" {
		t.Errorf("deploy of another project's release: %v", err)
	}
	var deps client.List[client.Deployment]
	p.api.Do(ctx, "GET", "/deployments", nil, "", &deps)
	if len(deps.Data) != 0 {
		t.Errorf("refused deploy left deployments: %+v", deps.Data)
	}

	if _, err := p.api.CreateSandbox(ctx, client.CreateSandbox{ProjectID: pr.ID, TemplateID: "cobol-mainframe"}); problemCode(err) != "unknown_template" {
		t.Errorf("unknown template: %v", err)
	}
	if _, err := p.api.CreateSandbox(ctx, client.CreateSandbox{ProjectID: pr.ID, TemplateID: "static-html", Ports: []int{70000}}); problemCode(err) != "invalid_port" {
		t.Errorf("port out of range: %v", err)
	}
	var sbxs client.List[client.Sandbox]
	p.api.Do(ctx, "GET", "/sandboxes", nil, "", &sbxs)
	if len(sbxs.Data) != 0 {
		t.Fatalf("refused sandboxes were recorded: %+v", sbxs.Data)
	}

	sb, err := p.api.CreateSandbox(ctx, client.CreateSandbox{ProjectID: pr.ID, TemplateID: "static-html"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.api.Preview(ctx, sb.ID, 0); problemCode(err) != "invalid_port" {
		t.Errorf("preview port 0: %v", err)
	}
	for _, path := range []string{"../etc/passwd", "a/../../x"} {
		if err := p.api.WriteFile(ctx, sb.ID, path, []byte("x")); problemCode(err) != "path_escape" {
			t.Errorf("write %q: %v", path, err)
		}
	}
	if _, err := p.api.ReadFile(ctx, sb.ID, "../../proc/self/environ"); problemCode(err) != "path_escape" {
		t.Errorf("read escaping path: %v", err)
	}
	res, _ := p.api.Exec(ctx, sb.ID, client.Exec{Command: "ls /etc/passwd-written 2>/dev/null; ls /workspace"})
	if strings.Contains(res.Stdout, "passwd-written") {
		t.Fatal("escaping write landed")
	}

	// Malformed JSON, unknown fields, no key, bad key.
	raw := func(method, path, body, key string) (int, client.Problem) {
		req, _ := http.NewRequest(method, p.apiURL+"/api/v1"+path, strings.NewReader(body))
		if key != "" {
			req.Header.Set("Authorization", "Bearer "+key)
		}
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		if ct := resp.Header.Get("Content-Type"); ct != "application/problem+json" {
			t.Errorf("%s %s: content type %q", method, path, ct)
		}
		var prob client.Problem
		json.NewDecoder(resp.Body).Decode(&prob)
		return resp.StatusCode, prob
	}
	cases := []struct {
		method, path, body, key string
		status                  int
		code                    string
	}{
		{"POST", "/projects", `{"workspace_id":`, adminKey, 400, "invalid_json"},
		{"POST", "/projects", `{"workspace_id":"ws_x","name":"a","colour":"red"}`, adminKey, 400, "unknown_field"},
		{"POST", "/deployments", `{"project_id":"` + pr.ID + `","release_id":"` + rel.ID + `","deployment_product":"premium"}`, adminKey, 422, "invalid_deployment_product"},
		{"GET", "/projects", "", "", 401, "unauthorized"},
		{"GET", "/projects", "", "sk_wrong", 401, "unauthorized"},
		{"GET", "/sandboxes/sbx_01aaaaaaaaaaaaaaaaaaaaaaaa", "", adminKey, 404, "not_found"},
	}
	for _, c := range cases {
		status, prob := raw(c.method, c.path, c.body, c.key)
		if status != c.status || prob.Code != c.code || prob.Detail == "" {
			t.Errorf("%s %s %s: %d %+v, want %d %s", c.method, c.path, c.body, status, prob, c.status, c.code)
		}
	}
	// Idempotency: a retry replays, the same key on another request is refused.
	post := func(body, key string) (int, string) {
		req, _ := http.NewRequest("POST", p.apiURL+"/api/v1/orgs", strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+adminKey)
		req.Header.Set("Idempotency-Key", key)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	s1, b1 := post(`{"name":"Idem"}`, "k-1")
	s2, b2 := post(`{"name":"Idem"}`, "k-1")
	s3, b3 := post(`{"name":"Other"}`, "k-1")
	if s1 != 201 || s2 != 201 || b1 != b2 || s3 != 422 || !strings.Contains(b3, "idempotency_key_reused") {
		t.Errorf("idempotency: %d %s / %d %s / %d %s", s1, b1, s2, b2, s3, b3)
	}
	var orgs client.List[client.Org]
	p.api.Do(ctx, "GET", "/orgs", nil, "", &orgs)
	if len(orgs.Data) != 3 {
		t.Errorf("orgs = %d, want 3 (two tenants and one idempotent create)", len(orgs.Data))
	}

	if n := releases(); n != 1 {
		t.Fatalf("releases = %d, want the one valid release", n)
	}

	// A key scoped to another org sees nothing of this one.
	k, err := p.api.CreateAPIKey(ctx, client.CreateAPIKey{Name: "other", OrgID: other.OrgID, Role: "admin"})
	if err != nil {
		t.Fatal(err)
	}
	scoped := client.New(p.apiURL, k.Secret)
	if _, err := scoped.GetSandbox(ctx, sb.ID); problemCode(err) != "not_found" {
		t.Errorf("foreign key read a sandbox: %v", err)
	}
	if _, err := scoped.Publish(ctx, sb.ID); problemCode(err) != "not_found" {
		t.Errorf("foreign key published a sandbox: %v", err)
	}
}

func asProblem(err error, p **client.Problem) bool {
	pp, ok := err.(*client.Problem)
	*p = pp
	return ok
}
