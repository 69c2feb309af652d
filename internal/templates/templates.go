// Package templates is the catalogue of curated app shapes: how a sandbox
// of each runs, and how a release of each becomes an image.
package templates

import (
	"bytes"
	"embed"
	"fmt"
	"io/fs"
	"maps"
	"slices"
	"strings"
	"text/template"
)

//go:embed starters
var starters embed.FS

// Template is one app shape.
type Template struct {
	ID          string
	Name        string
	Description string
	Runtime     string
	// Image is the logical base image ("nginx", "node") that Images maps
	// to a reference.
	Image string
	// Dockerfile is a text/template executed with {{.Image}} and {{.Port}}.
	Dockerfile   string
	DevCommand   string
	BuildCommand string
	StartCommand string
	Port         int
	Env          map[string]string
	Volumes      []string
	HealthPath   string
	// Static templates need an index.html at the root of a release.
	Static        bool
	DesignContext string
	// SystemFiles are written into a sandbox's container (absolute paths)
	// before its dev command starts.
	SystemFiles map[string]string
}

// Images maps logical image names to references.
type Images map[string]string

// DefaultImages are the images `berth images build` makes locally.
func DefaultImages() Images {
	return Images{"nginx": "berth/nginx:bookworm", "node": "berth/node:bookworm"}
}

// Catalogue is the set of templates with the images they run on.
type Catalogue struct {
	images Images
	byID   map[string]*Template
}

// New returns the catalogue using images (missing names fall back to the
// defaults).
func New(images Images) *Catalogue {
	merged := DefaultImages()
	maps.Copy(merged, images)
	c := &Catalogue{images: merged, byID: map[string]*Template{}}
	for _, t := range builtin() {
		c.byID[t.ID] = t
	}
	return c
}

// Get returns a template by id.
func (c *Catalogue) Get(id string) (*Template, bool) {
	t, ok := c.byID[id]
	return t, ok
}

// List returns every template sorted by id.
func (c *Catalogue) List() []*Template {
	return slices.SortedFunc(maps.Values(c.byID), func(a, b *Template) int { return strings.Compare(a.ID, b.ID) })
}

// IDs returns the template ids, sorted.
func (c *Catalogue) IDs() []string {
	return slices.Sorted(maps.Keys(c.byID))
}

// ImageRef is the reference a template's sandbox and builds start from.
func (c *Catalogue) ImageRef(t *Template) string { return c.images[t.Image] }

// Dockerfile renders the template's Dockerfile for a release whose app
// listens on port.
func (c *Catalogue) Dockerfile(t *Template, port int) (string, error) {
	tpl, err := template.New(t.ID).Option("missingkey=error").Parse(t.Dockerfile)
	if err != nil {
		return "", fmt.Errorf("parsing dockerfile of %s: %w", t.ID, err)
	}
	var b bytes.Buffer
	if err := tpl.Execute(&b, map[string]any{"Image": c.ImageRef(t), "Port": port}); err != nil {
		return "", fmt.Errorf("rendering dockerfile of %s: %w", t.ID, err)
	}
	return b.String(), nil
}

// Starter returns the template's starter files (relative paths).
func (c *Catalogue) Starter(t *Template) (fs.FS, error) {
	sub, err := fs.Sub(starters, "starters/"+t.ID)
	if err != nil {
		return nil, fmt.Errorf("starter of %s: %w", t.ID, err)
	}
	return sub, nil
}

const nginxDevConf = `daemon off;
pid /tmp/nginx.pid;
error_log stderr;
events {}
http {
  include /etc/nginx/mime.types;
  access_log off;
  sendfile off;
  etag off;
  client_body_temp_path /tmp/nginx-body;
  proxy_temp_path /tmp/nginx-proxy;
  fastcgi_temp_path /tmp/nginx-fastcgi;
  uwsgi_temp_path /tmp/nginx-uwsgi;
  scgi_temp_path /tmp/nginx-scgi;
  server {
    listen 8080;
    root /workspace;
    index index.html;
    add_header Cache-Control no-store;
    location / { try_files $uri $uri/ $uri.html =404; }
  }
}
`

func builtin() []*Template {
	return []*Template{
		{
			ID:          "static-html",
			Name:        "Static HTML Site",
			Description: "Plain HTML, CSS and JavaScript served by nginx.",
			Runtime:     "nginx",
			Image:       "nginx",
			Dockerfile: `FROM {{.Image}}
COPY . /usr/share/nginx/html/
EXPOSE 8080
`,
			DevCommand:   "nginx -c /etc/berth/nginx-dev.conf",
			StartCommand: "nginx",
			Port:         8080,
			Env:          map[string]string{},
			Volumes:      []string{},
			HealthPath:   "/",
			Static:       true,
			DesignContext: "A static site: index.html at the root, with relative links to " +
				"CSS, JavaScript and images beside it. No build step and no server code; " +
				"every path is served as a file, and /about serves about.html.",
			SystemFiles: map[string]string{"/etc/berth/nginx-dev.conf": nginxDevConf},
		},
		{
			ID:          "express-api",
			Name:        "Express / Node API",
			Description: "A Node.js HTTP API listening on $PORT.",
			Runtime:     "node",
			Image:       "node",
			Dockerfile: `FROM {{.Image}}
WORKDIR /app
COPY . .
ENV NODE_ENV=production PORT={{.Port}}
EXPOSE {{.Port}}
CMD ["node", "server.js"]
`,
			DevCommand:   "node --watch server.js",
			StartCommand: "node server.js",
			Port:         3000,
			Env:          map[string]string{"PORT": "3000"},
			Volumes:      []string{},
			HealthPath:   "/health",
			DesignContext: "A Node.js API: server.js listens on 0.0.0.0:$PORT and answers JSON. " +
				"Keep GET /health answering 200. Read configuration from environment " +
				"variables; never hard-code secrets.",
		},
	}
}
