package edge

import (
	"bytes"
	"context"
	"fmt"
	"html/template"
	"net/http"
	"strconv"
	"strings"
)

// PageKind is one of the answers the edge gives itself.
type PageKind int

// The pages. Each has a name (its X-Edge-Page value and the {kind} of a
// custom page upload) and a status.
const (
	// PageNotFound (404 "not-found") answers a host nothing serves.
	PageNotFound PageKind = iota
	// PageBadGateway (502 "bad-gateway") answers when the app is down or
	// does not answer.
	PageBadGateway
	// PageLoading (503 "loading") answers while the app is being built or
	// started; it refreshes itself.
	PageLoading
	// PageTLSPending (503 "tls-pending") answers on a host whose
	// certificate is still being issued; it refreshes itself.
	PageTLSPending
	// PageRateLimited (429 "rate-limited") answers a client that sent
	// more requests than the edge lets one address send.
	PageRateLimited
)

// PageKinds lists every page, in the order of the constants.
var PageKinds = []PageKind{PageNotFound, PageBadGateway, PageLoading, PageTLSPending, PageRateLimited}

// The unexported names the proxy code uses.
const (
	pageNotFound   = PageNotFound
	pageBadGateway = PageBadGateway
	pageLoading    = PageLoading
)

// Name is the page's name: "not-found", "bad-gateway", "loading",
// "tls-pending" or "rate-limited".
func (k PageKind) Name() string { return k.spec().name }

// Status is the HTTP status the page is served with.
func (k PageKind) Status() int { return k.spec().status }

// PageKindByName returns the page with the given name.
func PageKindByName(name string) (PageKind, bool) {
	for _, k := range PageKinds {
		if k.Name() == name {
			return k, true
		}
	}
	return 0, false
}

// retryAfterSeconds is both the loading page's Retry-After and its
// self-refresh interval: a deploy usually finishes within a few of them.
const retryAfterSeconds = 5

// tlsRetrySeconds is the TLS pending page's refresh interval: issuing a
// certificate takes a few seconds to a minute.
const tlsRetrySeconds = 10

// pageHeader is set on every page the edge produces, so that the control
// plane's readiness probe can tell an edge page from an app's own answer.
const pageHeader = "X-Edge-Page"

// defaultColor is used when a brand has no valid PrimaryColor.
const defaultColor = "#4b5563"

// pageSpec holds what differs between the pages.
type pageSpec struct {
	name    string // the X-Edge-Page value
	status  int
	title   string
	heading string
	message string
	refresh int // seconds; 0 means the page does not refresh itself
	// retryAfter is the Retry-After of a page that does not refresh
	// itself; 0 sends none.
	retryAfter int
}

func (k PageKind) spec() pageSpec {
	switch k {
	case PageTLSPending:
		return pageSpec{
			name:    "tls-pending",
			status:  http.StatusServiceUnavailable,
			title:   "Securing this site",
			heading: "This site is getting its certificate",
			message: "A secure connection for this address is being set up. This page refreshes by itself as soon as it is ready.",
			refresh: tlsRetrySeconds,
		}
	case PageRateLimited:
		return pageSpec{
			name:       "rate-limited",
			status:     http.StatusTooManyRequests,
			title:      "Too many requests",
			heading:    "Slow down a little",
			message:    "Too many requests came from your address in a short time. Please wait a few seconds and try again.",
			retryAfter: 1,
		}
	case pageLoading:
		return pageSpec{
			name:    "loading",
			status:  http.StatusServiceUnavailable,
			title:   "Starting up",
			heading: "This app is starting",
			message: "A new version is on its way. This page refreshes by itself as soon as it is ready.",
			refresh: retryAfterSeconds,
		}
	case pageBadGateway:
		return pageSpec{
			name:    "bad-gateway",
			status:  http.StatusBadGateway,
			title:   "App unavailable",
			heading: "This app isn't responding",
			message: "It may be restarting or stopped for now. Please try again in a moment.",
		}
	default:
		return pageSpec{
			name:    "not-found",
			status:  http.StatusNotFound,
			title:   "Page not found",
			heading: "There's nothing here",
			message: "No app is published at this address. Check the link, or contact the owner of this site if you expected to find something here.",
		}
	}
}

