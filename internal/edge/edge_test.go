package edge

import (
	"bufio"
	"context"
	"crypto/sha1"
	"encoding/base64"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// startEdge serves e from a real http.Server on loopback and returns its
// address.
func startEdge(tb testing.TB, e *Edge) string {
	tb.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	srv := &http.Server{Handler: e, ReadHeaderTimeout: 10 * time.Second}
	go srv.Serve(ln)
	tb.Cleanup(func() {
		srv.Close()
		e.CloseIdleConnections()
	})
	return ln.Addr().String()
}

// upstream starts an app on loopback and returns it with its address.
func upstream(tb testing.TB, h http.HandlerFunc) (*httptest.Server, string) {
	tb.Helper()
	srv := httptest.NewServer(h)
	tb.Cleanup(srv.Close)
	return srv, srv.Listener.Addr().String()
}

// say is an app that answers with its name.
func say(name string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, name) }
}

// closedAddr returns a loopback address that refuses connections.
func closedAddr(tb testing.TB) string {
	tb.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

func newClient(tb testing.TB) *http.Client {
	tb.Helper()
	tr := &http.Transport{MaxIdleConnsPerHost: 64}
	tb.Cleanup(tr.CloseIdleConnections)
	return &http.Client{Transport: tr, Timeout: 10 * time.Second}
}

// get sends a request for host to the edge at addr.
func get(tb testing.TB, c *http.Client, method, addr, host, path string) (*http.Response, string) {
	tb.Helper()
	req, err := http.NewRequest(method, "http://"+addr+path, nil)
	if err != nil {
		tb.Fatal(err)
	}
	req.Host = host
	res, err := c.Do(req)
	if err != nil {
		tb.Fatal(err)
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	if err != nil {
		tb.Fatal(err)
	}
	return res, string(body)
}

// logs collects an Edge's log records, one text line each.
type logs struct {
	mu    sync.Mutex
	lines []string
	// hook, when set, sees each line as it is logged.
	hook func(line string)
}

// log returns a logger, at every level, whose records l collects.
func (l *logs) log() *slog.Logger {
	return slog.New(slog.NewTextHandler(l, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

func (l *logs) Write(p []byte) (int, error) {
	line := strings.TrimSuffix(string(p), "\n")
	l.mu.Lock()
	l.lines = append(l.lines, line)
	l.mu.Unlock()
	if l.hook != nil {
		l.hook(line)
	}
	return len(p), nil
}

func (l *logs) count(substr string) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	n := 0
	for _, line := range l.lines {
		if strings.Contains(line, substr) {
			n++
		}
	}
	return n
}

func (l *logs) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return strings.Join(l.lines, "\n")
}

func checkPage(t *testing.T, res *http.Response, status int, page string) {
	t.Helper()
	if res.StatusCode != status {
		t.Errorf("status %d, want %d", res.StatusCode, status)
	}
	if got := res.Header.Get("X-Edge-Page"); got != page {
		t.Errorf("X-Edge-Page %q, want %q", got, page)
	}
	if got := res.Header.Get("Cache-Control"); got != "no-store" {
		t.Errorf("Cache-Control %q, want no-store", got)
	}
	if res.Header.Get("ETag") != "" || res.Header.Get("Last-Modified") != "" {
		t.Errorf("edge page has validators: ETag %q, Last-Modified %q", res.Header.Get("ETag"), res.Header.Get("Last-Modified"))
	}
	if got := res.Header.Get("Content-Type"); got != "text/html; charset=utf-8" {
		t.Errorf("Content-Type %q", got)
	}
	if got, ok := res.Header["Server"]; ok {
		t.Errorf("edge page has a Server header %q", got)
	}
}

func TestRoutesByHost(t *testing.T) {
	_, a := upstream(t, say("a"))
	_, b := upstream(t, say("b"))
	e := New(Config{})
	e.SetTable(NewTable([]Route{
		{Host: "a.example.com", Upstream: a},
		{Host: "B.example.com", Upstream: b},
	}, nil))
	addr := startEdge(t, e)
	c := newClient(t)

	for host, want := range map[string]string{
		"a.example.com":      "a",
		"A.Example.COM":      "a",
		"a.example.com:8443": "a",
		"a.example.com.":     "a",
		"b.example.com":      "b",
		"B.EXAMPLE.com:80":   "b",
	} {
		res, body := get(t, c, "GET", addr, host, "/x?y=1")
		if res.StatusCode != http.StatusOK || body != want {
			t.Errorf("Host %q: %d %q, want 200 %q", host, res.StatusCode, body, want)
		}
		if res.Header.Get("X-Edge-Page") != "" {
			t.Errorf("Host %q: an app response carries X-Edge-Page", host)
		}
	}
}

func TestUnknownHostGetsZoneBrand(t *testing.T) {
	e := New(Config{Brand: Brand{Name: "Default Host Co"}})
	e.SetTable(NewTable(nil, []Zone{
		{Suffix: "acme.example", Brand: Brand{Name: "Acme Clinics", PrimaryColor: "#112233"}},
		{Suffix: "eu.acme.example", Brand: Brand{Name: "Acme Europe"}},
	}))
	addr := startEdge(t, e)
	c := newClient(t)

	for host, want := range map[string]string{
		"shop.acme.example":      "Acme Clinics",
		"Shop.EU.acme.example:8": "Acme Europe",
		"notacme.example":        "Default Host Co",
		"nothing.test":           "Default Host Co",
	} {
		res, body := get(t, c, "GET", addr, host, "/")
		checkPage(t, res, http.StatusNotFound, "not-found")
		if !strings.Contains(body, want) {
			t.Errorf("Host %q: 404 page does not show %q:\n%s", host, want, body)
		}
	}

	res, body := get(t, c, "HEAD", addr, "nothing.test", "/")
	checkPage(t, res, http.StatusNotFound, "not-found")
	if body != "" {
		t.Errorf("HEAD got a body: %q", body)
	}
}

func TestDeployingServesLoadingPage(t *testing.T) {
	var hits atomic.Int32
	_, app := upstream(t, func(w http.ResponseWriter, r *http.Request) { hits.Add(1) })
	e := New(Config{})
	e.SetTable(NewTable([]Route{{
		Host: "app.acme.example", Upstream: app, State: Deploying,
		Brand: Brand{Name: "Acme Clinics", PrimaryColor: "teal"},
	}}, nil))
	addr := startEdge(t, e)

	res, body := get(t, newClient(t), "GET", addr, "app.acme.example", "/dashboard")
	checkPage(t, res, http.StatusServiceUnavailable, "loading")
	if got := res.Header.Get("Retry-After"); got != "5" {
		t.Errorf("Retry-After %q, want 5", got)
	}
	for _, want := range []string{`<meta http-equiv="refresh" content="5">`, "Acme Clinics", "--brand:teal"} {
		if !strings.Contains(body, want) {
			t.Errorf("loading page lacks %q:\n%s", want, body)
		}
	}
	if n := hits.Load(); n != 0 {
		t.Errorf("a deploying app received %d requests", n)
	}
}

func TestDownAndUnreachableServeBadGateway(t *testing.T) {
	var hits atomic.Int32
	_, app := upstream(t, func(w http.ResponseWriter, r *http.Request) { hits.Add(1) })
	dead := closedAddr(t)
	var l logs
	e := New(Config{Log: l.log()})
	e.retryWait = time.Millisecond
	brand := Brand{Name: "Acme Clinics"}
	e.SetTable(NewTable([]Route{
		{Host: "down.acme.example", Upstream: app, State: Down, Brand: brand},
		{Host: "dead.acme.example", Upstream: dead, Brand: brand},
	}, nil))
	addr := startEdge(t, e)
	c := newClient(t)

	for _, host := range []string{"down.acme.example", "dead.acme.example"} {
		res, body := get(t, c, "GET", addr, host, "/")
		checkPage(t, res, http.StatusBadGateway, "bad-gateway")
		if !strings.Contains(body, "Acme Clinics") {
			t.Errorf("%s: 502 page is not branded:\n%s", host, body)
		}
	}
	if n := hits.Load(); n != 0 {
		t.Errorf("an app that is down received %d requests", n)
	}
	// The operator, unlike the client, learns where the edge tried to go.
	if l.count(dead) == 0 {
		t.Errorf("the log does not name the unreachable upstream %s:\n%s", dead, &l)
	}
}

// TestPagesRevealNothing checks every edge page, body and headers, for
// what must never reach a browser.
func TestPagesRevealNothing(t *testing.T) {
	_, app := upstream(t, say("app"))
	dead := closedAddr(t)
	e := New(Config{Brand: Brand{Name: "Acme Clinics"}})
	e.retryWait = time.Millisecond
	e.SetTable(NewTable([]Route{
		{Host: "loading.acme.example", Upstream: app, State: Deploying},
		{Host: "down.acme.example", Upstream: app, State: Down},
		{Host: "dead.acme.example", Upstream: dead},
	}, nil))
	addr := startEdge(t, e)
	c := newClient(t)

	forbidden := []string{app, dead, "127.0.0.1", "docker", "berth", "nginx", "go1.", "goroutine", "panic"}
	for _, hostport := range []string{app, dead} {
		_, port, _ := net.SplitHostPort(hostport)
		forbidden = append(forbidden, ":"+port)
	}
	for host, page := range map[string]string{
		"unknown.acme.example": "not-found",
		"loading.acme.example": "loading",
		"down.acme.example":    "bad-gateway",
		"dead.acme.example":    "bad-gateway",
	} {
		res, body := get(t, c, "GET", addr, host, "/")
		if got := res.Header.Get("X-Edge-Page"); got != page {
			t.Errorf("%s: X-Edge-Page %q, want %q", host, got, page)
		}
		var all strings.Builder
		all.WriteString(strings.ToLower(body))
		for k, vs := range res.Header {
			fmt.Fprintf(&all, "\n%s: %s", strings.ToLower(k), strings.ToLower(strings.Join(vs, ", ")))
		}
		for _, word := range forbidden {
			if strings.Contains(all.String(), word) {
				t.Errorf("%s (%s page) reveals %q:\n%s", host, page, word, all.String())
			}
		}
	}
}

func TestForwardedHeadersAndOriginalHost(t *testing.T) {
	got := make(chan *http.Request, 1)
	_, app := upstream(t, func(w http.ResponseWriter, r *http.Request) { got <- r })
	e := New(Config{})
	e.SetTable(NewTable([]Route{{Host: "app.acme.example", Upstream: app}}, nil))
	addr := startEdge(t, e)

	req, _ := http.NewRequest("GET", "http://"+addr+"/p?q=1", nil)
	req.Host = "App.Acme.Example:8080"
	// The edge is the first hop: whatever a client claims is dropped.
	req.Header.Set("X-Forwarded-For", "203.0.113.9")
	req.Header.Set("X-Forwarded-Host", "evil.example")
	req.Header.Set("X-Forwarded-Proto", "https")
	req.Header.Set("Forwarded", "for=203.0.113.9")
	res, err := newClient(t).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()

	r := <-got
	for name, want := range map[string]string{
		"Host":              "App.Acme.Example:8080",
		"X-Forwarded-For":   "127.0.0.1",
		"X-Forwarded-Host":  "App.Acme.Example:8080",
		"X-Forwarded-Proto": "http",
		"Forwarded":         "",
		"URI":               "/p?q=1",
	} {
		var v string
		switch name {
		case "Host":
			v = r.Host
		case "URI":
			v = r.RequestURI
		default:
			v = strings.Join(r.Header.Values(name), ", ")
		}
		if v != want {
			t.Errorf("upstream saw %s %q, want %q", name, v, want)
		}
	}
}

func TestAppCannotForgeEdgePage(t *testing.T) {
	_, app := upstream(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Edge-Page", "loading")
		w.Header().Set("Server", "app-server/1.0")
		io.WriteString(w, "hello")
	})
	e := New(Config{})
	e.SetTable(NewTable([]Route{{Host: "app.acme.example", Upstream: app}}, nil))
	res, body := get(t, newClient(t), "GET", startEdge(t, e), "app.acme.example", "/")
	if body != "hello" {
		t.Fatalf("body %q", body)
	}
	if v := res.Header.Get("X-Edge-Page"); v != "" {
		t.Errorf("an app response reached the client with X-Edge-Page %q", v)
	}
	if v := res.Header.Get("Server"); v != "app-server/1.0" {
		t.Errorf("the app's own Server header became %q", v)
	}
}

func TestStreamingFlushesPromptly(t *testing.T) {
	for _, ctype := range []string{"text/event-stream", "text/plain"} {
		t.Run(ctype, func(t *testing.T) {
			release := make(chan struct{})
			defer close(release)
			_, app := upstream(t, func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", ctype)
				io.WriteString(w, "data: first\n\n")
				http.NewResponseController(w).Flush()
				select { // hold the response open: only a flush gets "first" out
				case <-release:
				case <-r.Context().Done():
				}
				io.WriteString(w, "data: last\n\n")
			})
			e := New(Config{})
			e.SetTable(NewTable([]Route{{Host: "app.acme.example", Upstream: app}}, nil))
			addr := startEdge(t, e)

			req, _ := http.NewRequest("GET", "http://"+addr+"/events", nil)
			req.Host = "app.acme.example"
			res, err := newClient(t).Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer res.Body.Close()
			line := make(chan string, 1)
			go func() {
				s, _ := bufio.NewReader(res.Body).ReadString('\n')
				line <- s
			}()
			select {
			case s := <-line:
				if s != "data: first\n" {
					t.Errorf("first line %q", s)
				}
			case <-time.After(2 * time.Second):
				t.Fatal("the first event did not arrive while the app held the stream open")
			}
		})
	}
}

// echoWebSocket completes a websocket handshake and then echoes raw bytes
// over the hijacked connection.
func echoWebSocket(w http.ResponseWriter, r *http.Request) {
	if !strings.EqualFold(r.Header.Get("Upgrade"), "websocket") {
		http.Error(w, "upgrade required", http.StatusUpgradeRequired)
		return
	}
	sum := sha1.Sum([]byte(r.Header.Get("Sec-WebSocket-Key") + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"))
	conn, brw, err := http.NewResponseController(w).Hijack()
	if err != nil {
		return
	}
	defer conn.Close()
	fmt.Fprintf(brw, "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: %s\r\n\r\n",
		base64.StdEncoding.EncodeToString(sum[:]))
	if brw.Flush() != nil {
		return
	}
	io.Copy(conn, brw.Reader)
}

func TestWebSocketThroughEdge(t *testing.T) {
	_, app := upstream(t, echoWebSocket)
	e := New(Config{})
	e.SetTable(NewTable([]Route{{Host: "ws.acme.example", Upstream: app}}, nil))
	addr := startEdge(t, e)

	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(5 * time.Second))
	io.WriteString(conn, "GET /socket HTTP/1.1\r\nHost: ws.acme.example\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"+
		"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n")
	br := bufio.NewReader(conn)
	res, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatal(err)
	}
	if res.StatusCode != http.StatusSwitchingProtocols {
		t.Fatalf("status %d, want 101", res.StatusCode)
	}
	if got := res.Header.Get("Sec-WebSocket-Accept"); got != "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=" {
		t.Errorf("Sec-WebSocket-Accept %q", got)
	}
	for i := range 3 {
		msg := fmt.Sprintf("ping %d\n", i)
		if _, err := io.WriteString(conn, msg); err != nil {
			t.Fatal(err)
		}
		got, err := br.ReadString('\n')
		if err != nil {
			t.Fatal(err)
		}
		if got != msg {
			t.Errorf("echo %q, want %q", got, msg)
		}
	}
}

// TestSwapUnderLoad switches the route between two live upstreams many
// times while clients keep requesting it: no request may fail.
func TestSwapUnderLoad(t *testing.T) {
	_, a := upstream(t, say("a"))
	_, b := upstream(t, say("b"))
	tables := [2]*Table{
		NewTable([]Route{{Host: "app.acme.example", Upstream: a}}, nil),
		NewTable([]Route{{Host: "app.acme.example", Upstream: b}}, nil),
	}
	e := New(Config{})
	e.SetTable(tables[0])
	addr := startEdge(t, e)
	c := newClient(t)

	const total, workers = 2000, 4
	deadline := time.Now().Add(3 * time.Second)
	var sent, seenA, seenB atomic.Int64
	var failMu sync.Mutex
	var failures []string
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for sent.Add(1) <= total && time.Now().Before(deadline) {
				req, _ := http.NewRequest("GET", "http://"+addr+"/", nil)
				req.Host = "app.acme.example"
				res, err := c.Do(req)
				var body []byte
				if err == nil {
					body, err = io.ReadAll(res.Body)
					res.Body.Close()
				}
				switch {
				case err == nil && res.StatusCode == http.StatusOK && string(body) == "a":
					seenA.Add(1)
				case err == nil && res.StatusCode == http.StatusOK && string(body) == "b":
					seenB.Add(1)
				default:
					failMu.Lock()
					failures = append(failures, fmt.Sprintf("err=%v body=%q", err, body))
					failMu.Unlock()
				}
			}
		})
	}
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	swaps := 0
	for running := true; running; swaps++ {
		select {
		case <-done:
			running = false
		case <-time.After(200 * time.Microsecond):
			e.SetTable(tables[(swaps+1)%2])
		}
	}

	t.Logf("%d requests (a=%d, b=%d) across %d table swaps", seenA.Load()+seenB.Load(), seenA.Load(), seenB.Load(), swaps)
	if len(failures) > 0 {
		t.Errorf("%d requests failed; first: %s", len(failures), failures[0])
	}
	if seenA.Load() == 0 || seenB.Load() == 0 {
		t.Errorf("both upstreams should have answered: a=%d b=%d", seenA.Load(), seenB.Load())
	}
}

