package work

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// TestQueueOneRunPerResource checks that runs of one resource never
// overlap and that a kick during a run causes exactly one more run.
func TestQueueOneRunPerResource(t *testing.T) {
	var active, maxActive, runs atomic.Int32
	release := make(chan struct{})
	q := NewQueue(func(ctx context.Context, id string) {
		n := active.Add(1)
		for {
			m := maxActive.Load()
			if n <= m || maxActive.CompareAndSwap(m, n) {
				break
			}
		}
		if runs.Add(1) == 1 {
			<-release // hold the first run while kicks pile up
		}
		active.Add(-1)
	})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	q.Start(ctx)
	first := q.Kick("dep_a")
	var waits []<-chan struct{}
	for range 10 {
		waits = append(waits, q.Kick("dep_a"))
	}
	close(release)
	<-first
	for _, w := range waits {
		select {
		case <-w:
		case <-time.After(5 * time.Second):
			t.Fatal("a kick's wait never ended")
		}
	}
	q.Wait()
	if got := runs.Load(); got != 2 {
		t.Fatalf("runs = %d, want 2: the first, and one for all kicks during it", got)
	}
	if maxActive.Load() != 1 {
		t.Fatalf("runs of one resource overlapped (%d at once)", maxActive.Load())
	}
}

// TestQueueResourcesRunConcurrently checks that one slow resource does not
// hold up another.
func TestQueueResourcesRunConcurrently(t *testing.T) {
	block := make(chan struct{})
	var mu sync.Mutex
	done := map[string]bool{}
	q := NewQueue(func(ctx context.Context, id string) {
		if id == "slow" {
			<-block
		}
		mu.Lock()
		done[id] = true
		mu.Unlock()
	})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	q.Start(ctx)
	q.Kick("slow")
	select {
	case <-q.Kick("fast"):
	case <-time.After(5 * time.Second):
		t.Fatal("a slow resource held up another")
	}
	close(block)
	q.Wait()
	if !done["slow"] || !done["fast"] {
		t.Fatalf("done = %v", done)
	}
}

// TestQueueKicksBeforeStart checks that kicks made before start run once
// it starts.
func TestQueueKicksBeforeStart(t *testing.T) {
	var runs atomic.Int32
	q := NewQueue(func(context.Context, string) { runs.Add(1) })
	w := q.Kick("sbx_a")
	q.Kick("sbx_a")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	q.Start(ctx)
	<-w
	q.Wait()
	if runs.Load() != 1 {
		t.Fatalf("runs = %d, want 1", runs.Load())
	}
}
