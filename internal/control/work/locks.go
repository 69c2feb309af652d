package work

import (
	"context"
	"errors"
	"sync"
)

// Locks holds one lock per key (a resource id), for what must not
// overlap a reconcile of that resource: an API write to its record, a
// lifecycle call. Its zero value is ready.
type Locks struct {
	mu    sync.Mutex
	held  map[string]chan struct{} // closed on unlock
	inits sync.Once
}

// Lock takes the lock of key, waiting until ctx ends.
func (k *Locks) Lock(ctx context.Context, key string) (unlock func(), err error) {
	k.inits.Do(func() { k.held = map[string]chan struct{}{} })
	for {
		k.mu.Lock()
		ch, busy := k.held[key]
		if !busy {
			ch = make(chan struct{})
			k.held[key] = ch
			k.mu.Unlock()
			return func() {
				k.mu.Lock()
				delete(k.held, key)
				k.mu.Unlock()
				close(ch)
			}, nil
		}
		k.mu.Unlock()
		select {
		case <-ch:
		case <-ctx.Done():
			return nil, errors.Join(errors.New("waiting for a lock"), ctx.Err())
		}
	}
}
