package names

import (
	"context"
	"fmt"

	"github.com/berth-dev/berth/internal/store"
)

// DomainStore reads what hostnames are made from.
type DomainStore interface {
	GetOrg(ctx context.Context, id string) (*store.Org, error)
	ListDomains(ctx context.Context, f store.ListFilter) ([]*store.Domain, error)
}

// Hosts makes the hostnames of resources, where verified custom domains
// take the place of the managed ones.
type Hosts struct {
	st    DomainStore
	names Names
}

// NewHosts returns Hosts reading custom domains from st.
func NewHosts(st DomainStore, n Names) *Hosts { return &Hosts{st: st, names: n} }

// Custom are an org's verified custom domains, oldest first, by owner:
// the org, its workspaces and its deployments.
type Custom struct {
	Org, Workspace, Deployment map[string][]string
}

// Verified reads the routable custom domains of one org.
func (h *Hosts) Verified(ctx context.Context, orgID string) (Custom, error) {
	cd := Custom{Org: map[string][]string{}, Workspace: map[string][]string{}, Deployment: map[string][]string{}}
	all, err := store.ListAll(ctx, func(ctx context.Context, f store.ListFilter) ([]*store.Domain, error) {
		f.OrgID = orgID
		return h.st.ListDomains(ctx, f)
	})
	if err != nil {
		return cd, fmt.Errorf("listing domains: %w", err)
	}
	for _, d := range all {
		if !d.Verified() {
			continue
		}
		switch {
		case d.DeploymentID != "":
			cd.Deployment[d.DeploymentID] = append(cd.Deployment[d.DeploymentID], d.Hostname)
		case d.WorkspaceID != "":
			cd.Workspace[d.WorkspaceID] = append(cd.Workspace[d.WorkspaceID], d.Hostname)
		default:
			cd.Org[d.OrgID] = append(cd.Org[d.OrgID], d.Hostname)
		}
	}
	return cd, nil
}

// DeploymentDomain is the domain D a workspace's apps get in URLs: its
// oldest verified workspace domain, else its org's oldest verified org
// domain, else the managed org domain.
func (cd Custom) DeploymentDomain(n Names, orgID, orgSlug, workspaceID string) string {
	if ds := cd.Workspace[workspaceID]; len(ds) > 0 {
		return ds[0]
	}
	if ds := cd.Org[orgID]; len(ds) > 0 {
		return ds[0]
	}
	return n.OrgDomain(orgSlug)
}

// Deployment is the hostname a deployment's URL names: its own verified
// domain first, then {project}.D.
func (h *Hosts) Deployment(ctx context.Context, d *store.Deployment, projectSlug string) string {
	cd, err := h.Verified(ctx, d.OrgID)
	if err != nil {
		return h.names.DeploymentHost(OrgSlug(ctx, h.st, d.OrgID), projectSlug)
	}
	if ds := cd.Deployment[d.ID]; len(ds) > 0 {
		return ds[0]
	}
	return h.names.DeploymentHostIn(cd.DeploymentDomain(h.names, d.OrgID, OrgSlug(ctx, h.st, d.OrgID), d.WorkspaceID), projectSlug)
}

// Sandbox is the hostname a sandbox's preview URL names.
func (h *Hosts) Sandbox(ctx context.Context, s *store.Sandbox) string {
	cd, err := h.Verified(ctx, s.OrgID)
	if err != nil {
		return h.names.SandboxHost(OrgSlug(ctx, h.st, s.OrgID), s.Slug)
	}
	return h.names.SandboxHostIn(cd.DeploymentDomain(h.names, s.OrgID, OrgSlug(ctx, h.st, s.OrgID), s.WorkspaceID), s.Slug)
}
