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

//go:embed all:starters
var starters embed.FS

// BuildCAFile is the name under which the platform's extra CA bundle for
// builds is added to a build context. A Dockerfile that names it trusts
// it; the generated ones do so only when the platform has one.
const BuildCAFile = "berth-ca.crt"

// Template is one app shape.
type Template struct {
	ID          string
	Name        string
	Description string
	Runtime     string
	// Image is the logical image ("nginx", "node-build", "python") that
	// Images maps to a reference: the sandbox's dev image.
	Image string
	// Dockerfile is a text/template executed with the fields of
	// dockerfileData; {{image "name"}} is the reference of a logical
	// image. Empty for a compose template.
	Dockerfile string
	// ComposeFile is the compose file a release of a compose template
	// brings, at the root of its files.
	ComposeFile  string
	DevCommand   string
	BuildCommand string
	// StartCommand is what the image runs: the CMD of the Dockerfile.
	StartCommand string
	Port         int
	Env          map[string]string
	Volumes      []string
	HealthPath   string
	// Requires are files a release of the template must have at the root.
	Requires []string
	// Static templates serve their files as they are: a release needs an
	// index.html at its root.
	Static bool
	// Detect tells whether a release's package.json (its dependency
	// names) is of this template, when no template is named.
	Detect func(deps map[string]bool) bool
	// DesignContext is what an AI agent reads before writing the app.
	DesignContext string
	// SystemFiles are written into a sandbox's container (absolute paths)
	// before its dev command starts.
	SystemFiles map[string]string
}

// Images maps logical image names to references.
type Images map[string]string

// DefaultImages are the images `berth images build` makes locally, by
// their neutral aliases (images.Alias): these names show in the
// Dockerfiles the API serves and in build logs, so they must not name the
// platform.
func DefaultImages() Images {
	return Images{
		"nginx":      "local/nginx:bookworm",
		"node":       "local/node:bookworm",
		"node-build": "local/node-build:bookworm",
		"python":     "local/python:bookworm",
	}
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

// ImageRef is the reference a template's sandbox starts from.
func (c *Catalogue) ImageRef(t *Template) string { return c.images[t.Image] }

// BuildOptions say how a release's Dockerfile is rendered.
type BuildOptions struct {
	// Port is where the release's app listens.
	Port int
	// BuildCA adds the platform's build CA bundle (BuildCAFile, in the
	// build context) to the build stages' trust.
	BuildCA bool
}

// dockerfileData is what a template's Dockerfile is executed with.
type dockerfileData struct {
	Image   string
	Port    int
	BuildCA bool
}

// caPath is where a build stage keeps the build CA bundle.
const caPath = "/etc/ssl/berth-build-ca.crt"

// common are the named templates every Dockerfile may use.
const common = `{{define "build-ca"}}{{if .BuildCA}}
# Trust the platform's extra CA bundle in this stage's downloads.
COPY ` + BuildCAFile + ` ` + caPath + `
ENV NODE_EXTRA_CA_CERTS=` + caPath + ` \
    SSL_CERT_FILE=` + caPath + ` \
    PIP_CERT=` + caPath + ` \
    npm_config_cafile=` + caPath + `{{end}}{{end}}
{{- define "drop-build-ca"}}{{if .BuildCA}}
RUN rm -f ` + BuildCAFile + `{{end}}{{end}}
{{- define "npm-install"}}
COPY package.json package-lock.json* ./
RUN if [ -f package-lock.json ]; then npm ci{{.}}; else npm install{{.}}; fi{{end}}`

// Dockerfile renders the template's Dockerfile as a user sees it: for a
// release whose app listens on port, without the platform's build CA.
func (c *Catalogue) Dockerfile(t *Template, port int) (string, error) {
	return c.Render(t, BuildOptions{Port: port})
}

// Render renders the template's Dockerfile for a build.
func (c *Catalogue) Render(t *Template, o BuildOptions) (string, error) {
	if t.Dockerfile == "" {
		return "", nil
	}
	image := func(name string) (string, error) {
		ref, ok := c.images[name]
		if !ok {
			return "", fmt.Errorf("no image named %q", name)
		}
		return ref, nil
	}
	tpl := template.New(t.ID).Option("missingkey=error").Funcs(template.FuncMap{"image": image})
	if _, err := tpl.Parse(common); err != nil {
		return "", fmt.Errorf("parsing dockerfile of %s: %w", t.ID, err)
	}
	if _, err := tpl.Parse(t.Dockerfile); err != nil {
		return "", fmt.Errorf("parsing dockerfile of %s: %w", t.ID, err)
	}
	var b bytes.Buffer
	data := dockerfileData{Image: c.ImageRef(t), Port: o.Port, BuildCA: o.BuildCA}
	if err := tpl.Execute(&b, data); err != nil {
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

// Compose returns the compose file of a compose template's starter, or ""
// for other templates.
func (c *Catalogue) Compose(t *Template) string {
	if t.ComposeFile == "" {
		return ""
	}
	b, err := fs.ReadFile(starters, "starters/"+t.ID+"/"+t.ComposeFile)
	if err != nil {
		return ""
	}
	return string(b)
}
