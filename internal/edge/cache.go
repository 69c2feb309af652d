package edge

import (
	"context"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Cache tuning.
const (
	// resolveTimeout bounds one question to the resolver: a request
	// waits for it at most this long before it gets a 502 page.
	resolveTimeout = 3 * time.Second
	// failedAnswerTTL is how long a host whose resolution failed keeps
	// its 502 answer, so that a resolver outage does not turn every
	// request into another question.
	failedAnswerTTL = time.Second
	// defaultCacheLimit bounds the answers held; past it the cache starts
	// over, which costs one question per host still in use.
	defaultCacheLimit = 200_000
)

// cache holds the resolver's answers by canonical hostname. Reads take a
// shared lock and a map probe; a miss asks the resolver once however many
// requests for the host arrive meanwhile.
type cache struct {
	r     Resolver
	log   *slog.Logger
	limit int

	mu      sync.RWMutex
	entries map[string]*cached
	// gen counts invalidations: an answer asked for before one is not
	// stored after it, and a request after one never joins a question
	// asked before it.
	gen      uint64
	inflight map[flightKey]*flight

	version atomic.Uint64
}

type cached struct {
	answer  Answer
	expires time.Time // zero: until invalidated
}

type flightKey struct {
	host string
	gen  uint64
}

type flight struct {
	done   chan struct{}
	answer Answer
}

func newCache(r Resolver, log *slog.Logger, limit int) *cache {
	if limit <= 0 {
		limit = defaultCacheLimit
	}
	return &cache{r: r, log: log, limit: limit, entries: map[string]*cached{}, inflight: map[flightKey]*flight{}}
}

// answer returns the answer for a canonical host, asking the resolver
// when it has none. It never fails: an unreachable resolver is a Down
// route, which the edge answers with a 502 page.
func (c *cache) answer(host string) Answer {
	c.mu.RLock()
	e, ok := c.entries[host]
	c.mu.RUnlock()
	if ok && (e.expires.IsZero() || time.Now().Before(e.expires)) {
		return e.answer
	}

	c.mu.Lock()
	if e, ok := c.entries[host]; ok && (e.expires.IsZero() || time.Now().Before(e.expires)) {
		c.mu.Unlock()
		return e.answer
	}
	key := flightKey{host, c.gen}
	if f, ok := c.inflight[key]; ok {
		c.mu.Unlock()
		<-f.done
		return f.answer
	}
	f := &flight{done: make(chan struct{})}
	c.inflight[key] = f
	c.mu.Unlock()

	ctx, cancel := context.WithTimeout(context.Background(), resolveTimeout)
	a, err := c.r.Resolve(ctx, host)
	cancel()
	entry := &cached{answer: a}
	if err != nil {
		c.log.Warn("resolving host failed", "host", host, "err", err)
		entry = &cached{answer: Answer{Found: true, Route: Route{Host: host, State: Down}}, expires: time.Now().Add(failedAnswerTTL)}
	}
	entry.answer.Route.Host = host

	c.mu.Lock()
	delete(c.inflight, key)
	if key.gen == c.gen {
		if len(c.entries) >= c.limit {
			c.entries = map[string]*cached{}
		}
		c.entries[host] = entry
	}
	c.mu.Unlock()
	f.answer = entry.answer
	close(f.done)
	return f.answer
}

// apply drops the answers a change invalidates.
func (c *cache) apply(ch Change) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gen++
	c.version.Store(ch.Version)
	if ch.All {
		c.entries = map[string]*cached{}
		return
	}
	for _, h := range ch.Hosts {
		delete(c.entries, h)
	}
	if len(ch.Suffixes) == 0 && len(ch.Owners) == 0 {
		return
	}
	for host, e := range c.entries {
		if underAny(host, ch.Suffixes) || ownedByAny(e.answer.Owners, ch.Owners) {
			delete(c.entries, host)
		}
	}
}

func (c *cache) len() int {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return len(c.entries)
}

// underAny reports whether host is one of the domains or under one, on a
// label boundary.
func underAny(host string, domains []string) bool {
	for _, d := range domains {
		if host == d || strings.HasSuffix(host, d) && len(host) > len(d) && host[len(host)-len(d)-1] == '.' {
			return true
		}
	}
	return false
}

func ownedByAny(owners, changed []string) bool {
	for _, o := range owners {
		for _, c := range changed {
			if o == c {
				return true
			}
		}
	}
	return false
}
