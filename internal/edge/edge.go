package edge

import (
	"context"
	"errors"
	"fmt"
	"html/template"
	"log/slog"
	"net"
	"net/http"
	"net/http/httputil"
	"sync"
	"sync/atomic"
	"time"
)

// Transport tuning. Upstreams are on loopback or a private network, so a
// dial that takes longer than dialTimeout is a dead host, and many idle
// connections per app are cheap compared with a handshake per request.
const (
	dialTimeout         = 2 * time.Second
	keepAlive           = 30 * time.Second
	maxIdleConns        = 4096
	maxIdleConnsPerHost = 256
	idleConnTimeout     = 90 * time.Second

	// defaultRetryWait is how long a failed idempotent request waits for
	// a route that has not moved before its one retry: long enough for a
	// table update already on its way, short next to a page load.
	defaultRetryWait = 200 * time.Millisecond
)

// Config holds what an Edge needs from its caller.
type Config struct {
	// Brand is the default brand, used for hosts that match neither a
	// route nor a zone.
	Brand Brand
	// DialVia connects to addr, the upstream of a route with a Via, by
	// way of via (e.g. through the agent of another machine). Nil: routes
	// with a Via answer 502.
	DialVia func(ctx context.Context, via, addr string) (net.Conn, error)
	// Log receives operational errors. Its records may name upstream
	// addresses, which is why they go to the operator and never to a
	// client. Nil discards them.
	Log *slog.Logger
	// RateLimit bounds the requests of one client address; the zero
	// value lets everything through.
	RateLimit RateLimit
	// CacheLimit bounds the resolver answers kept (0: 200,000).
	CacheLimit int
}

// Edge is the public HTTP handler: it routes each request by its Host
// header through the current Table, proxies it to the app's upstream, and
// answers with a branded page when there is no app to answer.
type Edge struct {
	brand     Brand
	log       *slog.Logger
	current   atomic.Pointer[installed]
	transport *upstreamTransport
	direct    *http.Transport // requests with a body or an upgrade, dialled directly
	dialVia   func(ctx context.Context, via, addr string) (net.Conn, error)
	viaMu     sync.Mutex
	// vias holds the standard transport of each Via, for the requests
	// that do not take the synchronous path: a connection pooled through
	// one way must never carry a request for the same address reached
	// another way (the same loopback port on another machine).
	vias      map[string]*http.Transport
	proxy     *httputil.ReverseProxy
	pages     *template.Template
	retryWait time.Duration

	// cache holds the resolver's answers once UseResolver was called.
	cache       atomic.Pointer[cache]
	cacheLimit  int
	customPages sync.Map // digest → *template.Template
	limiter     *rateLimiter
}

// New returns an Edge with an empty table: every host gets the 404 page
// until SetTable installs routes.
func New(cfg Config) *Edge {
	e := &Edge{
		brand:      cfg.Brand,
		log:        cfg.Log,
		pages:      parsePages(),
		retryWait:  defaultRetryWait,
		cacheLimit: cfg.CacheLimit,
		dialVia:    cfg.DialVia,
		vias:       map[string]*http.Transport{},
	}
	if cfg.RateLimit.enabled() {
		e.limiter = newRateLimiter(cfg.RateLimit, time.Now)
	}
	if e.log == nil {
		e.log = slog.New(slog.DiscardHandler)
	}
	e.current.Store(&installed{table: NewTable(nil, nil), replaced: make(chan struct{})})
	dial := (&net.Dialer{Timeout: dialTimeout, KeepAlive: keepAlive}).DialContext
	e.direct = newTransport(dial)
	e.transport = &upstreamTransport{
		dial: func(ctx context.Context, via, addr string) (net.Conn, error) {
			if via == "" {
				return dial(ctx, "tcp", addr)
			}
			return e.dialThrough(ctx, via, addr)
		},
		via:            routeVia,
		fallback:       e.fallback,
		maxIdlePerHost: maxIdleConnsPerHost,
		idleTimeout:    idleConnTimeout,
	}
	e.proxy = &httputil.ReverseProxy{
		Rewrite:   e.rewrite,
		Transport: &retryTransport{e: e, base: e.transport},
		// No periodic flush: ReverseProxy already flushes every write of a
		// response of unknown length (chunked streams, long polls) and of
		// text/event-stream, and a response of known length goes out in
		// as few writes as possible. Flushing every write of those cost a
		// fifth of the throughput on small responses.
		FlushInterval:  0,
		BufferPool:     newBufferPool(),
		ModifyResponse: modifyResponse,
		ErrorHandler:   e.proxyError,
		ErrorLog:       slog.NewLogLogger(e.log.Handler(), slog.LevelWarn),
	}
	return e
}

