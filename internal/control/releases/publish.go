package releases

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/berth-dev/berth/internal/artifact"
	"github.com/berth-dev/berth/internal/compose"
	"github.com/berth-dev/berth/internal/control/appenv"
	"github.com/berth-dev/berth/internal/id"
	"github.com/berth-dev/berth/internal/problem"
	"github.com/berth-dev/berth/internal/store"
)

// Request describes files to freeze into a release.
type Request struct {
	Project *store.Project
	// TemplateID, Port and Command say how to build and run it; empty
	// values are taken from the template or detected from the files.
	TemplateID string
	Port       int
	Command    string
	CreatedBy  string
	ExternalID string
}

// CreateRelease freezes an uploaded tar into a release.
func (c *Service) CreateRelease(ctx context.Context, body io.Reader, req Request) (*store.Release, error) {
	if req.Port < 0 || req.Port > 65535 {
		return nil, problem.Unprocessable("invalid_port", "port %d is out of range: use 1 to 65535", req.Port)
	}
	return c.Freeze(ctx, body, "", req, store.Provenance{Source: "upload", CreatedBy: req.CreatedBy}, nil)
}

// Freeze normalizes the tar read from in (less the prefix strip), stores it
// as an artifact and records the release; envNames are the variables its
// source had set.
func (c *Service) Freeze(ctx context.Context, in io.Reader, strip string, req Request, prov store.Provenance, envNames []string) (*store.Release, error) {
	if req.TemplateID != "" {
		if _, ok := c.cfg.Templates.Get(req.TemplateID); !ok {
			return nil, problem.Unprocessable("unknown_template",
				"template %q does not exist; use one of: %s", req.TemplateID, strings.Join(c.cfg.Templates.IDs(), ", "))
		}
	}
	tmp, err := os.CreateTemp("", "berth-release-*.tar")
	if err != nil {
		return nil, fmt.Errorf("spooling release: %w", err)
	}
	defer os.Remove(tmp.Name())
	defer tmp.Close()
	info, err := artifact.Normalize(in, tmp, artifact.Options{Limits: artifact.DefaultLimits, StripPrefix: strip, Exclude: artifact.DefaultExclude})
	if err != nil {
		return nil, ArtifactProblem(err)
	}
	build, err := c.buildShape(info, req, func(name string) ([]byte, error) {
		if _, err := tmp.Seek(0, io.SeekStart); err != nil {
			return nil, err
		}
		return artifact.ReadFile(tmp, name, 1<<20)
	})
	if err != nil {
		return nil, err
	}
	if _, err := tmp.Seek(0, io.SeekStart); err != nil {
		return nil, err
	}
	digest, _, err := c.cfg.Artifacts.Put(tmp)
	if err != nil {
		return nil, fmt.Errorf("storing artifact: %w", err)
	}
	if digest != info.Digest {
		return nil, fmt.Errorf("artifact digest changed while storing: %s != %s", digest, info.Digest)
	}
	t, _ := c.cfg.Templates.Get(build.TemplateID)
	names := map[string]bool{}
	for _, n := range envNames {
		names[n] = true
	}
	if t != nil {
		for n := range t.Env {
			names[n] = true
		}
	}
	for _, n := range c.envExample(info, tmp) {
		names[n] = true
	}
	now := time.Now().UTC()
	files := make([]store.FileDigest, len(info.Files))
	for i, f := range info.Files {
		files[i] = store.FileDigest{Path: f.Path, Size: f.Size, Digest: f.Digest}
	}
	prov.Files = files
	r := &store.Release{
		ID: id.New(id.Release), OrgID: req.Project.OrgID, WorkspaceID: req.Project.WorkspaceID, ProjectID: req.Project.ID,
		Digest: info.Digest, Size: info.Size, EnvNames: slices.Sorted(maps.Keys(names)), Build: build,
		Provenance: prov, ExternalID: req.ExternalID, CreatedAt: now,
	}
	if err := c.st.CreateRelease(ctx, r); errors.Is(err, store.ErrConflict) {
		return nil, problem.Conflict("external_id_taken", "a release with external_id %q already exists in this project", req.ExternalID)
	} else if err != nil {
		return nil, fmt.Errorf("recording release: %w", err)
	}
	c.events.Record(ctx, r.ID, "release.created", "release %s frozen: %d files, %d bytes", info.Digest, len(files), info.Size)
	return r, nil
}

