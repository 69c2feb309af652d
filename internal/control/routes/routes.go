package routes

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"sync"

	"github.com/berth-dev/berth/internal/edge"
	"github.com/berth-dev/berth/internal/id"
	"github.com/berth-dev/berth/internal/store"
)

// routeFeed fans the route changes out to every edge that follows them.
type routeFeed struct {
	// owners is the resolver's cache of owners' brands, which a change
	// naming owners makes stale.
	owners  *ownerCache
	mu      sync.Mutex
	version uint64
	subs    map[*func(edge.Change)]struct{}
}

// publish numbers ch and hands it to every watcher, in order.
func (f *routeFeed) publish(ch edge.Change) uint64 {
	if f.owners != nil && (ch.All || len(ch.Owners) > 0) {
		f.owners.drop()
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.version++
	ch.Version = f.version
	for fn := range f.subs {
		(*fn)(ch)
	}
	return ch.Version
}

// watch delivers a full invalidation, then every change, until ctx ends.
func (f *routeFeed) watch(ctx context.Context, fn func(edge.Change)) error {
	f.mu.Lock()
	if f.subs == nil {
		f.subs = map[*func(edge.Change)]struct{}{}
	}
	f.subs[&fn] = struct{}{}
	fn(edge.Change{Version: f.version, All: true})
	f.mu.Unlock()
	<-ctx.Done()
	f.mu.Lock()
	delete(f.subs, &fn)
	f.mu.Unlock()
	return ctx.Err()
}

// Version is the version of the last route change.
func (c *Service) Version() uint64 {
	c.feed.mu.Lock()
	defer c.feed.mu.Unlock()
	return c.feed.version
}

// AllChanged tells every edge that any answer it holds may be
// stale: at start, when a host's state moves (its portal's names under
// every D of the workspace, and the way to its apps; hosts change
// rarely), and on a resync.
func (c *Service) AllChanged() uint64 {
	return c.feed.publish(edge.Change{All: true})
}

// Changed tells the edges that the names of one deployment or
// sandbox moved. Working out which names costs a few reads of that
// record's org; when they fail every answer is invalidated instead,
// which is never wrong, only slower.
func (c *Service) Changed(ctx context.Context, resourceID string) error {
	hosts, err := c.resourceHosts(ctx, resourceID)
	if err != nil {
		c.log.Warn("resolving names failed; invalidating every route", "resource", resourceID, "err", err)
		c.feed.publish(edge.Change{All: true})
		return nil
	}
	c.feed.publish(edge.Change{Hosts: hosts})
	return nil
}

// DomainChanged tells the edges that the names at and under a
// domain moved (it was verified, failed or removed).
func (c *Service) DomainChanged(hostname string) {
	c.feed.publish(edge.Change{Suffixes: []string{hostname}})
}

// OwnerChanged tells the edges that an org's or workspace's pages
// or branding changed.
func (c *Service) OwnerChanged(ownerID string) {
	c.feed.publish(edge.Change{Owners: []string{ownerID}})
}

// OrgCreated tells the edges that names under a new org's managed domain
// now carry its brand, and orders the domain's wildcards where a DNS
// provider can.
func (c *Service) OrgCreated(o *store.Org) {
	c.feed.publish(edge.Change{Suffixes: []string{c.cfg.Names.OrgDomain(o.Slug)}})
	c.certs.OrderManaged(context.Background(), o, true)
}

// resourceHosts returns every hostname a deployment or sandbox answers at.
func (c *Service) resourceHosts(ctx context.Context, resourceID string) ([]string, error) {
	switch {
	case id.HasPrefix(resourceID, id.Deployment):
		d, err := c.st.GetDeployment(ctx, resourceID)
		if err != nil {
			return nil, err
		}
		p, err := c.st.GetProject(ctx, d.ProjectID)
		if err != nil {
			return nil, err
		}
		return c.namesIn(ctx, d.OrgID, d.WorkspaceID, d.ID, func(D string) string { return c.cfg.Names.DeploymentHostIn(D, p.Slug) })
	case id.HasPrefix(resourceID, id.Sandbox):
		s, err := c.st.GetSandbox(ctx, resourceID)
		if err != nil {
			return nil, err
		}
		return c.namesIn(ctx, s.OrgID, s.WorkspaceID, "", func(D string) string { return c.cfg.Names.SandboxHostIn(D, s.Slug) })
	}
	return nil, fmt.Errorf("%s is neither a deployment nor a sandbox", resourceID)
}

// namesIn returns name(D) for every deployment domain D of a workspace
// (managed, the org's verified ones, the workspace's) and the exact
// domains of deploymentID.
func (c *Service) namesIn(ctx context.Context, orgID, workspaceID, deploymentID string, name func(D string) string) ([]string, error) {
	o, err := c.st.GetOrg(ctx, orgID)
	if err != nil {
		return nil, err
	}
	ds, err := store.ListAll(ctx, func(ctx context.Context, f store.ListFilter) ([]*store.Domain, error) {
		f.OrgID = orgID
		return c.st.ListDomains(ctx, f)
	})
	if err != nil {
		return nil, err
	}
	hosts := []string{name(c.cfg.Names.OrgDomain(o.Slug))}
	for _, d := range ds {
		if !d.Verified() {
			continue
		}
		switch {
		case d.DeploymentID != "":
			if d.DeploymentID == deploymentID {
				hosts = append(hosts, d.Hostname)
			}
		case d.WorkspaceID == "" || d.WorkspaceID == workspaceID:
			hosts = append(hosts, name(d.Hostname))
		}
	}
	return hosts, nil
}

// ResyncResult is what a resync did.
type ResyncResult struct {
	// Version is the version of the change that invalidated every edge's
	// answers.
	Version uint64
	// Hostnames is how many names the records route, counted from them.
	Hostnames int
}

// Resync re-registers every route from the records: it counts the
// names every deployment and sandbox answers at, reading each record
// once, and invalidates every answer every edge holds, so that the next
// request for any name is answered from the records. The operator runs it
// after an edge is replaced or its cache is suspected stale.
func (c *Service) Resync(ctx context.Context) (ResyncResult, error) {
	orgs, err := store.ListAll(ctx, c.st.ListOrgs)
	if err != nil {
		return ResyncResult{}, fmt.Errorf("listing orgs: %w", err)
	}
	domains, err := store.ListAll(ctx, c.st.ListDomains)
	if err != nil {
		return ResyncResult{}, fmt.Errorf("listing domains: %w", err)
	}
	// Deployment domains D by org (every workspace) and by workspace.
	orgDs, wsDs := map[string]int{}, map[string]int{}
	exact := 0
	for _, d := range domains {
		switch {
		case !d.Verified():
		case d.DeploymentID != "":
			exact++
		case d.WorkspaceID != "":
			wsDs[d.WorkspaceID]++
		default:
			orgDs[d.OrgID]++
		}
	}
	for _, o := range orgs {
		orgDs[o.ID]++ // the managed domain
	}
	n := exact
	projectsWithDeployments := map[string]string{} // project → workspace
	deps, err := store.ListAll(ctx, c.st.ListDeployments)
	if err != nil {
		return ResyncResult{}, fmt.Errorf("listing deployments: %w", err)
	}
	orgOf := map[string]string{}
	for _, d := range deps {
		projectsWithDeployments[d.ProjectID] = d.WorkspaceID
		orgOf[d.ProjectID] = d.OrgID
	}
	for p, ws := range projectsWithDeployments {
		n += orgDs[orgOf[p]] + wsDs[ws]
	}
	sbxs, err := store.ListAll(ctx, c.st.ListSandboxes)
	if err != nil {
		return ResyncResult{}, fmt.Errorf("listing sandboxes: %w", err)
	}
	for _, s := range sbxs {
		n += orgDs[s.OrgID] + wsDs[s.WorkspaceID]
	}
	v := c.AllChanged()
	c.log.Info("routes resynced; every edge invalidated", "names", n, "version", v)
	return ResyncResult{Version: v, Hostnames: n}, nil
}

// Reachable reports whether a request to host through the edge reached
// an app: any answer the edge did not produce itself counts.
func (c *Service) Reachable(ctx context.Context, host string) bool {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+c.cfg.EdgeAddr+"/", nil)
	if err != nil {
		return false
	}
	req.Host = host
	resp, err := c.probe.Do(req)
	if err != nil {
		return false
	}
	defer resp.Body.Close()
	io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	return resp.Header.Get("X-Edge-Page") == ""
}
