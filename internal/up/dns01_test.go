package up

import (
	"context"
	"encoding/base64"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/libdns/libdns"

	"github.com/berth-dev/berth/internal/dnstest"
)

// TestRFC2136Flags: the provider takes its secret from the file or the
// environment, says which flag is missing, and no error repeats the
// secret.
func TestRFC2136Flags(t *testing.T) {
	secret := base64.StdEncoding.EncodeToString([]byte("thirty-two bytes of a tsig secret"))
	file := filepath.Join(t.TempDir(), "secret")
	if err := os.WriteFile(file, []byte(secret+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	base := RFC2136Config{Server: "127.0.0.1:53", Zone: "sites.example.com", KeyName: "berth-edge"}

	if p, err := (RFC2136Config{}).provider(); p != nil || err != nil {
		t.Errorf("no flags: %v, %v; want off", p, err)
	}
	withFile := base
	withFile.SecretFile = file
	p, err := withFile.provider()
	if err != nil || p.updates.Key != secret || !p.Covers("*.drsmith.sites.example.com") || p.Covers("*.example.org") {
		t.Fatalf("from a file: %+v, %v", p, err)
	}
	t.Setenv(TSIGSecretEnv, secret)
	if p, err := base.provider(); err != nil || p.updates.Key != secret {
		t.Fatalf("from the environment: %+v, %v", p, err)
	}

	t.Setenv(TSIGSecretEnv, "")
	noZone := base
	noZone.Zone = ""
	badAlg := withFile
	badAlg.Algorithm = "md5"
	badSecret := base
	badSecret.SecretFile = filepath.Join(t.TempDir(), "bad")
	os.WriteFile(badSecret.SecretFile, []byte("not base64 "+secret), 0o600)
	for _, tc := range []struct {
		cfg  RFC2136Config
		want string
	}{
		{RFC2136Config{Zone: "sites.example.com"}, "--rfc2136-server is not set"},
		{noZone, "--rfc2136-zone is not set"},
		{base, "the TSIG secret is not set"},
		{RFC2136Config{Server: "127.0.0.1:53", Zone: "z.example", SecretFile: file}, "key name"},
		{badAlg, "not one of"},
		{badSecret, "not base64"},
		{RFC2136Config{Server: "127.0.0.1:53", Zone: "z.example", KeyName: "k", SecretFile: "/nonexistent/secret"}, "reading --rfc2136-tsig-secret-file"},
	} {
		_, err := tc.cfg.provider()
		if err == nil || !strings.Contains(err.Error(), tc.want) || strings.Contains(err.Error(), secret) {
			t.Errorf("%+v: %v, want %q", tc.cfg, err, tc.want)
		}
	}
}

// TestRFC2136Updates publishes and removes TXT records as certmagic's
// DNS-01 solver does, through signed updates of the configured zone even
// when certmagic names a deeper one; a name outside the zone is refused
// unsent, and a refused update's error names the key, never the secret.
func TestRFC2136Updates(t *testing.T) {
	secret := base64.StdEncoding.EncodeToString([]byte("a test key of thirty-two bytes!!"))
	z := dnstest.Start(t, "cliniciq.test", "berth-edge", secret)
	t.Setenv(TSIGSecretEnv, secret)
	p, err := RFC2136Config{Server: z.Addr, Zone: "CliniciQ.test.", KeyName: "berth-edge"}.provider()
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	long := strings.Repeat("v", 300) + `\end`
	got, err := p.AppendRecords(ctx, "drsmith.cliniciq.test.", []libdns.Record{
		libdns.RR{Name: "_acme-challenge", Type: "TXT", Data: "token-1", TTL: time.Minute},
		libdns.TXT{Name: "_acme-challenge.sandbox", Text: long},
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0].RR().Name != "_acme-challenge" || got[0].RR().Data != "token-1" {
		t.Fatalf("AppendRecords returned %+v", got)
	}
	if v := z.TXT("_acme-challenge.drsmith.cliniciq.test"); !slices.Equal(v, []string{"token-1"}) {
		t.Errorf("served TXT = %q", v)
	}
	if v := z.TXT("_acme-challenge.sandbox.drsmith.cliniciq.test"); !slices.Equal(v, []string{long}) {
		t.Errorf("the long value came out as %q", v)
	}
	// Deleting what AppendRecords returned removes exactly that record.
	if _, err := p.DeleteRecords(ctx, "drsmith.cliniciq.test.", got[:1]); err != nil {
		t.Fatal(err)
	}
	if v := z.TXT("_acme-challenge.drsmith.cliniciq.test"); len(v) != 0 {
		t.Errorf("after deleting token-1: %q", v)
	}
	_, err = p.AppendRecords(ctx, "elsewhere.test.", []libdns.Record{libdns.TXT{Name: "_acme-challenge", Text: "t"}})
	if err == nil || !strings.Contains(err.Error(), "not in the zone") {
		t.Errorf("a name outside the zone: %v", err)
	}
	if n := z.Updates(); n != 2 || len(z.Refused()) != 0 {
		t.Errorf("updates %d, refused %q; want 2 and none", n, z.Refused())
	}

	wrong := base64.StdEncoding.EncodeToString([]byte("another key, thirty-two bytes!!!"))
	t.Setenv(TSIGSecretEnv, wrong)
	p, err = RFC2136Config{Server: z.Addr, Zone: "cliniciq.test", KeyName: "berth-edge"}.provider()
	if err != nil {
		t.Fatal(err)
	}
	_, err = p.AppendRecords(ctx, "cliniciq.test.", []libdns.Record{libdns.TXT{Name: "_acme-challenge", Text: "t"}})
	if err == nil || !strings.Contains(err.Error(), "berth-edge") || strings.Contains(err.Error(), wrong) {
		t.Errorf("an update signed with the wrong secret: %v", err)
	}
	if n := z.Updates(); n != 2 {
		t.Errorf("the server applied %d updates, want 2", n)
	}
}
