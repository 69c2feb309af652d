package agent

import (
	"bufio"
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"sync"
	"time"
)

// Label is the label the agent stamps on every container it creates,
// with its name as the value: the tunnel reaches only containers that
// carry it, so an engine shared with other agents (or anything else)
// never lends them its containers.
const Label = "berth.agent"

// tunnelDialTimeout bounds the agent's connection to a container: the
// container is on this machine, so a longer wait is a dead app.
const tunnelDialTimeout = 3 * time.Second

// tunnels resolves the addresses a tunnel may reach: the published
// ports of this agent's running containers, and the portal's address.
type tunnels struct {
	rt     Runtime
	name   string // the agent's name; empty: no tunnel
	portal string // the host's portal, host:port; empty: none

	mu    sync.Mutex
	byPub map[string]string // published address → container id, a cache
}

// errNotOurs is a tunnel target that is neither a port of one of this
// agent's containers nor its portal.
var errNotOurs = errors.New("not a port of a container this agent runs")

// resolve returns where to dial for the published address addr: the
// container's own address behind it, or the portal. Every answer is
// checked against the engine's view at the time of the request, so a
// port freed by a removed container and taken by another never leads to
// the other.
func (t *tunnels) resolve(ctx context.Context, addr string) (string, error) {
	if t.name == "" {
		return "", errNotOurs
	}
	if t.portal != "" && addr == t.portal {
		return t.portal, nil
	}
	if _, _, err := net.SplitHostPort(addr); err != nil {
		return "", errNotOurs
	}
	t.mu.Lock()
	id := t.byPub[addr]
	t.mu.Unlock()
	if id != "" {
		if info, err := t.rt.InspectContainer(ctx, id); err == nil {
			if target, ok := t.target(info, addr); ok {
				return target, nil
			}
		} else if !errors.Is(err, ErrNotFound) {
			return "", err
		}
	}
	// A miss: read the agent's containers again.
	list, err := t.rt.ListContainers(ctx, map[string]string{Label: t.name})
	if err != nil {
		return "", err
	}
	byPub := map[string]string{}
	for _, info := range list {
		for _, pub := range info.Ports {
			byPub[pub] = info.ID
		}
	}
	t.mu.Lock()
	t.byPub = byPub
	t.mu.Unlock()
	for _, info := range list {
		if target, ok := t.target(info, addr); ok {
			return target, nil
		}
	}
	return "", errNotOurs
}

// target is where to reach the container info for its published address
// addr, if info is a running container of this agent that publishes it.
func (t *tunnels) target(info ContainerInfo, addr string) (string, bool) {
	if info.Labels[Label] != t.name || !info.Running {
		return "", false
	}
	for port, pub := range info.Ports {
		if pub != addr {
			continue
		}
		if ep := info.Endpoints[port]; ep != "" {
			return ep, true
		}
		return pub, true
	}
	return "", false
}

// tunnel answers a CONNECT to a published address of one of this
// agent's containers (or to the host's portal) and then splices the
// connection to it: the edge reaches apps on this host through the
// agent's mutual TLS, and the apps' ports stay off the network. Any
// other address is refused.
func (s *Server) tunnel(w http.ResponseWriter, r *http.Request) {
	target, err := s.tunnels.resolve(r.Context(), r.Host)
	if errors.Is(err, errNotOurs) {
		writeError(w, http.StatusForbidden, "tunnel_refused", "the tunnel reaches only the published ports of this agent's running containers and the host's portal")
		return
	}
	if err != nil {
		s.fail(w, err)
		return
	}
	d := net.Dialer{Timeout: tunnelDialTimeout}
	up, err := d.DialContext(r.Context(), "tcp", target)
	if err != nil {
		writeError(w, http.StatusBadGateway, "upstream_unreachable", "the container does not accept connections on that port")
		return
	}
	conn, buf, err := http.NewResponseController(w).Hijack()
	if err != nil {
		up.Close()
		writeError(w, http.StatusInternalServerError, "tunnel_unsupported", "this connection cannot be tunneled: use HTTP/1.1")
		return
	}
	// The server's header deadlines must not end a long-lived tunnel.
	conn.SetDeadline(time.Time{})
	if _, err := io.WriteString(conn, "HTTP/1.1 200 Connection established\r\n\r\n"); err != nil {
		conn.Close()
		up.Close()
		return
	}
	// Bytes the client sent right behind its request are in buf: they
	// are the upstream's.
	splice(conn, buf.Reader, up)
}

