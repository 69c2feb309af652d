package images

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/berth-dev/berth/internal/agent"
)

// aliasRepo is the neutral repository the base images are also tagged
// under: it is the name template Dockerfiles, build logs and anything a
// user sees give them, since the images' own names carry the platform's.
const aliasRepo = "local/"

// Alias is the neutral name of one of the images Build makes
// ("berth/nginx:bookworm" → "local/nginx:bookworm").
func Alias(ref string) string {
	if i := strings.IndexByte(ref, '/'); i >= 0 {
		return aliasRepo + ref[i+1:]
	}
	return aliasRepo + ref
}

// Tagger gives an image a second name; *docker.Runtime implements it.
type Tagger interface {
	InspectImage(ctx context.Context, ref string) (id string, labels map[string]string, err error)
	TagImage(ctx context.Context, source, target string) error
}

// EnsureAliases tags every image Build made that lacks its neutral alias,
// or whose alias names an older build. Images that are not there are
// skipped: Build makes them, aliases included.
func EnsureAliases(ctx context.Context, t Tagger) error {
	var errs []error
	for _, im := range all {
		id, _, err := t.InspectImage(ctx, im.ref)
		if errors.Is(err, agent.ErrNotFound) {
			continue
		}
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if aliasID, _, err := t.InspectImage(ctx, Alias(im.ref)); err == nil && aliasID == id {
			continue
		}
		if err := t.TagImage(ctx, im.ref, Alias(im.ref)); err != nil {
			errs = append(errs, fmt.Errorf("aliasing %s: %w", im.ref, err))
		}
	}
	return errors.Join(errs...)
}