func TestInFlightRequestKeepsItsRoute(t *testing.T) {
	entered, release := make(chan struct{}), make(chan struct{})
	_, a := upstream(t, func(w http.ResponseWriter, r *http.Request) {
		close(entered)
		<-release
		io.WriteString(w, "a")
	})
	_, b := upstream(t, say("b"))
	e := New(Config{})
	e.SetTable(NewTable([]Route{{Host: "app.acme.example", Upstream: a}}, nil))
	addr := startEdge(t, e)
	c := newClient(t)

	body := make(chan string, 1)
	go func() {
		_, s := get(t, c, "GET", addr, "app.acme.example", "/")
		body <- s
	}()
	<-entered
	e.SetTable(NewTable([]Route{{Host: "app.acme.example", Upstream: b}}, nil))
	if _, s := get(t, c, "GET", addr, "app.acme.example", "/"); s != "b" {
		t.Errorf("a new request after the swap got %q, want b", s)
	}
	close(release)
	if s := <-body; s != "a" {
		t.Errorf("the in-flight request got %q, want a", s)
	}
}

// TestRetryFollowsSwitchedRoute points the route at a closed port and
// switches it to a live upstream while the request is failing, at the
// moment the edge reports the dial error: the one retry must find it.
func TestRetryFollowsSwitchedRoute(t *testing.T) {
	_, live := upstream(t, say("live"))
	dead := closedAddr(t)
	switched := NewTable([]Route{{Host: "app.acme.example", Upstream: live}}, nil)
	var e *Edge
	var l logs
	l.hook = func(line string) {
		if strings.Contains(line, "retrying once") {
			e.SetTable(switched)
		}
	}
	e = New(Config{Log: l.log()})
	e.retryWait = time.Hour // the route moves, so the retry must not wait
	e.SetTable(NewTable([]Route{{Host: "app.acme.example", Upstream: dead}}, nil))
	addr := startEdge(t, e)

	res, body := get(t, newClient(t), "GET", addr, "app.acme.example", "/")
	if res.StatusCode != http.StatusOK || body != "live" {
		t.Fatalf("got %d %q, want 200 live; log:\n%s", res.StatusCode, body, &l)
	}
	if n := l.count("retrying once"); n != 1 {
		t.Errorf("%d retries logged, want 1:\n%s", n, &l)
	}
}

