package e2e

import (
	"context"
	"crypto/tls"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/berth-dev/berth/client"
	"github.com/berth-dev/berth/internal/store/sqlite"
	"github.com/berth-dev/berth/internal/up"
)

// BenchmarkTLSHandshakes measures full TLS handshakes per second (no
// session resumption) on the edge's HTTPS listener, serving a certificate
// it got from Pebble, beside a Debian nginx serving the same certificate
// and key, in alternating rounds on the same machine. Each handshake is a
// new TCP connection, a TLS 1.3 handshake and a close.
//
//	go test ./e2e -run '^$' -bench TLSHandshakes -benchtime 1x
//
// BERTH_BENCH_ROUNDS, BERTH_BENCH_SECONDS and BERTH_BENCH_WORKERS change
// the rounds (5), seconds per round and target (5) and workers (32).
func BenchmarkTLSHandshakes(b *testing.B) {
	nginx, err := exec.LookPath("nginx")
	if err != nil {
		b.Skip("nginx is not installed (apt-get install nginx-light)")
	}
	bin := pebbleBin(b)
	rounds, seconds, workers := envInt("BERTH_BENCH_ROUNDS", 5), envInt("BERTH_BENCH_SECONDS", 5), envInt("BERTH_BENCH_WORKERS", 32)
	zone := startZoneServer(b)
	peb := preparePebble(b)
	var tlsAddr string
	p := start(b, func(c *up.Config) {
		c.DNSResolver = zone.addr
		c.TLS = up.TLSConfig{Listen: "127.0.0.1:0", CA: peb.dir, CARoot: peb.rootPEM}
		ready := c.Ready
		c.Ready = func(i up.Info) { tlsAddr = i.EdgeTLSAddr; ready(i) }
	})
	_, httpPort, _ := net.SplitHostPort(p.edgeAddr)
	port, _ := strconv.Atoi(httpPort)
	peb.start(b, bin, port, zone.addr)
	ctx := context.Background()
	_, _, pr := p.tenant(b, "Bench")
	rel, err := p.api.CreateRelease(ctx, makeTar(file("index.html", "hi")), client.ReleaseOptions{ProjectID: pr.ID})
	if err != nil {
		b.Fatal(err)
	}
	d, err := p.api.Deploy(ctx, client.CreateDeployment{ProjectID: pr.ID, ReleaseID: rel.ID})
	if err != nil {
		b.Fatal(err)
	}
	waitReady(b, p, d.ID, rel.ID)
	const host = "bench.tls.test"
	zone.host(host)
	dom, err := p.api.CreateDomain(ctx, client.CreateDomain{Hostname: host, DeploymentID: d.ID})
	if err != nil {
		b.Fatal(err)
	}
	zone.publish(b, dom)
	if _, err := p.api.VerifyDomain(ctx, dom.ID); err != nil {
		b.Fatal(err)
	}
	roots := peb.issuingRoot(b)
	cfg := &tls.Config{ServerName: host, RootCAs: roots, SessionTicketsDisabled: true}
	if err := handshakeOnce(tlsAddr, cfg); err != nil {
		b.Fatalf("first handshake (issuance): %v", err)
	}

	// The same certificate and key, out of the store, for nginx.
	dir := b.TempDir()
	seal, err := os.ReadFile(filepath.Join(p.dataDir, "seal.key"))
	if err != nil {
		b.Fatal(err)
	}
	db, err := sqlite.Open(filepath.Join(p.dataDir, "berth.db"), seal)
	if err != nil {
		b.Fatal(err)
	}
	keys, err := db.ListCertKeys(ctx, "certificates")
	if err != nil {
		b.Fatal(err)
	}
	for _, k := range keys {
		for _, ext := range []string{".crt", ".key"} {
			if strings.HasSuffix(k, "/"+host+ext) {
				o, err := db.GetCertObject(ctx, k)
				if err != nil {
					b.Fatal(err)
				}
				os.WriteFile(filepath.Join(dir, "site"+ext), o.Value, 0o600)
			}
		}
	}
	db.Close()
	nginxAddr := freePort(b)
	conf := fmt.Sprintf(`worker_processes auto; daemon off; pid %[1]s/nginx.pid; error_log %[1]s/error.log;
events { worker_connections 4096; }
http { access_log off;
  server { listen %[2]s ssl; server_name %[3]s;
    ssl_certificate %[1]s/site.crt; ssl_certificate_key %[1]s/site.key;
    ssl_protocols TLSv1.2 TLSv1.3; ssl_session_cache off; ssl_session_tickets off;
    location / { return 200 "hi"; } } }
`, dir, nginxAddr, host)
	os.WriteFile(filepath.Join(dir, "nginx.conf"), []byte(conf), 0o600)
	cmd := exec.Command(nginx, "-c", filepath.Join(dir, "nginx.conf"), "-e", filepath.Join(dir, "error.log"))
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	eventually(b, 10*time.Second, "nginx answers TLS", func() bool { return handshakeOnce(nginxAddr, cfg) == nil })

	// Both serve the same leaf.
	for _, a := range []string{tlsAddr, nginxAddr} {
		c, err := tls.Dial("tcp", a, cfg)
		if err != nil {
			b.Fatal(err)
		}
		b.Logf("%s serves %v, %s", a, c.ConnectionState().PeerCertificates[0].DNSNames, tls.VersionName(c.ConnectionState().Version))
		c.Close()
	}

	var edgeRates, nginxRates []float64
	for r := range rounds {
		order := []string{"edge", "nginx"}
		if r%2 == 1 {
			order = []string{"nginx", "edge"}
		}
		for _, which := range order {
			addr := tlsAddr
			if which == "nginx" {
				addr = nginxAddr
			}
			rate, errs := handshakeRate(addr, cfg, workers, time.Duration(seconds)*time.Second)
			b.Logf("round %d %s: %.0f handshakes/s (%d errors)", r+1, which, rate, errs)
			if which == "edge" {
				edgeRates = append(edgeRates, rate)
			} else {
				nginxRates = append(nginxRates, rate)
			}
		}
	}
	e, n := median(edgeRates), median(nginxRates)
	b.ReportMetric(e, "edge-handshakes/s")
	b.ReportMetric(n, "nginx-handshakes/s")
	b.ReportMetric(e/n, "edge/nginx")
}

func handshakeOnce(addr string, cfg *tls.Config) error {
	c, err := tls.DialWithDialer(&net.Dialer{Timeout: 30 * time.Second}, "tcp", addr, cfg)
	if err != nil {
		return err
	}
	return c.Close()
}

// handshakeRate runs workers that each make fresh connections with a
// full handshake for d, and returns handshakes per second.
func handshakeRate(addr string, cfg *tls.Config, workers int, d time.Duration) (float64, int64) {
	var ok, bad atomic.Int64
	deadline := time.Now().Add(d)
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for time.Now().Before(deadline) {
				if handshakeOnce(addr, cfg) == nil {
					ok.Add(1)
				} else {
					bad.Add(1)
				}
			}
		})
	}
	wg.Wait()
	return float64(ok.Load()) / d.Seconds(), bad.Load()
}

func envInt(name string, def int) int {
	if n, err := strconv.Atoi(os.Getenv(name)); err == nil && n > 0 {
		return n
	}
	return def
}
