package edge

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"net/http/httptrace"
	"sync"
	"time"
)

// upstreamTransport is the edge's HTTP/1.1 client for the common request:
// one without a body that may be sent again (GET, HEAD, OPTIONS) and is no
// protocol upgrade. It writes the request and reads the response on the
// calling goroutine, over a pooled keep-alive connection. net/http's
// Transport hands every request to a writer goroutine and every response
// back from a reader goroutine; on an edge in front of small responses
// those hand-offs were most of what separated it from nginx. Every other
// request (bodies, upgrades, POST) goes to the standard transport, which
// can write a body while reading an early answer and knows 100-continue.
//
// Without a reader goroutine nobody watches an idle connection, so a
// connection the upstream closed while idle is found only on its next use.
// That is why only requests that may be sent twice take this path: a
// reused connection that fails before any byte of the response arrived is
// retried once on a fresh one, as net/http's Transport does.
type upstreamTransport struct {
	// dial connects to addr by way of via ("": directly).
	dial func(ctx context.Context, via, addr string) (net.Conn, error)
	// via names the way a request goes to its upstream. Connections are
	// pooled per way and address, since one address (a loopback port)
	// reached two ways is two different apps.
	via func(*http.Request) string
	// fallback is the standard transport of a way.
	fallback func(via string) http.RoundTripper

	maxIdlePerHost int
	idleTimeout    time.Duration

	mu    sync.Mutex
	idle  map[poolKey][]*upstreamConn // most recently used last
	sweep *time.Timer                 // runs while any connection is idle
}

// maxResponseHeaderBytes bounds what an app may send before its body: the
// app is untrusted code, and the edge must not buffer without end.
const maxResponseHeaderBytes = 1 << 20

// poolKey is where a connection goes: an address, reached one way.
type poolKey struct{ via, addr string }

// upstreamConn is one keep-alive connection to an upstream.
type upstreamConn struct {
	net.Conn
	key    poolKey
	limit  limitedReader // between the connection and br
	br     *bufio.Reader
	bw     *bufio.Writer
	idleAt time.Time
}

// limitedReader is io.LimitedReader whose limit can be raised again after
// the response header has been read.
type limitedReader struct {
	r io.Reader
	n int64
}

func (l *limitedReader) Read(p []byte) (int, error) {
	if l.n <= 0 {
		return 0, errHeaderTooLarge
	}
	if int64(len(p)) > l.n {
		p = p[:l.n]
	}
	n, err := l.r.Read(p)
	l.n -= int64(n)
	return n, err
}

var errHeaderTooLarge = errors.New("upstream response header too large")

// fastPath reports whether req can take the synchronous path.
func fastPath(req *http.Request) bool {
	switch req.Method {
	case http.MethodGet, http.MethodHead, http.MethodOptions:
	default:
		return false
	}
	return (req.Body == nil || req.Body == http.NoBody) && req.ContentLength == 0 &&
		req.URL.Scheme == "http" && !req.Close && req.Header.Get("Upgrade") == ""
}

func (t *upstreamTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	via := t.via(req)
	if !fastPath(req) {
		return t.fallback(via).RoundTrip(req)
	}
	ctx := req.Context()
	key := poolKey{via: via, addr: req.URL.Host}
	for attempt := 0; ; attempt++ {
		c, reused, err := t.conn(ctx, key)
		if err != nil {
			return nil, err
		}
		res, err := t.exchange(ctx, c, req)
		if err == nil {
			return res, nil
		}
		c.Close()
		if !reused || attempt > 0 || ctx.Err() != nil || !errors.Is(err, errNothingRead) {
			return nil, err
		}
		// The upstream closed the idle connection before it saw the
		// request: send it again, on a new connection this time.
	}
}

// errNothingRead marks a failure before the first byte of a response,
// which on a reused connection means the upstream had closed it.
var errNothingRead = errors.New("upstream closed the connection before answering")

// exchange writes req on c and reads the response header. On success the
// response's body owns c: reading it to the end returns c to the pool.
func (t *upstreamTransport) exchange(ctx context.Context, c *upstreamConn, req *http.Request) (*http.Response, error) {
	// A request that is cancelled (the client went away) interrupts the
	// read or write at once; the connection is then never reused.
	stop := context.AfterFunc(ctx, func() { c.SetDeadline(time.Unix(1, 0)) })
	fail := func(err error) (*http.Response, error) {
		stop()
		if ctxErr := ctx.Err(); ctxErr != nil {
			return nil, ctxErr
		}
		return nil, err
	}
	if err := req.Write(c.bw); err != nil {
		return fail(fmt.Errorf("%w: %w", errNothingRead, err))
	}
	if err := c.bw.Flush(); err != nil {
		return fail(fmt.Errorf("%w: %w", errNothingRead, err))
	}
	c.limit.n = maxResponseHeaderBytes
	trace := httptrace.ContextClientTrace(ctx)
	for {
		if _, err := c.br.Peek(1); err != nil {
			return fail(fmt.Errorf("%w: %w", errNothingRead, err))
		}
		res, err := http.ReadResponse(c.br, req)
		if err != nil {
			return fail(fmt.Errorf("reading upstream response: %w", err))
		}
		// 1xx answers (103 Early Hints) go to the client through the
		// trace that ReverseProxy installs; the final answer follows.
		if res.StatusCode >= 100 && res.StatusCode < 200 && res.StatusCode != http.StatusSwitchingProtocols {
			if trace != nil && trace.Got1xxResponse != nil {
				if err := trace.Got1xxResponse(res.StatusCode, textprotoHeader(res.Header)); err != nil {
					return fail(err)
				}
			}
			continue
		}
		if res.StatusCode == http.StatusSwitchingProtocols {
			// Only requests without Upgrade come here, so this is a broken
			// upstream.
			return fail(errors.New("upstream switched protocols without being asked"))
		}
		c.limit.n = math.MaxInt64
		res.Body = &upstreamBody{rc: res.Body, c: c, t: t, stop: stop, keep: !res.Close}
		return res, nil
	}
}

