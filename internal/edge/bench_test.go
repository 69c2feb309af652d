package edge

import (
	"fmt"
	"io"
	"net/http"
	"sync/atomic"
	"testing"
)

// BenchmarkRoutingScale sends requests through the edge's handler over a
// real loopback connection to a real upstream, with 10 and with 10,000
// routes in the resolver, every host cached: the ratio of the two is what
// the number of routes costs a request. Requests cycle through every
// host.
func BenchmarkRoutingScale(b *testing.B) {
	_, app := upstream(b, say("ok"))
	for _, n := range []int{10, 10_000} {
		b.Run(fmt.Sprintf("routes=%d", n), func(b *testing.B) {
			r := newMemResolver()
			hosts := make([]string, n)
			for i := range hosts {
				hosts[i] = fmt.Sprintf("app-%d.org-%d.example", i, i%50)
				r.answers[hosts[i]] = Answer{Found: true, Route: Route{Upstream: app}, Brand: Brand{Name: "Acme"}, Owners: []string{"org"}}
			}
			e := New(Config{})
			e.UseResolver(r)
			addr := startEdge(b, e)
			c := newClient(b)
			for _, h := range hosts {
				e.Lookup(h) // warm the cache
			}
			if e.CachedHosts() != n {
				b.Fatalf("%d hosts cached, want %d", e.CachedHosts(), n)
			}
			var next atomic.Int64
			b.ReportAllocs()
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					req, _ := http.NewRequest("GET", "http://"+addr+"/", nil)
					req.Host = hosts[int(next.Add(1))%n]
					res, err := c.Do(req)
					if err != nil {
						b.Error(err)
						return
					}
					io.Copy(io.Discard, res.Body)
					res.Body.Close()
					if res.StatusCode != http.StatusOK {
						b.Errorf("status %d", res.StatusCode)
						return
					}
				}
			})
			if calls := r.calls.Load(); calls != int64(n) {
				b.Errorf("the resolver was asked %d times for %d hosts", calls, n)
			}
		})
	}
}

// BenchmarkCachedLookup is the cost of finding a cached answer among 10
// and 10,000.
func BenchmarkCachedLookup(b *testing.B) {
	for _, n := range []int{10, 10_000} {
		b.Run(fmt.Sprintf("routes=%d", n), func(b *testing.B) {
			r := newMemResolver()
			hosts := make([]string, n)
			for i := range hosts {
				hosts[i] = fmt.Sprintf("app-%d.org-%d.example", i, i%50)
				r.answers[hosts[i]] = Answer{Found: true, Route: Route{Upstream: "127.0.0.1:1"}}
			}
			e := New(Config{})
			e.UseResolver(r)
			for _, h := range hosts {
				e.Lookup(h)
			}
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				if _, ok := e.Lookup(hosts[i%n]); !ok {
					b.Fatal("not found")
				}
				i++
			}
		})
	}
}
