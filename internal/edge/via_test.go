package edge

import (
	"context"
	"net"
	"net/http"
	"sync"
	"testing"
)

// TestVia: a route with a Via is dialed through Config.DialVia with its
// Via and upstream, its connections are pooled per Via, and the same
// upstream address behind two Vias reaches two different apps; a route
// without Via is dialed directly.
func TestVia(t *testing.T) {
	_, appA := upstream(t, say("app behind a"))
	_, appB := upstream(t, say("app behind b"))
	_, direct := upstream(t, say("direct app"))
	// Both remote apps answer at the same address on "their" machines.
	const remote = "127.0.0.1:49153"
	machines := map[string]string{"host_a": appA, "host_b": appB}
	var mu sync.Mutex
	dials := map[string]int{}
	e := New(Config{DialVia: func(ctx context.Context, via, addr string) (net.Conn, error) {
		mu.Lock()
		dials[via+" "+addr]++
		mu.Unlock()
		return (&net.Dialer{}).DialContext(ctx, "tcp", machines[via])
	}})
	e.SetTable(NewTable([]Route{
		{Host: "a.example", Upstream: remote, Via: "host_a"},
		{Host: "b.example", Upstream: remote, Via: "host_b"},
		{Host: "d.example", Upstream: direct},
	}, nil))
	addr := startEdge(t, e)
	c := newClient(t)
	for range 3 {
		for host, want := range map[string]string{"a.example": "app behind a", "b.example": "app behind b", "d.example": "direct app"} {
			res, body := get(t, c, http.MethodGet, addr, host, "/")
			if res.StatusCode != 200 || body != want {
				t.Fatalf("%s: %d %q, want %q", host, res.StatusCode, body, want)
			}
		}
	}
	mu.Lock()
	defer mu.Unlock()
	if len(dials) != 2 || dials["host_a "+remote] != 1 || dials["host_b "+remote] != 1 {
		t.Fatalf("dials through DialVia = %v; want one per Via, with the route's upstream", dials)
	}
}

// TestViaWithoutDialer: an edge without DialVia answers a Via route with
// its 502 page, not by dialing the address itself.
func TestViaWithoutDialer(t *testing.T) {
	_, app := upstream(t, say("must not be reached"))
	e := New(Config{})
	e.SetTable(NewTable([]Route{{Host: "a.example", Upstream: app, Via: "host_a"}}, nil))
	res, body := get(t, newClient(t), http.MethodGet, startEdge(t, e), "a.example", "/")
	if res.StatusCode != http.StatusBadGateway || res.Header.Get(pageHeader) == "" {
		t.Fatalf("a Via route without a dialer: %d %q", res.StatusCode, body)
	}
}
