// Package events records what happened to a resource, for the API's
// event streams and a resource's history.
package events

import (
	"cmp"
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/berth-dev/berth/internal/id"
	"github.com/berth-dev/berth/internal/store"
)

// Appender stores an event.
type Appender interface {
	AppendEvent(ctx context.Context, e *store.Event) error
}

// Recorder appends events to the store.
type Recorder struct {
	st  Appender
	log *slog.Logger
}

// NewRecorder returns a recorder writing to st; failures go to log.
func NewRecorder(st Appender, log *slog.Logger) *Recorder {
	return &Recorder{st: st, log: cmp.Or(log, slog.New(slog.DiscardHandler))}
}

// Record appends an event; failing to record one never fails the
// operation that reports it.
func (r *Recorder) Record(ctx context.Context, resourceID, typ, format string, args ...any) {
	e := &store.Event{ID: id.New(id.Event), ResourceID: resourceID, Type: typ,
		Message: fmt.Sprintf(format, args...), CreatedAt: time.Now().UTC()}
	if err := r.st.AppendEvent(ctx, e); err != nil {
		r.log.Error("recording event failed", "resource", resourceID, "type", typ, "err", err)
	}
}
