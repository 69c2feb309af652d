package cli

import (
	"github.com/spf13/cobra"

	"github.com/berth-dev/berth/internal/up"
)

// rfc2136Flags are the flags of wildcard certificates over DNS-01, with
// challenge records published by RFC 2136 dynamic update.
func rfc2136Flags(cmd *cobra.Command, cfg *up.RFC2136Config) {
	f := cmd.Flags()
	f.StringVar(&cfg.Server, "rfc2136-server", "", "primary DNS server (host:port) that takes RFC 2136 updates for --rfc2136-zone: org and workspace domains under that zone then get wildcard certificates over DNS-01; default: off")
	f.StringVar(&cfg.Zone, "rfc2136-zone", "", "zone the RFC 2136 server updates (e.g. example.com)")
	f.StringVar(&cfg.KeyName, "rfc2136-tsig-key", "", "name of the TSIG key the updates are signed with")
	f.StringVar(&cfg.Algorithm, "rfc2136-tsig-algorithm", "hmac-sha256", "algorithm of the TSIG key (hmac-sha256, hmac-sha384, hmac-sha512, hmac-sha224, hmac-sha1)")
	f.StringVar(&cfg.SecretFile, "rfc2136-tsig-secret-file", "", "file holding the TSIG key's base64 secret; default: the environment variable "+up.TSIGSecretEnv)
}
