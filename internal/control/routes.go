package control

import (
	"context"
	"fmt"
	"io"
	"net/http"

	"github.com/berth-dev/berth/internal/edge"
	"github.com/berth-dev/berth/internal/store"
)

// PublishRoutes computes the route table from the store and hands it to
// the edge. Every change that moves a URL calls it.
func (c *Control) PublishRoutes(ctx context.Context) error {
	if c.cfg.Edge == nil {
		return nil // no edge to serve the table (the API alone, in tests)
	}
	c.routesMu.Lock()
	defer c.routesMu.Unlock()
	orgs, err := listAll(ctx, c.st.ListOrgs)
	if err != nil {
		return fmt.Errorf("listing orgs: %w", err)
	}
	projects, err := listAll(ctx, c.st.ListProjects)
	if err != nil {
		return fmt.Errorf("listing projects: %w", err)
	}
	deps, err := listAll(ctx, c.st.ListDeployments)
	if err != nil {
		return fmt.Errorf("listing deployments: %w", err)
	}
	sbxs, err := listAll(ctx, c.st.ListSandboxes)
	if err != nil {
		return fmt.Errorf("listing sandboxes: %w", err)
	}
	workspaces, err := listAll(ctx, c.st.ListWorkspaces)
	if err != nil {
		return fmt.Errorf("listing workspaces: %w", err)
	}
	brandings, err := c.st.ListBrandings(ctx)
	if err != nil {
		return fmt.Errorf("listing brandings: %w", err)
	}
	cd, err := c.verifiedDomains(ctx)
	if err != nil {
		return err
	}
	set := map[string]BrandingFields{}
	for _, b := range brandings {
		set[b.OwnerID] = fieldsOf(b)
	}

	// Every org's pages carry its branding on its managed domain and on
	// its verified org domains; a workspace's, its own fields over the
	// org's, on its verified workspace domains and on its apps' names.
	orgSlug := map[string]string{}
	orgFields := map[string]BrandingFields{}
	var zones []edge.Zone
	for _, o := range orgs {
		orgSlug[o.ID] = o.Slug
		orgFields[o.ID] = mergeBranding(BrandingFields{ProductName: o.Name}, set[o.ID])
		b := c.edgeBrand(orgFields[o.ID])
		zones = append(zones, edge.Zone{Suffix: c.cfg.Names.OrgDomain(o.Slug), Brand: b})
		for _, d := range cd.org[o.ID] {
			zones = append(zones, edge.Zone{Suffix: d, Brand: b})
		}
	}
	brands := map[string]edge.Brand{} // by workspace id
	for _, w := range workspaces {
		b := c.edgeBrand(mergeBranding(orgFields[w.OrgID], set[w.ID]))
		brands[w.ID] = b
		for _, d := range cd.workspace[w.ID] {
			zones = append(zones, edge.Zone{Suffix: d, Brand: b})
		}
	}
	// domains are the deployment domains D of a workspace: the managed
	// one, then the org's verified domains, then the workspace's.
	domains := func(orgID, workspaceID string) []string {
		out := []string{c.cfg.Names.OrgDomain(orgSlug[orgID])}
		out = append(out, cd.org[orgID]...)
		return append(out, cd.workspace[workspaceID]...)
	}
	projectSlug := map[string]string{}
	for _, p := range projects {
		projectSlug[p.ID] = p.Slug
	}
	var routes []edge.Route
	// Exact deployment domains are added last so they win over a
	// {project}.D name that happens to be the same.
	var exact []edge.Route
	for _, d := range deps {
		if d.Desired == store.DesiredDeleted {
			continue // a deleted deployment has no route
		}
		r := edge.Route{Brand: brands[d.WorkspaceID]}
		switch {
		case d.Desired == store.DesiredPaused:
			r.State = edge.Down
		case d.Upstream != "":
			r.State, r.Upstream = edge.Ready, d.Upstream
		case d.Status == store.DeploymentFailed:
			r.State = edge.Down
		default:
			r.State = edge.Deploying
		}
		for _, D := range domains(d.OrgID, d.WorkspaceID) {
			r.Host = c.cfg.Names.DeploymentHostIn(D, projectSlug[d.ProjectID])
			routes = append(routes, r)
		}
		for _, h := range cd.deployment[d.ID] {
			r.Host = h
			exact = append(exact, r)
		}
	}
	for _, s := range sbxs {
		r := edge.Route{Brand: brands[s.WorkspaceID]}
		up := s.Upstreams[s.PreviewPort]
		switch {
		case s.Status == store.SandboxRunning && up != "":
			r.State, r.Upstream = edge.Ready, up
		case s.Status == store.SandboxPending:
			r.State = edge.Deploying
		default:
			r.State = edge.Down
		}
		for _, D := range domains(s.OrgID, s.WorkspaceID) {
			r.Host = c.cfg.Names.SandboxHostIn(D, s.Slug)
			routes = append(routes, r)
		}
	}
	c.cfg.Edge.SetTable(edge.NewTable(append(routes, exact...), zones))
	return nil
}

// reachable reports whether a request to host through the edge reached
// an app: any answer the edge did not produce itself counts.
func (c *Control) reachable(ctx context.Context, host string) bool {
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
