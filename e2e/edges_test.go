package e2e

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/berth-dev/berth/client"
	"github.com/berth-dev/berth/internal/edge"
	"github.com/berth-dev/berth/internal/logtest"
	"github.com/berth-dev/berth/internal/resolve"
	"github.com/berth-dev/berth/internal/up"
)

// propagationLimit is how soon a route change must be served by every
// edge.
const propagationLimit = time.Second

// remoteEdges are the two edges of a test beside berth up's own: one in
// this process over the resolver's network protocol, one a `berth edge`
// process.
type remoteEdges struct {
	inProc  *http.Client
	process *http.Client
	procLog *strings.Builder
}

// startEdges starts two edges against p's resolver.
func startEdges(t *testing.T, p *platform) *remoteEdges {
	t.Helper()
	keyBytes, err := os.ReadFile(p.info.ResolverKeyFile)
	if err != nil {
		t.Fatalf("reading the resolver key: %v", err)
	}
	key := strings.TrimSpace(string(keyBytes))

	// Edge 1: in this process, through resolve.Client.
	e := edge.New(edge.Config{Log: logtest.New(t)})
	rc := resolve.NewClient(p.info.ResolverURL, key)
	e.UseResolver(rc)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); e.Follow(ctx, rc) }()
	srv := &http.Server{Handler: e}
	ln := listenLoopback(t)
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close(); cancel(); <-done; e.CloseIdleConnections() })

	// Edge 2: a `berth edge` process.
	dir := t.TempDir()
	addrFile := filepath.Join(dir, "addr")
	cmd := exec.Command(berthBin, "edge", "--listen", "127.0.0.1:0", "--addr-file", addrFile,
		"--resolver", p.info.ResolverURL, "--resolver-key-file", p.info.ResolverKeyFile)
	var log strings.Builder
	cmd.Stdout, cmd.Stderr = &log, &log
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting berth edge: %v", err)
	}
	t.Cleanup(func() {
		cmd.Process.Signal(os.Interrupt)
		cmd.Wait()
		if t.Failed() {
			t.Logf("berth edge said:\n%s", log.String())
		}
	})
	var addr string
	eventually(t, 10*time.Second, "berth edge to listen", func() bool {
		b, err := os.ReadFile(addrFile)
		addr = strings.TrimSpace(string(b))
		return err == nil && addr != ""
	})
	return &remoteEdges{inProc: webClient(ln.Addr().String()), process: webClient(addr), procLog: &log}
}

// body fetches url through c, "" on an error.
func body(c *http.Client, url string) (int, string) {
	resp, err := c.Get(url)
	if err != nil {
		return 0, ""
	}
	defer resp.Body.Close()
	var b strings.Builder
	buf := make([]byte, 4096)
	for {
		n, err := resp.Body.Read(buf)
		b.Write(buf[:n])
		if err != nil {
			break
		}
	}
	return resp.StatusCode, b.String()
}

// servedWithin waits until every client serves url as want reports, and
// returns how long that took.
func servedWithin(t *testing.T, limit time.Duration, what, url string, want func(int, string) bool, clients ...*http.Client) time.Duration {
	t.Helper()
	start := time.Now()
	pending := slices.Clone(clients)
	for len(pending) > 0 {
		pending = slices.DeleteFunc(pending, func(c *http.Client) bool { return want(body(c, url)) })
		if len(pending) == 0 {
			break
		}
		if time.Since(start) > limit {
			t.Fatalf("%s: %d edge(s) did not serve it within %s", what, len(pending), limit)
		}
		time.Sleep(5 * time.Millisecond)
	}
	return time.Since(start)
}

func serving(text string) func(int, string) bool {
	return func(code int, b string) bool { return code == 200 && strings.Contains(b, text) }
}

func status(code int) func(int, string) bool {
	return func(c int, _ string) bool { return c == code }
}

