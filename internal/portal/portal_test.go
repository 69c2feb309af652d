package portal

import (
	"archive/tar"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/berth-dev/berth/client"
	"github.com/berth-dev/berth/internal/api"
	"github.com/berth-dev/berth/internal/blob"
	"github.com/berth-dev/berth/internal/control"
	"github.com/berth-dev/berth/internal/control/names"
	"github.com/berth-dev/berth/internal/id"
	"github.com/berth-dev/berth/internal/logtest"
	"github.com/berth-dev/berth/internal/store"
	"github.com/berth-dev/berth/internal/store/sqlite"
	"github.com/berth-dev/berth/internal/templates"
)

const password = "correct horse battery staple"

// world is the real public API over a real SQLite store (no container
// engine: the tests write deployment statuses the reconcilers would), a
// tenant with deployments in every state, and a portal in front of it.
type world struct {
	st        store.Store
	apiURL    string
	admin     *client.Client
	org       *client.Org
	ws        *client.Workspace
	key       string // the portal's workspace-scoped key
	portal    *Server
	portalURL string

	ready, pending, failed *client.Deployment
}

func newWorld(t *testing.T) *world {
	t.Helper()
	ctx := context.Background()
	dir := t.TempDir()
	st, err := sqlite.Open(filepath.Join(dir, "berth.db"), bytes.Repeat([]byte{7}, 32))
	if err != nil {
		t.Fatalf("opening store: %v", err)
	}
	t.Cleanup(func() { st.Close() })
	artifacts, err := blob.Open(filepath.Join(dir, "artifacts"))
	if err != nil {
		t.Fatal(err)
	}
	adminKey := api.NewSecret()
	if err := st.CreateAPIKey(ctx, &store.APIKey{ID: id.New(id.APIKey), Name: "platform", Hash: api.HashKey(adminKey),
		Prefix: adminKey[:12], Role: store.RoleAdmin, CreatedAt: time.Now().UTC()}); err != nil {
		t.Fatal(err)
	}
	ctl := control.New(control.Config{Store: st, Artifacts: artifacts, Templates: templates.New(nil),
		Names: names.Names{Domain: "localhost", Scheme: "http", Port: 7780}})
	apiSrv := httptest.NewServer(api.New(st, ctl, logtest.New(t)))
	t.Cleanup(apiSrv.Close)

	w := &world{st: st, apiURL: apiSrv.URL, admin: client.New(apiSrv.URL, adminKey)}
	if w.org, err = w.admin.CreateOrg(ctx, client.CreateOrg{Name: "Clinic IQ"}); err != nil {
		t.Fatal(err)
	}
	if w.ws, err = w.admin.CreateWorkspace(ctx, client.CreateWorkspace{OrgID: w.org.ID, Name: "Dr Smith"}); err != nil {
		t.Fatal(err)
	}
	key, err := w.admin.CreateAPIKey(ctx, client.CreateAPIKey{Name: "portal", OrgID: w.org.ID, WorkspaceID: w.ws.ID, Role: "viewer"})
	if err != nil {
		t.Fatal(err)
	}
	w.key = key.Secret

	w.ready = w.deploy(t, w.ws, "Clinic Site", "ready", "")
	w.pending = w.deploy(t, w.ws, "Booking App", "pending", "waiting for the workspace's host to become active")
	w.failed = w.deploy(t, w.ws, "Intake Form", "failed", "the app did not answer on port 8080 within 60s; check that it listens on 0.0.0.0:8080")
	if _, err := w.admin.CreateProject(ctx, client.CreateProject{WorkspaceID: w.ws.ID, Name: "Newsletter"}); err != nil {
		t.Fatal(err)
	}
	// Another workspace of the same org: the portal must not show it.
	other, err := w.admin.CreateWorkspace(ctx, client.CreateWorkspace{OrgID: w.org.ID, Name: "Dr Jones"})
	if err != nil {
		t.Fatal(err)
	}
	w.deploy(t, other, "Jones Private", "ready", "")

	w.portal, w.portalURL = w.startPortal(t, w.key)
	return w
}

