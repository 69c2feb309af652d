package e2e

import (
	"bytes"
	"context"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/berth-dev/berth/client"
)

const chromiumPath = "/usr/bin/chromium"

// TestPortal runs `berth portal` as its own process, with the flags a
// Docker Deploy host's bootstrap gives it, in front of a real `berth up`
// with a deployment that serves and one that failed; a person signs in
// through the form in headless Chromium and sees both, and follows the
// link to the app.
func TestPortal(t *testing.T) {
	p := start(t)
	ctx := context.Background()
	o, ws, pr := p.tenant(t, "Clinic IQ")

	rel, err := p.api.CreateRelease(ctx, makeTar(file("index.html", "<h1>Welcome to the clinic</h1>")), client.ReleaseOptions{ProjectID: pr.ID})
	if err != nil {
		t.Fatal(err)
	}
	d, err := p.api.Deploy(ctx, client.CreateDeployment{ProjectID: pr.ID, ReleaseID: rel.ID})
	if err != nil {
		t.Fatal(err)
	}
	d = waitReady(t, p, d.ID, rel.ID)

	broken, err := p.api.CreateProject(ctx, client.CreateProject{WorkspaceID: ws.ID, Name: "Intake Form"})
	if err != nil {
		t.Fatal(err)
	}
	badRel, err := p.api.CreateRelease(ctx, makeTar(file("Dockerfile", "FROM berth/nginx:bookworm\nRUN exit 3\n"), file("index.html", "x")), client.ReleaseOptions{ProjectID: broken.ID})
	if err != nil {
		t.Fatal(err)
	}
	bad, err := p.api.Deploy(ctx, client.CreateDeployment{ProjectID: broken.ID, ReleaseID: badRel.ID})
	if err != nil {
		t.Fatal(err)
	}
	eventually(t, 2*time.Minute, "the broken deployment failing", func() bool {
		bad, err = p.api.GetDeployment(ctx, bad.ID)
		return err == nil && bad.Status == "failed"
	})
	if _, err := p.api.CreateProject(ctx, client.CreateProject{WorkspaceID: ws.ID, Name: "Newsletter"}); err != nil {
		t.Fatal(err)
	}

	key, err := p.api.CreateAPIKey(ctx, client.CreateAPIKey{Name: "portal", OrgID: o.ID, WorkspaceID: ws.ID, Role: "viewer"})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	const password = "portal-e2e-password"
	pwFile, secretFile := filepath.Join(dir, "password"), filepath.Join(dir, "state", "session.secret")
	if err := os.WriteFile(pwFile, []byte(password+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	addr := freePort(t)
	portalURL := "http://" + addr
	cmd := exec.Command(berthBin, "portal", "--listen", addr, "--api", p.apiURL, "--key", key.Secret,
		"--workspace", ws.ID, "--session-secret-file", secretFile, "--password-file", pwFile)
	var log bytes.Buffer
	cmd.Stdout, cmd.Stderr = &log, &log
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Signal(syscall.SIGTERM)
		cmd.Wait()
		if t.Failed() {
			t.Logf("berth portal's output:\n%s", log.String())
		}
	})
	eventually(t, 20*time.Second, "the portal's health check", func() bool {
		resp, err := http.Get(portalURL + "/healthz")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == 200
	})
	if fi, err := os.Stat(secretFile); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("session secret file: %v %v", fi, err)
	}
	noRedirect := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := noRedirect.Get(portalURL + "/")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/login" {
		t.Fatalf("GET / without a session: %d → %q", resp.StatusCode, resp.Header.Get("Location"))
	}

	if _, err := os.Stat(chromiumPath); err != nil {
		t.Skipf("Chromium is not installed at %s, so the portal was not tried in a browser; `make test` installs it (scripts/ensure-deps.sh)", chromiumPath)
	}
	bctx := browser(t)
	err = chromedp.Do(bctx,
		chromedp.Navigate(portalURL+"/"),
		chromedp.WaitVisible(chromedp.CSS(`#password`)),
		chromedp.SendKeys(chromedp.CSS(`#password`), password),
		chromedp.Submit(chromedp.CSS(`#password`)),
		chromedp.WaitVisible(chromedp.CSS(`tr.deployment[data-state="ready"]`)),
	)
	if err != nil {
		t.Fatalf("signing in through the form in Chromium: %v", err)
	}
	text := func(sel string) string {
		t.Helper()
		s, err := chromedp.Run(bctx, chromedp.Text(chromedp.CSS(sel)))
		if err != nil {
			t.Fatalf("reading %s: %v", sel, err)
		}
		return strings.TrimSpace(s)
	}
	href, err := chromedp.Run(bctx, chromedp.AttributeValue(chromedp.CSS(`tr.deployment[data-state="ready"] .url a`), "href"))
	if err != nil {
		t.Fatal(err)
	}
	if status := text(`tr.deployment[data-state="ready"] .badge`); status != "Ready" || href.Value != d.URL {
		t.Fatalf("the portal shows status %q and URL %q; want Ready and %q", status, href.Value, d.URL)
	}
	if status, reason := text(`tr.deployment[data-state="failed"] .badge`), text(`tr.deployment[data-state="failed"] .reason`); status != "Failed" || reason == "" {
		t.Fatalf("the failed deployment shows %q with reason %q", status, reason)
	}
	if got := text(`#project-` + pr.Slug + ` h2`); got != pr.Name {
		t.Fatalf("the project's heading is %q, want %q", got, pr.Name)
	}
	page, err := chromedp.Run(bctx, chromedp.OuterHTML(chromedp.CSS(`html`)))
	if err != nil {
		t.Fatal(err)
	}
	for _, leak := range []string{key.Secret, p.apiURL, strings.TrimPrefix(p.apiURL, "http://"), "berth"} {
		if strings.Contains(strings.ToLower(page), strings.ToLower(leak)) {
			t.Errorf("the portal shows %q", leak)
		}
	}
	if shot := os.Getenv("BERTH_PORTAL_SCREENSHOT"); shot != "" {
		png, err := chromedp.Run(bctx, chromedp.FullScreenshot(100)) // quality 100 makes a PNG
		if err != nil {
			t.Fatalf("screenshot: %v", err)
		}
		if err := os.WriteFile(shot, png, 0o644); err != nil {
			t.Fatal(err)
		}
	}

	// The link leads to the app (Chromium resolves *.localhost itself).
	if err := chromedp.Do(bctx, chromedp.Navigate(href.Value)); err != nil {
		t.Fatalf("following the link: %v", err)
	}
	if app := text(`h1`); app != "Welcome to the clinic" {
		t.Fatalf("the deployment's URL shows %q", app)
	}
}

