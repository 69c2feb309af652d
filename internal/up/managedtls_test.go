package up

import (
	"strings"
	"testing"

	"github.com/berth-dev/berth/internal/control/certificates"
)

// TestManagedNamesFlag: --acme-managed-names defaults to auto, takes
// http-01 only with the HTTPS listener, and says what it takes.
func TestManagedNamesFlag(t *testing.T) {
	for _, tc := range []struct {
		cfg  TLSConfig
		want certificates.ManagedTLS
		err  string
	}{
		{TLSConfig{}, certificates.ManagedTLSAuto, ""},
		{TLSConfig{Listen: ":443", ManagedNames: "http-01"}, certificates.ManagedTLSHTTP01, ""},
		{TLSConfig{ManagedNames: "off"}, certificates.ManagedTLSOff, ""},
		{TLSConfig{ManagedNames: "http-01"}, "", "give --edge-tls-listen too"},
		{TLSConfig{Listen: ":443", ManagedNames: "always"}, "", `--acme-managed-names: "always" is not`},
	} {
		got, err := tc.cfg.managedTLS()
		if got != tc.want || (tc.err == "") != (err == nil) || err != nil && !strings.Contains(err.Error(), tc.err) {
			t.Errorf("%+v: %q, %v; want %q, %q", tc.cfg, got, err, tc.want, tc.err)
		}
	}
}

// TestManagedSummary: what berth up says about the managed names follows
// the mode and whether the DNS provider's zone covers the platform domain.
func TestManagedSummary(t *testing.T) {
	inZone := func(name string) bool { return strings.HasSuffix(name, ".apps.example.com") }
	for _, tc := range []struct {
		mode   certificates.ManagedTLS
		covers func(string) bool
		want   string
	}{
		{certificates.ManagedTLSAuto, inZone, "each org's *.{org}.apps.example.com and *.sandbox.{org}.apps.example.com over DNS-01"},
		{certificates.ManagedTLSHTTP01, inZone, "other names one by one over HTTP-01"},
		{certificates.ManagedTLSAuto, nil, "no certificates, URLs stay http (give --rfc2136-zone apps.example.com"},
		{certificates.ManagedTLSAuto, func(string) bool { return false }, "no certificates, URLs stay http"},
		{certificates.ManagedTLSHTTP01, nil, "one certificate per name over HTTP-01"},
		{certificates.ManagedTLSOff, inZone, "no certificates (--acme-managed-names=off)"},
	} {
		if got := managedSummary(tc.mode, "apps.example.com", tc.covers); !strings.Contains(got, tc.want) {
			t.Errorf("%s, covers %v: %q, want %q", tc.mode, tc.covers != nil, got, tc.want)
		}
	}
}
