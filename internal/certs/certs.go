// Package certs gets and renews the edge's TLS certificates over ACME
// (certmagic), keeping them in the Berth store so every edge on one store
// serves the same certificates and only one of them orders each.
//
// Exact names are issued on demand, during the first TLS handshake that
// asks for them, over HTTP-01 answered by the edge's HTTP listener; a
// name is ordered only when Config.Allow says so, which is the control
// plane's decision (a hostname it routes, under a verified domain).
// Wildcard names are ordered over DNS-01 when a DNS provider is
// configured, by the control plane through ManageWildcards, and exact
// names can be ordered before any handshake through Obtain; both only
// for what Config.Allow allows.
package certs

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/caddyserver/certmagic"
	"go.uber.org/zap"
)

// Config configures a Manager.
type Config struct {
	// Objects is where certificates, keys and ACME state live.
	Objects Objects
	// CA is the ACME directory URL (Let's Encrypt's when empty).
	CA string
	// CARoots are trusted for the CA's own HTTPS endpoint; nil trusts the
	// system's roots.
	CARoots *x509.CertPool
	// Email is the ACME account's contact address (optional).
	Email string
	// HTTPAddr is the edge's HTTP listener (host:port). The CA validates
	// HTTP-01 on port 80 of the name; in tests, on this port. The manager
	// never binds it: the edge answers through HandleChallenge.
	HTTPAddr string
	// Allow decides whether a certificate may be ordered (or loaded) for
	// a name; an error refuses, and its text goes to the log only.
	Allow func(ctx context.Context, name string) error
	// Result is told the outcome of every order: err is nil when the
	// certificate for name was obtained. It must return quickly.
	Result func(ctx context.Context, name string, renewal bool, err error)
	// DNS, when set, publishes the DNS-01 challenges of the wildcard
	// names given to ManageWildcards.
	DNS DNSProvider
	// DNSResolvers are the nameservers (host:port) asked for the zone of
	// a challenge record and whether it is visible yet; empty: the
	// system's resolvers, then the zone's authoritative servers.
	DNSResolvers []string
	// Log receives certmagic's records and the manager's own (nil:
	// discarded).
	Log *slog.Logger
}

// DNSProvider publishes and removes DNS records (libdns's appender and
// deleter) in the zones it can change.
type DNSProvider interface {
	certmagic.DNSProvider
	// Covers reports whether the DNS-01 record of name (such as
	// "*.example.com") is in a zone the provider changes.
	Covers(name string) bool
}

// Manager serves certificates during TLS handshakes and answers ACME
// HTTP-01 challenges.
type Manager struct {
	cfg    Config
	store  *Storage
	cache  *certmagic.Cache
	exact  *certmagic.Config // on demand, HTTP-01
	exactA *certmagic.ACMEIssuer
	wild   *certmagic.Config // managed, DNS-01; nil without a DNS provider
	wildA  *certmagic.ACMEIssuer

	// ctx bounds the orders placed in the background; Stop ends it.
	ctx  context.Context
	stop context.CancelFunc

	mu    sync.Mutex
	known map[string]time.Time // host → until when "no certificate" holds
}

// negativeTTL is how long HasCertificate trusts a "no" before looking in
// the store again, where another edge may have put one.
const negativeTTL = 3 * time.Second