// TestRetryWaitsForConcurrentSwitch switches the table from another
// goroutine once the first dial has failed: the retry, waiting for a route
// that has not moved yet, must wake up on the switch rather than sleep out
// its wait (an hour here; the client gives up after ten seconds).
func TestRetryWaitsForConcurrentSwitch(t *testing.T) {
	_, live := upstream(t, say("live"))
	dead := closedAddr(t)
	failed := make(chan struct{}, 1)
	var l logs
	l.hook = func(line string) {
		if strings.Contains(line, "retrying once") {
			select {
			case failed <- struct{}{}:
			default:
			}
		}
	}
	e := New(Config{Log: l.log()})
	e.retryWait = time.Hour
	e.SetTable(NewTable([]Route{{Host: "app.acme.example", Upstream: dead}}, nil))
	go func() {
		<-failed
		e.SetTable(NewTable([]Route{{Host: "app.acme.example", Upstream: live}}, nil))
	}()
	addr := startEdge(t, e)

	res, body := get(t, newClient(t), "GET", addr, "app.acme.example", "/")
	if res.StatusCode != http.StatusOK || body != "live" {
		t.Fatalf("got %d %q, want 200 live; log:\n%s", res.StatusCode, body, &l)
	}
}

func TestRetryGivesUpAfterOnce(t *testing.T) {
	dead := closedAddr(t)
	var l logs
	e := New(Config{Log: l.log()})
	e.retryWait = 50 * time.Millisecond
	e.SetTable(NewTable([]Route{{Host: "app.acme.example", Upstream: dead}}, nil))
	addr := startEdge(t, e)

	start := time.Now()
	res, _ := get(t, newClient(t), "GET", addr, "app.acme.example", "/")
	checkPage(t, res, http.StatusBadGateway, "bad-gateway")
	if elapsed := time.Since(start); elapsed < e.retryWait {
		t.Errorf("gave up after %v, before waiting %v for the route", elapsed, e.retryWait)
	}
	if n := l.count("retrying once"); n != 1 {
		t.Errorf("%d retries logged, want 1:\n%s", n, &l)
	}
}

