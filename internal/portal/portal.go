// Package portal is a workspace's white-labeled deployment center: a small
// server-rendered site, behind a password, that lists the workspace's
// projects and deployments. It reads everything through the public API
// with a workspace-scoped key, like any other client: it never talks to
// an agent or a container engine, and the browser never sees the key, the
// API's address or anything that names the platform underneath.
package portal

import (
	"context"
	"crypto/rand"
	"embed"
	"errors"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/berth-dev/berth/client"
)

// Config wires a Server.
type Config struct {
	// API is the public API client, holding the workspace-scoped key.
	API *client.Client
	// WorkspaceID is the workspace the portal shows.
	WorkspaceID string
	// Password is what a person types to sign in.
	Password string
	// PasswordFile, when set, holds the password instead (its first
	// line), read again at each sign-in: the control plane changes the
	// password by writing the file, with no restart.
	PasswordFile string
	// SessionSecret signs session cookies and form tokens; empty means a
	// random one, so sessions end when the process does.
	SessionSecret []byte
	// SessionTTL is how long a sign-in lasts (0: 12 hours).
	SessionTTL time.Duration
	// Log receives what went wrong (nil: discarded).
	Log *slog.Logger
}

// Server is the portal's HTTP handler.
type Server struct {
	api         *client.Client
	workspaceID string
	log         *slog.Logger
	mux         *http.ServeMux
	pages       map[string]*template.Template
	assets      fs.FS

	passwordMu   sync.Mutex
	password     [32]byte // a digest: compared in constant time whatever its length
	passwordFile string
	sessions     *sessions
	throttle     *throttle
	brands       *brandCache

	// reached is set once the API answered with the key; /healthz waits
	// for it. probeMu keeps concurrent health checks from piling up calls.
	reached atomic.Bool
	probeMu sync.Mutex
}

//go:embed templates/*.html
var templateFS embed.FS

//go:embed assets
var assetFS embed.FS

// New returns a portal over cfg.
func New(cfg Config) (*Server, error) {
	if cfg.API == nil {
		return nil, errors.New("portal: no API client")
	}
	if cfg.WorkspaceID == "" {
		return nil, errors.New("portal: no workspace id")
	}
	if cfg.PasswordFile != "" {
		pw, err := readPassword(cfg.PasswordFile)
		if err != nil {
			return nil, err
		}
		cfg.Password = pw
	}
	if cfg.Password == "" {
		return nil, errors.New("portal: no password")
	}
	secret := cfg.SessionSecret
	if len(secret) == 0 {
		secret = make([]byte, 32)
		rand.Read(secret)
	}
	if cfg.SessionTTL == 0 {
		cfg.SessionTTL = 12 * time.Hour
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	pages, err := parsePages()
	if err != nil {
		return nil, err
	}
	assets, _ := fs.Sub(assetFS, "assets")
	s := &Server{
		api: cfg.API, workspaceID: cfg.WorkspaceID, log: cfg.Log, mux: http.NewServeMux(),
		pages: pages, assets: assets,
		password: digest(cfg.Password), passwordFile: cfg.PasswordFile,
		sessions: newSessions(secret, cfg.SessionTTL),
		throttle: newThrottle(5, time.Minute),
	}
	s.brands = &brandCache{load: s.loadBrand, ttl: time.Minute}
	s.routes()
	return s, nil
}

func (s *Server) routes() {
	// Form posts from another site are refused before any handler runs;
	// the form tokens below cover browsers that send neither header.
	csrf := http.NewCrossOriginProtection()
	csrf.SetDenyHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.renderMessage(w, r, http.StatusForbidden, "Request refused", "This form was sent from another site. Open the page again and retry.")
	}))
	post := func(pattern string, h http.HandlerFunc) { s.mux.Handle(pattern, csrf.Handler(h)) }

	s.mux.HandleFunc("GET /healthz", s.healthz)
	s.mux.Handle("GET /assets/", http.StripPrefix("/assets/", s.staticAssets()))
	s.mux.HandleFunc("GET /assets/brand.css", s.brandCSS)
	s.mux.HandleFunc("GET /login", s.loginPage)
	post("POST /login", s.login)
	post("POST /logout", s.logout)
	s.mux.HandleFunc("GET /{$}", s.authed(s.overview))
	s.mux.HandleFunc("/", s.authed(func(w http.ResponseWriter, r *http.Request, _ *session) {
		s.renderMessage(w, r, http.StatusNotFound, "Not found", "There is no page here.")
	}))
}

// ServeHTTP serves the portal.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Content-Security-Policy", "default-src 'none'; style-src 'self'; img-src 'self' https: data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Referrer-Policy", "same-origin")
	s.mux.ServeHTTP(w, r)
}

// authed runs h for a signed-in person and sends anyone else to /login.
func (s *Server) authed(h func(http.ResponseWriter, *http.Request, *session)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		sess := s.sessions.fromRequest(r, time.Now())
		if sess == nil {
			http.Redirect(w, r, "/login", http.StatusSeeOther)
			return
		}
		h(w, r, sess)
	}
}

func (s *Server) staticAssets() http.Handler {
	files := http.FileServerFS(s.assets)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "" || strings.HasSuffix(r.URL.Path, "/") {
			http.NotFound(w, r) // no directory listings
			return
		}
		w.Header().Set("Cache-Control", "public, max-age=3600")
		files.ServeHTTP(w, r)
	})
}

// healthz answers 200 once the API has answered the portal's key, so a
// host's bootstrap knows the portal is wired up, not just listening.
func (s *Server) healthz(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	if !s.reached.Load() {
		s.probeMu.Lock()
		if !s.reached.Load() {
			ctx, cancel := context.WithTimeout(r.Context(), 5*time.Second)
			if err := s.Probe(ctx); err != nil {
				s.log.Warn("health probe failed", "err", err)
			}
			cancel()
		}
		s.probeMu.Unlock()
	}
	if !s.reached.Load() {
		w.WriteHeader(http.StatusServiceUnavailable)
		w.Write([]byte(`{"ok":false,"reason":"the portal has not reached the API with its key yet"}` + "\n"))
		return
	}
	w.Write([]byte(`{"ok":true}` + "\n"))
}

// Probe asks the API for the portal's workspace with the portal's key,
// and remembers success for /healthz.
func (s *Server) Probe(ctx context.Context) error {
	if _, err := s.workspace(ctx); err != nil {
		return err
	}
	s.reached.Store(true)
	return nil
}
