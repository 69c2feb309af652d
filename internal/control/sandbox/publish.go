package sandbox

import (
	"context"
	"io"
	"maps"
	"slices"

	"github.com/berth-dev/berth/internal/control/releases"
	"github.com/berth-dev/berth/internal/store"
)

// Publish freezes a sandbox's files into a release.
func (c *Service) Publish(ctx context.Context, sid, createdBy string) (*store.Release, error) {
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
	return c.releases.Freeze(ctx, pr, "workspace/", releases.Request{Project: p, TemplateID: s.TemplateID, CreatedBy: createdBy},
		store.Provenance{Source: "sandbox", SourceSandboxID: s.ID, CreatedBy: createdBy}, envNames)
}
