package cli

import (
	"github.com/spf13/cobra"

	"github.com/berth-dev/berth/internal/up"
)

// managedTLSFlag is the flag of how the managed names under the platform
// domain get certificates.
func managedTLSFlag(cmd *cobra.Command, cfg *up.TLSConfig) {
	cmd.Flags().StringVar(&cfg.ManagedNames, "acme-managed-names", "auto",
		"how {project}.{org}.DOMAIN and {sandbox}.sandbox.{org}.DOMAIN get certificates: auto (each org's two wildcards over DNS-01 when --rfc2136-zone is DOMAIN or a parent of it, else none), http-01 (also one certificate per name, ordered over HTTP-01 on its first HTTPS request: mind the CA's rate limits), off")
}
