package client_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/berth-dev/berth/client"
)

// The tests here hold the client's transport to what its documentation
// says, against servers on loopback that answer as a flaky network would;
// the client against the real API is tested by internal/api and e2e.

// recorder is a server that answers each request with the next of its
// answers and keeps the requests.
type recorder struct {
	mu       sync.Mutex
	answers  []func(w http.ResponseWriter)
	requests []*http.Request
	bodies   []string
}

func (rec *recorder) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	rec.mu.Lock()
	defer rec.mu.Unlock()
	b, _ := io.ReadAll(r.Body)
	rec.requests = append(rec.requests, r)
	rec.bodies = append(rec.bodies, string(b))
	n := len(rec.requests) - 1
	if n >= len(rec.answers) {
		n = len(rec.answers) - 1
	}
	rec.answers[n](w)
}

func status(code int, body string) func(http.ResponseWriter) {
	return func(w http.ResponseWriter) {
		if strings.HasPrefix(body, "{") {
			w.Header().Set("Content-Type", "application/json")
		}
		w.WriteHeader(code)
		fmt.Fprint(w, body)
	}
}

const problem503 = `{"type":"about:blank","title":"Service Unavailable","status":503,"code":"busy","detail":"try again"}`

func serve(t *testing.T, answers ...func(http.ResponseWriter)) (*client.Client, *recorder) {
	t.Helper()
	rec := &recorder{answers: answers}
	ts := httptest.NewServer(rec)
	t.Cleanup(ts.Close)
	return client.New(ts.URL, "sk_test"), rec
}

func TestRetriesAfterBusyAnswers(t *testing.T) {
	c, rec := serve(t, status(503, problem503), status(502, "<html>bad gateway</html>"), status(200, `{"id":"prj_1","name":"Site"}`))
	p, err := c.GetProject(t.Context(), "prj_1")
	if err != nil || p.ID != "prj_1" {
		t.Fatalf("GetProject = %+v, %v", p, err)
	}
	if len(rec.requests) != 3 {
		t.Fatalf("%d requests, want 3", len(rec.requests))
	}
}

func TestGivesUpWithTheProblem(t *testing.T) {
	c, rec := serve(t, status(503, problem503))
	c.Retries = 2
	_, err := c.GetProject(t.Context(), "prj_1")
	var p *client.Problem
	if !errors.As(err, &p) || p.Status != 503 || p.Code != "busy" || p.Detail != "try again" {
		t.Fatalf("err = %#v", err)
	}
	if len(rec.requests) != 3 {
		t.Fatalf("%d requests, want 1 and 2 retries", len(rec.requests))
	}
}

func TestRetryAfter(t *testing.T) {
	c, rec := serve(t, func(w http.ResponseWriter) {
		w.Header().Set("Retry-After", "1")
		status(429, `{"type":"about:blank","title":"Too Many Requests","status":429,"code":"rate_limited","detail":"slow down"}`)(w)
	}, status(200, `{"id":"org_1"}`))
	start := time.Now()
	if _, err := c.GetOrg(t.Context(), "org_1"); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d < time.Second || len(rec.requests) != 2 {
		t.Fatalf("answered after %v and %d requests; want Retry-After's second and 2", d, len(rec.requests))
	}
}

func TestUnsafeCallsAreNotRepeated(t *testing.T) {
	c, rec := serve(t, status(500, `{"type":"about:blank","title":"Internal Server Error","status":500,"code":"internal_error","detail":""}`))
	_, err := c.Exec(t.Context(), "sbx_1", client.Exec{Command: "rm -rf build"})
	var p *client.Problem
	if !errors.As(err, &p) || p.Status != 500 || len(rec.requests) != 1 {
		t.Fatalf("exec after a 500: %v, %d requests", err, len(rec.requests))
	}
	// A 503 means the server did not act: even an exec is sent again.
	c, rec = serve(t, status(503, problem503), status(200, `{"exit_code":0,"stdout":"","stderr":""}`))
	if _, err := c.Exec(t.Context(), "sbx_1", client.Exec{Command: "true"}); err != nil || len(rec.requests) != 2 {
		t.Fatalf("exec after a 503: %v, %d requests", err, len(rec.requests))
	}
	if rec.bodies[0] != rec.bodies[1] || !strings.Contains(rec.bodies[1], `"command":"true"`) {
		t.Fatalf("the body sent again differs: %q", rec.bodies)
	}
}

func TestNetworkErrorsAreRetriedWhenSafe(t *testing.T) {
	var n int
	var mu sync.Mutex
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		n++
		first := n == 1
		mu.Unlock()
		if first { // the connection drops before any answer
			conn, _, _ := w.(http.Hijacker).Hijack()
			conn.Close()
			return
		}
		fmt.Fprint(w, `{"id":"ws_1"}`)
	}))
	defer ts.Close()
	c := client.New(ts.URL, "sk_test")
	if ws, err := c.GetWorkspace(t.Context(), "ws_1"); err != nil || ws.ID != "ws_1" || n != 2 {
		t.Fatalf("GetWorkspace = %+v, %v after %d requests", ws, err, n)
	}
}

