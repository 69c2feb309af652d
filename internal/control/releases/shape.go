package releases

import (
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"strings"

	"github.com/berth-dev/berth/internal/artifact"
	"github.com/berth-dev/berth/internal/store"
	"github.com/berth-dev/berth/internal/templates"
)

// MetadataTemplate is the deployment metadata key that names the
// template a Docker Deploy deployment was made from.
const MetadataTemplate = "docker_deploy_template_id"

// defaultPort is where an app listens when neither its release nor a
// template says (the port of Berth's nginx image).
const defaultPort = 8080

// Shape is how a deployment's container runs a release.
type Shape struct {
	Port       int
	HealthPath string
	// Cmd overrides the image's command when set.
	Cmd []string
	// Env are the template's defaults, below the deployment's own env.
	Env map[string]string
}

// shapeTemplate is the template whose defaults fill what a release does
// not say: the release's own, else the one its deployment names.
func (c *Service) shapeTemplate(rel *store.Release, d *store.Deployment) *templates.Template {
	if t, ok := c.cfg.Templates.Get(rel.Build.TemplateID); ok {
		return t
	}
	if d != nil {
		if t, ok := c.cfg.Templates.Get(d.Metadata[MetadataTemplate]); ok {
			return t
		}
	}
	return nil
}

// runShape decides port, health path, command and default env of a
// release running as deployment d: what the release says, else the
// defaults of its template or of the template its deployment names
// (metadata docker_deploy_template_id), else the platform's.
func (c *Service) RunShape(rel *store.Release, d *store.Deployment) Shape {
	s := Shape{Port: rel.Build.Port, HealthPath: "/", Env: map[string]string{}}
	t := c.shapeTemplate(rel, d)
	if t != nil {
		maps.Copy(s.Env, t.Env)
		if t.HealthPath != "" {
			s.HealthPath = t.HealthPath
		}
		if s.Port == 0 {
			s.Port = t.Port
		}
	}
	if s.Port == 0 {
		s.Port = defaultPort
	}
	// An image built from a template runs the template's start command
	// already; any other command (or any command given to a release with
	// its own Dockerfile) replaces the image's.
	own := ""
	if t != nil && rel.Build.Dockerfile == "" {
		own = t.StartCommand
	}
	if cmd := strings.TrimSpace(rel.Build.Command); cmd != "" && cmd != own {
		s.Cmd = shellCommand(cmd)
	}
	return s
}

// shellCommand runs a command line through sh; a simple one is exec'd so
// that it gets the container's signals itself.
func shellCommand(cmd string) []string {
	if !strings.ContainsAny(cmd, ";&|<>()`\n") {
		cmd = "exec " + cmd
	}
	return []string{"sh", "-c", cmd}
}

// dockerfileFor returns the generated Dockerfile of a release ("" when the
// release brings its own) and the extra files its build context needs:
// the platform's build CA bundle, for a Dockerfile that names it. A
// release with neither a template nor a Dockerfile builds with the
// template its deployment names.
func (c *Service) DockerfileFor(r *store.Release, d *store.Deployment) (string, map[string]string, error) {
	if r.Build.Dockerfile != "" {
		files, err := c.BuildFiles(func() bool { return c.ownDockerfileNamesCA(r) })
		return "", files, err
	}
	id := r.Build.TemplateID
	if id == "" && d != nil {
		id = d.Metadata[MetadataTemplate]
	}
	if id == "" {
		return "", nil, fmt.Errorf("release %s has no Dockerfile and no template: publish it with a template, or deploy it with metadata %s", r.ID, MetadataTemplate)
	}
	t, ok := c.cfg.Templates.Get(id)
	if !ok {
		return "", nil, fmt.Errorf("release %s names unknown template %s", r.ID, id)
	}
	if t.Dockerfile == "" {
		return "", nil, fmt.Errorf("release %s is a %s release (several services from %s): running compose releases is not available yet", r.ID, t.ID, t.ComposeFile)
	}
	port := r.Build.Port
	if port == 0 {
		port = t.Port
	}
	df, err := c.cfg.Templates.Render(t, templates.BuildOptions{Port: port, BuildCA: c.cfg.BuildCABundle != ""})
	if err != nil {
		return "", nil, err
	}
	files, err := c.BuildFiles(func() bool { return strings.Contains(df, templates.BuildCAFile) })
	return df, files, err
}

// buildFiles returns the build CA bundle as a build context file when
// the platform has one and the build uses it.
func (c *Service) BuildFiles(uses func() bool) (map[string]string, error) {
	if c.cfg.BuildCABundle == "" || !uses() {
		return nil, nil
	}
	b, err := os.ReadFile(c.cfg.BuildCABundle)
	if err != nil {
		// The path is the operator's business, not the tenant's: it goes
		// to the log, and the deployment says who must act.
		c.log.Error("reading the build CA bundle failed", "err", err)
		return nil, errors.New("the platform's CA bundle for builds cannot be read: an operator must fix berth up --build-ca-bundle")
	}
	return map[string]string{templates.BuildCAFile: string(b)}, nil
}

// ownDockerfileNamesCA reports whether a release's own Dockerfile copies
// the build CA bundle (templates.BuildCAFile).
func (c *Service) ownDockerfileNamesCA(r *store.Release) bool {
	f, err := os.Open(c.cfg.Artifacts.Path(r.Digest))
	if err != nil {
		return false
	}
	defer f.Close()
	b, err := artifact.ReadFile(f, r.Build.Dockerfile, 1<<20)
	if err != nil {
		if !errors.Is(err, fs.ErrNotExist) {
			c.log.Warn("reading dockerfile failed", "release", r.ID, "err", err)
		}
		return false
	}
	return strings.Contains(string(b), templates.BuildCAFile)
}
