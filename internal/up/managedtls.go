package up

import (
	"errors"
	"fmt"

	"github.com/berth-dev/berth/internal/control/certificates"
)

// managedTLS reads how the managed names under the platform domain get
// certificates (--acme-managed-names).
func (cfg TLSConfig) managedTLS() (certificates.ManagedTLS, error) {
	m, err := certificates.ParseManagedTLS(cfg.ManagedNames)
	if err != nil {
		return "", fmt.Errorf("--acme-managed-names: %w", err)
	}
	if m == certificates.ManagedTLSHTTP01 && cfg.Listen == "" {
		return "", errors.New("--acme-managed-names=http-01 orders certificates for the edge's HTTPS listener, which is off: give --edge-tls-listen too")
	}
	return m, nil
}

// managedSummary says, for the operator at start, how the managed names
// under the platform domain P get certificates; covers reports whether
// the DNS provider can publish a wildcard's challenge (nil: there is
// none).
func managedSummary(mode certificates.ManagedTLS, P string, covers func(name string) bool) string {
	wildcards := covers != nil && covers("*.sandbox.org."+P)
	switch {
	case mode == certificates.ManagedTLSOff:
		return "no certificates (--acme-managed-names=off)"
	case wildcards && mode == certificates.ManagedTLSHTTP01:
		return fmt.Sprintf("each org's *.{org}.%s and *.sandbox.{org}.%s over DNS-01, other names one by one over HTTP-01", P, P)
	case wildcards:
		return fmt.Sprintf("each org's *.{org}.%s and *.sandbox.{org}.%s over DNS-01", P, P)
	case mode == certificates.ManagedTLSHTTP01:
		return "one certificate per name over HTTP-01, on its first HTTPS request"
	}
	return fmt.Sprintf("no certificates, URLs stay http (give --rfc2136-zone %s for wildcards, or --acme-managed-names=http-01)", P)
}

// managedSummary is managedSummary for the started edge; empty when HTTPS
// is off.
func (t *edgeTLS) managedSummary(mode certificates.ManagedTLS, P string) string {
	if t == nil {
		return ""
	}
	return managedSummary(mode, P, t.certs.CanOrderWildcard)
}