// browser starts a headless Chromium with a fresh profile for the test.
func browser(t *testing.T) context.Context {
	t.Helper()
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(chromiumPath),
		chromedp.Flag("headless", true),
		chromedp.Flag("no-sandbox", true),
		chromedp.Flag("disable-gpu", true),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("no-first-run", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1280, 860),
	}
	// The whole browser lives at most this long: a hung page fails the
	// test instead of holding it.
	life, cancelLife := context.WithTimeout(context.Background(), 2*time.Minute)
	actx, cancelAlloc := chromedp.NewExecAllocator(life, opts...)
	bctx, cancelBrowser := chromedp.NewContext(actx, chromedp.WithLogf(t.Logf))
	t.Cleanup(func() {
		cancelBrowser()
		cancelAlloc()
		cancelLife()
	})
	return bctx
}

// TestPortalFlags: `berth portal` refuses to start without what it needs,
// and says which flag to give.
func TestPortalFlags(t *testing.T) {
	dir := t.TempDir()
	short := filepath.Join(dir, "short")
	os.WriteFile(short, []byte("abc\n"), 0o600)
	weakSecret := filepath.Join(dir, "weak")
	os.WriteFile(weakSecret, []byte("tiny"), 0o600)
	good := filepath.Join(dir, "good")
	os.WriteFile(good, []byte("a good long password\n"), 0o600)
	base := []string{"portal", "--listen", "127.0.0.1:0", "--api", "http://127.0.0.1:1", "--key", "sk_x", "--workspace", "ws_x"}
	for _, c := range []struct {
		args []string
		want string
	}{
		{base, "--password-file"},
		{append(base, "--password-file", short), "shorter than 8"},
		{append(base, "--password-file", good, "--session-secret-file", weakSecret), "at least 32"},
		{[]string{"portal", "--api", "http://127.0.0.1:1", "--key", "sk_x", "--password-file", good}, "--workspace"},
		{[]string{"portal", "--workspace", "ws_x", "--key", "sk_x", "--password-file", good}, "--api"},
	} {
		cmd := exec.Command(berthBin, c.args...)
		cmd.Env = append(os.Environ(), "BERTH_PORTAL_PASSWORD=", "BERTH_PORTAL_KEY=")
		out, err := cmd.CombinedOutput()
		if err == nil || !strings.Contains(string(out), c.want) {
			t.Errorf("berth %s: %v, %q; want an error naming %q", strings.Join(c.args, " "), err, out, c.want)
		}
	}
}
