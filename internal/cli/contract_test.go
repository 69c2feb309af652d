package cli

import (
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/spf13/cobra"

	"github.com/berth-dev/berth/client"
	"github.com/berth-dev/berth/internal/logtest"
	"github.com/berth-dev/berth/internal/up"
)

// These tests run the real command tree against a real `berth up` in this
// process, as a script would: they read stdout, stderr and the exit code.

// TestMain lets this test binary be the berth binary too: berth up starts
// the embedded S3 server (and hosts' agents) by running its own executable
// with a role, and a test binary run so must not run the tests again.
func TestMain(m *testing.M) {
	if len(os.Args) > 1 && !strings.HasPrefix(os.Args[1], "-") {
		os.Exit(Main(os.Args[1:]))
	}
	os.Exit(m.Run())
}

const testAdminKey = "sk_clitestadminkey00000000000000000000000"

// startBerth runs `berth up` until the test ends and points the CLI at it
// through the environment; it returns an admin client of the same API.
func startBerth(t *testing.T) *client.Client {
	t.Helper()
	if err := exec.Command("docker", "info").Run(); err != nil {
		t.Skip("no Docker engine answers `docker info`; `make test` starts one")
	}
	ctx, cancel := context.WithCancel(context.Background())
	dir := t.TempDir()
	ready := make(chan up.Info, 1)
	done := make(chan error, 1)
	cfg := up.Config{
		DataDir: dir, Listen: "127.0.0.1:0", EdgeListen: "127.0.0.1:0", Domain: "localhost",
		BootstrapKey: testAdminKey, Log: logtest.New(t), Ready: func(i up.Info) { ready <- i },
	}
	go func() { done <- up.Run(ctx, cfg) }()
	var info up.Info
	select {
	case info = <-ready:
	case err := <-done:
		t.Fatalf("berth up: %v", err)
	case <-time.After(60 * time.Second):
		t.Fatal("berth up did not start in 60s")
	}
	t.Cleanup(func() {
		cancel()
		<-done
		removeContainers(dir)
	})
	t.Setenv("BERTH_CONFIG", filepath.Join(t.TempDir(), "config.json"))
	t.Setenv("BERTH_API_URL", info.APIURL)
	t.Setenv("BERTH_API_KEY", testAdminKey)
	return client.New(info.APIURL, testAdminKey)
}

// removeContainers removes what the instance in dataDir left in Docker.
func removeContainers(dataDir string) {
	inst, err := os.ReadFile(filepath.Join(dataDir, "instance"))
	if err != nil {
		return
	}
	label := "label=berth.instance=" + hex.EncodeToString(inst)
	for _, kind := range [][]string{{"ps", "-aq"}, {"volume", "ls", "-q"}, {"network", "ls", "-q"}} {
		out, _ := exec.Command("docker", append(kind, "--filter", label)...).Output()
		ids := strings.Fields(string(out))
		if len(ids) == 0 {
			continue
		}
		rm := map[string][]string{"ps": {"rm", "-f", "-v"}, "volume": {"volume", "rm", "-f"}, "network": {"network", "rm"}}[kind[0]]
		exec.Command("docker", append(rm, ids...)...).Run()
	}
}

// result is what one berth command did.
type result struct {
	code           int
	stdout, stderr string
}

func berth(t *testing.T, args ...string) result {
	t.Helper()
	var out, errb bytes.Buffer
	code := run(context.Background(), args, &out, &errb)
	return result{code, out.String(), errb.String()}
}

// berthJSON runs a command that must succeed and decodes its stdout.
func berthJSON[T any](t *testing.T, args ...string) T {
	t.Helper()
	r := berth(t, args...)
	if r.code != 0 {
		t.Fatalf("berth %s: exit %d\n%s", strings.Join(args, " "), r.code, r.stderr)
	}
	var v T
	if err := json.Unmarshal([]byte(r.stdout), &v); err != nil {
		t.Fatalf("berth %s: stdout is not JSON: %v\n%s", strings.Join(args, " "), err, r.stdout)
	}
	return v
}

