package up

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/libdns/libdns"
	"github.com/libdns/rfc2136"
	"github.com/miekg/dns"

	"github.com/berth-dev/berth/internal/certs"
	"github.com/berth-dev/berth/internal/control/certificates"
	"github.com/berth-dev/berth/internal/control/names"
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

// tsigAlgorithms are the TSIG algorithms updates are signed with.
var tsigAlgorithms = []string{"hmac-sha256", "hmac-sha384", "hmac-sha512", "hmac-sha224", "hmac-sha1"}

// provider makes the DNS provider cfg describes; nil when it is off. No
// error repeats the secret.
func (cfg RFC2136Config) provider() (*zoneUpdates, error) {
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
	secret = strings.TrimSpace(secret)
	if secret == "" {
		return nil, fmt.Errorf("the TSIG secret is not set: give --rfc2136-tsig-secret-file or set %s", TSIGSecretEnv)
	}
	alg := strings.TrimSuffix(strings.ToLower(cfg.Algorithm), ".")
	if alg == "" {
		alg = "hmac-sha256"
	}
	_, isName := dns.IsDomainName(cfg.Zone)
	switch {
	case cfg.KeyName == "":
		return nil, errors.New("--rfc2136 flags: the TSIG key name is not set")
	case !isBase64(secret):
		return nil, errors.New("--rfc2136 flags: the TSIG secret is not base64 (give it as tsig-keygen prints it)")
	case !slices.Contains(tsigAlgorithms, alg):
		return nil, fmt.Errorf("--rfc2136 flags: the TSIG algorithm %q is not one of %s", cfg.Algorithm, strings.Join(tsigAlgorithms, ", "))
	case !isName || strings.ContainsAny(cfg.Zone, " \t*"):
		return nil, fmt.Errorf("--rfc2136 flags: the zone %q is not a domain name", cfg.Zone)
	}
	return &zoneUpdates{
		updates: &rfc2136.Provider{Server: cfg.Server, KeyName: cfg.KeyName, KeyAlg: dns.Fqdn(alg), Key: secret},
		zone:    dns.Fqdn(strings.ToLower(cfg.Zone)),
	}, nil
}

func isBase64(s string) bool {
	_, err := base64.StdEncoding.DecodeString(s)
	return err == nil
}

// zoneUpdates publishes the DNS-01 records of the names in one zone by
// signed updates of that zone, even when certmagic found a deeper one by
// SOA (a delegated subzone the primary serves as part of its own); a
// record outside it is refused before anything is sent.
type zoneUpdates struct {
	updates *rfc2136.Provider
	zone    string // fully qualified, lowercase
}

// Covers reports whether name ("*.example.com", "x.example.com") lies in
// the zone, so that its DNS-01 record can be published.
func (z *zoneUpdates) Covers(name string) bool {
	return dns.IsSubDomain(z.zone, dns.Fqdn(strings.ToLower(strings.TrimPrefix(name, "*."))))
}

// AppendRecords adds recs, named relative to zone, in one update and
// returns them.
func (z *zoneUpdates) AppendRecords(ctx context.Context, zone string, recs []libdns.Record) ([]libdns.Record, error) {
	return z.update(ctx, zone, recs, z.updates.AppendRecords)
}

// DeleteRecords removes recs, named relative to zone, in one update and
// returns them. A record whose type or data is empty removes every
// record of the name (and type) it names.
func (z *zoneUpdates) DeleteRecords(ctx context.Context, zone string, recs []libdns.Record) ([]libdns.Record, error) {
	return z.update(ctx, zone, recs, z.updates.DeleteRecords)
}

// update renames recs relative to the configured zone and sends them
// with send.
func (z *zoneUpdates) update(ctx context.Context, zone string, recs []libdns.Record, send func(context.Context, string, []libdns.Record) ([]libdns.Record, error)) ([]libdns.Record, error) {
	rebased := make([]libdns.Record, len(recs))
	for i, rec := range recs {
		rr := rec.RR()
		name := strings.ToLower(libdns.AbsoluteName(rr.Name, dns.Fqdn(zone)))
		if !dns.IsSubDomain(z.zone, name) {
			return nil, fmt.Errorf("rfc2136: %s is not in the zone %s", name, z.zone)
		}
		rr.Name = libdns.RelativeName(name, z.zone)
		rebased[i] = rr
	}
	if _, err := send(ctx, z.zone, rebased); err != nil {
		return nil, fmt.Errorf("rfc2136: updating zone %s at %s with key %s: %w", z.zone, z.updates.Server, z.updates.KeyName, err)
	}
	return recs, nil
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

var _ certs.DNSProvider = (*zoneUpdates)(nil)