// TestTwoEdgesFollowChanges runs two more edges against one control plane
// and checks that a deploy, a rollback and a domain added and removed are
// served by all three within a second of the control plane's own edge.
func TestTwoEdgesFollowChanges(t *testing.T) {
	ns := startTXTServer(t)
	p := start(t, func(c *up.Config) { c.DNSResolver = ns.addr })
	edges := startEdges(t, p)
	ctx := context.Background()
	_, _, pr := p.tenant(t, "Two Edges")
	port := p.edgeAddr[strings.LastIndexByte(p.edgeAddr, ':'):]
	all := []*http.Client{edges.inProc, edges.process}

	release := func(text string) *client.Release {
		rel, err := p.api.CreateRelease(ctx, makeTar(file("index.html", "<h1>"+text+"</h1>")), client.ReleaseOptions{ProjectID: pr.ID})
		if err != nil {
			t.Fatalf("release: %v", err)
		}
		return rel
	}
	v1, v2 := release("version one"), release("version two")

	// A first deploy: the URL answers on every edge.
	d, err := p.api.Deploy(ctx, client.CreateDeployment{ProjectID: pr.ID, ReleaseID: v1.ID})
	if err != nil {
		t.Fatalf("deploy: %v", err)
	}
	d = waitReady(t, p, d.ID, v1.ID)
	took := servedWithin(t, propagationLimit, "first deploy", d.URL, serving("version one"), all...)
	t.Logf("first deploy served by both edges %s after the API said ready", took)

	// A new release, then a rollback: each reaches the other edges within
	// a second of the control plane's own edge serving it.
	for _, step := range []struct {
		name string
		do   func() error
		want string
	}{
		{"deploy v2", func() error {
			_, err := p.api.Deploy(ctx, client.CreateDeployment{ProjectID: pr.ID, ReleaseID: v2.ID})
			return err
		}, "version two"},
		{"rollback", func() error { _, err := p.api.Rollback(ctx, d.ID, ""); return err }, "version one"},
	} {
		if err := step.do(); err != nil {
			t.Fatalf("%s: %v", step.name, err)
		}
		servedWithin(t, 3*time.Minute, step.name+" on berth up's edge", d.URL, serving(step.want), p.web)
		took := servedWithin(t, propagationLimit, step.name, d.URL, serving(step.want), all...)
		t.Logf("%s served by both edges %s after berth up's own edge", step.name, took)
	}

	// A deployment domain, verified: served by both; removed: 404 on both.
	dom, err := p.api.CreateDomain(ctx, client.CreateDomain{Hostname: "two-edges.example.localhost", DeploymentID: d.ID})
	if err != nil {
		t.Fatalf("create domain: %v", err)
	}
	exact := "http://two-edges.example.localhost" + port + "/"
	for _, c := range all {
		if code, _ := body(c, exact); code != 404 {
			t.Fatalf("an unverified domain answered %d", code)
		}
	}
	ns.publish(t, dom)
	if v, err := p.api.VerifyDomain(ctx, dom.ID); err != nil || v.Status != "verified" {
		t.Fatalf("verify: %+v %v", v, err)
	}
	took = servedWithin(t, propagationLimit, "verified domain", exact, serving("version one"), all...)
	t.Logf("verified domain served by both edges %s after the API answered", took)
	if err := p.api.DeleteDomain(ctx, dom.ID); err != nil {
		t.Fatal(err)
	}
	took = servedWithin(t, propagationLimit, "removed domain", exact, status(404), all...)
	t.Logf("removed domain gone from both edges %s after the API answered", took)

	// Resync: both edges drop what they cached and answer from the
	// records.
	res, err := p.api.ResyncRoutes(ctx)
	if err != nil || res.Hostnames < 1 {
		t.Fatalf("resync: %+v %v", res, err)
	}
	servedWithin(t, propagationLimit, "after resync", d.URL, serving("version one"), all...)
}

// TestRoutePropagationBench measures how long a route change takes to be
// served by every edge: a deployment domain verified and removed, over
// and over, timed from the API's answer to the last of three edges
// serving the change. BERTH_BENCH_ROUTES=1 runs it.
func TestRoutePropagationBench(t *testing.T) {
	if os.Getenv("BERTH_BENCH_ROUTES") == "" {
		t.Skip("set BERTH_BENCH_ROUTES=1 to measure route propagation")
	}
	ns := startTXTServer(t)
	p := start(t, func(c *up.Config) { c.DNSResolver = ns.addr })
	edges := startEdges(t, p)
	ctx := context.Background()
	_, _, pr := p.tenant(t, "Propagation")
	port := p.edgeAddr[strings.LastIndexByte(p.edgeAddr, ':'):]
	rel, err := p.api.CreateRelease(ctx, makeTar(file("index.html", "<h1>bench</h1>")), client.ReleaseOptions{ProjectID: pr.ID})
	if err != nil {
		t.Fatal(err)
	}
	d, err := p.api.Deploy(ctx, client.CreateDeployment{ProjectID: pr.ID, ReleaseID: rel.ID})
	if err != nil {
		t.Fatal(err)
	}
	d = waitReady(t, p, d.ID, rel.ID)
	all := []*http.Client{p.web, edges.inProc, edges.process}
	var times []time.Duration
	const rounds = 20
	for i := range rounds {
		host := fmt.Sprintf("bench-%d.example.localhost", i)
		url := "http://" + host + port + "/"
		for _, c := range all {
			body(c, url) // cache the 404, as a client probing the name would
		}
		dom, err := p.api.CreateDomain(ctx, client.CreateDomain{Hostname: host, DeploymentID: d.ID})
		if err != nil {
			t.Fatal(err)
		}
		ns.publish(t, dom)
		if _, err := p.api.VerifyDomain(ctx, dom.ID); err != nil {
			t.Fatal(err)
		}
		times = append(times, servedWithin(t, 5*time.Second, "verified "+host, url, serving("bench"), all...))
		if err := p.api.DeleteDomain(ctx, dom.ID); err != nil {
			t.Fatal(err)
		}
		times = append(times, servedWithin(t, 5*time.Second, "removed "+host, url, status(404), all...))
	}
	slices.Sort(times)
	t.Logf("route change → served by all 3 edges, %d changes: median %s, max %s", len(times), times[len(times)/2], times[len(times)-1])
}

