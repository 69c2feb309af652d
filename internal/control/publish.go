package control

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"maps"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/berth-dev/berth/internal/artifact"
	"github.com/berth-dev/berth/internal/id"
	"github.com/berth-dev/berth/internal/problem"
	"github.com/berth-dev/berth/internal/store"
	"github.com/berth-dev/berth/internal/templates"
)

// ReleaseRequest describes files to freeze into a release.
type ReleaseRequest struct {
	Project *store.Project
	// TemplateID, Port and Command say how to build and run it; empty
	// values are taken from the template or detected from the files.
	TemplateID string
	Port       int
	Command    string
	CreatedBy  string
	ExternalID string
}

// Publish freezes a sandbox's files into a release.
func (c *Control) Publish(ctx context.Context, sid, createdBy string) (*store.Release, error) {
	s, a, err := c.running(ctx, sid)
	if err != nil {
		return nil, err
	}
	p, err := c.st.GetProject(ctx, s.ProjectID)
	if err != nil {
		return nil, err
	}
	pr, pw := io.Pipe()
	go func() { pw.CloseWithError(a.CopyFrom(ctx, s.ContainerID, Workdir, pw)) }()
	defer pr.Close()
	envNames := slices.Collect(maps.Keys(s.Env))
	return c.freeze(ctx, pr, "workspace/", ReleaseRequest{Project: p, TemplateID: s.TemplateID, CreatedBy: createdBy},
		store.Provenance{Source: "sandbox", SourceSandboxID: s.ID, CreatedBy: createdBy}, envNames)
}

// CreateRelease freezes an uploaded tar into a release.
func (c *Control) CreateRelease(ctx context.Context, body io.Reader, req ReleaseRequest) (*store.Release, error) {
	if req.Port < 0 || req.Port > 65535 {
		return nil, problem.Unprocessable("invalid_port", "port %d is out of range: use 1 to 65535", req.Port)
	}
	return c.freeze(ctx, body, "", req, store.Provenance{Source: "upload", CreatedBy: req.CreatedBy}, nil)
}

func (c *Control) freeze(ctx context.Context, in io.Reader, strip string, req ReleaseRequest, prov store.Provenance, envNames []string) (*store.Release, error) {
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
		return nil, artifactProblem(err)
	}
	build, err := c.buildShape(info, req)
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
	if err := c.st.CreateRelease(ctx, r); err != nil {
		return nil, fmt.Errorf("recording release: %w", err)
	}
	c.event(ctx, r.ID, "release.created", "release %s frozen: %d files, %d bytes", info.Digest, len(files), info.Size)
	return r, nil
}

// buildShape decides how a release becomes an image, or says what to add.
func (c *Control) buildShape(info artifact.Info, req ReleaseRequest) (store.Build, error) {
	has := func(p string) bool { return artifact.Lookup(info.Files, p) }
	b := store.Build{TemplateID: req.TemplateID, Port: req.Port, Command: req.Command}
	if has("Dockerfile") && (req.TemplateID == "" || req.TemplateID == "dockerfile") {
		b.TemplateID, b.Dockerfile = "", "Dockerfile"
		if b.Port == 0 {
			b.Port = 8080
		}
		return b, nil
	}
	if b.TemplateID == "" {
		switch {
		case has("index.html"):
			b.TemplateID = "static-html"
		case has("package.json") || has("server.js"):
			b.TemplateID = "express-api"
		default:
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
	if t.ID == "express-api" && !has("server.js") && !has("package.json") {
		return b, problem.Unprocessable("missing_entrypoint", "a %s release needs server.js at the root of its files", t.ID)
	}
	if b.Port == 0 {
		b.Port = t.Port
	}
	if b.Command == "" {
		b.Command = t.StartCommand
	}
	return b, nil
}

// envExample returns the variable names a .env.example at the root lists.
func (c *Control) envExample(info artifact.Info, tar *os.File) []string {
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
		if ok && envName.MatchString(name) {
			names = append(names, name)
		}
	}
	return names
}

// dockerfileFor returns the generated Dockerfile of a release, or "" when
// the release brings its own.
func (c *Control) dockerfileFor(r *store.Release) (string, *templates.Template, error) {
	if r.Build.Dockerfile != "" {
		return "", nil, nil
	}
	t, ok := c.cfg.Templates.Get(r.Build.TemplateID)
	if !ok {
		return "", nil, fmt.Errorf("release %s names unknown template %s", r.ID, r.Build.TemplateID)
	}
	df, err := c.cfg.Templates.Dockerfile(t, r.Build.Port)
	return df, t, err
}
