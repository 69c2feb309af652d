package e2e

import (
	"context"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/berth-dev/berth/client"
)

var csrfField = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

// portalTry signs in to the portal at portalURL through the edge with
// password, as a browser's form would, and returns the status of the
// sign-in and the page it leads to.
func portalTry(t *testing.T, p *platform, portalURL, password string) (int, string) {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	c := webClient(p.edgeAddr)
	c.Jar = jar
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	resp, err := c.Get(portalURL + "/login")
	if err != nil {
		t.Fatalf("GET %s/login: %v", portalURL, err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	m := csrfField.FindSubmatch(b)
	if resp.StatusCode != 200 || m == nil {
		t.Fatalf("the portal's sign-in page: %d %.300q", resp.StatusCode, b)
	}
	resp, err = c.PostForm(portalURL+"/login", url.Values{"csrf": {string(m[1])}, "password": {password}})
	if err != nil {
		t.Fatalf("POST %s/login: %v", portalURL, err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/" {
		return resp.StatusCode, ""
	}
	resp, err = c.Get(portalURL + "/")
	if err != nil {
		t.Fatalf("GET %s/: %v", portalURL, err)
	}
	b, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("the portal after signing in: %d %.300q", resp.StatusCode, b)
	}
	return http.StatusSeeOther, string(b)
}

// portalSignIn signs in and returns the overview, failing the test when
// the password is refused.
func portalSignIn(t *testing.T, p *platform, portalURL, password string) string {
	t.Helper()
	status, page := portalTry(t, p, portalURL, password)
	if status != http.StatusSeeOther {
		t.Fatalf("signing in to %s: %d, want 303 to /", portalURL, status)
	}
	return page
}

// TestDockerDeployPortalRouted: the portal of a local Docker Deploy host
// answers through the edge at the host's portal_url, under the
// workspace's domain and with its branding; a workspace admin sets (or
// generates) its password through the API and signs in with it, and the
// old password stops working; bad passwords and keys that are not an
// admin's change nothing.
func TestDockerDeployPortalRouted(t *testing.T) {
	p := start(t)
	ctx := context.Background()
	o, ws, pr := p.tenant(t, "Portal Co")
	h, err := p.api.EnsureHost(ctx, client.EnsureHost{WorkspaceID: ws.ID})
	if err != nil {
		t.Fatal(err)
	}
	h = waitHost(t, p, h.ID, time.Minute, "active", "failed")
	if h.State != "active" || h.Portal.Status != "healthy" {
		t.Fatalf("host = %+v", h)
	}
	if want := "http://" + ws.Slug + ".portal." + o.Slug + ".localhost:"; !strings.HasPrefix(h.PortalURL, want) {
		t.Fatalf("portal_url = %q, want it under %q", h.PortalURL, want)
	}
	rel, err := p.api.CreateRelease(ctx, makeTar(file("index.html", "<h1>clinic</h1>")), client.ReleaseOptions{ProjectID: pr.ID})
	if err != nil {
		t.Fatal(err)
	}
	d, err := p.api.Deploy(ctx, client.CreateDeployment{ProjectID: pr.ID, ReleaseID: rel.ID, DeploymentProduct: "docker_deploy"})
	if err != nil {
		t.Fatal(err)
	}
	d = waitReady(t, p, d.ID, rel.ID)

	// Without a session the portal sends a person to its sign-in page.
	noRedirect := webClient(p.edgeAddr)
	noRedirect.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	resp, err := noRedirect.Get(h.PortalURL + "/")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/login" {
		t.Fatalf("GET portal_url/ without a session: %d → %q", resp.StatusCode, resp.Header.Get("Location"))
	}

	// An admin generates a password and signs in with it.
	generated, err := p.api.SetPortalPassword(ctx, h.ID, "")
	if err != nil || len(generated) < 16 {
		t.Fatalf("generating a portal password: %q, %v", generated, err)
	}
	page := portalSignIn(t, p, h.PortalURL, generated)
	if !strings.Contains(page, pr.Name) || !strings.Contains(page, d.URL) || !strings.Contains(page, "Portal Co") {
		t.Fatalf("the routed portal does not show the project, its URL and the brand: %.800q", page)
	}

	// Refused, changing nothing: a short password, a viewer key, a
	// project key, another org's admin key.
	var prob *client.Problem
	if _, err := p.api.SetPortalPassword(ctx, h.ID, "short"); !asProblem(err, &prob) || prob.Status != 422 || prob.Code != "invalid_password" {
		t.Errorf("a short password: %v, want 422 invalid_password", err)
	}
	keyAPI := func(k client.CreateAPIKey) *client.Client {
		t.Helper()
		key, err := p.api.CreateAPIKey(ctx, k)
		if err != nil {
			t.Fatal(err)
		}
		return client.New(p.apiURL, key.Secret)
	}
	other, _, _ := p.tenant(t, "Other Portal Co")
	for _, tc := range []struct {
		name   string
		api    *client.Client
		status int
	}{
		{"a viewer key of the workspace", keyAPI(client.CreateAPIKey{Name: "v", OrgID: o.ID, WorkspaceID: ws.ID, Role: "viewer"}), 403},
		{"a deployer key of the workspace", keyAPI(client.CreateAPIKey{Name: "d", OrgID: o.ID, WorkspaceID: ws.ID, Role: "deployer"}), 403},
		{"an admin key of a project", keyAPI(client.CreateAPIKey{Name: "p", OrgID: o.ID, WorkspaceID: ws.ID, ProjectID: pr.ID, Role: "admin"}), 403},
		{"an admin key of another org", keyAPI(client.CreateAPIKey{Name: "o", OrgID: other.ID, Role: "admin"}), 404},
	} {
		if _, err := tc.api.SetPortalPassword(ctx, h.ID, "a password nobody may set"); !asProblem(err, &prob) || prob.Status != tc.status {
			t.Errorf("%s setting the password: %v, want %d", tc.name, err, tc.status)
		}
	}
	if status, _ := portalTry(t, p, h.PortalURL, "a password nobody may set"); status == http.StatusSeeOther {
		t.Fatal("a refused password change took effect")
	}
	portalSignIn(t, p, h.PortalURL, generated)

	// A workspace admin chooses one: it works at once, the old one no
	// longer does.
	wsAdmin := keyAPI(client.CreateAPIKey{Name: "a", OrgID: o.ID, WorkspaceID: ws.ID, Role: "admin"})
	const chosen = "the clinic's chosen password"
	if got, err := wsAdmin.SetPortalPassword(ctx, h.ID, chosen); err != nil || got != chosen {
		t.Fatalf("setting a chosen password: %q, %v", got, err)
	}
	portalSignIn(t, p, h.PortalURL, chosen)
	if status, _ := portalTry(t, p, h.PortalURL, generated); status != http.StatusUnauthorized {
		t.Fatalf("the replaced password: %d, want 401", status)
	}

	// A person signs in through the form in a real browser, at the URL
	// the API gave (Chromium resolves *.localhost to loopback itself).
	if _, err := os.Stat(chromiumPath); err == nil {
		bctx := browser(t)
		err := chromedp.Do(bctx,
			chromedp.Navigate(h.PortalURL+"/"),
			chromedp.WaitVisible(chromedp.CSS(`#password`)),
			chromedp.SendKeys(chromedp.CSS(`#password`), chosen),
			chromedp.Submit(chromedp.CSS(`#password`)),
			chromedp.WaitVisible(chromedp.CSS(`tr.deployment[data-state="ready"]`)),
		)
		if err != nil {
			t.Fatalf("signing in to the routed portal in Chromium: %v", err)
		}
	} else {
		t.Logf("Chromium is not installed at %s: the routed portal was tried over HTTP only", chromiumPath)
	}

	// The portal is the workspace's: another workspace's name under the
	// portal domain is the org's branded 404, not this portal.
	resp, err = noRedirect.Get(strings.Replace(h.PortalURL, ws.Slug+".portal.", "nobody.portal.", 1) + "/login")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNotFound {
		t.Fatalf("an unknown workspace's portal name: %d, want 404", resp.StatusCode)
	}
}
