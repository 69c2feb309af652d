package edge

import (
	"context"
	"time"
)

// Resolver answers, for any hostname, which app serves it and whose brand
// its pages carry. The control plane owns the answers; the edge asks and
// caches them. The control plane's own process implements it directly,
// and a separate edge process talks to it over the network.
type Resolver interface {
	// Resolve answers for one canonical hostname (lowercase, no port, no
	// trailing dot). A hostname nothing serves is not an error: it is an
	// Answer with Found false and the brand of the zone it falls in.
	Resolve(ctx context.Context, host string) (Answer, error)
	// Page returns the source of the custom page template with the given
	// digest, as named by an Answer's Pages.
	Page(ctx context.Context, digest string) (string, error)
	// Watch calls fn with every change to the answers, in order, until
	// ctx ends or the connection breaks. The first change it delivers is
	// always a Change with All set: whatever the caller cached before the
	// watch began may be stale.
	Watch(ctx context.Context, fn func(Change)) error
}

// Answer is the resolver's verdict on one hostname.
type Answer struct {
	// Found says whether Route applies; without it the host gets the
	// not-found page.
	Found bool
	Route Route
	// Brand is the brand of the pages on this host: the route owner's,
	// else the owner of the zone the host falls in, else the platform's.
	Brand Brand
	// Pages names the custom page templates of this host's owner, by
	// page name ("not-found", "bad-gateway", …) to digest.
	Pages map[string]string
	// Owners are the org and workspace whose records decided the answer,
	// so that a change to their branding or pages invalidates it.
	Owners []string
}

// Change says which cached answers are stale.
type Change struct {
	// Version increases with every change a resolver publishes.
	Version uint64
	// All invalidates every answer.
	All bool
	// Hosts invalidates the answers for these canonical hostnames.
	Hosts []string
	// Suffixes invalidates the answers for these domains and every name
	// under them.
	Suffixes []string
	// Owners invalidates the answers an org or workspace decided.
	Owners []string
}

// Follow keeps the edge's cache in step with r: it watches r's changes
// and, whenever the watch breaks, watches again after a short pause,
// until ctx ends. Call UseResolver first.
func (e *Edge) Follow(ctx context.Context, r Resolver) {
	wait := 100 * time.Millisecond
	for {
		started := time.Now()
		err := r.Watch(ctx, e.applyChange)
		if ctx.Err() != nil {
			return
		}
		e.log.Warn("watching route changes failed", "err", err)
		if time.Since(started) > 10*time.Second {
			wait = 100 * time.Millisecond
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(wait):
		}
		wait = min(2*wait, 2*time.Second)
	}
}

// UseResolver makes r the source of the edge's routes: answers are asked
// for on the first request for a host and cached until a change of r
// invalidates them. It replaces any table installed with SetTable.
func (e *Edge) UseResolver(r Resolver) {
	c := newCache(r, e.log, e.cacheLimit)
	e.cache.Store(c)
	e.SetTable(&Table{cache: c})
}

// applyChange drops the answers ch invalidates and wakes the requests
// waiting for a route to move.
func (e *Edge) applyChange(ch Change) {
	c := e.cache.Load()
	if c == nil {
		return
	}
	c.apply(ch)
	e.SetTable(e.current.Load().table)
}

// CachedHosts is the number of hostnames whose answers the edge holds.
func (e *Edge) CachedHosts() int {
	c := e.cache.Load()
	if c == nil {
		return 0
	}
	return c.len()
}

// Version is the version of the last change the edge applied (0 before
// the first).
func (e *Edge) Version() uint64 {
	c := e.cache.Load()
	if c == nil {
		return 0
	}
	return c.version.Load()
}

// Lookup returns the route the edge would use for host now, asking the
// resolver when it has no answer cached.
func (e *Edge) Lookup(host string) (Route, bool) {
	return e.current.Load().table.Lookup(host)
}