func TestNoRetryForRequestWithBody(t *testing.T) {
	_, live := upstream(t, say("live"))
	dead := closedAddr(t)
	var e *Edge
	var l logs
	l.hook = func(string) {
		e.SetTable(NewTable([]Route{{Host: "app.acme.example", Upstream: live}}, nil))
	}
	e = New(Config{Log: l.log()})
	e.SetTable(NewTable([]Route{{Host: "app.acme.example", Upstream: dead}}, nil))
	addr := startEdge(t, e)

	req, _ := http.NewRequest("POST", "http://"+addr+"/orders", strings.NewReader(`{"n":1}`))
	req.Host = "app.acme.example"
	res, err := newClient(t).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	checkPage(t, res, http.StatusBadGateway, "bad-gateway")
	if n := l.count("retrying once"); n != 0 {
		t.Errorf("a POST was retried:\n%s", &l)
	}
}

// TestDialErrorDuringDeployServesLoadingPage covers a route that turned to
// Deploying while its request was failing to connect.
func TestDialErrorDuringDeployServesLoadingPage(t *testing.T) {
	dead := closedAddr(t)
	var e *Edge
	l := &logs{hook: func(string) {
		e.SetTable(NewTable([]Route{{Host: "app.acme.example", Upstream: dead, State: Deploying}}, nil))
	}}
	e = New(Config{Log: l.log()})
	e.SetTable(NewTable([]Route{{Host: "app.acme.example", Upstream: dead}}, nil))
	res, _ := get(t, newClient(t), "GET", startEdge(t, e), "app.acme.example", "/")
	checkPage(t, res, http.StatusServiceUnavailable, "loading")
}

