package edge

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// memResolver is a Resolver over a map, with a change feed: the shape of
// the control plane's in-process resolver, small enough to set up per
// test.
type memResolver struct {
	mu      sync.Mutex
	answers map[string]Answer
	pages   map[string]string
	fail    bool
	calls   atomic.Int64
	delay   time.Duration
	subs    []chan Change
	version uint64
}

func newMemResolver() *memResolver {
	return &memResolver{answers: map[string]Answer{}, pages: map[string]string{}}
}

func (m *memResolver) Resolve(ctx context.Context, host string) (Answer, error) {
	m.calls.Add(1)
	if m.delay > 0 {
		time.Sleep(m.delay)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.fail {
		return Answer{}, errors.New("resolver at 10.0.0.7:7790 is down")
	}
	return m.answers[host], nil
}

func (m *memResolver) Page(ctx context.Context, digest string) (string, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	src, ok := m.pages[digest]
	if !ok {
		return "", errors.New("no such page")
	}
	return src, nil
}

func (m *memResolver) Watch(ctx context.Context, fn func(Change)) error {
	ch := make(chan Change, 16)
	m.mu.Lock()
	m.subs = append(m.subs, ch)
	fn(Change{Version: m.version, All: true})
	m.mu.Unlock()
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case c, ok := <-ch:
			if !ok {
				return errors.New("stream closed")
			}
			fn(c)
		}
	}
}

// set changes the answer for host and publishes ch, waiting until every
// watcher has it.
func (m *memResolver) set(host string, a Answer, ch Change) {
	m.mu.Lock()
	m.answers[host] = a
	m.version++
	ch.Version = m.version
	subs := append([]chan Change(nil), m.subs...)
	m.mu.Unlock()
	for _, s := range subs {
		s <- ch
	}
}

// drop breaks every watch.
func (m *memResolver) drop() {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, s := range m.subs {
		close(s)
	}
	m.subs = nil
}

func followEdge(t *testing.T, r Resolver, cfg Config) (*Edge, string) {
	t.Helper()
	e := New(cfg)
	e.UseResolver(r)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); e.Follow(ctx, r) }()
	t.Cleanup(func() { cancel(); <-done })
	return e, startEdge(t, e)
}

func TestResolverFillsCacheOnDemand(t *testing.T) {
	_, up := upstream(t, say("shop"))
	r := newMemResolver()
	r.answers["shop.acme.example"] = Answer{Found: true, Route: Route{Upstream: up}, Brand: Brand{Name: "Acme"}}
	r.delay = 50 * time.Millisecond
	e, addr := followEdge(t, r, Config{})
	c := newClient(t)

	var wg sync.WaitGroup
	for range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			res, body := get(t, c, "GET", addr, "Shop.Acme.Example", "/")
			if res.StatusCode != 200 || body != "shop" {
				t.Errorf("got %d %q", res.StatusCode, body)
			}
		}()
	}
	wg.Wait()
	if n := r.calls.Load(); n != 1 {
		t.Errorf("20 concurrent requests asked the resolver %d times, want 1", n)
	}
	get(t, c, "GET", addr, "shop.acme.example", "/")
	if n := r.calls.Load(); n != 1 || e.CachedHosts() != 1 {
		t.Errorf("a cached host asked the resolver again: %d calls, %d cached", n, e.CachedHosts())
	}
}

func TestResolverChangesInvalidate(t *testing.T) {
	_, oldUp := upstream(t, say("old"))
	_, newUp := upstream(t, say("new"))
	r := newMemResolver()
	route := func(up string) Answer {
		return Answer{Found: true, Route: Route{Upstream: up}, Brand: Brand{Name: "Acme"}, Owners: []string{"org_1", "ws_1"}}
	}
	r.answers["a.acme.example"] = route(oldUp)
	r.answers["b.acme.example"] = route(oldUp)
	r.answers["c.other.example"] = route(oldUp)
	e, addr := followEdge(t, r, Config{})
	c := newClient(t)
	body := func(host string) string {
		_, b := get(t, c, "GET", addr, host, "/")
		return b
	}
	// set publishes a change and waits until the edge applied it.
	set := func(host string, a Answer, ch Change) {
		r.set(host, a, ch)
		eventually(t, "the edge to apply the change", func() bool { return e.Version() == r.version })
	}
	for _, h := range []string{"a.acme.example", "b.acme.example", "c.other.example"} {
		if b := body(h); b != "old" {
			t.Fatalf("%s: %q", h, b)
		}
	}

	// One host: only that one moves.
	set("a.acme.example", route(newUp), Change{Hosts: []string{"a.acme.example"}})
	if body("a.acme.example") != "new" || body("b.acme.example") != "old" {
		t.Fatal("a host change did not move exactly that host")
	}
	// A suffix: every name under it.
	r.mu.Lock()
	r.answers["b.acme.example"] = route(newUp)
	r.answers["c.other.example"] = route(newUp)
	r.mu.Unlock()
	set("a.acme.example", route(newUp), Change{Suffixes: []string{"acme.example"}})
	if body("b.acme.example") != "new" || body("c.other.example") != "old" {
		t.Fatal("a suffix change did not move exactly the names under it")
	}
	// An owner: every answer it decided.
	set("a.acme.example", route(newUp), Change{Owners: []string{"ws_1"}})
	if body("c.other.example") != "new" {
		t.Fatal("an owner change did not invalidate the owner's answers")
	}
	if e.Version() != r.version {
		t.Errorf("edge at version %d, resolver at %d", e.Version(), r.version)
	}

	// A broken watch flushes everything once it is back.
	r.mu.Lock()
	r.answers["a.acme.example"] = route(oldUp)
	r.mu.Unlock()
	r.drop()
	eventually(t, "the edge to watch again", func() bool {
		r.mu.Lock()
		defer r.mu.Unlock()
		return len(r.subs) == 1
	})
	if b := body("a.acme.example"); b != "old" {
		t.Errorf("after a reconnect a.acme.example still served %q", b)
	}
}

