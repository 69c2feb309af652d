package control

import (
	"github.com/berth-dev/berth/internal/store"
)

// RunShape is how a deployment's container runs a release.
type RunShape struct {
	Port       int
	HealthPath string
	// Cmd overrides the image's command when set.
	Cmd []string
	// Env are the template's defaults, below the deployment's own env.
	Env map[string]string
}

// runShape decides port, health path, command and default env of a
// release running as deployment d: what the release says, else its
// template's defaults.
func (c *Control) runShape(rel *store.Release, d *store.Deployment) RunShape {
	s := RunShape{Port: rel.Build.Port, HealthPath: "/", Env: map[string]string{}}
	if t, ok := c.cfg.Templates.Get(rel.Build.TemplateID); ok {
		for k, v := range t.Env {
			s.Env[k] = v
		}
		if t.HealthPath != "" {
			s.HealthPath = t.HealthPath
		}
		if s.Port == 0 {
			s.Port = t.Port
		}
	}
	return s
}