// PageData is what a page template sees, built-in or custom: every
// brand field is validated or left to html/template's contextual
// escaping.
type PageData struct {
	// Kind is the page's name ("not-found", …) and Status its HTTP status.
	Kind   string
	Status int
	// Title, Heading and Message are the page's words in English.
	Title   string
	Heading string
	Message string
	// Refresh is the self-refresh interval in seconds, 0 for none.
	Refresh int
	// Loading is set on the pages that wait for something (loading, TLS
	// pending): they show a spinner.
	Loading bool
	// Name is the brand's product name.
	Name string
	// Color and Accent are CSS colours, always valid.
	Color  string
	Accent string
	// LogoURL is a string (escaped by the template) or a template.URL (a
	// vetted data: URL); nil when there is no logo.
	LogoURL any
	// SupportURL is an http(s) or mailto URL, SupportEmail an address;
	// either may be empty.
	SupportURL   string
	SupportEmail string
}

// pageTemplate is self-contained on purpose: inline CSS, no fonts, scripts
// or images other than the brand's logo, and no words that would name the
// software or the machine behind the edge.
const pageTemplate = `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex">
{{- if .Refresh}}
<meta http-equiv="refresh" content="{{.Refresh}}">
{{- end}}
<title>{{.Title}}{{with .Name}} · {{.}}{{end}}</title>
<style>
:root{--brand:{{.Color}};--accent:{{.Accent}}}
*{box-sizing:border-box}
html,body{height:100%}
body{margin:0;display:flex;align-items:center;justify-content:center;padding:24px;background:#f5f6f8;color:#1f2430;font:16px/1.55 system-ui,-apple-system,"Segoe UI",Roboto,Helvetica,Arial,sans-serif}
main{width:100%;max-width:30rem;padding:36px 32px;background:#fff;border-top:4px solid var(--brand);border-radius:12px;box-shadow:0 1px 3px rgba(0,0,0,.06),0 8px 24px rgba(0,0,0,.06);text-align:center}
.logo{display:block;max-width:160px;max-height:48px;margin:0 auto 24px}
h1{margin:0 0 12px;font-size:1.4rem;line-height:1.3}
p{margin:0;color:#4a5162}
.spinner{width:36px;height:36px;margin:0 auto 24px;border:4px solid #e3e6eb;border-top-color:var(--brand);border-radius:50%;animation:spin 1s linear infinite}
@keyframes spin{to{transform:rotate(360deg)}}
@media (prefers-reduced-motion:reduce){.spinner{animation-duration:3s}}
.help{margin-top:24px}
a{color:var(--accent)}
footer{margin-top:28px;font-size:.85rem;color:#8a909c}
@media (prefers-color-scheme:dark){body{background:#15171c;color:#e8eaee}main{background:#1e2128;box-shadow:none}p{color:#b4b9c4}.spinner{border-color:#333844;border-top-color:var(--brand)}footer{color:#7d8390}}
</style>
</head>
<body>
<main>
{{- with .LogoURL}}
<img class="logo" src="{{.}}" alt="{{$.Name}}">
{{- end}}
{{- if .Loading}}
<div class="spinner" role="presentation"></div>
{{- end}}
<h1>{{.Heading}}</h1>
<p>{{.Message}}</p>
{{- if .SupportURL}}
<p class="help"><a href="{{.SupportURL}}">Contact support</a>{{with .SupportEmail}} · <a href="mailto:{{.}}">{{.}}</a>{{end}}</p>
{{- else if .SupportEmail}}
<p class="help"><a href="mailto:{{.SupportEmail}}">{{.SupportEmail}}</a></p>
{{- end}}
{{- with .Name}}
<footer>{{.}}</footer>
{{- end}}
</main>
</body>
</html>
`

// parsePages parses the page template. It is called once per Edge so that
// the package holds no state of its own.
func parsePages() *template.Template {
	return template.Must(template.New("page").Parse(pageTemplate))
}