// newTransport is the upstream transport over dial.
func newTransport(dial func(ctx context.Context, network, addr string) (net.Conn, error)) *http.Transport {
	return &http.Transport{
		// Upstreams are addressed directly: an HTTP_PROXY in the
		// environment must not capture traffic meant for loopback.
		Proxy:                 nil,
		DialContext:           dial,
		MaxIdleConns:          maxIdleConns,
		MaxIdleConnsPerHost:   maxIdleConnsPerHost,
		IdleConnTimeout:       idleConnTimeout,
		ExpectContinueTimeout: time.Second,
		// The client's Accept-Encoding is forwarded as is; without this the
		// transport would ask for gzip on its own and decompress it again.
		DisableCompression: true,
	}
}

// dialThrough connects to addr by way of via, with the caller's DialVia.
func (e *Edge) dialThrough(ctx context.Context, via, addr string) (net.Conn, error) {
	if e.dialVia == nil {
		return nil, &net.OpError{Op: "dial", Net: "tcp", Err: errors.New("this edge has no way to reach upstreams through " + via)}
	}
	return e.dialVia(ctx, via, addr)
}

// fallback is the standard transport for the requests of a Via that do
// not take the synchronous path, made on first use.
func (e *Edge) fallback(via string) http.RoundTripper {
	if via == "" {
		return e.direct
	}
	e.viaMu.Lock()
	defer e.viaMu.Unlock()
	t := e.vias[via]
	if t == nil {
		t = newTransport(func(ctx context.Context, _, addr string) (net.Conn, error) {
			return e.dialThrough(ctx, via, addr)
		})
		e.vias[via] = t
	}
	return t
}

// routeVia is the Via of a proxied request's route.
func routeVia(req *http.Request) string {
	if rd := routedFrom(req.Context()); rd != nil {
		return rd.route.Via
	}
	return ""
}

// SetTable installs t as the route table; a nil t is an empty table.
// Requests already in flight keep the route they started with, except that
// a GET or HEAD whose upstream refused the connection retries once on the
// route in the newest table.
func (e *Edge) SetTable(t *Table) {
	if t == nil {
		t = NewTable(nil, nil)
	}
	old := e.current.Swap(&installed{table: t, replaced: make(chan struct{})})
	close(old.replaced)
}

// installed is a table together with the signal that it was replaced,
// which lets a retry wake up on a route switch instead of sleeping.
type installed struct {
	table    *Table
	replaced chan struct{} // closed when a newer table is installed
}

// CloseIdleConnections closes the idle connections to upstreams, for
// shutdown and for tests that check for leaks.
func (e *Edge) CloseIdleConnections() {
	e.transport.CloseIdleConnections()
	e.direct.CloseIdleConnections()
	e.viaMu.Lock()
	defer e.viaMu.Unlock()
	for _, t := range e.vias {
		t.CloseIdleConnections()
	}
}

// ServeHTTP routes r by its Host header.
func (e *Edge) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	t := e.current.Load().table
	host := canonicalHost(r.Host)
	if e.limiter != nil && !e.limiter.allow(clientAddr(r)) {
		e.servePage(w, r, PageRateLimited, e.brandFor(t, host, nil))
		return
	}
	rt, ok := t.lookup(host)
	if !ok {
		e.servePage(w, r, pageNotFound, e.brandFor(t, host, nil))
		return
	}
	switch rt.State {
	case Ready:
		if rt.Upstream != "" {
			ctx := context.WithValue(r.Context(), routedKey{}, &routed{host: host, route: rt, table: t})
			e.proxy.ServeHTTP(w, r.WithContext(ctx))
			return
		}
		e.log.Warn("route is ready but has no upstream", "host", host)
	case Deploying:
		e.servePage(w, r, pageLoading, e.brandFor(t, host, &rt))
		return
	}
	e.servePage(w, r, pageBadGateway, e.brandFor(t, host, &rt))
}

// brandFor picks the brand of a page: the route's own, else the zone's,
// else the default.
func (e *Edge) brandFor(t *Table, host string, rt *Route) Brand {
	if rt != nil && rt.Brand != (Brand{}) {
		return rt.Brand
	}
	if b, ok := t.zoneBrand(host); ok {
		return b
	}
	return e.brand
}

// routedKey is the context key under which ServeHTTP hands the chosen
// route to the proxy's hooks.
type routedKey struct{}

// routed is a proxied request's route and the table it was found in.
type routed struct {
	host  string // canonical
	route Route
	table *Table
}

func routedFrom(ctx context.Context) *routed {
	rd, _ := ctx.Value(routedKey{}).(*routed)
	return rd
}

// rewrite sends the request to the route's upstream. The Host header stays
// the one the client sent, because apps build links and pick virtual hosts
// from it; client-sent X-Forwarded-* and Forwarded headers have already
// been dropped by ReverseProxy, since the edge is the first hop and must
// not let clients forge their address.
func (e *Edge) rewrite(pr *httputil.ProxyRequest) {
	rd := routedFrom(pr.In.Context())
	pr.Out.URL.Scheme = "http"
	pr.Out.URL.Host = rd.route.Upstream
	pr.Out.Host = pr.In.Host
	pr.SetXForwarded()
}