func listenLoopback(t *testing.T) net.Listener {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	return ln
}

// TestRoutesAndPagesCLI runs `berth routes resync`, `berth pages` and
// `berth domains verify` against a running berth up, as an operator and
// an org admin would.
func TestRoutesAndPagesCLI(t *testing.T) {
	ns := startTXTServer(t)
	p := start(t, func(c *up.Config) { c.DNSResolver = ns.addr })
	o, _, _ := p.tenant(t, "CLI Pages")
	dir := t.TempDir()
	env := append(os.Environ(), "BERTH_API_URL="+p.apiURL, "BERTH_API_KEY="+adminKey, "BERTH_CONFIG="+filepath.Join(dir, "c.json"))
	run := func(args ...string) (string, error) {
		cmd := exec.Command(berthBin, args...)
		cmd.Env = env
		out, err := cmd.CombinedOutput()
		return string(out), err
	}
	out, err := run("routes", "resync")
	if err != nil || !strings.Contains(out, `"version"`) || !strings.Contains(out, `"hostnames"`) {
		t.Fatalf("routes resync: %v\n%s", err, out)
	}
	page := filepath.Join(dir, "404.html")
	os.WriteFile(page, []byte(`<h1>{{.Name}} has nothing at this address</h1>`), 0o644)
	if out, err := run("pages", "set", "--org", o.ID, "not-found", page); err != nil || !strings.Contains(out, `"digest": "sha256:`) {
		t.Fatalf("pages set: %v\n%s", err, out)
	}
	if out, err := run("pages", "show", "--org", o.ID, "not-found"); err != nil || !strings.Contains(out, "{{.Name}} has nothing") {
		t.Fatalf("pages show: %v\n%s", err, out)
	}
	port := p.edgeAddr[strings.LastIndexByte(p.edgeAddr, ':'):]
	if code, body, _ := p.get(t, "http://nope."+o.Slug+".localhost"+port+"/"); code != 404 || !strings.Contains(body, "CLI Pages has nothing at this address") {
		t.Fatalf("the custom 404 page: %d %s", code, body)
	}
	os.WriteFile(page, []byte(`<script>alert(1)</script>`), 0o644)
	if out, err := run("pages", "set", "--org", o.ID, "not-found", page); err == nil || !strings.Contains(out, "unsafe_page") {
		t.Fatalf("an unsafe page: %v\n%s", err, out)
	}
	if out, err := run("pages", "remove", "--org", o.ID, "not-found"); err != nil {
		t.Fatalf("pages remove: %v\n%s", err, out)
	}
	if code, body, _ := p.get(t, "http://nope."+o.Slug+".localhost"+port+"/"); code != 404 || strings.Contains(body, "has nothing at this address") {
		t.Fatalf("after removing the custom page: %d %s", code, body)
	}

	// domains verify says what DNS lacks, and exits non-zero.
	dom, err := p.api.CreateDomain(context.Background(), client.CreateDomain{Hostname: "cli-pages.localhost", OrgID: o.ID})
	if err != nil {
		t.Fatal(err)
	}
	if out, err := run("domains", "verify", dom.ID); err == nil || !strings.Contains(out, "dns_not_verified") || !strings.Contains(out, "_berth-challenge.cli-pages.localhost") {
		t.Fatalf("verify without the record: %v\n%s", err, out)
	}
	ns.publish(t, dom)
	if out, err := run("domains", "verify", dom.ID); err != nil || !strings.Contains(out, `"status": "verified"`) {
		t.Fatalf("verify: %v\n%s", err, out)
	}
}
