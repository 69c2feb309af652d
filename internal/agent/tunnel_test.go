package agent_test

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/berth-dev/berth/internal/agent"
	"github.com/berth-dev/berth/internal/blob"
	"github.com/berth-dev/berth/internal/pki"
)

// engine is a Runtime that reports a fixed set of containers whose
// ports are real HTTP servers on loopback; the rest of the interface is
// not used by the tunnel.
type engine struct {
	agent.Runtime
	containers []agent.ContainerInfo
}

func (e *engine) ListContainers(_ context.Context, labels map[string]string) ([]agent.ContainerInfo, error) {
	var out []agent.ContainerInfo
	for _, c := range e.containers {
		match := true
		for k, v := range labels {
			if c.Labels[k] != v {
				match = false
			}
		}
		if match {
			out = append(out, c)
		}
	}
	return out, nil
}

func (e *engine) InspectContainer(_ context.Context, id string) (agent.ContainerInfo, error) {
	for _, c := range e.containers {
		if c.ID == id {
			return c, nil
		}
	}
	return agent.ContainerInfo{}, agent.ErrNotFound
}

// app is an HTTP server standing for a container's port; it counts the
// connections it accepted.
func app(t *testing.T, body string) (*httptest.Server, *atomic.Int32) {
	var conns atomic.Int32
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, body)
	}))
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			conns.Add(1)
		}
	}
	srv.Start()
	t.Cleanup(srv.Close)
	return srv, &conns
}

// TestTunnel: over the agent's mutual TLS, a CONNECT to the published
// address of one of the agent's running containers reaches the
// container (several requests on one connection), and to the portal;
// anything else is refused, and so is a client without the control
// plane's certificate or credential.
func TestTunnel(t *testing.T) {
	ours, ourConns := app(t, "ours")
	stopped, _ := app(t, "stopped")
	others, _ := app(t, "another agent's")
	portal, _ := app(t, "portal")
	stray, _ := app(t, "not a container")
	addr := func(s *httptest.Server) string { return strings.TrimPrefix(s.URL, "http://") }
	const name = "host_test.agent.berth.internal"
	// The published addresses are made up: the agent dials the
	// container's own address behind them.
	eng := &engine{containers: []agent.ContainerInfo{
		{ID: "c1", Running: true, Labels: map[string]string{agent.Label: name},
			Ports: map[int]string{8080: "127.0.0.1:40001"}, Endpoints: map[int]string{8080: addr(ours)}},
		{ID: "c2", Running: false, Labels: map[string]string{agent.Label: name},
			Ports: map[int]string{8080: "127.0.0.1:40002"}, Endpoints: map[int]string{8080: addr(stopped)}},
		{ID: "c3", Running: true, Labels: map[string]string{agent.Label: "host_other.agent.berth.internal"},
			Ports: map[int]string{8080: "127.0.0.1:40003"}, Endpoints: map[int]string{8080: addr(others)}},
	}}

	ca, err := pki.LoadOrCreate(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	certPEM, keyPEM, err := ca.IssueAgent("host_test")
	if err != nil {
		t.Fatal(err)
	}
	serverTLS, err := pki.ServerTLS(certPEM, keyPEM, ca.CertPEM())
	if err != nil {
		t.Fatal(err)
	}
	blobs, err := blob.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	const secret = "the-host-secret"
	srv := agent.NewServer(agent.Config{Runtime: eng, Blobs: blobs, Secret: secret, Name: name, Portal: addr(portal)})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	go srv.ListenTLS(ctx, ln, serverTLS)
	base := "https://" + ln.Addr().String()
	c := agent.NewTLSClient(base, secret, ca.ClientTLS("host_test"))

	// Through the tunnel, with keep-alive: one connection carries every
	// request.
	hc := &http.Client{Transport: &http.Transport{DialContext: func(ctx context.Context, _, addr string) (net.Conn, error) {
		return c.DialTunnel(ctx, addr)
	}}}
	for i := range 3 {
		resp, err := hc.Get("http://127.0.0.1:40001/")
		if err != nil {
			t.Fatalf("request %d through the tunnel: %v", i, err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || string(b) != "ours" {
			t.Fatalf("request %d through the tunnel: %d %q", i, resp.StatusCode, b)
		}
	}
	if n := ourConns.Load(); n != 1 {
		t.Fatalf("the container saw %d connections for 3 requests, want 1 (keep-alive through the tunnel)", n)
	}
	resp, err := hc.Get("http://" + addr(portal) + "/")
	if err != nil {
		t.Fatalf("the portal through the tunnel: %v", err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if string(b) != "portal" {
		t.Fatalf("the portal through the tunnel answered %q", b)
	}

	// Refused: a stopped container, another agent's container, a
	// listener that is no container, the agent itself, no address.
	for _, target := range []string{"127.0.0.1:40002", "127.0.0.1:40003", addr(stray), ln.Addr().String(), addr(ours), "nonsense"} {
		_, err := c.DialTunnel(context.Background(), target)
		var te *agent.TunnelError
		var op *net.OpError
		if !errors.As(err, &te) || te.Status != http.StatusForbidden || te.Code != "tunnel_refused" || !errors.As(err, &op) || op.Op != "dial" {
			t.Errorf("tunnel to %s: %v; want a dial error with 403 tunnel_refused", target, err)
		}
	}

	// Without the control plane's certificate the handshake fails;
	// without the host's credential the agent answers 401.
	noCert := ca.ClientTLS("host_test").Clone()
	noCert.Certificates = nil
	if _, err := agent.NewTLSClient(base, secret, noCert).DialTunnel(context.Background(), "127.0.0.1:40001"); err == nil {
		t.Fatal("a client without the certificate opened a tunnel")
	}
	raw, err := tls.Dial("tcp", ln.Addr().String(), noCert)
	if err == nil {
		fmt.Fprintf(raw, "CONNECT 127.0.0.1:40001 HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\n\r\n", secret)
		if n, _ := raw.Read(make([]byte, 64)); n > 0 {
			t.Fatal("the agent answered a client without a certificate")
		}
		raw.Close()
	}
	_, err = agent.NewTLSClient(base, "wrong", ca.ClientTLS("host_test")).DialTunnel(context.Background(), "127.0.0.1:40001")
	var te *agent.TunnelError
	if !errors.As(err, &te) || te.Status != http.StatusUnauthorized {
		t.Fatalf("a tunnel with a wrong credential: %v, want 401", err)
	}

	// An agent without a name (the pool's) has no tunnel.
	plain := agent.NewServer(agent.Config{Runtime: eng, Blobs: blobs, Secret: secret})
	ln2, _ := net.Listen("tcp", "127.0.0.1:0")
	go plain.Listen(ctx, ln2)
	_, err = agent.NewClient("http://"+ln2.Addr().String(), secret).DialTunnel(context.Background(), "127.0.0.1:40001")
	if !errors.As(err, &te) || te.Status != http.StatusForbidden {
		t.Fatalf("a tunnel through a nameless agent: %v, want 403", err)
	}
}
