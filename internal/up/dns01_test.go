package up

import (
	"encoding/base64"
	"os"
	"path/filepath"
	"strings"
	"testing"
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
	if err != nil || p.Secret != secret || !p.Covers("*.drsmith.sites.example.com") || p.Covers("*.example.org") {
		t.Fatalf("from a file: %+v, %v", p, err)
	}
	t.Setenv(TSIGSecretEnv, secret)
	if p, err := base.provider(); err != nil || p.Secret != secret {
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