// New returns a Manager; Stop it when done.
func New(cfg Config) (*Manager, error) {
	if cfg.Objects == nil || cfg.Allow == nil {
		return nil, errors.New("certificates: Objects and Allow are required")
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	if cfg.CA == "" {
		cfg.CA = certmagic.LetsEncryptProductionCA
	}
	host, portText, err := net.SplitHostPort(cfg.HTTPAddr)
	if err != nil {
		return nil, fmt.Errorf("certificates: the edge's HTTP address %q: %w", cfg.HTTPAddr, err)
	}
	port, err := strconv.Atoi(portText)
	if err != nil {
		return nil, fmt.Errorf("certificates: the edge's HTTP port %q: %w", portText, err)
	}
	logger := zap.New(slogCore{cfg.Log.Handler()})
	m := &Manager{cfg: cfg, store: NewStorage(cfg.Objects), known: map[string]time.Time{}}
	m.ctx, m.stop = context.WithCancel(context.Background())
	m.cache = certmagic.NewCache(certmagic.CacheOptions{
		GetConfigForCert: func(c certmagic.Certificate) (*certmagic.Config, error) {
			if m.wild != nil && slicesHasWildcard(c.Names) {
				return m.wild, nil
			}
			return m.exact, nil
		},
		Logger: logger,
	})
	onEvent := func(ctx context.Context, event string, data map[string]any) error {
		m.event(ctx, event, data)
		return nil
	}
	m.exact = certmagic.New(m.cache, certmagic.Config{
		Storage: m.store,
		OnDemand: &certmagic.OnDemandConfig{DecisionFunc: func(ctx context.Context, name string) error {
			return m.cfg.Allow(ctx, name)
		}},
		OnEvent: onEvent,
		Logger:  logger,
	})
	m.exactA = certmagic.NewACMEIssuer(m.exact, certmagic.ACMEIssuer{
		CA: cfg.CA, TrustedRoots: cfg.CARoots, Email: cfg.Email, Agreed: true,
		DisableTLSALPNChallenge: true,
		// The edge's own address: binding it fails, so certmagic starts
		// no listener of its own and the edge answers the challenge.
		ListenHost: host, AltHTTPPort: port,
		Logger: logger,
	})
	m.exact.Issuers = []certmagic.Issuer{onceIssuer{m.exactA}}
	if cfg.DNS != nil {
		m.wild = certmagic.New(m.cache, certmagic.Config{Storage: m.store, OnEvent: onEvent, Logger: logger})
		m.wildA = certmagic.NewACMEIssuer(m.wild, certmagic.ACMEIssuer{
			CA: cfg.CA, TrustedRoots: cfg.CARoots, Email: cfg.Email, Agreed: true,
			DisableHTTPChallenge: true, DisableTLSALPNChallenge: true,
			DNS01Solver: &certmagic.DNS01Solver{DNSManager: certmagic.DNSManager{
				DNSProvider: cfg.DNS, Resolvers: cfg.DNSResolvers, Logger: logger,
			}},
			Logger: logger,
		})
		// Once per attempt, as for exact names: a failed wildcard is
		// recorded on its domain and ordered again when the domain is
		// verified again or the control plane's retry comes round.
		m.wild.Issuers = []certmagic.Issuer{onceIssuer{m.wildA}}
	}
	return m, nil
}

// Stop ends certificate maintenance and the orders in the background.
func (m *Manager) Stop() {
	m.stop()
	m.cache.Stop()
}

// TLSConfig is the configuration of the edge's HTTPS listener.
func (m *Manager) TLSConfig() *tls.Config {
	return &tls.Config{
		GetCertificate: m.getCertificate,
		NextProtos:     []string{"h2", "http/1.1"},
		MinVersion:     tls.VersionTLS12,
	}
}

// getCertificate serves a name's own certificate, else a wildcard that
// covers it, else what on-demand issuance gets. A wildcard goes through
// the DNS-01 configuration that manages it: the on-demand one would try
// to renew it over HTTP-01, which cannot issue wildcards.
func (m *Manager) getCertificate(hello *tls.ClientHelloInfo) (*tls.Certificate, error) {
	if m.wild == nil {
		return m.exact.GetCertificate(hello)
	}
	name := strings.ToLower(strings.TrimSuffix(hello.ServerName, "."))
	certs := m.cache.AllMatchingCertificates(name)
	if len(certs) > 0 {
		if slices.Contains(certs[0].Names, name) {
			return m.exact.GetCertificate(hello)
		}
		return m.wild.GetCertificate(hello)
	}
	// Another edge on the store may have obtained the wildcard.
	if wildcard, ok := wildcardOf(name); ok && m.store.Exists(hello.Context(), certmagic.StorageKeys.SiteCert(m.wildA.IssuerKey(), wildcard)) {
		if _, err := m.wild.CacheManagedCertificate(hello.Context(), wildcard); err == nil {
			return m.wild.GetCertificate(hello)
		}
	}
	return m.exact.GetCertificate(hello)
}

// wildcardOf is the wildcard name that covers name: its first label
// replaced by "*".
func wildcardOf(name string) (string, bool) {
	i := strings.IndexByte(name, '.')
	if i <= 0 || strings.HasPrefix(name, "*.") {
		return "", false
	}
	return "*" + name[i:], true
}

// HandleChallenge answers an ACME HTTP-01 challenge request, whichever
// edge on the store started it, and reports whether r was one.
func (m *Manager) HandleChallenge(w http.ResponseWriter, r *http.Request) bool {
	return m.exactA.HandleHTTPChallenge(w, r)
}

// HasCertificate reports whether a certificate for host exists, in this
// edge's memory or in the store.
func (m *Manager) HasCertificate(ctx context.Context, host string) bool {
	if len(m.cache.AllMatchingCertificates(host)) > 0 {
		return true
	}
	m.mu.Lock()
	until, ok := m.known[host]
	m.mu.Unlock()
	if ok && time.Now().Before(until) {
		return false
	}
	names := []string{host}
	if wildcard, ok := wildcardOf(host); ok {
		names = append(names, wildcard)
	}
	for _, n := range names {
		if m.store.Exists(ctx, certmagic.StorageKeys.SiteCert(m.exactA.IssuerKey(), n)) {
			return true
		}
	}
	m.mu.Lock()
	if len(m.known) > 10000 {
		clear(m.known)
	}
	m.known[host] = time.Now().Add(negativeTTL)
	m.mu.Unlock()
	return false
}

// CanOrderWildcard reports whether the wildcard name (such as
// "*.example.com") can be ordered: a DNS provider is configured and its
// zone holds the name's challenge record.
func (m *Manager) CanOrderWildcard(name string) bool {
	return m.wild != nil && strings.HasPrefix(name, "*.") && m.cfg.DNS.Covers(name)
}

// ManageWildcards obtains and renews the certificates for names (such as
// "*.example.com") over DNS-01, in the background; a name whose
// certificate is in the store is loaded, not ordered. Without a DNS
// provider whose zone holds them it fails.
func (m *Manager) ManageWildcards(ctx context.Context, names []string) error {
	for _, n := range names {
		if !m.CanOrderWildcard(n) {
			return fmt.Errorf("certificates: %s needs a DNS provider for its zone", n)
		}
	}
	// Management outlives the request that asked for it.
	return m.wild.ManageAsync(m.ctx, names)
}

// Obtain orders the certificate of an exact name in the background, as
// the first handshake would, so that it exists before anyone asks; when
// one is in the store it does nothing. Config.Allow decides first, and
// its refusal is returned.
func (m *Manager) Obtain(ctx context.Context, name string) error {
	name = strings.ToLower(name)
	if err := m.cfg.Allow(ctx, name); err != nil {
		return err
	}
	go func() {
		if err := m.exact.ObtainCertAsync(m.ctx, name); err != nil {
			m.cfg.Log.Warn("ordering certificate ahead of its first handshake failed", "name", name, "err", err)
		}
	}()
	return nil
}

// event turns certmagic's events into Result calls.
func (m *Manager) event(ctx context.Context, event string, data map[string]any) {
	if m.cfg.Result == nil {
		return
	}
	name, _ := data["identifier"].(string)
	renewal, _ := data["renewal"].(bool)
	switch event {
	case "cert_obtained":
		m.mu.Lock()
		delete(m.known, name)
		m.mu.Unlock()
		m.cfg.Result(ctx, name, renewal, nil)
	case "cert_failed":
		err, _ := data["error"].(error)
		if err == nil {
			err = errors.New("the certificate could not be obtained")
		}
		m.cfg.Result(ctx, name, renewal, err)
	}
}

// onceIssuer orders once per attempt: certmagic would otherwise retry a
// failed on-demand order for minutes while the client's handshake waits.
// The control plane's gate spaces out the next attempt instead.
type onceIssuer struct{ *certmagic.ACMEIssuer }

func (i onceIssuer) Issue(ctx context.Context, csr *x509.CertificateRequest) (*certmagic.IssuedCertificate, error) {
	c, err := i.ACMEIssuer.Issue(ctx, csr)
	if err != nil {
		return nil, certmagic.ErrNoRetry{Err: err}
	}
	return c, nil
}

func slicesHasWildcard(names []string) bool {
	for _, n := range names {
		if strings.HasPrefix(n, "*.") {
			return true
		}
	}
	return false
}
