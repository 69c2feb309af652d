package up

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/berth-dev/berth/internal/control/certificates"
	"github.com/berth-dev/berth/internal/control/names"
	"github.com/berth-dev/berth/internal/rfc2136"
)

// RFC2136Config turns on wildcard certificates over ACME DNS-01 for the
// org and workspace domains in one zone, whose challenge records are
// published by RFC 2136 dynamic updates, signed with a TSIG key, to the
// zone's primary server (off when Server is empty).
type RFC2136Config struct {
	// Server is the primary's address (host:port).
	Server string
	// Zone is the zone the updates change; wildcards are ordered for the
	// domains under it.
	Zone string
	// KeyName and Algorithm name the TSIG key (Algorithm empty:
	// hmac-sha256).
	KeyName, Algorithm string
	// SecretFile holds the key's base64 secret; empty: the environment
	// variable BERTH_RFC2136_TSIG_SECRET does.
	SecretFile string
}

// TSIGSecretEnv is the environment variable the TSIG secret is read from
// when no file is given.
const TSIGSecretEnv = "BERTH_RFC2136_TSIG_SECRET"

// provider makes the DNS provider cfg describes; nil when it is off. No
// error repeats the secret.
func (cfg RFC2136Config) provider() (*rfc2136.Provider, error) {
	if cfg.Server == "" {
		if cfg.Zone != "" || cfg.KeyName != "" || cfg.SecretFile != "" {
			return nil, errors.New("--rfc2136-server is not set: give the address of the zone's primary DNS server, or leave out the other --rfc2136 flags")
		}
		return nil, nil
	}
	if cfg.Zone == "" {
		return nil, errors.New("--rfc2136-zone is not set: give the zone the server takes updates for (the org and workspace domains under it get wildcard certificates)")
	}
	secret := os.Getenv(TSIGSecretEnv)
	if cfg.SecretFile != "" {
		b, err := os.ReadFile(cfg.SecretFile)
		if err != nil {
			return nil, fmt.Errorf("reading --rfc2136-tsig-secret-file: %w", err)
		}
		secret = string(b)
	}
	p := &rfc2136.Provider{Server: cfg.Server, Zone: cfg.Zone, KeyName: cfg.KeyName, Algorithm: cfg.Algorithm, Secret: strings.TrimSpace(secret)}
	if p.Secret == "" {
		return nil, fmt.Errorf("the TSIG secret is not set: give --rfc2136-tsig-secret-file or set %s", TSIGSecretEnv)
	}
	if err := p.Check(); err != nil {
		return nil, fmt.Errorf("--rfc2136 flags: %w", err)
	}
	return p, nil
}

// names adds the edge's HTTPS port and certificates to n, so that a URL
// the API returns is https once the edge has a certificate for its host.
func (t *edgeTLS) names(n names.Names) names.Names {
	if t == nil {
		return n
	}
	n.TLSPort = t.port
	n.Secure = func(host string) bool {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		return t.certs.HasCertificate(ctx, host)
	}
	return n
}

// orders is what orders certificates ahead of handshakes: nil (HTTPS off)
// leaves the control plane without.
func (t *edgeTLS) orders() certificates.Certificates {
	if t == nil {
		return nil
	}
	return t.certs
}