func eventually(t *testing.T, what string, f func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !f() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestResolverDownServesBadGateway(t *testing.T) {
	r := newMemResolver()
	r.fail = true
	l := &logs{}
	_, addr := followEdge(t, r, Config{Brand: Brand{Name: "Platform"}, Log: l.log()})
	res, body := get(t, newClient(t), "GET", addr, "shop.acme.example", "/")
	checkPage(t, res, http.StatusBadGateway, "bad-gateway")
	if strings.Contains(body, "10.0.0.7") || !strings.Contains(body, "Platform") {
		t.Errorf("page while the resolver is down:\n%s", body)
	}
	if l.count("10.0.0.7") == 0 {
		t.Error("the resolver's error did not reach the log")
	}
}

func TestUnknownHostGetsResolverBrand(t *testing.T) {
	r := newMemResolver()
	r.answers["nope.acme.example"] = Answer{Brand: Brand{Name: "Acme Care", PrimaryColor: "#0a7755", AccentColor: "#ff7a00", SupportEmail: "help@acme.example"}}
	_, addr := followEdge(t, r, Config{Brand: Brand{Name: "Platform"}})
	res, body := get(t, newClient(t), "GET", addr, "nope.acme.example", "/")
	checkPage(t, res, http.StatusNotFound, "not-found")
	for _, want := range []string{"Acme Care", "#0a7755", "--accent:#ff7a00", "mailto:help@acme.example"} {
		if !strings.Contains(body, want) {
			t.Errorf("404 page lacks %q:\n%s", want, body)
		}
	}
	if strings.Contains(body, "Platform") {
		t.Error("404 page carries the platform's brand instead of the owner's")
	}
}

func TestCustomPageFromResolver(t *testing.T) {
	r := newMemResolver()
	r.pages["sha256:abc"] = `<html><body><h1>{{.Name}} says {{.Status}}</h1></body></html>`
	r.answers["down.acme.example"] = Answer{Found: true, Route: Route{State: Down}, Brand: Brand{Name: "Acme"},
		Pages: map[string]string{"bad-gateway": "sha256:abc"}}
	r.answers["gone.acme.example"] = Answer{Brand: Brand{Name: "Acme"}, Pages: map[string]string{"bad-gateway": "sha256:abc"}}
	_, addr := followEdge(t, r, Config{})
	c := newClient(t)
	res, body := get(t, c, "GET", addr, "down.acme.example", "/")
	checkPage(t, res, http.StatusBadGateway, "bad-gateway")
	if !strings.Contains(body, "<h1>Acme says 502</h1>") {
		t.Errorf("custom page not served:\n%s", body)
	}
	if csp := res.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "default-src 'none'") {
		t.Errorf("custom page CSP %q", csp)
	}
	// The owner's other kinds keep the built-in page.
	res, body = get(t, c, "GET", addr, "gone.acme.example", "/")
	checkPage(t, res, http.StatusNotFound, "not-found")
	if strings.Contains(body, "says") {
		t.Errorf("the custom bad-gateway page answered a 404:\n%s", body)
	}
}

func TestRateLimitServesBrandedPage(t *testing.T) {
	_, up := upstream(t, say("shop"))
	r := newMemResolver()
	r.answers["shop.acme.example"] = Answer{Found: true, Route: Route{Upstream: up}, Brand: Brand{Name: "Acme"}}
	_, addr := followEdge(t, r, Config{RateLimit: RateLimit{PerSecond: 0.001, Burst: 3}})
	c := newClient(t)
	for i := range 3 {
		if res, _ := get(t, c, "GET", addr, "shop.acme.example", "/"); res.StatusCode != 200 {
			t.Fatalf("request %d within the burst: %d", i, res.StatusCode)
		}
	}
	res, body := get(t, c, "GET", addr, "shop.acme.example", "/")
	checkPage(t, res, http.StatusTooManyRequests, "rate-limited")
	if res.Header.Get("Retry-After") == "" || !strings.Contains(body, "Acme") {
		t.Errorf("429 page: Retry-After %q\n%s", res.Header.Get("Retry-After"), body)
	}
}

func TestRateLimiterRefills(t *testing.T) {
	now := time.Unix(1000, 0)
	rl := newRateLimiter(RateLimit{PerSecond: 2, Burst: 2}, func() time.Time { return now })
	if !rl.allow("a") || !rl.allow("a") || rl.allow("a") {
		t.Fatal("a burst of 2 did not allow exactly 2")
	}
	if !rl.allow("b") {
		t.Fatal("one address's burst limited another")
	}
	now = now.Add(500 * time.Millisecond)
	if !rl.allow("a") || rl.allow("a") {
		t.Fatal("half a second at 2/s did not refill exactly one token")
	}
	now = now.Add(2 * limiterIdle)
	rl.allow("c")
	if n := len(rl.shards[fnv32("a")%limiterShards].buckets); n > 1 && fnv32("a")%limiterShards != fnv32("c")%limiterShards {
		t.Errorf("idle buckets were not swept: %d left", n)
	}
}
