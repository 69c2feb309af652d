// Package releases freezes files into immutable releases and says how a
// release is built into an image and how its container runs.
package releases

import (
	"cmp"
	"context"
	"log/slog"

	"github.com/berth-dev/berth/internal/blob"
	"github.com/berth-dev/berth/internal/store"
	"github.com/berth-dev/berth/internal/templates"
)

// Config is what releases are made and shaped with.
type Config struct {
	Templates *templates.Catalogue
	Artifacts *blob.Store
	// BuildCABundle is a PEM file of CAs that image builds trust for
	// their downloads (npm, pip), added to the build context of a
	// Dockerfile that names it; empty: none.
	BuildCABundle string
}

// Store is what the package reads and writes.
type Store interface {
	CreateRelease(ctx context.Context, r *store.Release) error
}

// Events records what happened.
type Events interface {
	Record(ctx context.Context, resourceID, typ, format string, args ...any)
}

// Service makes releases.
type Service struct {
	cfg    Config
	st     Store
	events Events
	log    *slog.Logger
}

// New returns the releases service.
func New(cfg Config, st Store, events Events, log *slog.Logger) *Service {
	return &Service{cfg: cfg, st: st, events: events, log: cmp.Or(log, slog.New(slog.DiscardHandler))}
}
