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
	orgSlug := map[string]string{}
	var zones []edge.Zone
	for _, o := range orgs {
		orgSlug[o.ID] = o.Slug
		zones = append(zones, edge.Zone{Suffix: c.cfg.Names.OrgDomain(o.Slug), Brand: c.brand(o)})
	}
	brands := map[string]edge.Brand{}
	for _, o := range orgs {
		brands[o.ID] = c.brand(o)
	}
	projectSlug := map[string]string{}
	for _, p := range projects {
		projectSlug[p.ID] = p.Slug
	}
	var routes []edge.Route
	for _, d := range deps {
		r := edge.Route{
			Host:  c.cfg.Names.DeploymentHost(orgSlug[d.OrgID], projectSlug[d.ProjectID]),
			Brand: brands[d.OrgID],
		}
		switch {
		case d.Upstream != "":
			r.State, r.Upstream = edge.Ready, d.Upstream
		case d.Status == store.DeploymentFailed:
			r.State = edge.Down
		default:
			r.State = edge.Deploying
		}
		routes = append(routes, r)
	}
	for _, s := range sbxs {
		r := edge.Route{Host: c.cfg.Names.SandboxHost(orgSlug[s.OrgID], s.Slug), Brand: brands[s.OrgID]}
		up := s.Upstreams[s.PreviewPort]
		switch {
		case s.Status == store.SandboxRunning && up != "":
			r.State, r.Upstream = edge.Ready, up
		case s.Status == store.SandboxPending:
			r.State = edge.Deploying
		default:
			r.State = edge.Down
		}
		routes = append(routes, r)
	}
	c.cfg.Edge.SetTable(edge.NewTable(routes, zones))
	return nil
}

func (c *Control) brand(o *store.Org) edge.Brand {
	b := c.cfg.Brand
	if o.Name != "" {
		b.Name = o.Name
	}
	return b
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
