package portal

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/mail"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/berth-dev/berth/client"
)

// Brand is everything that makes the portal look like its owner's: the
// one place the pages take a name, a logo, colours and a way to get help
// from. It is the workspace's effective branding (its own fields over its
// org's).
type Brand struct {
	// Name is who the portal belongs to, shown in the header and titles.
	Name string
	// LogoURL is an https (or data:image) URL of the logo; empty shows the
	// name's initial instead.
	LogoURL string
	Colors  Colors
	// SupportURL (https) and SupportEmail are shown at the foot of every
	// page when set.
	SupportURL   string
	SupportEmail string
}

// Colors are CSS hex colours (#rgb or #rrggbb).
type Colors struct {
	Primary    string // buttons, the monogram
	Accent     string // links
	OnPrimary  string // text on Primary
	Background string // the page
	Surface    string // cards
	Text       string
	Muted      string // secondary text
	Border     string
}

// DefaultColors are neutral, so an unbranded portal looks like nobody's.
func DefaultColors() Colors {
	return Colors{
		Primary:    "#374151",
		Accent:     "#374151",
		OnPrimary:  "#ffffff",
		Background: "#f5f6f8",
		Surface:    "#ffffff",
		Text:       "#111827",
		Muted:      "#6b7280",
		Border:     "#e5e7eb",
	}
}

var hexColor = regexp.MustCompile(`^#(?:[0-9a-fA-F]{3}|[0-9a-fA-F]{6})$`)

// normalized fills what is missing or unsafe with defaults, so a bad value
// from a branding record can never break out of the stylesheet or the
// image tag.
func (b Brand) normalized() Brand {
	def := DefaultColors()
	pick := func(v, d string) string {
		if hexColor.MatchString(v) {
			return v
		}
		return d
	}
	c := b.Colors
	primary := pick(c.Primary, def.Primary)
	b.Colors = Colors{
		Primary: primary, Accent: pick(c.Accent, primary), OnPrimary: pick(c.OnPrimary, def.OnPrimary),
		Background: pick(c.Background, def.Background), Surface: pick(c.Surface, def.Surface),
		Text: pick(c.Text, def.Text), Muted: pick(c.Muted, def.Muted), Border: pick(c.Border, def.Border),
	}
	if !safeLogo(b.LogoURL) {
		b.LogoURL = ""
	}
	if u, err := url.Parse(b.SupportURL); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		b.SupportURL = ""
	}
	if a, err := mail.ParseAddress(b.SupportEmail); err != nil || a.Address != b.SupportEmail {
		b.SupportEmail = ""
	}
	b.Name = strings.TrimSpace(b.Name)
	return b
}

func safeLogo(raw string) bool {
	if strings.HasPrefix(raw, "data:image/") && !strings.HasPrefix(raw, "data:image/svg") {
		return true
	}
	u, err := url.Parse(raw)
	return err == nil && u.Scheme == "https" && u.Host != ""
}

// Initial is the monogram shown when there is no logo.
func (b Brand) Initial() string {
	for _, r := range b.Name {
		return strings.ToUpper(string(r))
	}
	return "·"
}

// CSS is the stylesheet of the brand's colours, as custom properties the
// static stylesheet uses.
func (b Brand) CSS() string {
	c := b.normalized().Colors
	return fmt.Sprintf(":root{--primary:%s;--accent:%s;--on-primary:%s;--bg:%s;--surface:%s;--text:%s;--muted:%s;--border:%s}\n",
		c.Primary, c.Accent, c.OnPrimary, c.Background, c.Surface, c.Text, c.Muted, c.Border)
}

// loadBrand reads the brand from the API: the workspace's effective
// branding (product name, logo, colours, support), over neutral colours;
// without one, the org's name.
func (s *Server) loadBrand(ctx context.Context) (Brand, string, error) {
	ws, err := s.workspace(ctx)
	if err != nil {
		return Brand{}, "", err
	}
	s.reached.Store(true)
	b := Brand{Name: ws.Name, Colors: DefaultColors()}
	var ob client.OwnerBranding
	if err := s.api.Do(ctx, http.MethodGet, "/workspaces/"+url.PathEscape(ws.ID)+"/branding", nil, "", &ob); err == nil {
		e := ob.Effective
		if e.ProductName != "" {
			b.Name = e.ProductName
		}
		b.LogoURL, b.SupportURL, b.SupportEmail = e.LogoURL, e.SupportURL, e.SupportEmail
		b.Colors.Primary, b.Colors.Accent = e.PrimaryColor, e.AccentColor
	} else {
		s.log.Warn("reading the workspace's branding failed", "err", err)
		if o, err := s.org(ctx, ws.OrgID); err == nil {
			b.Name = o.Name
		} else {
			s.log.Warn("reading the org's name failed", "err", err)
		}
	}
	return b.normalized(), ws.Name, nil
}

// brandCache keeps the brand for a while: the sign-in page and the
// stylesheet need it on every request, and it rarely changes.
type brandCache struct {
	load func(context.Context) (Brand, string, error)
	ttl  time.Duration

	mu        sync.Mutex
	brand     Brand
	workspace string
	next      time.Time // when to ask the API again
}

// brandRetry is how soon a failed read is tried again: requests that
// anyone can send must not each become a call to the API.
const brandRetry = 5 * time.Second

// get returns the brand and the workspace's name; when the API cannot be
// reached it returns the last one known (or a neutral one).
func (c *brandCache) get(ctx context.Context, log *slog.Logger) (Brand, string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	now := time.Now()
	if now.Before(c.next) {
		return c.brand, c.workspace
	}
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	b, ws, err := c.load(ctx)
	if err != nil {
		log.Warn("reading the brand failed", "err", err)
		if c.next.IsZero() {
			c.brand = Brand{Colors: DefaultColors()}
		}
		c.next = now.Add(brandRetry)
		return c.brand, c.workspace
	}
	c.brand, c.workspace, c.next = b, ws, now.Add(c.ttl)
	return b, ws
}

func (s *Server) brandCSS(w http.ResponseWriter, r *http.Request) {
	b, _ := s.brands.get(r.Context(), s.log)
	w.Header().Set("Content-Type", "text/css; charset=utf-8")
	w.Header().Set("Cache-Control", "no-cache")
	w.Write([]byte(b.CSS()))
}
