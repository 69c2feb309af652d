package edge

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestHTTPSRedirect(t *testing.T) {
	next := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("next")) })
	h := &HTTPS{
		Next: next,
		Challenge: func(w http.ResponseWriter, r *http.Request) bool {
			if strings.HasSuffix(r.URL.Path, "/known-token") {
				w.Write([]byte("key-authorization"))
				return true
			}
			return false
		},
		HasCertificate: func(_ context.Context, host string) bool { return host == "shop.example.com" },
		Port:           8443,
	}
	for _, tc := range []struct {
		method, host, target string
		code                 int
		location, body       string
	}{
		{"GET", "Shop.Example.com:8080", "/cart?x=1", 301, "https://shop.example.com:8443/cart?x=1", ""},
		{"HEAD", "shop.example.com", "/", 301, "https://shop.example.com:8443/", ""},
		{"POST", "shop.example.com", "/api/orders", 308, "https://shop.example.com:8443/api/orders", ""},
		{"PUT", "shop.example.com", "/x", 308, "https://shop.example.com:8443/x", ""},
		// No certificate: served over HTTP as before.
		{"GET", "other.example.com", "/", 200, "", "next"},
		{"GET", "127.0.0.1:8080", "/", 200, "", "next"},
		// Challenges are never redirected, answered or not.
		{"GET", "shop.example.com", "/.well-known/acme-challenge/known-token", 200, "", "key-authorization"},
		{"GET", "shop.example.com", "/.well-known/acme-challenge/unknown", 200, "", "next"},
	} {
		r := httptest.NewRequest(tc.method, "http://"+tc.host+tc.target, nil)
		r.Host = tc.host
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		if w.Code != tc.code || w.Header().Get("Location") != tc.location || (tc.body != "" && w.Body.String() != tc.body) {
			t.Errorf("%s %s%s: %d %q %q; want %d %q %q", tc.method, tc.host, tc.target, w.Code,
				w.Header().Get("Location"), w.Body.String(), tc.code, tc.location, tc.body)
		}
		if tc.location != "" && w.Header().Get(pageHeader) != "redirect" {
			t.Errorf("%s %s%s: the redirect is not marked as the edge's own answer", tc.method, tc.host, tc.target)
		}
	}

	// On port 443 the URL names no port.
	h.Port = 443
	r := httptest.NewRequest("GET", "http://shop.example.com/", nil)
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	if got := w.Header().Get("Location"); got != "https://shop.example.com/" {
		t.Errorf("Location on 443 = %q", got)
	}
}