// buildShape decides how a release becomes an image, or says what to add.
// read returns a (small) file of the release. A release with its own
// Dockerfile builds with it unless it names a template; otherwise the
// template is the one named, else the one its files show (a package.json
// depending on next or vite, a compose file, an index.html, a package.json
// or server.js, a requirements.txt or main.py).
func (c *Service) buildShape(info artifact.Info, req Request, read func(string) ([]byte, error)) (store.Build, error) {
	has := func(p string) bool { return artifact.Lookup(info.Files, p) }
	b := store.Build{TemplateID: req.TemplateID, Port: req.Port, Command: req.Command}
	if has("Dockerfile") && (req.TemplateID == "" || req.TemplateID == "dockerfile") {
		b.TemplateID, b.Dockerfile = "", "Dockerfile"
		if b.Port == 0 {
			b.Port = exposedPort(read)
		}
		return b, nil
	}
	if b.TemplateID == "" {
		b.TemplateID = c.detectTemplate(has, read)
		if b.TemplateID == "" {
			return b, problem.Unprocessable("no_build_shape",
				"cannot tell how to run these files: add a Dockerfile, or an index.html for a static site, or name a template (one of: %s)",
				strings.Join(c.cfg.Templates.IDs(), ", "))
		}
	}
	t, _ := c.cfg.Templates.Get(b.TemplateID)
	if t.Static && !has("index.html") {
		return b, problem.Unprocessable("missing_index_html",
			"a %s release needs an index.html at the root of its files: add index.html (the page served at /)", t.ID)
	}
	var missing []string
	for _, f := range t.Requires {
		if !has(f) {
			missing = append(missing, f)
		}
	}
	if len(missing) > 0 {
		return b, problem.Unprocessable("missing_entrypoint", "a %s release needs %s at the root of its files: add %s",
			t.ID, strings.Join(t.Requires, " and "), strings.Join(missing, " and "))
	}
	if t.ComposeFile != "" {
		if err := checkCompose(has, read); err != nil {
			return b, err
		}
	}
	if b.Port == 0 {
		b.Port = t.Port
	}
	if b.Command == "" {
		b.Command = t.StartCommand
	}
	return b, nil
}

// detectTemplate names the template a release's files show, or "".
func (c *Service) detectTemplate(has func(string) bool, read func(string) ([]byte, error)) string {
	if has("package.json") {
		var pkg struct {
			Dependencies    map[string]string `json:"dependencies"`
			DevDependencies map[string]string `json:"devDependencies"`
		}
		if data, err := read("package.json"); err == nil && json.Unmarshal(data, &pkg) == nil {
			deps := map[string]bool{}
			for name := range pkg.Dependencies {
				deps[name] = true
			}
			for name := range pkg.DevDependencies {
				deps[name] = true
			}
			for _, t := range c.cfg.Templates.List() {
				if t.Detect != nil && t.Detect(deps) {
					return t.ID
				}
			}
		}
	}
	for _, f := range compose.MainFiles {
		if has(f) {
			return "compose-full-stack"
		}
	}
	switch {
	case has("index.html"):
		return "static-html"
	case has("package.json") || has("server.js"):
		return "express-api"
	case has("requirements.txt") || has("main.py"):
		return "fastapi-service"
	}
	return ""
}

// checkCompose parses a compose release's compose file (and its override)
// and refuses what a tenant's app may not have.
func checkCompose(has func(string) bool, read func(string) ([]byte, error)) error {
	var files []compose.File
	for _, names := range [][]string{compose.MainFiles, compose.OverrideFiles} {
		for _, name := range names {
			if !has(name) {
				continue
			}
			data, err := read(name)
			if err != nil {
				return problem.Unprocessable("compose_invalid", "%s cannot be read: keep it under 1 MiB", name)
			}
			files = append(files, compose.File{Name: name, Content: data})
			break
		}
	}
	if len(files) == 0 {
		return problem.Unprocessable("missing_entrypoint", "a compose release needs compose.yaml at the root of its files")
	}
	_, err := compose.Parse(files, nil)
	return err
}

// exposedPort is the first port a release's Dockerfile EXPOSEs, or 0.
func exposedPort(read func(string) ([]byte, error)) int {
	data, err := read("Dockerfile")
	if err != nil {
		return 0
	}
	for line := range strings.Lines(string(data)) {
		f := strings.Fields(line)
		if len(f) < 2 || !strings.EqualFold(f[0], "EXPOSE") {
			continue
		}
		port, _, _ := strings.Cut(f[1], "/")
		if n, err := strconv.Atoi(port); err == nil && n > 0 && n < 65536 {
			return n
		}
	}
	return 0
}

// envExample returns the variable names a .env.example at the root lists.
func (c *Service) envExample(info artifact.Info, tar *os.File) []string {
	if !artifact.Lookup(info.Files, ".env.example") {
		return nil
	}
	if _, err := tar.Seek(0, io.SeekStart); err != nil {
		return nil
	}
	data, err := artifact.ReadFile(tar, ".env.example", 1<<20)
	if err != nil {
		return nil
	}
	var names []string
	sc := bufio.NewScanner(strings.NewReader(string(data)))
	for sc.Scan() {
		line := strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(sc.Text()), "export "))
		name, _, ok := strings.Cut(line, "=")
		if ok && appenv.IsName(name) {
			names = append(names, name)
		}
	}
	return names
}

// ArtifactProblem turns an artifact refusal into a 422.
func ArtifactProblem(err error) error {
	var ae *artifact.Error
	if errors.As(err, &ae) {
		return problem.Unprocessable(ae.Code, "%s", ae.Error())
	}
	return fmt.Errorf("freezing files: %w", err)
}