// splice copies both ways until both directions are done, passing on a
// half-close, then closes both connections.
func splice(client net.Conn, fromClient io.Reader, up net.Conn) {
	var wg sync.WaitGroup
	wg.Go(func() {
		io.Copy(up, fromClient)
		closeWrite(up)
	})
	io.Copy(client, up)
	closeWrite(client)
	wg.Wait()
	client.Close()
	up.Close()
}

func closeWrite(c net.Conn) {
	switch c := c.(type) {
	case *net.TCPConn:
		c.CloseWrite()
	case *tls.Conn:
		c.CloseWrite()
	default:
		c.Close()
	}
}

// TunnelError is an agent's refusal to open a tunnel.
type TunnelError struct {
	Status int
	Code   string
}

func (e *TunnelError) Error() string {
	return fmt.Sprintf("the agent refused the tunnel: %d %s", e.Status, e.Code)
}

// tunnelHandshakeTimeout bounds the TLS handshake and the CONNECT
// exchange with the agent.
const tunnelHandshakeTimeout = 10 * time.Second

// DialTunnel opens a connection to addr on the agent's host through the
// agent: addr is the published address of one of the agent's containers
// (what the control plane records as a deployment's upstream) or the
// host's portal. The connection is the agent's mutual TLS, carrying the
// host's credential, spliced by the agent to the container: nothing on
// the host listens for it on the network. A refusal or an unreachable
// agent is a *net.OpError with Op "dial", as a refused direct connection
// would be, so callers that retry dial errors retry these too.
func (c *Client) DialTunnel(ctx context.Context, addr string) (net.Conn, error) {
	dialErr := func(err error) error { return &net.OpError{Op: "dial", Net: "tcp", Err: err} }
	d := &net.Dialer{Timeout: tunnelHandshakeTimeout, KeepAlive: 30 * time.Second}
	var conn net.Conn
	var err error
	if c.tls != nil {
		conn, err = (&tls.Dialer{NetDialer: d, Config: c.tls}).DialContext(ctx, "tcp", c.addr)
	} else {
		conn, err = d.DialContext(ctx, "tcp", c.addr)
	}
	if err != nil {
		return nil, dialErr(fmt.Errorf("reaching the agent: %w", err))
	}
	stop := context.AfterFunc(ctx, func() { conn.SetDeadline(time.Unix(1, 0)) })
	conn.SetDeadline(time.Now().Add(tunnelHandshakeTimeout))
	br := bufio.NewReader(conn)
	_, err = io.WriteString(conn, "CONNECT "+addr+" HTTP/1.1\r\nHost: "+addr+"\r\nAuthorization: Bearer "+c.secret+"\r\n\r\n")
	var resp *http.Response
	if err == nil {
		resp, err = http.ReadResponse(br, &http.Request{Method: http.MethodConnect})
	}
	if !stop() || err != nil {
		conn.Close()
		if ctx.Err() != nil {
			err = ctx.Err()
		}
		return nil, dialErr(fmt.Errorf("opening the tunnel: %w", err))
	}
	if resp.StatusCode != http.StatusOK {
		var p problem
		json.NewDecoder(io.LimitReader(resp.Body, 16<<10)).Decode(&p)
		conn.Close()
		return nil, dialErr(&TunnelError{Status: resp.StatusCode, Code: p.Code})
	}
	conn.SetDeadline(time.Time{})
	if br.Buffered() > 0 {
		return &bufferedConn{Conn: conn, r: br}, nil
	}
	return conn, nil
}

// bufferedConn is a connection whose first bytes were read ahead.
type bufferedConn struct {
	net.Conn
	r *bufio.Reader
}

func (c *bufferedConn) Read(p []byte) (int, error) { return c.r.Read(p) }
