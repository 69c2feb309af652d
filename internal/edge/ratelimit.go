package edge

import (
	"net"
	"net/http"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// RateLimit bounds how many requests one client address may send: a
// token bucket per address that fills at PerSecond and holds Burst. The
// zero RateLimit lets everything through.
type RateLimit struct {
	PerSecond float64
	Burst     int
}

// enabled reports whether the limit limits anything.
func (l RateLimit) enabled() bool { return l.PerSecond > 0 }

// limiterShards spreads the buckets over locks, so that concurrent
// requests from different addresses rarely wait for each other.
const limiterShards = 64

// limiterIdle is how long a full bucket is kept after its last request;
// past it the address starts over with a full bucket, which is what it
// would have anyway.
const limiterIdle = time.Minute

// rateLimiter is a set of token buckets by client address.
type rateLimiter struct {
	limit  RateLimit
	now    func() time.Time
	shards [limiterShards]limiterShard
}

type limiterShard struct {
	mu      sync.Mutex
	buckets map[string]*bucket
	swept   time.Time
}

// bucket is one address's token bucket and when it was last asked.
type bucket struct {
	lim  *rate.Limiter
	last time.Time
}

func newRateLimiter(l RateLimit, now func() time.Time) *rateLimiter {
	if l.Burst < 1 {
		l.Burst = max(1, int(l.PerSecond))
	}
	rl := &rateLimiter{limit: l, now: now}
	for i := range rl.shards {
		rl.shards[i].buckets = map[string]*bucket{}
	}
	return rl
}

// allow takes a token from addr's bucket, reporting whether there was one.
func (rl *rateLimiter) allow(addr string) bool {
	sh := &rl.shards[fnv32(addr)%limiterShards]
	now := rl.now()
	sh.mu.Lock()
	defer sh.mu.Unlock()
	if now.Sub(sh.swept) > limiterIdle {
		for a, b := range sh.buckets {
			if now.Sub(b.last) > limiterIdle {
				delete(sh.buckets, a)
			}
		}
		sh.swept = now
	}
	b, ok := sh.buckets[addr]
	if !ok {
		b = &bucket{lim: rate.NewLimiter(rate.Limit(rl.limit.PerSecond), rl.limit.Burst)}
		sh.buckets[addr] = b
	}
	b.last = now
	return b.lim.AllowN(now, 1)
}

// clientAddr is the address a request came from: the connection's peer.
// Forwarded headers are not trusted, since the edge is the first hop.
func clientAddr(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

func fnv32(s string) uint32 {
	h := uint32(2166136261)
	for i := 0; i < len(s); i++ {
		h ^= uint32(s[i])
		h *= 16777619
	}
	return h
}
