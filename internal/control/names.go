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

// URL is the public URL of a host.
func (n Names) URL(host string) string {
	scheme := n.Scheme
	if scheme == "" {
		scheme = "http"
	}
	u := scheme + "://" + strings.ToLower(host)
	if n.Port != 0 && !(scheme == "http" && n.Port == 80) && !(scheme == "https" && n.Port == 443) {
		u += ":" + strconv.Itoa(n.Port)
	}
	return u
}
