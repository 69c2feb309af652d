package names

import "testing"

// TestNamesSecure: a host the edge has a certificate for gets an https
// URL on the HTTPS port; the others keep http on the HTTP port.
func TestNamesSecure(t *testing.T) {
	secure := map[string]bool{"app.cliniciq.dev": true, "program.drsmith.com": true}
	n := Names{Domain: "localhost", Scheme: "http", Port: 8080, TLSPort: 8443, Secure: func(h string) bool { return secure[h] }}
	for host, want := range map[string]string{
		"App.Cliniciq.dev":      "https://app.cliniciq.dev:8443",
		"other.cliniciq.dev":    "http://other.cliniciq.dev:8080",
		"site.acme.localhost":   "http://site.acme.localhost:8080",
		"program.drsmith.com":   "https://program.drsmith.com:8443",
		"program.drsmith.com.x": "http://program.drsmith.com.x:8080",
	} {
		if got := n.URL(host); got != want {
			t.Errorf("URL(%q) = %q, want %q", host, got, want)
		}
	}
	n.Port, n.TLSPort = 80, 443
	if got := n.URL("app.cliniciq.dev"); got != "https://app.cliniciq.dev" {
		t.Errorf("on the standard ports: %q", got)
	}
	n.TLSPort = 0 // HTTPS off: nothing is https, whatever Secure says
	if got := n.URL("app.cliniciq.dev"); got != "http://app.cliniciq.dev" {
		t.Errorf("with HTTPS off: %q", got)
	}
}
