package edge

import (
	"bytes"
	"fmt"
	"html/template"
	"net/http"
	"strconv"
	"strings"
)

// pageKind is one of the answers the edge gives itself.
type pageKind int

const (
	pageNotFound pageKind = iota
	pageBadGateway
	pageLoading
)

// retryAfterSeconds is both the loading page's Retry-After and its
// self-refresh interval: a deploy usually finishes within a few of them.
const retryAfterSeconds = 5

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
}

func (k pageKind) spec() pageSpec {
	switch k {
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

// pageData is what the template sees: every brand field is validated or
// left to html/template's contextual escaping.
type pageData struct {
	Title      string
	Heading    string
	Message    string
	Refresh    int
	Loading    bool
	Name       string
	Color      string
	LogoURL    any // string (escaped by the template) or template.URL (a vetted data: URL)
	SupportURL string
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
:root{--brand:{{.Color}}}
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
a{color:var(--brand)}
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
{{- with .SupportURL}}
<p class="help"><a href="{{.}}">Contact support</a></p>
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

// renderPage renders one page for a brand.
func renderPage(tmpl *template.Template, kind pageKind, b Brand) ([]byte, error) {
	s := kind.spec()
	data := pageData{
		Title:      s.title,
		Heading:    s.heading,
		Message:    s.message,
		Refresh:    s.refresh,
		Loading:    kind == pageLoading,
		Name:       strings.TrimSpace(b.Name),
		Color:      brandColor(b.PrimaryColor),
		LogoURL:    logoURL(b.LogoURL),
		SupportURL: supportURL(b.SupportURL),
	}
	var buf bytes.Buffer
	if err := tmpl.Execute(&buf, data); err != nil {
		return nil, fmt.Errorf("rendering %s page: %w", s.name, err)
	}
	return buf.Bytes(), nil
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

// servePage writes one of the edge's own pages. The body is complete before
// the header is written, so a rendering error can still fall back to a
// plain answer with the same status.
func (e *Edge) servePage(w http.ResponseWriter, r *http.Request, kind pageKind, b Brand) {
	s := kind.spec()
	body, err := renderPage(e.pages, kind, b)
	ctype := "text/html; charset=utf-8"
	if err != nil {
		e.logf("edge: %s: %v", r.Host, err)
		body = []byte(http.StatusText(s.status) + "\n")
		ctype = "text/plain; charset=utf-8"
	}
	h := w.Header()
	h.Set("Content-Type", ctype)
	h.Set("Content-Length", strconv.Itoa(len(body)))
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set(pageHeader, s.name)
	if s.refresh > 0 {
		h.Set("Retry-After", strconv.Itoa(s.refresh))
	}
	w.WriteHeader(s.status)
	if r.Method != http.MethodHead {
		_, _ = w.Write(body) // the client may be gone; there is nothing left to do
	}
}
