// Package logtest gives tests a *slog.Logger that writes to the test's
// log.
package logtest

import (
	"log/slog"
	"strings"
	"sync"
	"testing"
)

// New returns a logger, at every level, that writes each record to t's
// Logf while t runs. Records logged once t and its cleanups have finished
// (by a goroutine that outlived the test) are dropped: testing panics on
// a log after the end.
func New(t testing.TB) *slog.Logger {
	w := &writer{t: t}
	t.Cleanup(func() {
		w.mu.Lock()
		w.done = true
		w.mu.Unlock()
	})
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

type writer struct {
	t    testing.TB
	mu   sync.Mutex
	done bool
}

func (w *writer) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if !w.done {
		w.t.Logf("%s", strings.TrimSuffix(string(p), "\n"))
	}
	return len(p), nil
}
