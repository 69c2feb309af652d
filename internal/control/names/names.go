// Package names makes every hostname, URL and container label the platform
// hands out; nothing else builds one.
package names

import (
	"context"
	"strconv"
	"strings"

	"github.com/berth-dev/berth/internal/store"
)

// Names makes every hostname and URL the platform hands out.
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

// PortalHostIn is where a workspace's portal answers under a deployment
// domain D: {workspace}.portal.D, beside the workspace's apps and never
// in their names ({project}.D has one label fewer).
func (n Names) PortalHostIn(domain, workspaceSlug string) string {
	return workspaceSlug + ".portal." + domain
}

// Labels are the labels of every container one control plane makes.
type Labels struct {
	// Instance names this control plane's containers, so two
	// installations sharing one engine never touch each other's.
	Instance string
}

// Of returns the platform's labels plus kv (pairs of key and value).
func (l Labels) Of(kv ...string) map[string]string {
	m := map[string]string{"berth.managed": "true", "berth.instance": l.Instance}
	for i := 0; i+1 < len(kv); i += 2 {
		m[kv[i]] = kv[i+1]
	}
	return m
}

// OrgGetter reads an org.
type OrgGetter interface {
	GetOrg(ctx context.Context, id string) (*store.Org, error)
}

// OrgSlug is the slug of an org, or "" when it cannot be read.
func OrgSlug(ctx context.Context, st OrgGetter, orgID string) string {
	o, err := st.GetOrg(ctx, orgID)
	if err != nil {
		return ""
	}
	return o.Slug
}

// ProjectNetwork is the bridge network a project's sandboxes,
// deployments and data services share: a data service answers there by
// its name.
func ProjectNetwork(projectID string) string {
	return "berth-" + strings.ReplaceAll(projectID, "_", "-")
}

// S3Label is the first label of an org's S3 endpoint, s3.{D} for each of
// its org-level deployment domains D; it wins over a project that happens
// to be named s3.
const S3Label = "s3"

// Suffixes returns host and every domain above it, longest first,
// without the last label alone: "a.b.example" gives "a.b.example",
// "b.example".
func Suffixes(host string) []string {
	var out []string
	for h := host; strings.Contains(h, "."); h = h[strings.IndexByte(h, '.')+1:] {
		out = append(out, h)
	}
	return out
}