func ids[T any](items []T, id func(T) string) []string {
	var out []string
	for _, it := range items {
		out = append(out, id(it))
	}
	return out
}

func TestCLIJSONOutput(t *testing.T) {
	api := startBerth(t)
	ctx := context.Background()
	org := berthJSON[client.Org](t, "orgs", "create", "Clinic", "--slug", "clinic")
	ws := berthJSON[client.Workspace](t, "workspaces", "create", "--org", org.ID, "Dr Smith")
	pr := berthJSON[client.Project](t, "projects", "create", "--workspace", ws.ID, "Site", "--slug", "site")
	other, err := api.CreateOrg(ctx, client.CreateOrg{Name: "Other"})
	if err != nil {
		t.Fatal(err)
	}

	orgs := berthJSON[[]client.Org](t, "orgs", "list", "-o", "json")
	if got := ids(orgs, func(o client.Org) string { return o.ID }); len(got) != 2 || got[0] != org.ID || got[1] != other.ID {
		t.Errorf("orgs list -o json: ids %v, want [%s %s]", got, org.ID, other.ID)
	}
	if o := berthJSON[client.Org](t, "orgs", "show", org.ID, "--output", "json"); o.ID != org.ID || o.Slug != "clinic" {
		t.Errorf("orgs show: %+v", o)
	}
	wss := berthJSON[[]client.Workspace](t, "workspaces", "list", "--org", other.ID, "-o", "json")
	if len(wss) != 0 {
		t.Errorf("workspaces list --org %s: %+v, want []", other.ID, wss)
	}
	if w := berthJSON[client.Workspace](t, "workspaces", "show", ws.ID, "-o", "json"); w.ID != ws.ID || w.OrgID != org.ID {
		t.Errorf("workspaces show: %+v", w)
	}
	prs := berthJSON[[]client.Project](t, "projects", "list", "--workspace", ws.ID, "-o", "json")
	if len(prs) != 1 || prs[0].ID != pr.ID {
		t.Errorf("projects list: %+v", prs)
	}
	if p := berthJSON[client.Project](t, "projects", "show", pr.ID, "-o", "json"); p.ID != pr.ID || p.WorkspaceID != ws.ID {
		t.Errorf("projects show: %+v", p)
	}

	// Text mode: a table with a header and one row per item.
	r := berth(t, "projects", "list")
	if lines := strings.Split(strings.TrimSpace(r.stdout), "\n"); r.code != 0 || len(lines) != 2 || !strings.HasPrefix(lines[0], "ID") || !strings.HasPrefix(lines[1], pr.ID) {
		t.Errorf("projects list: exit %d, stdout %q", r.code, r.stdout)
	}

	// deploy --detach answers once the deployment is accepted.
	site := t.TempDir()
	os.WriteFile(filepath.Join(site, "index.html"), []byte("<h1>from the cli</h1>"), 0o644)
	dep := berthJSON[client.Deployment](t, "deploy", site, "--project", pr.ID, "--detach", "-o", "json")
	if !strings.HasPrefix(dep.ID, "dep_") || dep.ProjectID != pr.ID || dep.ReleaseID == "" {
		t.Fatalf("deploy --detach -o json: %+v", dep)
	}
	deps := berthJSON[[]client.Deployment](t, "deployments", "list", "--project", pr.ID, "-o", "json")
	if len(deps) != 1 || deps[0].ID != dep.ID {
		t.Errorf("deployments list: %+v", deps)
	}
	rels := berthJSON[[]client.Release](t, "releases", "list", "--project", pr.ID, "-o", "json")
	if len(rels) != 1 || rels[0].ID != dep.ReleaseID {
		t.Errorf("releases list: %+v", rels)
	}
	if rel := berthJSON[client.Release](t, "releases", "show", dep.ReleaseID, "-o", "json"); rel.ID != dep.ReleaseID || rel.Digest == "" {
		t.Errorf("releases show: %+v", rel)
	}
	// Wait for it, so that the test ends with no build under way.
	deadline := time.Now().Add(3 * time.Minute)
	for {
		d := berthJSON[client.Deployment](t, "deployments", "show", dep.ID, "-o", "json")
		if d.ID != dep.ID {
			t.Fatalf("deployments show %s: %+v", dep.ID, d)
		}
		if d.Ready || d.Status == "failed" {
			if !d.Ready {
				t.Errorf("deployment failed: %s", d.StatusReason)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("deployment %s still %s after 3m", dep.ID, d.Status)
		}
		time.Sleep(300 * time.Millisecond)
	}
	r = berth(t, "deployments", "show", dep.ID)
	if r.code != 0 || !strings.Contains(r.stdout, "id:") || !strings.Contains(r.stdout, dep.ID) {
		t.Errorf("deployments show (text): exit %d, stdout %q", r.code, r.stdout)
	}

	// An empty list is [], not null, in the lists that draw their own
	// tables too.
	for _, args := range [][]string{{"sandboxes", "list"}, {"db", "list"}, {"buckets", "list"}, {"cron", "list"}} {
		args = append(args, "--project", pr.ID, "-o", "json")
		if r := berth(t, args...); r.code != 0 || strings.TrimSpace(r.stdout) != "[]" {
			t.Errorf("berth %s: exit %d, stdout %q, want []", strings.Join(args, " "), r.code, r.stdout)
		}
	}

	sbx := berthJSON[client.Sandbox](t, "sandboxes", "create", "--project", pr.ID, "--template", "static-html", "--env", "GREETING=hi", "--no-wait", "-o", "json")
	if !strings.HasPrefix(sbx.ID, "sbx_") || sbx.ProjectID != pr.ID || len(sbx.EnvNames) != 1 || sbx.EnvNames[0] != "GREETING" {
		t.Fatalf("sandboxes create -o json: %+v", sbx)
	}
	sbxs := berthJSON[[]client.Sandbox](t, "sandboxes", "list", "--project", pr.ID, "-o", "json")
	if len(sbxs) != 1 || sbxs[0].ID != sbx.ID {
		t.Errorf("sandboxes list: %+v", sbxs)
	}
	// Follow it with show until it runs, so that the test ends with
	// nothing half made.
	deadline = time.Now().Add(2 * time.Minute)
	for {
		s := berthJSON[client.Sandbox](t, "sandboxes", "show", sbx.ID, "-o", "json")
		if s.ID != sbx.ID {
			t.Fatalf("sandboxes show %s: %+v", sbx.ID, s)
		}
		if s.Status != "pending" {
			if s.Status != "running" {
				t.Errorf("sandbox %s: %s", s.Status, s.StatusReason)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("sandbox %s still pending after 2m", sbx.ID)
		}
		time.Sleep(300 * time.Millisecond)
	}
}

func TestCLIExitCodes(t *testing.T) {
	api := startBerth(t)
	ctx := context.Background()
	org, err := api.CreateOrg(ctx, client.CreateOrg{Name: "Clinic", Slug: "clinic"})
	if err != nil {
		t.Fatal(err)
	}
	viewer, err := api.CreateAPIKey(ctx, client.CreateAPIKey{Name: "ro", OrgID: org.ID, Role: "viewer"})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		env  map[string]string
		args []string
		code int
		// stderr is what the error line must say.
		stderr string
	}{
		{"ok", nil, []string{"orgs", "show", org.ID}, exitOK, ""},
		{"usage: unknown command", nil, []string{"frobnicate"}, exitUsage, "unknown command"},
		{"usage: unknown flag", nil, []string{"orgs", "list", "--no-such-flag"}, exitUsage, "unknown flag"},
		{"usage: arguments", nil, []string{"orgs", "show"}, exitUsage, "accepts 1 arg"},
		{"usage: a missing flag", nil, []string{"db", "create", "main"}, exitUsage, "--project"},
		{"usage: output format", nil, []string{"orgs", "list", "-o", "yaml"}, exitUsage, "unknown output format"},
		{"404", nil, []string{"orgs", "show", "org_nosuchorg"}, exitNotFound, "(not_found)"},
		{"401", map[string]string{"BERTH_API_KEY": "sk_wrongkey0000000000000000000000000000000"}, []string{"whoami"}, exitAuth, "error: "},
		{"403", map[string]string{"BERTH_API_KEY": viewer.Secret}, []string{"orgs", "create", "Mine"}, exitAuth, "error: "},
		{"422", nil, []string{"orgs", "create", "Bad", "--slug", "Not A Slug"}, exitRefused, "(invalid_slug)"},
		{"409", nil, []string{"orgs", "create", "Again", "--slug", "clinic"}, exitRefused, "(already_exists)"},
		{"not logged in", map[string]string{"BERTH_API_KEY": "", "BERTH_API_URL": ""}, []string{"whoami"}, exitAuth, "not logged in"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for k, v := range tc.env {
				t.Setenv(k, v)
			}
			r := berth(t, tc.args...)
			if r.code != tc.code {
				t.Errorf("berth %s: exit %d, want %d; stderr %q", strings.Join(tc.args, " "), r.code, tc.code, r.stderr)
			}
			if tc.code != exitOK && (!strings.HasPrefix(r.stderr, "error: ") || !strings.Contains(r.stderr, tc.stderr)) {
				t.Errorf("berth %s: stderr %q, want an error line with %q", strings.Join(tc.args, " "), r.stderr, tc.stderr)
			}
		})
	}
}

