package work

import (
	"context"
	"errors"
	"testing"
	"time"
)

// TestLocks: one holder per key, other keys never wait, and a wait ends
// with its context.
func TestLocks(t *testing.T) {
	var k Locks
	ctx := context.Background()
	unlockA, err := k.Lock(ctx, "sbx_a")
	if err != nil {
		t.Fatal(err)
	}
	unlockB, err := k.Lock(ctx, "sbx_b")
	if err != nil {
		t.Fatalf("another key waited: %v", err)
	}
	unlockB()

	short, cancel := context.WithTimeout(ctx, 20*time.Millisecond)
	defer cancel()
	if _, err := k.Lock(short, "sbx_a"); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("a held key: %v, want the context's end", err)
	}

	got := make(chan struct{})
	go func() {
		unlock, err := k.Lock(ctx, "sbx_a")
		if err == nil {
			unlock()
		}
		close(got)
	}()
	select {
	case <-got:
		t.Fatal("took a held lock")
	case <-time.After(20 * time.Millisecond):
	}
	unlockA()
	select {
	case <-got:
	case <-time.After(5 * time.Second):
		t.Fatal("the lock was not handed on after unlock")
	}
}