// pageData builds what a page template sees for a kind and a brand.
func pageData(kind PageKind, b Brand) PageData {
	s := kind.spec()
	color := brandColor(b.PrimaryColor)
	accent := color
	if strings.TrimSpace(b.AccentColor) != "" {
		accent = brandColor(b.AccentColor)
	}
	return PageData{
		Kind:         s.name,
		Status:       s.status,
		Title:        s.title,
		Heading:      s.heading,
		Message:      s.message,
		Refresh:      s.refresh,
		Loading:      kind == PageLoading || kind == PageTLSPending,
		Name:         strings.TrimSpace(b.Name),
		Color:        color,
		Accent:       accent,
		LogoURL:      logoURL(b.LogoURL),
		SupportURL:   supportURL(b.SupportURL),
		SupportEmail: supportEmail(b.SupportEmail),
	}
}

// renderPage renders one page for a brand with tmpl, the built-in
// template or a custom one.
func renderPage(tmpl *template.Template, kind PageKind, b Brand) ([]byte, error) {
	var buf bytes.Buffer
	if err := tmpl.Execute(&buf, pageData(kind, b)); err != nil {
		return nil, fmt.Errorf("rendering %s page: %w", kind.Name(), err)
	}
	return buf.Bytes(), nil
}

// MaxCustomPageBytes bounds a custom page template.
const MaxCustomPageBytes = 64 << 10

// ParseCustomPage parses a custom page template and renders it once for
// every page kind with a sample brand, so that a template that cannot
// render is refused when it is uploaded rather than when it is needed.
// The template sees PageData.
func ParseCustomPage(src string) (*template.Template, error) {
	if len(src) > MaxCustomPageBytes {
		return nil, fmt.Errorf("the template is %d bytes; at most %d", len(src), MaxCustomPageBytes)
	}
	tmpl, err := template.New("custom").Option("missingkey=error").Parse(src)
	if err != nil {
		return nil, err
	}
	sample := Brand{Name: "Sample", PrimaryColor: "#123456", AccentColor: "#654321",
		LogoURL: "https://logo.example/l.png", SupportURL: "https://help.example", SupportEmail: "help@example.com"}
	for _, k := range PageKinds {
		var buf bytes.Buffer
		if err := tmpl.Execute(&buf, pageData(k, sample)); err != nil {
			return nil, err
		}
		if buf.Len() > 4*MaxCustomPageBytes {
			return nil, fmt.Errorf("the %s page renders to %d bytes; at most %d", k.Name(), buf.Len(), 4*MaxCustomPageBytes)
		}
	}
	return tmpl, nil
}

// brandColor returns c if it is a hex colour or a colour keyword, nothing
// that could close a declaration or call a CSS function, else the default.
func brandColor(c string) string {
	c = strings.TrimSpace(c)
	if isHexColor(c) || isColorKeyword(c) {
		return c
	}
	return defaultColor
}

func isHexColor(c string) bool {
	if len(c) < 2 || c[0] != '#' {
		return false
	}
	switch len(c) - 1 {
	case 3, 4, 6, 8:
	default:
		return false
	}
	for _, r := range c[1:] {
		if !('0' <= r && r <= '9' || 'a' <= r && r <= 'f' || 'A' <= r && r <= 'F') {
			return false
		}
	}
	return true
}

func isColorKeyword(c string) bool {
	if len(c) < 3 || len(c) > 24 {
		return false
	}
	for _, r := range c {
		if !('a' <= r && r <= 'z' || 'A' <= r && r <= 'Z') {
			return false
		}
	}
	return true
}

// isDataImage accepts base64 data URLs of raster images and SVG; an SVG
// loaded through <img> cannot run scripts.
func isDataImage(u string) bool {
	rest, ok := strings.CutPrefix(u, "data:image/")
	if !ok {
		return false
	}
	typ, payload, ok := strings.Cut(rest, ";base64,")
	if !ok || payload == "" {
		return false
	}
	switch typ {
	case "png", "jpeg", "gif", "webp", "avif", "svg+xml":
	default:
		return false
	}
	payload = strings.TrimRight(payload, "=")
	for _, r := range payload {
		if !('0' <= r && r <= '9' || 'a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' || r == '+' || r == '/') {
			return false
		}
	}
	return true
}

// logoURL returns nil when there is no usable logo, so that the template
// leaves out the <img> element altogether.
func logoURL(u string) any {
	u = strings.TrimSpace(u)
	switch {
	case hasSchemePrefix(u, "https://"), hasSchemePrefix(u, "http://"):
		return u
	case isDataImage(u):
		// html/template refuses data: URLs unless told they are safe; the
		// pattern above is what makes this one safe.
		return template.URL(u)
	}
	return nil
}