func TestCLIVersionAndWhoami(t *testing.T) {
	api := startBerth(t)
	ctx := context.Background()

	v := berthJSON[buildVersion](t, "version", "-o", "json")
	if v.Version == "" || !strings.HasPrefix(v.Go, "go") {
		t.Errorf("version -o json: %+v", v)
	}
	if r := berth(t, "version"); r.code != 0 || !strings.HasPrefix(r.stdout, "berth "+v.Version) {
		t.Errorf("version: exit %d, stdout %q", r.code, r.stdout)
	}

	org, err := api.CreateOrg(ctx, client.CreateOrg{Name: "Clinic"})
	if err != nil {
		t.Fatal(err)
	}
	key, err := api.CreateAPIKey(ctx, client.CreateAPIKey{Name: "deployer", OrgID: org.ID, Role: "deployer"})
	if err != nil {
		t.Fatal(err)
	}
	t.Setenv("BERTH_API_KEY", key.Secret)
	self := berthJSON[client.APIKey](t, "whoami", "-o", "json")
	if self.ID != key.ID || self.Role != "deployer" || self.OrgID != org.ID || self.Secret != "" {
		t.Errorf("whoami -o json: %+v, want key %s, deployer of %s, no secret", self, key.ID, org.ID)
	}
	r := berth(t, "whoami")
	if r.code != 0 || !strings.Contains(r.stdout, "deployer") || !strings.Contains(r.stdout, "org "+org.ID) {
		t.Errorf("whoami: exit %d, stdout %q", r.code, r.stdout)
	}
}

