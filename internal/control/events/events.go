// Package events records what happened to a resource, for the API's
// event streams and a resource's history.
package events

import (
	"context"
	"fmt"
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
	st   Appender
	logf func(string, ...any)
}

// NewRecorder returns a recorder writing to st; failures go to logf.
func NewRecorder(st Appender, logf func(string, ...any)) *Recorder {
	return &Recorder{st: st, logf: logf}
}

// Record appends an event; failing to record one never fails the
// operation that reports it.
func (r *Recorder) Record(ctx context.Context, resourceID, typ, format string, args ...any) {
	e := &store.Event{ID: id.New(id.Event), ResourceID: resourceID, Type: typ,
		Message: fmt.Sprintf(format, args...), CreatedAt: time.Now().UTC()}
	if err := r.st.AppendEvent(ctx, e); err != nil {
		r.logf("recording event %s: %v", typ, err)
	}
}