func TestIdempotencyKeys(t *testing.T) {
	c, rec := serve(t, status(502, "bad gateway"), status(201, `{"id":"prj_1"}`))
	if _, err := c.CreateProject(t.Context(), client.CreateProject{WorkspaceID: "ws_1", Name: "Site"}); err != nil {
		t.Fatal(err)
	}
	k1, k2 := rec.requests[0].Header.Get("Idempotency-Key"), rec.requests[1].Header.Get("Idempotency-Key")
	if !strings.HasPrefix(k1, "berth-go-") || k1 != k2 || len(k1) > 255 {
		t.Fatalf("keys %q and %q: want one generated key on both attempts", k1, k2)
	}

	c, rec = serve(t, status(201, `{"id":"prj_2"}`))
	ctx := client.WithIdempotencyKey(t.Context(), "create-landing-1")
	if _, err := c.CreateProject(ctx, client.CreateProject{WorkspaceID: "ws_1", Name: "Landing"}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.GetProject(ctx, "prj_2"); err != nil {
		t.Fatal(err)
	}
	if k := rec.requests[0].Header.Get("Idempotency-Key"); k != "create-landing-1" {
		t.Fatalf("the caller's key: %q", k)
	}
	if k := rec.requests[1].Header.Get("Idempotency-Key"); k != "" {
		t.Fatalf("a GET sent Idempotency-Key %q", k)
	}
}

func TestUserAgentAndKey(t *testing.T) {
	c, rec := serve(t, status(200, `{"data":[]}`))
	if _, err := c.Templates(t.Context()); err != nil {
		t.Fatal(err)
	}
	c.UserAgent = "clinic-iq/2.1"
	if _, err := c.Templates(t.Context()); err != nil {
		t.Fatal(err)
	}
	r0, r1 := rec.requests[0], rec.requests[1]
	if r0.Header.Get("User-Agent") != client.DefaultUserAgent || r1.Header.Get("User-Agent") != "clinic-iq/2.1" {
		t.Fatalf("User-Agent %q then %q", r0.Header.Get("User-Agent"), r1.Header.Get("User-Agent"))
	}
	if r0.Header.Get("Authorization") != "Bearer sk_test" {
		t.Fatalf("Authorization %q", r0.Header.Get("Authorization"))
	}
}

func TestTimeout(t *testing.T) {
	c, _ := serve(t, func(w http.ResponseWriter) { time.Sleep(2 * time.Second) })
	c.Timeout = 100 * time.Millisecond
	start := time.Now()
	_, err := c.GetOrg(context.Background(), "org_1")
	if !errors.Is(err, context.DeadlineExceeded) || time.Since(start) > time.Second {
		t.Fatalf("after %v: %v", time.Since(start), err)
	}
}

func TestProblemOfAnotherServer(t *testing.T) {
	c, _ := serve(t, status(404, "404 page not found"))
	_, err := c.GetOrg(t.Context(), "org_1")
	var p *client.Problem
	if !errors.As(err, &p) || p.Status != 404 || p.Code != "http_404" || p.Detail != "404 page not found" {
		t.Fatalf("err = %#v", err)
	}
}

// TestIterators walks a list of 250 items in pages of 100.
func TestIterators(t *testing.T) {
	var cursors []string
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		if q.Get("workspace_id") != "ws_1" || q.Get("limit") != "100" {
			t.Errorf("query %q", r.URL.RawQuery)
		}
		cursors = append(cursors, q.Get("cursor"))
		from := 0
		if c := q.Get("cursor"); c != "" {
			from, _ = strconv.Atoi(strings.TrimPrefix(c, "prj_"))
		}
		page := client.List[client.Project]{Data: []client.Project{}}
		for i := from + 1; i <= min(from+100, 250); i++ {
			page.Data = append(page.Data, client.Project{ID: "prj_" + strconv.Itoa(i)})
		}
		if len(page.Data) == 100 {
			page.NextCursor = page.Data[99].ID
		}
		json.NewEncoder(w).Encode(page)
	}))
	defer ts.Close()
	c := client.New(ts.URL, "sk_test")
	var ids []string
	for p, err := range c.Projects(t.Context(), client.ListOptions{WorkspaceID: ws1, ProjectID: "ignored", Limit: 100}) {
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, p.ID)
	}
	if len(ids) != 250 || ids[0] != "prj_1" || ids[249] != "prj_250" || strings.Join(cursors, ",") != ",prj_100,prj_200" {
		t.Fatalf("%d ids (%v…), cursors %q", len(ids), ids[:min(3, len(ids))], cursors)
	}
	cursors = nil
	for p := range c.Projects(t.Context(), client.ListOptions{WorkspaceID: ws1, Limit: 100}) {
		if p.ID == "prj_5" {
			break
		}
	}
	if len(cursors) != 1 {
		t.Fatalf("breaking out of the loop still fetched %d pages", len(cursors))
	}
}

