package portal

import (
	"bytes"
	"fmt"
	"html/template"
	"net/http"
	"strconv"
	"time"
)

// page is what the layout shows around every page.
type page struct {
	Brand     Brand
	Title     string
	Workspace string
	// LogoutToken is set when someone is signed in: the header then has a
	// sign-out button.
	LogoutToken string
	Refresh     int // seconds; 0: the page does not reload itself
	Data        any
}

type messageData struct{ Heading, Message string }

var funcs = template.FuncMap{
	"ago":   ago,
	"stamp": func(t time.Time) string { return t.UTC().Format(time.RFC3339) },
	"human": func(t time.Time) string { return t.UTC().Format("2 Jan 2006, 15:04 UTC") },
}

func parsePages() (map[string]*template.Template, error) {
	pages := map[string]*template.Template{}
	for _, name := range []string{"login", "overview", "message"} {
		t, err := template.New("layout.html").Funcs(funcs).ParseFS(templateFS, "templates/layout.html", "templates/"+name+".html")
		if err != nil {
			return nil, fmt.Errorf("parsing the %s page: %w", name, err)
		}
		pages[name] = t
	}
	return pages, nil
}

// page starts the layout's data for a request: the brand, and the
// sign-out token when sess is set.
func (s *Server) page(r *http.Request, sess *session, title string) *page {
	b, ws := s.brands.get(r.Context(), s.log)
	p := &page{Brand: b, Title: title}
	if sess != nil { // the workspace's name is for signed-in eyes only
		p.Workspace = ws
		p.LogoutToken = s.sessions.formToken("logout", sess.id)
	}
	return p
}

func (s *Server) render(w http.ResponseWriter, r *http.Request, status int, name, title string, data any) {
	p := s.page(r, nil, title)
	p.Data = data
	s.renderPage(w, status, name, p)
}

// renderMessage shows a short page with a heading and a sentence, with
// the header of a signed-in person when the request has a session.
func (s *Server) renderMessage(w http.ResponseWriter, r *http.Request, status int, heading, message string) {
	p := s.page(r, s.sessions.fromRequest(r, time.Now()), heading)
	p.Data = messageData{Heading: heading, Message: message}
	s.renderPage(w, status, "message", p)
}

func (s *Server) renderPage(w http.ResponseWriter, status int, name string, p *page) {
	var buf bytes.Buffer
	if err := s.pages[name].Execute(&buf, p); err != nil {
		s.log.Error("rendering page failed", "page", name, "err", err)
		http.Error(w, "This page could not be shown.", http.StatusInternalServerError)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("Content-Length", strconv.Itoa(buf.Len()))
	w.WriteHeader(status)
	w.Write(buf.Bytes())
}

// ago says how long ago t was, the way a person would.
func ago(t time.Time) string {
	d := time.Since(t)
	plural := func(n int, unit string) string {
		if n == 1 {
			return "1 " + unit + " ago"
		}
		return strconv.Itoa(n) + " " + unit + "s ago"
	}
	switch {
	case t.IsZero():
		return "never"
	case d < time.Minute:
		return "just now"
	case d < time.Hour:
		return plural(int(d/time.Minute), "minute")
	case d < 24*time.Hour:
		return plural(int(d/time.Hour), "hour")
	case d < 30*24*time.Hour:
		return plural(int(d/(24*time.Hour)), "day")
	default:
		return t.UTC().Format("2 Jan 2006")
	}
}
