package docker

import (
	"context"
	"fmt"

	"github.com/moby/moby/client"
)

// TagImage gives the image source a second name, target.
func (r *Runtime) TagImage(ctx context.Context, source, target string) error {
	if _, err := r.c.ImageTag(ctx, client.ImageTagOptions{Source: source, Target: target}); err != nil {
		return fmt.Errorf("tagging %s as %s: %w", source, target, err)
	}
	return nil
}