// modifyResponse drops the page header from app responses: only the edge
// may say that an answer is its own, or an app could make the readiness
// probe believe it is still loading.
func modifyResponse(res *http.Response) error {
	res.Header.Del(pageHeader)
	return nil
}

// proxyError answers for a request whose upstream could not be reached or
// failed before sending a response.
func (e *Edge) proxyError(w http.ResponseWriter, r *http.Request, err error) {
	rd := routedFrom(r.Context())
	if rd == nil {
		// Only ServeHTTP calls the proxy, always with a route.
		e.log.Error("proxy error without a route", "host", r.Host, "err", err)
		e.servePage(w, r, pageBadGateway, e.brand)
		return
	}
	if r.Context().Err() == nil {
		e.log.Warn("upstream failed", "host", rd.host, "upstream", r.URL.Host, "err", err)
	}
	if isDialError(err) {
		// A deploy may have begun since the request started: a loading
		// page that refreshes itself is then the better answer.
		t := e.current.Load().table
		if cur, ok := t.lookup(rd.host); ok && cur.State == Deploying {
			e.servePage(w, r, pageLoading, e.brandFor(t, rd.host, &cur))
			return
		}
	}
	e.servePage(w, r, pageBadGateway, e.brandFor(rd.table, rd.host, &rd.route))
}

// retryTransport retries an idempotent request once when its upstream
// refused the connection, against the route in the current table: the
// control plane may have switched the route to a new container and
// stopped the old one between the request's lookup and its dial. Nothing
// reached the upstream, so the retry cannot repeat a side effect.
type retryTransport struct {
	e    *Edge
	base http.RoundTripper
}

func (t *retryTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	res, err := t.base.RoundTrip(req)
	if err == nil || !isDialError(err) || !replayable(req) {
		return res, err
	}
	rd := routedFrom(req.Context())
	if rd == nil {
		return nil, err
	}
	t.e.log.Debug("upstream unreachable, retrying once", "host", rd.host, "upstream", req.URL.Host, "err", err)
	cur := t.e.current.Load()
	next, ok := cur.table.lookup(rd.host)
	unmoved := func() bool {
		return ok && next.State == Ready && next.Upstream == req.URL.Host && next.Via == rd.route.Via
	}
	if unmoved() {
		// The switch may still be on its way, or the app may be restarting
		// in place: wait a moment for either, waking early if the route
		// moves.
		timer := time.NewTimer(t.e.retryWait)
		defer timer.Stop()
	wait:
		for unmoved() {
			select {
			case <-cur.replaced:
				cur = t.e.current.Load()
				next, ok = cur.table.lookup(rd.host)
			case <-timer.C:
				break wait
			case <-req.Context().Done():
				return nil, err
			}
		}
	}
	if !ok || next.State != Ready || next.Upstream == "" {
		return nil, err
	}
	// The retry goes the way of the route it retries on.
	retry := req.Clone(context.WithValue(req.Context(), routedKey{}, &routed{host: rd.host, route: next, table: cur.table}))
	retry.URL.Host = next.Upstream
	res, err = t.base.RoundTrip(retry)
	if err != nil {
		return nil, fmt.Errorf("retrying on %s: %w", next.Upstream, err)
	}
	return res, nil
}

// replayable reports whether req may be sent again: an idempotent method
// and no body, which a failed first attempt might have consumed.
func replayable(req *http.Request) bool {
	return (req.Method == http.MethodGet || req.Method == http.MethodHead) &&
		(req.Body == nil || req.Body == http.NoBody)
}

// isDialError reports whether err happened while connecting, before any
// byte of the request was sent.
func isDialError(err error) bool {
	var op *net.OpError
	return errors.As(err, &op) && op.Op == "dial"
}

// bufferPool reuses the proxy's copy buffers across requests.
type bufferPool struct{ pool sync.Pool }

const copyBufferSize = 32 << 10

func newBufferPool() *bufferPool {
	return &bufferPool{pool: sync.Pool{New: func() any {
		b := make([]byte, copyBufferSize)
		return &b
	}}}
}

func (p *bufferPool) Get() []byte { return *p.pool.Get().(*[]byte) }

func (p *bufferPool) Put(b []byte) {
	if cap(b) >= copyBufferSize {
		b = b[:copyBufferSize]
		p.pool.Put(&b)
	}
}

// Interface guards.
var (
	_ http.Handler        = (*Edge)(nil)
	_ http.RoundTripper   = (*retryTransport)(nil)
	_ httputil.BufferPool = (*bufferPool)(nil)
)
