// Package work runs the control plane's reconciles: at most one run per
// resource at a time, and a change asked for during a run is never lost.
package work

import (
	"context"
	"sync"
)

// Queue runs reconcile for resource ids, at most one run per id at a time;
// a kick during a run makes it run once more afterwards, so no change is
// missed and no two runs of one resource race.
type Queue struct {
	fn func(ctx context.Context, id string)

	mu      sync.Mutex
	ctx     context.Context
	running map[string]bool
	dirty   map[string]bool
	wg      sync.WaitGroup
	waiters map[string][]chan struct{}
}

// NewQueue returns a queue that runs fn for the ids it is kicked with,
// once Start has given it a context.
func NewQueue(fn func(context.Context, string)) *Queue {
	return &Queue{fn: fn, running: map[string]bool{}, dirty: map[string]bool{}, waiters: map[string][]chan struct{}{}}
}

// Start runs what was kicked before it, and from now on every kick.
func (q *Queue) Start(ctx context.Context) {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.ctx = ctx
	for id := range q.dirty {
		delete(q.dirty, id)
		q.launch(id)
	}
}

// Kick asks for id to be reconciled; the returned channel closes when a
// run that started after the kick has finished.
func (q *Queue) Kick(id string) <-chan struct{} {
	q.mu.Lock()
	defer q.mu.Unlock()
	done := make(chan struct{})
	q.waiters[id] = append(q.waiters[id], done)
	if q.ctx == nil || q.running[id] {
		q.dirty[id] = true
		return done
	}
	q.launch(id)
	return done
}

// launch must be called with q.mu held.
func (q *Queue) launch(id string) {
	q.running[id] = true
	waiters := q.waiters[id]
	delete(q.waiters, id)
	q.wg.Add(1)
	go func() {
		defer q.wg.Done()
		if q.ctx.Err() == nil {
			q.fn(q.ctx, id)
		}
		q.mu.Lock()
		defer q.mu.Unlock()
		for _, w := range waiters {
			close(w)
		}
		delete(q.running, id)
		if q.dirty[id] && q.ctx.Err() == nil {
			delete(q.dirty, id)
			q.launch(id)
		}
	}()
}

// Wait returns once every run has finished (after ctx of Start ends).
func (q *Queue) Wait() { q.wg.Wait() }
