package control

import (
	"strconv"
	"strings"
)

// Names makes every hostname and URL the platform hands out; nothing
// else builds one.
type Names struct {
	// Domain is the platform domain P (default "localhost").
	Domain string
	// Scheme is "http" or "https".
	Scheme string
	// Port is the edge's public port; 0, 80 and 443 are left out of URLs.
	Port int
	// TLSPort is the edge's public HTTPS port when it serves HTTPS (0:
	// it does not); 443 is left out of URLs.
	TLSPort int
	// Secure reports whether the edge has a certificate for a host, its
	// own or a wildcard; such a host's URL is https (nil: none has).
	// Before one exists the URL stays http, which works without a
	// browser warning, and the edge redirects it to https once it does.
	Secure func(host string) bool
}

// OrgDomain is the org's managed deployment domain, {org}.P.
func (n Names) OrgDomain(orgSlug string) string { return orgSlug + "." + n.Domain }

// DeploymentHost is where a project's deployment answers under the
// org's managed domain.
func (n Names) DeploymentHost(orgSlug, projectSlug string) string {
	return n.DeploymentHostIn(n.OrgDomain(orgSlug), projectSlug)
}

// DeploymentHostIn is where a project's deployment answers under a
// deployment domain D (managed or custom).
func (n Names) DeploymentHostIn(domain, projectSlug string) string { return projectSlug + "." + domain }

// SandboxHost is where a sandbox's preview answers under the org's
// managed domain.
func (n Names) SandboxHost(orgSlug, sandboxSlug string) string {
	return n.SandboxHostIn(n.OrgDomain(orgSlug), sandboxSlug)
}

// SandboxHostIn is where a sandbox's preview answers under a deployment
// domain D.
func (n Names) SandboxHostIn(domain, sandboxSlug string) string {
	return sandboxSlug + ".sandbox." + domain
}

// URL is the public URL of a host: https on the edge's HTTPS port once a
// certificate covers the host, else the configured scheme and port.
func (n Names) URL(host string) string {
	host = strings.ToLower(host)
	scheme, port := n.Scheme, n.Port
	if scheme == "" {
		scheme = "http"
	}
	if n.TLSPort != 0 && n.Secure != nil && n.Secure(host) {
		scheme, port = "https", n.TLSPort
	}
	u := scheme + "://" + host
	if port != 0 && !(scheme == "http" && port == 80) && !(scheme == "https" && port == 443) {
		u += ":" + strconv.Itoa(port)
	}
	return u
}
