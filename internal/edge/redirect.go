package edge

import (
	"context"
	"net"
	"net/http"
	"strconv"
	"strings"
)

// acmeChallengePath is where an ACME CA fetches HTTP-01 answers (RFC 8555
// §8.3). Requests under it are never redirected: the CA asks over plain
// HTTP, before any certificate exists or while one is being renewed.
const acmeChallengePath = "/.well-known/acme-challenge/"

// HTTPS is the handler of the edge's plain-HTTP listener when the edge
// also serves HTTPS: it answers ACME HTTP-01 challenges, sends clients of
// a host that has a certificate to HTTPS, and hands everything else to
// Next.
type HTTPS struct {
	// Next serves what is neither a challenge nor redirected: the Edge.
	Next http.Handler
	// Challenge answers r when it is an ACME HTTP-01 challenge and
	// reports whether it was; nil answers none.
	Challenge func(w http.ResponseWriter, r *http.Request) bool
	// HasCertificate reports whether the edge holds a certificate for the
	// canonical host; only such hosts are redirected.
	HasCertificate func(ctx context.Context, host string) bool
	// Port is the HTTPS port clients reach; 443 is left out of URLs.
	Port int
}

// ServeHTTP answers a challenge, redirects, or passes r on.
func (h *HTTPS) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if strings.HasPrefix(r.URL.Path, acmeChallengePath) {
		if h.Challenge != nil && h.Challenge(w, r) {
			return
		}
		h.Next.ServeHTTP(w, r)
		return
	}
	host := canonicalHost(r.Host)
	if host == "" || net.ParseIP(host) != nil || h.HasCertificate == nil || !h.HasCertificate(r.Context(), host) {
		h.Next.ServeHTTP(w, r)
		return
	}
	target := "https://" + host
	if h.Port != 0 && h.Port != 443 {
		target += ":" + strconv.Itoa(h.Port)
	}
	target += r.URL.RequestURI()
	// 301 for reads, which every client follows; 308 for the rest, which
	// keeps the method and body where 301 may turn a POST into a GET.
	code := http.StatusPermanentRedirect
	if r.Method == http.MethodGet || r.Method == http.MethodHead {
		code = http.StatusMovedPermanently
	}
	w.Header().Set(pageHeader, "redirect")
	w.Header().Set("Location", target)
	w.WriteHeader(code)
}

// Interface guard.
var _ http.Handler = (*HTTPS)(nil)
