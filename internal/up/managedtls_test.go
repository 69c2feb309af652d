package up

import (
	"strings"
	"testing"

	"github.com/berth-dev/berth/internal/control"
)

// TestManagedNamesFlag: --acme-managed-names defaults to auto, takes
// http-01 only with the HTTPS listener, and says what it takes.
func TestManagedNamesFlag(t *testing.T) {
	for _, tc := range []struct {
		cfg  TLSConfig
		want control.ManagedTLS
		err  string
	}{
		{TLSConfig{}, control.ManagedTLSAuto, ""},
		{TLSConfig{Listen: ":443", ManagedNames: "http-01"}, control.ManagedTLSHTTP01, ""},
		{TLSConfig{ManagedNames: "off"}, control.ManagedTLSOff, ""},
		{TLSConfig{ManagedNames: "http-01"}, "", "give --edge-tls-listen too"},
		{TLSConfig{Listen: ":443", ManagedNames: "always"}, "", `--acme-managed-names: "always" is not`},
	} {
		got, err := tc.cfg.managedTLS()
		if got != tc.want || (tc.err == "") != (err == nil) || err != nil && !strings.Contains(err.Error(), tc.err) {
			t.Errorf("%+v: %q, %v; want %q, %q", tc.cfg, got, err, tc.want, tc.err)
		}
	}
}
