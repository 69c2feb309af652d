package edge

import (
	"bufio"
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httptrace"
	"net/textproto"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// countingApp is an app that counts the connections the edge opened to it
// and can close them all, as an app's keep-alive timeout does.
type countingApp struct {
	srv   *httptest.Server
	addr  string
	opens atomic.Int32

	mu    sync.Mutex
	conns map[net.Conn]http.ConnState
}

func newCountingApp(t *testing.T, h http.HandlerFunc) *countingApp {
	t.Helper()
	a := &countingApp{conns: make(map[net.Conn]http.ConnState)}
	a.srv = httptest.NewUnstartedServer(h)
	a.srv.Config.ConnState = func(c net.Conn, s http.ConnState) {
		a.mu.Lock()
		defer a.mu.Unlock()
		switch s {
		case http.StateNew:
			a.opens.Add(1)
		case http.StateClosed, http.StateHijacked:
			delete(a.conns, c)
			return
		}
		a.conns[c] = s
	}
	a.srv.Start()
	t.Cleanup(a.srv.Close)
	a.addr = a.srv.Listener.Addr().String()
	return a
}

// closeIdle waits until the app holds a connection idle, waiting for a
// next request, and then closes every such connection from the app's side.
func (a *countingApp) closeIdle(t *testing.T) {
	t.Helper()
	waitFor(t, func() bool {
		a.mu.Lock()
		defer a.mu.Unlock()
		for _, s := range a.conns {
			if s == http.StateIdle {
				return true
			}
		}
		return false
	})
	a.mu.Lock()
	defer a.mu.Unlock()
	for c, s := range a.conns {
		if s == http.StateIdle {
			c.Close()
		}
	}
}

func edgeFor(t *testing.T, app string) (*Edge, string) {
	t.Helper()
	e := New(Config{})
	e.SetTable(NewTable([]Route{{Host: "app.acme.example", Upstream: app}}, nil))
	return e, startEdge(t, e)
}

func TestUpstreamConnectionsAreReused(t *testing.T) {
	app := newCountingApp(t, say("ok"))
	_, addr := edgeFor(t, app.addr)
	c := newClient(t)
	for range 20 {
		if res, body := get(t, c, "GET", addr, "app.acme.example", "/"); res.StatusCode != 200 || body != "ok" {
			t.Fatalf("status %d, body %q", res.StatusCode, body)
		}
	}
	if n := app.opens.Load(); n != 1 {
		t.Errorf("20 requests in a row opened %d connections to the app, want 1", n)
	}
}

func TestUpstreamClosedIdleConnectionIsRetried(t *testing.T) {
	app := newCountingApp(t, say("ok"))
	e, addr := edgeFor(t, app.addr)
	c := newClient(t)
	get(t, c, "GET", addr, "app.acme.example", "/")
	// Wait until the edge holds the connection idle, then let the app
	// drop it, as it does when its keep-alive timeout passes.
	waitFor(t, func() bool { return e.transport.idleCount(app.addr) == 1 })
	app.closeIdle(t)
	for i, method := range []string{"GET", "HEAD"} {
		res, _ := get(t, c, method, addr, "app.acme.example", "/")
		if res.StatusCode != 200 {
			t.Fatalf("%s after the app closed the idle connection: status %d", method, res.StatusCode)
		}
		if n := app.opens.Load(); n != int32(i+2) {
			t.Fatalf("the app saw %d connections after %d were closed", n, i+1)
		}
		waitFor(t, func() bool { return e.transport.idleCount(app.addr) == 1 })
		app.closeIdle(t)
	}
}

func TestUpstreamConnectionCloseIsHonoured(t *testing.T) {
	app := newCountingApp(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Connection", "close")
		io.WriteString(w, "bye")
	})
	e, addr := edgeFor(t, app.addr)
	c := newClient(t)
	for range 3 {
		if res, body := get(t, c, "GET", addr, "app.acme.example", "/"); res.StatusCode != 200 || body != "bye" {
			t.Fatalf("status %d, body %q", res.StatusCode, body)
		}
	}
	if n := app.opens.Load(); n != 3 {
		t.Errorf("%d connections for 3 answers with Connection: close, want 3", n)
	}
	if n := e.transport.idleCount(app.addr); n != 0 {
		t.Errorf("%d connections kept idle after Connection: close", n)
	}
}