const ws1 = "ws_1"

// methods maps each operation of the spec to the client's method for it.
var methods = map[string]string{
	"healthz": "Health", "getSelfAPIKey": "Self",
	"createOrg": "CreateOrg", "listOrgs": "ListOrgs", "getOrg": "GetOrg",
	"createWorkspace": "CreateWorkspace", "listWorkspaces": "ListWorkspaces", "getWorkspace": "GetWorkspace",
	"createProject": "CreateProject", "listProjects": "ListProjects", "getProject": "GetProject",
	"createAPIKey":  "CreateAPIKey",
	"createSandbox": "CreateSandbox", "listSandboxes": "ListSandboxes", "getSandbox": "GetSandbox", "restartSandbox": "RestartSandbox",
	"deleteSandbox": "DeleteSandbox", "stopSandbox": "StopSandbox", "startSandbox": "StartSandbox", "pauseSandbox": "PauseSandbox", "resumeSandbox": "ResumeSandbox",
	"listRootFiles": "ListFiles", "uploadFiles": "UploadFiles", "readFile": "ReadFile", "writeFile": "WriteFile", "deleteFile": "DeleteFile",
	"exec": "Exec", "preview": "Preview", "publish": "Publish",
	"createRelease": "CreateRelease", "listReleases": "ListReleases", "getRelease": "GetRelease",
	"createDeployment": "Deploy", "listDeployments": "ListDeployments", "getDeployment": "GetDeployment",
	"deleteDeployment": "DeleteDeployment", "pauseDeployment": "PauseDeployment", "resumeDeployment": "ResumeDeployment", "rollback": "Rollback",
	"listEvents": "Events", "listTemplates": "Templates", "getTemplate": "GetTemplate",
	"ensureHost": "EnsureHost", "listHosts": "ListHostsPage", "getHost": "GetHost", "setPortalPassword": "SetPortalPassword",
	"createDatabase": "CreateDatabase", "listDatabases": "ListDatabasesPage", "getDatabase": "GetDatabase", "deleteDatabase": "DeleteDatabase",
	"revealDatabaseCredentials": "RevealCredentials", "rotateDatabaseCredentials": "RotateCredentials",
	"linkDatabase": "LinkDatabase", "listDatabaseLinks": "DatabaseLinks", "unlinkDatabase": "UnlinkDatabase",
	"putOrgBranding": "SetOrgBranding", "getOrgBranding": "OrgBranding", "putWorkspaceBranding": "SetWorkspaceBranding", "getWorkspaceBranding": "WorkspaceBranding",
	"createDomain": "CreateDomain", "listDomains": "ListDomainsPage", "getDomain": "GetDomain", "deleteDomain": "DeleteDomain", "verifyDomain": "VerifyDomain",
	"putOrgPage": "PutOrgPage", "getOrgPage": "OrgPage", "deleteOrgPage": "DeleteOrgPage",
	"putWorkspacePage": "PutWorkspacePage", "getWorkspacePage": "WorkspacePage", "deleteWorkspacePage": "DeleteWorkspacePage",
	"resyncRoutes":  "ResyncRoutes",
	"createCronJob": "CreateCronJob", "listCronJobs": "ListCronJobsPage", "getCronJob": "GetCronJob", "updateCronJob": "UpdateCronJob",
	"deleteCronJob": "DeleteCronJob", "triggerCronJob": "TriggerCronJob", "runCronJob": "RunCronJob",
	"listCronRuns": "ListCronRunsPage", "getCronRun": "CronRun",
	"createBucket": "CreateBucket", "listBuckets": "ListBucketsPage", "getBucket": "GetBucket", "deleteBucket": "DeleteBucket",
	"rotateBucketKeys": "RotateBucketKeys", "presignBucket": "PresignBucket",
	"linkBucket": "LinkBucket", "listBucketLinks": "BucketLinks", "unlinkBucket": "UnlinkBucket",
}

// TestEveryOperationHasAMethod keeps the client complete: each operation
// of api/openapi.yaml is callable through a method of its own.
func TestEveryOperationHasAMethod(t *testing.T) {
	b, err := os.ReadFile("../api/openapi.yaml")
	if err != nil {
		t.Fatal(err)
	}
	// The spec is read as text, so that the client's module needs no YAML
	// parser: each operation has one "operationId: name" line.
	typ := reflect.TypeFor[*client.Client]()
	seen := 0
	for _, m := range regexp.MustCompile(`(?m)^\s+operationId:\s*(\w+)\s*$`).FindAllSubmatch(b, -1) {
		id := string(m[1])
		seen++
		name, ok := methods[id]
		if !ok {
			t.Errorf("operation %s has no method in the client: add one, and name it in this test", id)
			continue
		}
		if _, ok := typ.MethodByName(name); !ok {
			t.Errorf("%s: the client has no method %s", id, name)
		}
	}
	if seen != len(methods) {
		t.Errorf("the spec has %d operations, this test names %d", seen, len(methods))
	}
}
