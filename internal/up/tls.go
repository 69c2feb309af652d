package up

import (
	"context"
	"crypto/x509"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"time"

	"github.com/berth-dev/berth/internal/certs"
	"github.com/berth-dev/berth/internal/control"
	"github.com/berth-dev/berth/internal/edge"
	"github.com/berth-dev/berth/internal/store"
)

// TLSConfig turns on the edge's HTTPS listener with certificates from an
// ACME CA.
type TLSConfig struct {
	// Listen is the HTTPS listener's address; empty leaves HTTPS off.
	Listen string
	// CA is the ACME directory URL; empty: Let's Encrypt.
	CA string
	// CARoot is a PEM file of roots trusted for the CA's HTTPS endpoint
	// (a private CA such as Pebble or step-ca); empty: the system's.
	CARoot string
	// Email is the ACME account's contact (expiry notices).
	Email string
	// RFC2136 turns on wildcard certificates over DNS-01.
	RFC2136 RFC2136Config
	// ManagedNames is how the managed names under the platform domain get
	// certificates: "auto" (empty), "http-01" or "off"; see
	// certificates.ManagedTLS.
	ManagedNames string
}

// readHeaderTimeout bounds how long a client may take to send its
// request's headers.
const readHeaderTimeout = 10 * time.Second

// edgeTLS is the HTTPS side of the edge once started.
type edgeTLS struct {
	certs *certs.Manager
	ln    net.Listener
	port  int
	// internal is a loopback listener serving the edge without the
	// redirect, where the control plane's readiness probes and cron
	// requests go: they speak plain HTTP to the edge and must reach the
	// app, not be sent to HTTPS.
	internal net.Listener
}

// startEdgeTLS opens the HTTPS and internal listeners and makes the
// certificate manager, whose gate and results are the control plane's
// (ctl is read when the first handshake asks, after Run set it).
// resolver, when set, is the nameserver DNS-01 challenges are checked at.
func startEdgeTLS(cfg TLSConfig, resolver string, st store.Store, httpAddr net.Addr, ctl **control.Plane, log *slog.Logger) (*edgeTLS, error) {
	var roots *x509.CertPool
	if cfg.CARoot != "" {
		pem, err := os.ReadFile(cfg.CARoot)
		if err != nil {
			return nil, fmt.Errorf("reading --acme-ca-root: %w", err)
		}
		roots = x509.NewCertPool()
		if !roots.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("--acme-ca-root %s holds no PEM certificate", cfg.CARoot)
		}
	}
	cc := certs.Config{
		Objects: st, CA: cfg.CA, CARoots: roots, Email: cfg.Email, HTTPAddr: httpAddr.String(),
		Allow: func(ctx context.Context, name string) error { return (*ctl).Certificates.AllowCertificate(ctx, name) },
		Result: func(ctx context.Context, name string, renewal bool, err error) {
			(*ctl).Certificates.CertificateResult(ctx, name, renewal, err)
		},
		Log: log,
	}
	dns, err := cfg.RFC2136.provider()
	if err != nil {
		return nil, err
	}
	if dns != nil {
		cc.DNS = dns
		if resolver != "" {
			cc.DNSResolvers = []string{resolver}
		}
	}
	m, err := certs.New(cc)
	if err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", cfg.Listen)
	if err != nil {
		m.Stop()
		return nil, fmt.Errorf("listening for the edge's HTTPS on %s: %w", cfg.Listen, err)
	}
	internal, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		m.Stop()
		ln.Close()
		return nil, fmt.Errorf("listening for the edge's internal side: %w", err)
	}
	return &edgeTLS{certs: m, ln: ln, port: ln.Addr().(*net.TCPAddr).Port, internal: internal}, nil
}

// httpHandler is what the edge's plain-HTTP listener serves: challenges,
// redirects to HTTPS for hosts with a certificate, the edge for the rest.
func (t *edgeTLS) httpHandler(e http.Handler) http.Handler {
	return &edge.HTTPS{Next: e, Challenge: t.certs.HandleChallenge, HasCertificate: t.certs.HasCertificate, Port: t.port}
}

// serve serves e over HTTPS and on the internal listener until shutdown.
func (t *edgeTLS) serve(e http.Handler, errc chan<- error, log *slog.Logger) (shutdown func(context.Context)) {
	// A refused handshake (an unknown name) goes to the log; the client
	// only sees the handshake fail. Those are most of what the server
	// reports, and a client's doing: debug.
	errLog := slog.NewLogLogger(log.With("listener", "https").Handler(), slog.LevelDebug)
	tlsSrv := &http.Server{Handler: e, TLSConfig: t.certs.TLSConfig(), ReadHeaderTimeout: readHeaderTimeout, ErrorLog: errLog}
	inSrv := &http.Server{Handler: e, ReadHeaderTimeout: readHeaderTimeout}
	go func() {
		if err := tlsSrv.ServeTLS(t.ln, "", ""); err != nil && err != http.ErrServerClosed {
			errc <- fmt.Errorf("serving the edge's HTTPS: %w", err)
		}
	}()
	go func() {
		if err := inSrv.Serve(t.internal); err != nil && err != http.ErrServerClosed {
			errc <- fmt.Errorf("serving the edge's internal side: %w", err)
		}
	}()
	return func(ctx context.Context) {
		tlsSrv.Shutdown(ctx)
		inSrv.Shutdown(ctx)
		t.certs.Stop()
	}
}