func TestUpstreamHeaderTooLarge(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				bufio.NewReader(c).ReadString('\n')
				io.WriteString(c, "HTTP/1.1 200 OK\r\nX-Big: ")
				chunk := strings.Repeat("a", 64<<10)
				for range 2 * maxResponseHeaderBytes / len(chunk) {
					if _, err := io.WriteString(c, chunk); err != nil {
						return
					}
				}
				io.WriteString(c, "\r\n\r\nok")
			}()
		}
	}()
	_, addr := edgeFor(t, ln.Addr().String())
	res, _ := get(t, newClient(t), "GET", addr, "app.acme.example", "/")
	checkPage(t, res, http.StatusBadGateway, "bad-gateway")
}

func TestUpstreamEarlyHintsReachClient(t *testing.T) {
	app := newCountingApp(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Link", "</app.css>; rel=preload")
		w.WriteHeader(http.StatusEarlyHints)
		io.WriteString(w, "final")
	})
	_, addr := edgeFor(t, app.addr)
	var hints atomic.Int32
	trace := &httptrace.ClientTrace{Got1xxResponse: func(code int, h textproto.MIMEHeader) error {
		if code == http.StatusEarlyHints && h.Get("Link") != "" {
			hints.Add(1)
		}
		return nil
	}}
	req, _ := http.NewRequestWithContext(httptrace.WithClientTrace(context.Background(), trace), "GET", "http://"+addr+"/", nil)
	req.Host = "app.acme.example"
	res, err := newClient(t).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	if res.StatusCode != 200 || string(body) != "final" {
		t.Errorf("status %d, body %q", res.StatusCode, body)
	}
	if hints.Load() != 1 {
		t.Errorf("the client saw %d early hints, want 1", hints.Load())
	}
}

func TestUpstreamClientGoneMidStreamClosesConnection(t *testing.T) {
	streaming := make(chan struct{})
	app := newCountingApp(t, func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/ok" {
			io.WriteString(w, "ok")
			return
		}
		io.WriteString(w, "part")
		http.NewResponseController(w).Flush()
		close(streaming)
		<-r.Context().Done()
	})
	e, addr := edgeFor(t, app.addr)
	ctx, cancel := context.WithCancel(context.Background())
	req, _ := http.NewRequestWithContext(ctx, "GET", "http://"+addr+"/stream", nil)
	req.Host = "app.acme.example"
	res, err := newClient(t).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	<-streaming
	cancel()
	res.Body.Close()
	// The half-read connection is closed, never handed to the next request.
	waitFor(t, func() bool {
		app.mu.Lock()
		defer app.mu.Unlock()
		return len(app.conns) == 0
	})
	if n := e.transport.idleCount(app.addr); n != 0 {
		t.Errorf("%d idle connections after a cancelled stream", n)
	}
	if res, body := get(t, newClient(t), "GET", addr, "app.acme.example", "/ok"); res.StatusCode != 200 || body != "ok" {
		t.Errorf("next request: status %d, body %q", res.StatusCode, body)
	}
}

func TestUpstreamIdleConnectionsAreSwept(t *testing.T) {
	app := newCountingApp(t, say("ok"))
	e, addr := edgeFor(t, app.addr)
	e.transport.mu.Lock()
	e.transport.idleTimeout = 50 * time.Millisecond
	e.transport.mu.Unlock()
	get(t, newClient(t), "GET", addr, "app.acme.example", "/")
	waitFor(t, func() bool {
		app.mu.Lock()
		defer app.mu.Unlock()
		return len(app.conns) == 0
	})
	if n := e.transport.idleCount(app.addr); n != 0 {
		t.Errorf("%d idle connections left after the idle timeout", n)
	}
}

// waitFor polls cond for up to 5 s.
func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met within 5 s")
		}
		time.Sleep(5 * time.Millisecond)
	}
}