// supportEmail returns e when it is a plain address with nothing that
// could break out of a mailto: URL.
func supportEmail(e string) string {
	e = strings.TrimSpace(e)
	at := strings.IndexByte(e, '@')
	if at <= 0 || at == len(e)-1 || len(e) > 254 {
		return ""
	}
	for _, r := range e {
		if r <= ' ' || r > '~' || strings.ContainsRune(`<>"'?&#:/\()[],;`, r) {
			return ""
		}
	}
	return e
}

func supportURL(u string) string {
	u = strings.TrimSpace(u)
	if hasSchemePrefix(u, "https://") || hasSchemePrefix(u, "http://") || hasSchemePrefix(u, "mailto:") {
		return u
	}
	return ""
}

func hasSchemePrefix(s, prefix string) bool {
	return len(s) > len(prefix) && strings.EqualFold(s[:len(prefix)], prefix)
}

// pageCSP lets a page use its inline styles and show its logo, and
// nothing else: no script runs on an edge page, built-in or custom, on
// the app's own origin.
const pageCSP = "default-src 'none'; style-src 'unsafe-inline'; img-src https: http: data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

// ServePage answers r with one of the edge's pages, in the brand (and
// with the custom page, when one was uploaded) of r's host. The TLS
// layer calls it with PageTLSPending.
func (e *Edge) ServePage(w http.ResponseWriter, r *http.Request, kind PageKind) {
	t := e.current.Load().table
	e.servePage(w, r, kind, e.brandFor(t, canonicalHost(r.Host), nil))
}

// servePage writes one of the edge's own pages. The body is complete before
// the header is written, so a rendering error can still fall back to a
// plain answer with the same status.
func (e *Edge) servePage(w http.ResponseWriter, r *http.Request, kind PageKind, b Brand) {
	s := kind.spec()
	tmpl := e.pages
	if custom := e.customPage(canonicalHost(r.Host), kind); custom != nil {
		tmpl = custom
	}
	body, err := renderPage(tmpl, kind, b)
	if err != nil && tmpl != e.pages {
		e.log.Warn("rendering custom page failed", "host", r.Host, "err", err)
		body, err = renderPage(e.pages, kind, b)
	}
	ctype := "text/html; charset=utf-8"
	if err != nil {
		e.log.Error("rendering page failed", "host", r.Host, "err", err)
		body = []byte(http.StatusText(s.status) + "\n")
		ctype = "text/plain; charset=utf-8"
	}
	h := w.Header()
	h.Set("Content-Type", ctype)
	h.Set("Content-Length", strconv.Itoa(len(body)))
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Content-Security-Policy", pageCSP)
	h.Set(pageHeader, s.name)
	switch {
	case s.refresh > 0:
		h.Set("Retry-After", strconv.Itoa(s.refresh))
	case s.retryAfter > 0:
		h.Set("Retry-After", strconv.Itoa(s.retryAfter))
	}
	w.WriteHeader(s.status)
	if r.Method != http.MethodHead {
		_, _ = w.Write(body) // the client may be gone; there is nothing left to do
	}
}

// customPage returns the parsed custom template of host's owner for kind,
// fetching it from the resolver the first time its digest is seen; nil
// when there is none or it cannot be had.
func (e *Edge) customPage(host string, kind PageKind) *template.Template {
	c := e.cache.Load()
	if c == nil {
		return nil
	}
	digest := c.answer(host).Pages[kind.Name()]
	if digest == "" {
		return nil
	}
	if t, ok := e.customPages.Load(digest); ok {
		return t.(*template.Template)
	}
	ctx, cancel := context.WithTimeout(context.Background(), resolveTimeout)
	defer cancel()
	src, err := c.r.Page(ctx, digest)
	if err != nil {
		e.log.Warn("fetching custom page failed", "host", host, "page", kind.Name(), "err", err)
		return nil
	}
	t, err := ParseCustomPage(src)
	if err != nil {
		e.log.Warn("parsing custom page failed", "host", host, "page", kind.Name(), "err", err)
		return nil
	}
	// Pages are addressed by their digest, so a stored one never goes
	// stale; the few an installation has are kept for good.
	e.customPages.Store(digest, t)
	return t
}