func (w *world) startPortal(t *testing.T, key string) (*Server, string) {
	t.Helper()
	p, err := New(Config{API: client.New(w.apiURL, key), WorkspaceID: w.ws.ID, Password: password, Log: logtest.New(t)})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(p)
	t.Cleanup(srv.Close)
	return p, srv.URL
}

// deploy makes a project with a deployment, and puts the deployment in
// the state the reconcilers would have written.
func (w *world) deploy(t *testing.T, ws *client.Workspace, name, status, reason string) *client.Deployment {
	t.Helper()
	ctx := context.Background()
	pr, err := w.admin.CreateProject(ctx, client.CreateProject{WorkspaceID: ws.ID, Name: name})
	if err != nil {
		t.Fatal(err)
	}
	rel, err := w.admin.CreateRelease(ctx, tarOf(t, "index.html", "<h1>"+name+"</h1>"), client.ReleaseOptions{ProjectID: pr.ID})
	if err != nil {
		t.Fatalf("release of %s: %v", name, err)
	}
	d, err := w.admin.Deploy(ctx, client.CreateDeployment{ProjectID: pr.ID, ReleaseID: rel.ID})
	if err != nil {
		t.Fatalf("deploy %s: %v", name, err)
	}
	sd, err := w.st.GetDeployment(ctx, d.ID)
	if err != nil {
		t.Fatal(err)
	}
	sd.Status, sd.StatusReason = status, reason
	if status == "ready" {
		sd.ServingReleaseID = rel.ID
	}
	if err := w.st.UpdateDeployment(ctx, sd); err != nil {
		t.Fatal(err)
	}
	if d, err = w.admin.GetDeployment(ctx, d.ID); err != nil {
		t.Fatal(err)
	}
	return d
}

func tarOf(t *testing.T, name, body string) io.Reader {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	if err := tw.WriteHeader(&tar.Header{Name: name, Mode: 0o644, Size: int64(len(body)), Typeflag: tar.TypeReg}); err != nil {
		t.Fatal(err)
	}
	tw.Write([]byte(body))
	tw.Close()
	return &buf
}

// browser is a cookie-keeping HTTP client that does not follow redirects,
// so a test sees each one.
type browser struct {
	t    *testing.T
	base string
	c    *http.Client
}