func TestClientCancelDoesNotLog(t *testing.T) {
	entered := make(chan struct{})
	_, app := upstream(t, func(w http.ResponseWriter, r *http.Request) {
		close(entered)
		<-r.Context().Done()
	})
	var l logs
	e := New(Config{Log: l.log()})
	e.SetTable(NewTable([]Route{{Host: "app.acme.example", Upstream: app}}, nil))
	addr := startEdge(t, e)

	ctx, cancel := context.WithCancel(context.Background())
	req, _ := http.NewRequestWithContext(ctx, "GET", "http://"+addr+"/", nil)
	req.Host = "app.acme.example"
	go func() { <-entered; cancel() }()
	if _, err := newClient(t).Do(req); err == nil {
		t.Fatal("a cancelled request succeeded")
	}
	time.Sleep(50 * time.Millisecond) // let the edge's handler finish
	if n := l.count("upstream"); n != 0 {
		t.Errorf("a client going away was logged as an upstream error:\n%s", &l)
	}
}

// BenchmarkProxy compares a small response fetched directly from the app
// with the same response through the edge.
func BenchmarkProxy(b *testing.B) {
	up, app := upstream(b, say("ok"))
	e := New(Config{})
	e.SetTable(NewTable([]Route{{Host: "app.acme.example", Upstream: app}}, nil))
	addr := startEdge(b, e)
	c := newClient(b)

	run := func(b *testing.B, url, host string) {
		b.ReportAllocs()
		for b.Loop() {
			req, _ := http.NewRequest("GET", url, nil)
			req.Host = host
			res, err := c.Do(req)
			if err != nil {
				b.Fatal(err)
			}
			io.Copy(io.Discard, res.Body)
			res.Body.Close()
			if res.StatusCode != http.StatusOK {
				b.Fatalf("status %d", res.StatusCode)
			}
		}
	}
	b.Run("direct", func(b *testing.B) { run(b, up.URL+"/", "") })
	b.Run("edge", func(b *testing.B) { run(b, "http://"+addr+"/", "app.acme.example") })
}

// BenchmarkProxyParallel is BenchmarkProxy with many clients at once, the
// shape of the edge's load: it shows the per-request cost that contention
// and goroutine hand-offs add.
func BenchmarkProxyParallel(b *testing.B) {
	up, app := upstream(b, say("ok"))
	e := New(Config{})
	e.SetTable(NewTable([]Route{{Host: "app.acme.example", Upstream: app}}, nil))
	addr := startEdge(b, e)
	c := newClient(b)

	run := func(b *testing.B, url, host string) {
		b.ReportAllocs()
		b.SetParallelism(16)
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				req, _ := http.NewRequest("GET", url, nil)
				req.Host = host
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
	}
	b.Run("direct", func(b *testing.B) { run(b, up.URL+"/", "") })
	b.Run("edge", func(b *testing.B) { run(b, "http://"+addr+"/", "app.acme.example") })
}
