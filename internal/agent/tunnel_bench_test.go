package agent_test

import (
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/berth-dev/berth/internal/agent"
	"github.com/berth-dev/berth/internal/blob"
	"github.com/berth-dev/berth/internal/pki"
)

// BenchmarkTunnel compares small keep-alive requests to an app reached
// directly with the same requests through an agent's tunnel (mutual TLS,
// the agent splicing to the app), on loopback:
//
//	go test ./internal/agent -run '^$' -bench Tunnel -count 5
func BenchmarkTunnel(b *testing.B) {
	app := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "<h1>hello</h1>")
	}))
	b.Cleanup(app.Close)
	appAddr := strings.TrimPrefix(app.URL, "http://")
	const name = "host_bench.agent.berth.internal"
	eng := &engine{containers: []agent.ContainerInfo{{ID: "c1", Running: true, Labels: map[string]string{agent.Label: name},
		Ports: map[int]string{80: "127.0.0.1:40001"}, Endpoints: map[int]string{80: appAddr}}}}
	ca, err := pki.LoadOrCreate(b.TempDir())
	if err != nil {
		b.Fatal(err)
	}
	certPEM, keyPEM, _ := ca.IssueAgent("host_bench")
	serverTLS, _ := pki.ServerTLS(certPEM, keyPEM, ca.CertPEM())
	blobs, _ := blob.Open(b.TempDir())
	srv := agent.NewServer(agent.Config{Runtime: eng, Blobs: blobs, Secret: "s", Name: name})
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	ctx, cancel := context.WithCancel(context.Background())
	b.Cleanup(cancel)
	go srv.ListenTLS(ctx, ln, serverTLS)
	c := agent.NewTLSClient("https://"+ln.Addr().String(), "s", ca.ClientTLS("host_bench"))

	run := func(b *testing.B, url string, tr *http.Transport) {
		hc := &http.Client{Transport: tr}
		b.Cleanup(tr.CloseIdleConnections)
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				resp, err := hc.Get(url)
				if err != nil {
					b.Error(err)
					return
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
			}
		})
	}
	b.Run("direct", func(b *testing.B) {
		run(b, app.URL+"/", &http.Transport{MaxIdleConnsPerHost: 64})
	})
	b.Run("tunnel", func(b *testing.B) {
		run(b, "http://127.0.0.1:40001/", &http.Transport{MaxIdleConnsPerHost: 64,
			DialContext: func(ctx context.Context, _, addr string) (net.Conn, error) { return c.DialTunnel(ctx, addr) }})
	})
	b.Run("tunnel-dial", func(b *testing.B) {
		// A new tunnel per request: the handshake, the CONNECT and the
		// engine check, which keep-alive saves.
		run(b, "http://127.0.0.1:40001/", &http.Transport{DisableKeepAlives: true,
			DialContext: func(ctx context.Context, _, addr string) (net.Conn, error) { return c.DialTunnel(ctx, addr) }})
	})
}