// TestCLIGroups checks the help's two groups and that every client command
// under them takes -o json.
func TestCLIGroups(t *testing.T) {
	root := newRoot(io.Discard, io.Discard)
	var walk func(*cobra.Command)
	walk = func(c *cobra.Command) {
		if c.Runnable() {
			f := c.InheritedFlags().Lookup(outputFlag)
			if f == nil {
				f = c.Flags().Lookup(outputFlag)
			}
			if f == nil || f.Shorthand != "o" {
				t.Errorf("%s has no -o/--output", c.CommandPath())
			}
		}
		for _, sub := range c.Commands() {
			walk(sub)
		}
	}
	for _, c := range root.Commands() {
		switch {
		case c.Name() == "help" || c.Name() == "completion":
		case serverRoles[c.Name()]:
			if c.GroupID != "server" {
				t.Errorf("%s is in group %q, want server", c.Name(), c.GroupID)
			}
		case c.GroupID != "client":
			t.Errorf("%s is in group %q, want client", c.Name(), c.GroupID)
		case c.Name() != "login":
			walk(c)
		}
	}
	for _, role := range []string{"up", "agent", "edge", "portal", "mcp"} {
		if c, _, err := root.Find([]string{role}); err != nil || c.GroupID != "server" {
			t.Errorf("berth %s: not a server role (%v)", role, err)
		}
	}
}
