package up

import (
	"errors"
	"fmt"

	"github.com/berth-dev/berth/internal/control"
)

// managedTLS reads how the managed names under the platform domain get
// certificates (--acme-managed-names).
func (cfg TLSConfig) managedTLS() (control.ManagedTLS, error) {
	m, err := control.ParseManagedTLS(cfg.ManagedNames)
	if err != nil {
		return "", fmt.Errorf("--acme-managed-names: %w", err)
	}
	if m == control.ManagedTLSHTTP01 && cfg.Listen == "" {
		return "", errors.New("--acme-managed-names=http-01 orders certificates for the edge's HTTPS listener, which is off: give --edge-tls-listen too")
	}
	return m, nil
}
