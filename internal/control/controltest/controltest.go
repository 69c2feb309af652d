// Package controltest has what the control plane's tests share: an edge
// that follows a resolver, a store on a temporary file, and DNS answers
// from a map.
package controltest

import (
	"context"
	"fmt"
	"net/http"
	"sync"
	"testing"

	"github.com/berth-dev/berth/internal/dnsverify"
	"github.com/berth-dev/berth/internal/edge"
	"github.com/berth-dev/berth/internal/store"
	"github.com/berth-dev/berth/internal/store/sqlite"
)

// Sink is an edge that follows a control plane's resolver and caches its
// answers, as the one in `berth up` does.
type Sink struct{ e *edge.Edge }

// NewSink starts an edge following r until the test ends, and returns
// once it has taken the first change (which flushes its cache), so that
// nothing it caches later is dropped by it.
func NewSink(t *testing.T, r edge.Resolver) *Sink {
	t.Helper()
	e := edge.New(edge.Config{})
	e.UseResolver(r)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	first := make(chan struct{})
	go func() { defer close(done); e.Follow(ctx, &signalling{Resolver: r, first: first}) }()
	t.Cleanup(func() { cancel(); <-done })
	<-first
	return &Sink{e: e}
}

// Lookup returns the route the edge holds for host, asking the resolver
// on a miss.
func (s *Sink) Lookup(host string) (edge.Route, bool) { return s.e.Lookup(host) }

// signalling closes first once the edge has applied its first change.
type signalling struct {
	edge.Resolver
	first chan struct{}
	once  sync.Once
}

func (s *signalling) Watch(ctx context.Context, fn func(edge.Change)) error {
	return s.Resolver.Watch(ctx, func(ch edge.Change) {
		fn(ch)
		s.once.Do(func() { close(s.first) })
	})
}

// Store opens a SQLite store in the test's temporary directory.
func Store(t testing.TB) store.Store {
	t.Helper()
	st, err := sqlite.Open(t.TempDir()+"/berth.db", make([]byte, 32))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

// TXT answers TXT lookups from a map of names to records, for tests of
// the logic around them; the real lookups are tested in package
// dnsverify against a DNS server.
type TXT map[string][]string

// LookupTXT returns the records of name, or dnsverify.ErrNoRecord.
func (m TXT) LookupTXT(_ context.Context, name string) ([]string, error) {
	v, ok := m[name]
	if !ok {
		return nil, fmt.Errorf("looking up %s: %w", name, dnsverify.ErrNoRecord)
	}
	return v, nil
}

// Handler is the edge, to serve requests through.
func (s *Sink) Handler() http.Handler { return s.e }