func newBrowser(t *testing.T, base string) *browser {
	jar, _ := cookiejar.New(nil)
	return &browser{t: t, base: base, c: &http.Client{Jar: jar, Timeout: 10 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

type answer struct {
	status int
	body   string
	header http.Header
}

func (b *browser) do(req *http.Request) answer {
	b.t.Helper()
	resp, err := b.c.Do(req)
	if err != nil {
		b.t.Fatalf("%s %s: %v", req.Method, req.URL, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return answer{resp.StatusCode, string(body), resp.Header}
}

func (b *browser) get(path string) answer {
	b.t.Helper()
	req, _ := http.NewRequest(http.MethodGet, b.base+path, nil)
	return b.do(req)
}

func (b *browser) post(path string, form url.Values, header map[string]string) answer {
	b.t.Helper()
	req, _ := http.NewRequest(http.MethodPost, b.base+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	for k, v := range header {
		req.Header.Set(k, v)
	}
	return b.do(req)
}

var csrfField = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

func token(t *testing.T, body string) string {
	t.Helper()
	m := csrfField.FindStringSubmatch(body)
	if m == nil {
		t.Fatalf("no csrf field in %q", body)
	}
	return m[1]
}

// login signs in through the form with pw and returns the answer.
func (b *browser) login(pw string) answer {
	b.t.Helper()
	form := b.get("/login")
	if form.status != http.StatusOK {
		b.t.Fatalf("GET /login: %d", form.status)
	}
	return b.post("/login", url.Values{"csrf": {token(b.t, form.body)}, "password": {pw}}, nil)
}

func (b *browser) cookie(name string) *http.Cookie {
	u, _ := url.Parse(b.base)
	for _, c := range b.c.Jar.Cookies(u) {
		if c.Name == name {
			return c
		}
	}
	return nil
}

func (b *browser) setSession(value string) {
	u, _ := url.Parse(b.base)
	b.c.Jar.SetCookies(u, []*http.Cookie{{Name: sessionCookie, Value: value, Path: "/"}})
}

func wantRedirect(t *testing.T, a answer, to string) {
	t.Helper()
	if a.status != http.StatusSeeOther || a.header.Get("Location") != to {
		t.Fatalf("answer %d to %q, want 303 to %q; body %q", a.status, a.header.Get("Location"), to, a.body)
	}
}

func TestSignInRequired(t *testing.T) {
	w := newWorld(t)
	b := newBrowser(t, w.portalURL)
	for _, path := range []string{"/", "/projects", "/deployments/" + w.ready.ID, "/favicon.ico"} {
		wantRedirect(t, b.get(path), "/login")
	}
	for _, path := range []string{"/logout"} {
		wantRedirect(t, b.post(path, url.Values{}, nil), "/login")
	}
	// What may be seen without signing in.
	if a := b.get("/login"); a.status != 200 || !strings.Contains(a.body, `type="password"`) || strings.Contains(a.body, "Clinic Site") || strings.Contains(a.body, "Dr Smith") {
		t.Fatalf("sign-in page: %d %q", a.status, a.body)
	}
	if a := b.get("/assets/portal.css"); a.status != 200 || !strings.HasPrefix(a.header.Get("Content-Type"), "text/css") {
		t.Fatalf("stylesheet: %d %s", a.status, a.header.Get("Content-Type"))
	}
	if a := b.get("/healthz"); a.status != 200 || strings.TrimSpace(a.body) != `{"ok":true}` {
		t.Fatalf("healthz: %d %q", a.status, a.body)
	}
	for _, h := range []string{"Content-Security-Policy", "X-Content-Type-Options", "X-Frame-Options"} {
		if b.get("/login").header.Get(h) == "" {
			t.Errorf("no %s header", h)
		}
	}
}

func TestSignIn(t *testing.T) {
	w := newWorld(t)
	b := newBrowser(t, w.portalURL)

	a := b.login("wrong password")
	if a.status != http.StatusUnauthorized || !strings.Contains(a.body, "not right") {
		t.Fatalf("wrong password: %d %q", a.status, a.body)
	}
	if b.cookie(sessionCookie) != nil {
		t.Fatal("a wrong password got a session cookie")
	}
	if a := b.login(password[:len(password)-1]); a.status != http.StatusUnauthorized {
		t.Fatalf("a prefix of the password: %d", a.status)
	}
	wantRedirect(t, b.get("/"), "/login")

	wantRedirect(t, b.login(password), "/")
	// The cookie's attributes, as a second browser receives them.
	var set *http.Cookie
	b2 := newBrowser(t, w.portalURL)
	form := b2.get("/login")
	req, _ := http.NewRequest(http.MethodPost, w.portalURL+"/login", strings.NewReader(url.Values{"csrf": {token(t, form.body)}, "password": {password}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	raw, err := b2.c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	raw.Body.Close()
	for _, c := range raw.Cookies() {
		if c.Name == sessionCookie {
			set = c
		}
	}
	if set == nil || !set.HttpOnly || set.SameSite != http.SameSiteLaxMode || set.MaxAge <= 0 || set.Path != "/" {
		t.Fatalf("session cookie = %+v; want HttpOnly, SameSite=Lax, an expiry", set)
	}
	if strings.Contains(set.Value, password) {
		t.Fatal("the cookie carries the password")
	}

	if a := b.get("/"); a.status != 200 || !strings.Contains(a.body, "Clinic Site") {
		t.Fatalf("after sign-in: %d %q", a.status, a.body)
	}
	wantRedirect(t, b.get("/login"), "/") // already signed in
}

func TestLoginFormNeedsItsToken(t *testing.T) {
	w := newWorld(t)
	b := newBrowser(t, w.portalURL)
	// No form token, or one from another browser: refused even with the
	// right password.
	if a := b.post("/login", url.Values{"password": {password}}, nil); a.status != http.StatusForbidden {
		t.Fatalf("no token: %d", a.status)
	}
	other := newBrowser(t, w.portalURL)
	foreign := token(t, other.get("/login").body)
	b.get("/login")
	if a := b.post("/login", url.Values{"csrf": {foreign}, "password": {password}}, nil); a.status != http.StatusForbidden {
		t.Fatalf("another browser's token: %d", a.status)
	}
	// A cross-site form post is refused whatever it carries.
	tok := token(t, b.get("/login").body)
	if a := b.post("/login", url.Values{"csrf": {tok}, "password": {password}}, map[string]string{"Sec-Fetch-Site": "cross-site"}); a.status != http.StatusForbidden {
		t.Fatalf("cross-site post: %d", a.status)
	}
	if a := b.post("/login", url.Values{"csrf": {tok}, "password": {password}}, map[string]string{"Origin": "https://evil.example"}); a.status != http.StatusForbidden {
		t.Fatalf("post from another origin: %d", a.status)
	}
	if b.cookie(sessionCookie) != nil {
		t.Fatal("a refused sign-in set a session")
	}
}

func TestTamperedSessionRefused(t *testing.T) {
	w := newWorld(t)
	b := newBrowser(t, w.portalURL)
	wantRedirect(t, b.login(password), "/")
	good := b.cookie(sessionCookie).Value
	parts := strings.Split(good, ".")
	if len(parts) != 4 {
		t.Fatalf("cookie %q: want v1.id.expiry.mac", good)
	}
	flip := func(s string) string {
		c := 'A'
		if s[0] == 'A' {
			c = 'B'
		}
		return string(c) + s[1:]
	}
	_, otherSecret := newSessions([]byte("another secret"), time.Hour).issue(time.Now())
	for name, v := range map[string]string{
		"other id":      strings.Join([]string{parts[0], flip(parts[1]), parts[2], parts[3]}, "."),
		"later expiry":  strings.Join([]string{parts[0], parts[1], "9999999999", parts[3]}, "."),
		"other mac":     strings.Join([]string{parts[0], parts[1], parts[2], flip(parts[3])}, "."),
		"no mac":        strings.Join(parts[:3], "."),
		"other secret":  otherSecret,
		"garbage":       "hello",
		"empty":         "",
		"other version": strings.Join([]string{"v2", parts[1], parts[2], parts[3]}, "."),
	} {
		b.setSession(v)
		if a := b.get("/"); a.status != http.StatusSeeOther || a.header.Get("Location") != "/login" {
			t.Errorf("%s: %d, want a redirect to /login", name, a.status)
		}
	}
	b.setSession(good)
	if a := b.get("/"); a.status != 200 {
		t.Fatalf("the untouched cookie: %d", a.status)
	}
}

func TestSessionExpires(t *testing.T) {
	s := newSessions([]byte("secret"), time.Hour)
	t0 := time.Unix(1_800_000_000, 0)
	sess, tok := s.issue(t0)
	if got := s.verify(tok, t0.Add(59*time.Minute)); got == nil || got.id != sess.id {
		t.Fatal("a session is refused before its expiry")
	}
	if s.verify(tok, t0.Add(time.Hour)) != nil {
		t.Fatal("a session is accepted at its expiry")
	}
	s.revoke(sess, t0)
	if s.verify(tok, t0.Add(time.Minute)) != nil {
		t.Fatal("a signed-out session is accepted")
	}
}

func TestSignOut(t *testing.T) {
	w := newWorld(t)
	b := newBrowser(t, w.portalURL)
	wantRedirect(t, b.login(password), "/")
	page := b.get("/")
	stolen := b.cookie(sessionCookie).Value

	// Without the page's token (a forged form), nothing happens.
	if a := b.post("/logout", url.Values{}, nil); a.status != http.StatusForbidden {
		t.Fatalf("sign-out without token: %d", a.status)
	}
	if a := b.get("/"); a.status != 200 {
		t.Fatalf("still signed in after a refused sign-out: %d", a.status)
	}
	wantRedirect(t, b.post("/logout", url.Values{"csrf": {token(t, page.body)}}, nil), "/login")
	wantRedirect(t, b.get("/"), "/login")
	// The old cookie is dead on the server too, not just dropped.
	b.setSession(stolen)
	wantRedirect(t, b.get("/"), "/login")
}

func TestWrongPasswordsAreThrottled(t *testing.T) {
	w := newWorld(t)
	b := newBrowser(t, w.portalURL)
	for i := range 5 {
		if a := b.login("guess"); a.status != http.StatusUnauthorized {
			t.Fatalf("guess %d: %d", i, a.status)
		}
	}
	a := b.login(password)
	if a.status != http.StatusTooManyRequests || a.header.Get("Retry-After") == "" {
		t.Fatalf("after 5 wrong passwords: %d, Retry-After %q", a.status, a.header.Get("Retry-After"))
	}
	if b.cookie(sessionCookie) != nil {
		t.Fatal("a throttled sign-in set a session")
	}
}

func TestThrottleWindow(t *testing.T) {
	th := newThrottle(2, time.Minute)
	t0 := time.Unix(1_800_000_000, 0)
	th.fail("a", t0)
	th.fail("a", t0.Add(time.Second))
	if th.blocked("a", t0.Add(2*time.Second)) == 0 {
		t.Fatal("not blocked after 2 failures")
	}
	if th.blocked("b", t0.Add(2*time.Second)) != 0 {
		t.Fatal("another client is blocked")
	}
	if th.blocked("a", t0.Add(time.Minute)) != 0 {
		t.Fatal("still blocked after the window")
	}
}

func TestOverview(t *testing.T) {
	w := newWorld(t)
	b := newBrowser(t, w.portalURL)
	wantRedirect(t, b.login(password), "/")
	a := b.get("/")
	if a.status != 200 {
		t.Fatalf("overview: %d %q", a.status, a.body)
	}
	body := a.body
	for _, want := range []string{
		"Clinic IQ", "Dr Smith", // the brand and the workspace
		"Clinic Site", "Booking App", "Intake Form", "Newsletter", "Not deployed yet.",
		`<a href="` + w.ready.URL + `"`, w.pending.URL, w.failed.URL,
		`class="badge ready">Ready<`, `class="badge progress">Pending<`, `class="badge failed">Failed<`,
		"waiting for the workspace&#39;s host to become active",
		"the app did not answer on port 8080 within 60s",
		w.ready.ServingReleaseID, w.pending.ReleaseID,
		`<time datetime="` + w.ready.UpdatedAt.UTC().Format(time.RFC3339) + `"`,
		"1 ready", "1 in progress", "1 failed",
		`http-equiv="refresh"`, // something is on its way
	} {
		if !strings.Contains(body, want) {
			t.Errorf("the page lacks %q", want)
		}
	}
	for _, leak := range []string{"Jones", w.key, w.apiURL, strings.TrimPrefix(w.apiURL, "http://"), "berth", "Berth", "docker", "agent"} {
		if strings.Contains(body, leak) {
			t.Errorf("the page shows %q", leak)
		}
	}
	// Projects in name order.
	if i, j := strings.Index(body, "Booking App"), strings.Index(body, "Newsletter"); i < 0 || j < i {
		t.Error("projects are not in name order")
	}
	// Everything the page loads comes from the portal itself.
	for _, m := range regexp.MustCompile(`(?:src|href)="([^"]+)"`).FindAllStringSubmatch(body, -1) {
		ref := m[1]
		if ref == w.ready.URL || ref == w.pending.URL || ref == w.failed.URL || ref == "data:," {
			continue
		}
		if !strings.HasPrefix(ref, "/") || strings.HasPrefix(ref, "//") {
			t.Errorf("the page references %q", ref)
		}
	}
	css := b.get("/assets/brand.css")
	if css.status != 200 || !strings.Contains(css.body, "--primary:"+DefaultColors().Primary) {
		t.Fatalf("brand.css: %d %q", css.status, css.body)
	}
}

func TestOverviewWhenAPIIsDown(t *testing.T) {
	w := newWorld(t)
	b := newBrowser(t, w.portalURL)
	wantRedirect(t, b.login(password), "/")
	w.portal.api.BaseURL = "http://127.0.0.1:1" // nothing listens there
	a := b.get("/")
	if a.status != http.StatusBadGateway || !strings.Contains(a.body, "can't be shown right now") {
		t.Fatalf("API down: %d %q", a.status, a.body)
	}
	if strings.Contains(a.body, "127.0.0.1") || strings.Contains(a.body, "refused") {
		t.Fatalf("the error page shows the failure's details: %q", a.body)
	}
}

func TestHealthz(t *testing.T) {
	w := newWorld(t)
	health := func(url string) (int, map[string]any) {
		resp, err := http.Get(url + "/healthz")
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var out map[string]any
		json.NewDecoder(resp.Body).Decode(&out)
		return resp.StatusCode, out
	}
	if code, out := health(w.portalURL); code != 200 || out["ok"] != true {
		t.Fatalf("good key: %d %v", code, out)
	}
	_, badKey := w.startPortal(t, "sk_not_a_key")
	if code, out := health(badKey); code != http.StatusServiceUnavailable || out["ok"] != false {
		t.Fatalf("refused key: %d %v", code, out)
	}
	// An API that is not up yet, then is: healthz turns 200 without a
	// restart, and stays so.
	p, err := New(Config{API: client.New("http://127.0.0.1:1", w.key), WorkspaceID: w.ws.ID, Password: password})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(p)
	defer srv.Close()
	if code, out := health(srv.URL); code != http.StatusServiceUnavailable || strings.Contains(out["reason"].(string), "127.0.0.1") {
		t.Fatalf("API down: %d %v", code, out)
	}
	p.api.BaseURL = w.apiURL
	if code, _ := health(srv.URL); code != 200 {
		t.Fatalf("API up: %d", code)
	}
	p.api.BaseURL = "http://127.0.0.1:1"
	if code, _ := health(srv.URL); code != 200 {
		t.Fatalf("after the API was reached once: %d", code)
	}
}

func TestBrand(t *testing.T) {
	b := Brand{Name: " Clinic IQ ", LogoURL: "javascript:alert(1)", Colors: Colors{Primary: "#0a7", Text: "red;}body{x:y", Background: "#12345"}}.normalized()
	def := DefaultColors()
	if b.Name != "Clinic IQ" || b.LogoURL != "" || b.Colors.Primary != "#0a7" || b.Colors.Text != def.Text || b.Colors.Background != def.Background {
		t.Fatalf("normalized = %+v", b)
	}
	if b.Initial() != "C" || (Brand{}).Initial() == "" {
		t.Fatalf("initials %q %q", b.Initial(), Brand{}.Initial())
	}
	for logo, ok := range map[string]bool{
		"https://cdn.example/logo.png": true, "data:image/png;base64,AAAA": true,
		"http://cdn.example/logo.png": false, "data:image/svg+xml,<svg/>": false, "/logo.png": false, "": false,
	} {
		if safeLogo(logo) != ok {
			t.Errorf("safeLogo(%q) = %v", logo, !ok)
		}
	}
	if css := b.CSS(); !strings.Contains(css, "--primary:#0a7;") || strings.Contains(css, "body{") {
		t.Fatalf("css %q", css)
	}
}

func TestPageShowsBrandLogo(t *testing.T) {
	w := newWorld(t)
	w.portal.brands = &brandCache{ttl: time.Minute, load: func(context.Context) (Brand, string, error) {
		return Brand{Name: "Clinic IQ", LogoURL: "https://cdn.example/logo.png?a=1&b=2"}.normalized(), "Dr Smith", nil
	}}
	a := newBrowser(t, w.portalURL).get("/login")
	if !strings.Contains(a.body, `<img class="logo" src="https://cdn.example/logo.png?a=1&amp;b=2"`) {
		t.Fatalf("no logo in %q", a.body)
	}
}

func TestReasonsAreSummarizedAndScrubbed(t *testing.T) {
	s := &Server{api: client.New("http://10.1.2.3:7700", "sk_secret")}
	long := "the image build failed: agent: build_failed: building image berth-app/rel_1:latest: Step 1/5 : FROM berth/nginx:bookworm\nERROR: exit 3 at http://10.1.2.3:7700/api/v1 with sk_secret"
	sum, detail := summarize(s.scrub(long))
	if sum != "the image build failed" {
		t.Errorf("summary %q", sum)
	}
	for _, leak := range []string{"berth", "10.1.2.3", "sk_secret"} {
		if strings.Contains(strings.ToLower(detail), leak) {
			t.Errorf("detail shows %q: %q", leak, detail)
		}
	}
	if !strings.Contains(detail, "Step 1/5 : FROM …\nERROR: exit 3") {
		t.Errorf("detail lost the build's output: %q", detail)
	}
	short := "the app did not answer on port 8080 within 60s; check that it listens on 0.0.0.0:8080"
	if sum, detail := summarize(short); sum != short || detail != "" {
		t.Errorf("a short reason was folded: %q %q", sum, detail)
	}
	words := strings.Repeat("word ", 60)
	if sum, detail := summarize(words); len(sum) > summaryMax+len("…") || !strings.HasSuffix(sum, "…") || detail == "" {
		t.Errorf("a long sentence: %q %q", sum, detail)
	}
}

// TestPortalUsesWorkspaceBranding sets the org's and the workspace's
// branding through the API and finds it on the portal's pages.
func TestPortalUsesWorkspaceBranding(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	if _, err := w.admin.SetOrgBranding(ctx, w.org.ID, client.Branding{ProductName: "ClinicIQ Care", PrimaryColor: "#0a7755",
		LogoURL: "https://cdn.cliniciq.example/logo.png", SupportEmail: "help@cliniciq.example"}); err != nil {
		t.Fatal(err)
	}
	if _, err := w.admin.SetWorkspaceBranding(ctx, w.ws.ID, client.Branding{AccentColor: "#ff7a00", SupportURL: "https://help.drsmith.example"}); err != nil {
		t.Fatal(err)
	}
	b := newBrowser(t, w.portalURL)
	login := b.get("/login")
	if !strings.Contains(login.body, "ClinicIQ Care") || !strings.Contains(login.body, `src="https://cdn.cliniciq.example/logo.png"`) {
		t.Errorf("the sign-in page lacks the brand:\n%s", login.body)
	}
	wantRedirect(t, b.login(password), "/")
	page := b.get("/").body
	for _, want := range []string{"ClinicIQ Care", `href="https://help.drsmith.example"`, `href="mailto:help@cliniciq.example"`} {
		if !strings.Contains(page, want) {
			t.Errorf("the overview lacks %q", want)
		}
	}
	css := b.get("/assets/brand.css").body
	if !strings.Contains(css, "--primary:#0a7755") || !strings.Contains(css, "--accent:#ff7a00") {
		t.Errorf("brand.css = %q", css)
	}
}