// textprotoHeader converts for httptrace, whose hook takes the textproto
// type that http.Header is defined as.
func textprotoHeader(h http.Header) map[string][]string { return h }

// upstreamBody is a response body that gives its connection back to the
// pool once it has been read to the end.
type upstreamBody struct {
	rc   io.ReadCloser
	c    *upstreamConn
	t    *upstreamTransport
	stop func() bool
	keep bool // the upstream did not ask to close

	mu   sync.Mutex
	done bool // the connection was released or closed
	eof  bool
}

func (b *upstreamBody) Read(p []byte) (int, error) {
	n, err := b.rc.Read(p)
	if err == io.EOF {
		b.mu.Lock()
		b.eof = true
		b.mu.Unlock()
		b.release()
	}
	return n, err
}

// Close gives the connection back when the body was read to the end, and
// closes it otherwise: draining what the client no longer wants could
// block for as long as the app keeps streaming.
func (b *upstreamBody) Close() error {
	b.mu.Lock()
	eof := b.eof
	b.mu.Unlock()
	if !eof {
		b.finish(false)
		return b.rc.Close()
	}
	b.release()
	return nil
}

func (b *upstreamBody) release() { b.finish(b.keep) }

func (b *upstreamBody) finish(reuse bool) {
	b.mu.Lock()
	if b.done {
		b.mu.Unlock()
		return
	}
	b.done = true
	b.mu.Unlock()
	// stop reports false when the request was cancelled and the deadline
	// trap fired: that connection cannot be trusted again.
	if b.stop() && reuse && b.c.br.Buffered() == 0 {
		b.t.put(b.c)
		return
	}
	b.c.Close()
}

// conn returns an idle connection to key, or dials a new one.
func (t *upstreamTransport) conn(ctx context.Context, key poolKey) (*upstreamConn, bool, error) {
	now := time.Now()
	t.mu.Lock()
	for {
		list := t.idle[key]
		if len(list) == 0 {
			break
		}
		c := list[len(list)-1]
		list[len(list)-1] = nil
		t.idle[key] = list[:len(list)-1]
		if now.Sub(c.idleAt) < t.idleTimeout {
			t.mu.Unlock()
			return c, true, nil
		}
		c.Close()
	}
	t.mu.Unlock()
	nc, err := t.dial(ctx, key.via, key.addr)
	if err != nil {
		return nil, false, err
	}
	c := &upstreamConn{Conn: nc, key: key}
	c.limit.r = nc
	c.br = bufio.NewReaderSize(&c.limit, 4<<10)
	c.bw = bufio.NewWriterSize(nc, 4<<10)
	return c, false, nil
}

// put makes c idle, closing it when its address has enough idle already.
func (t *upstreamTransport) put(c *upstreamConn) {
	if err := c.SetDeadline(time.Time{}); err != nil {
		c.Close()
		return
	}
	c.idleAt = time.Now()
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.idle == nil {
		t.idle = make(map[poolKey][]*upstreamConn)
	}
	if len(t.idle[c.key]) >= t.maxIdlePerHost {
		c.Close()
		return
	}
	t.idle[c.key] = append(t.idle[c.key], c)
	if t.sweep == nil {
		t.sweep = time.AfterFunc(t.idleTimeout, t.sweepIdle)
	}
}

// sweepIdle closes connections idle for longer than the idle timeout, so
// that those to apps that went away do not stay open. It runs while any
// connection is idle.
func (t *upstreamTransport) sweepIdle() {
	now := time.Now()
	t.mu.Lock()
	defer t.mu.Unlock()
	t.sweep = nil
	for key, list := range t.idle {
		keep := list[:0]
		for _, c := range list {
			if now.Sub(c.idleAt) >= t.idleTimeout {
				c.Close()
				continue
			}
			keep = append(keep, c)
		}
		clear(list[len(keep):])
		if len(keep) == 0 {
			delete(t.idle, key)
		} else {
			t.idle[key] = keep
		}
	}
	if len(t.idle) > 0 {
		t.sweep = time.AfterFunc(t.idleTimeout/2, t.sweepIdle)
	}
}

// CloseIdleConnections closes every idle connection of the synchronous
// path; the fallback transports are their owner's to close.
func (t *upstreamTransport) CloseIdleConnections() {
	t.mu.Lock()
	for _, list := range t.idle {
		for _, c := range list {
			c.Close()
		}
	}
	t.idle = nil
	if t.sweep != nil {
		t.sweep.Stop()
		t.sweep = nil
	}
	t.mu.Unlock()
}

// idleCount is the number of idle connections to a direct addr, for tests.
func (t *upstreamTransport) idleCount(addr string) int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return len(t.idle[poolKey{addr: addr}])
}

var _ http.RoundTripper = (*upstreamTransport)(nil)
