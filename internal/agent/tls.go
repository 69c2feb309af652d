package agent

import (
	"context"
	"crypto/tls"
	"net"
	"net/http"
	"time"
)

// NewTLSClient returns a client for an agent that listens with mutual TLS
// (https://addr): cfg carries the control plane's client certificate, the
// CA the agent's certificate must chain to and the name it must carry.
// The secret is still sent: the certificate proves the caller is the
// control plane, the secret that it is this host's.
func NewTLSClient(baseURL, secret string, cfg *tls.Config) *Client {
	return &Client{base: baseURL, secret: secret, addr: hostOf(baseURL), tls: cfg, hc: &http.Client{Transport: &http.Transport{
		TLSClientConfig:     cfg,
		TLSHandshakeTimeout: 10 * time.Second,
		MaxIdleConnsPerHost: 16,
		IdleConnTimeout:     90 * time.Second,
	}}}
}

// ListenTLS serves the agent API on ln with cfg, which must require and
// verify client certificates, until ctx ends. A client without a valid
// certificate never gets past the handshake.
func (s *Server) ListenTLS(ctx context.Context, ln net.Listener, cfg *tls.Config) error {
	if cfg.ClientAuth != tls.RequireAndVerifyClientCert {
		cfg = cfg.Clone()
		cfg.ClientAuth = tls.RequireAndVerifyClientCert
	}
	return s.Listen(ctx, tls.NewListener(ln, cfg))
}

// Files of an agent's directory (`berth agent --dir`), written by the
// provisioner that bootstraps the host.
const (
	CertFile     = "agent.crt"     // the agent's server certificate
	KeyFile      = "agent.key"     // its key
	ClientCAFile = "client-ca.crt" // the CA of the control plane's client certificate
	SecretFile   = "secret"        // the bearer credential the control plane sends
	AddrFile     = "agent.addr"    // where the agent listens, written once it does
	BlobsDir     = "blobs"         // uploaded artifacts
)
