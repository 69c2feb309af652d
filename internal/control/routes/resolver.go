package routes

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"

	"github.com/berth-dev/berth/internal/control/names"
	"github.com/berth-dev/berth/internal/edge"
	"github.com/berth-dev/berth/internal/store"
)

// RouteResolver answers the edge's questions from the store, one hostname
// at a time: a handful of indexed reads per name, whatever the number of
// records. It is the in-process edge.Resolver; the resolve package serves
// the same answers to edges in other processes.
type RouteResolver struct{ c *Service }

// Resolver returns the control plane's route resolver.
func (c *Service) Resolver() *RouteResolver { return &RouteResolver{c: c} }

// zoneOwner is the org (and workspace) a deployment domain D belongs to.
type zoneOwner struct{ org, workspace string }

// Resolve answers for one canonical hostname, with this precedence: an
// exact deployment domain; then {project}.D and {sandbox}.sandbox.D where
// D is a verified workspace domain, a verified org domain or an org's
// managed domain {org}.P; a name nothing serves gets the brand of the
// longest of those domains it falls under, else the platform's.
func (r *RouteResolver) Resolve(ctx context.Context, host string) (edge.Answer, error) {
	c := r.c
	host = strings.ToLower(strings.TrimSuffix(host, "."))
	suffixes := names.Suffixes(host)
	verified, err := c.st.ListVerifiedDomains(ctx, suffixes)
	if err != nil {
		return edge.Answer{}, err
	}
	byName := make(map[string]*store.Domain, len(verified))
	for _, d := range verified {
		byName[d.Hostname] = d
	}
	if d := byName[host]; d != nil && d.DeploymentID != "" {
		dep, err := c.st.GetDeployment(ctx, d.DeploymentID)
		if err != nil {
			return edge.Answer{}, fmt.Errorf("getting deployment of %s: %w", host, err)
		}
		if dep.Desired != store.DesiredDeleted {
			return r.deployment(ctx, host, &store.RouteTarget{OrgID: dep.OrgID, WorkspaceID: dep.WorkspaceID,
				Status: dep.Status, Upstream: dep.Upstream, HostID: dep.HostID, Desired: dep.Desired})
		}
	}

	if slug, rest, ok := strings.Cut(host, "."); ok {
		if rt := c.buckets.Route(); slug == names.S3Label && rt != nil {
			if own, ok, err := r.zoneOf(ctx, rest, byName); err != nil {
				return edge.Answer{}, err
			} else if ok && own.workspace == "" {
				return r.answer(ctx, host, own, rt)
			}
		}
		if D, ok := strings.CutPrefix(rest, "portal."); ok {
			if a, ok, err := r.portal(ctx, host, slug, D, byName); err != nil || ok {
				return a, err
			}
		}
		if D, ok := strings.CutPrefix(rest, "sandbox."); ok {
			if own, ok, err := r.zoneOf(ctx, D, byName); err != nil {
				return edge.Answer{}, err
			} else if ok {
				t, err := c.st.SandboxTarget(ctx, slug)
				switch {
				case err == nil && t.Status != store.SandboxDeleted && t.OrgID == own.org && (own.workspace == "" || t.WorkspaceID == own.workspace):
					return r.answer(ctx, host, zoneOwner{t.OrgID, t.WorkspaceID}, sandboxState(t.Status, t.Upstream))
				case err != nil && !errors.Is(err, store.ErrNotFound):
					return edge.Answer{}, err
				}
			}
		}
		if own, ok, err := r.zoneOf(ctx, rest, byName); err != nil {
			return edge.Answer{}, err
		} else if ok {
			t, err := c.st.DeploymentTarget(ctx, own.org, slug)
			switch {
			case err == nil && (own.workspace == "" || t.WorkspaceID == own.workspace):
				return r.deployment(ctx, host, t)
			case err != nil && !errors.Is(err, store.ErrNotFound):
				return edge.Answer{}, err
			}
		}
	}

	// Nothing serves the name: the brand of the zone it falls in.
	for _, s := range suffixes {
		own, ok, err := r.zoneOf(ctx, s, byName)
		if err != nil {
			return edge.Answer{}, err
		}
		if ok {
			return r.answer(ctx, host, own, nil)
		}
	}
	return edge.Answer{Brand: c.cfg.Brand}, nil
}

// deployment answers for a deployment's name, through its host's agent
// when the host is another machine.
func (r *RouteResolver) deployment(ctx context.Context, host string, t *store.RouteTarget) (edge.Answer, error) {
	rt := deploymentState(t.Status, t.Upstream)
	if t.Desired == store.DesiredPaused {
		rt = &edge.Route{State: edge.Down} // its containers are stopped
	}
	via, err := r.via(ctx, t.HostID)
	if err != nil {
		return edge.Answer{}, err
	}
	rt.Via = via
	return r.answer(ctx, host, zoneOwner{t.OrgID, t.WorkspaceID}, rt)
}

// via is the Via of the routes of a host: its id when the edge reaches it
// through its agent, else empty.
func (r *RouteResolver) via(ctx context.Context, hostID string) (string, error) {
	if hostID == "" {
		return "", nil
	}
	h, err := r.c.st.GetHost(ctx, hostID)
	if err != nil {
		return "", fmt.Errorf("getting host %s: %w", hostID, err)
	}
	return r.c.hosts.Vias([]*store.Host{h})[h.ID], nil
}

// portal answers for {workspace}.portal.D, the portal of the workspace's
// Docker Deploy host; ok is false when no workspace of D's org has one.
func (r *RouteResolver) portal(ctx context.Context, host, wsSlug, D string, verified map[string]*store.Domain) (edge.Answer, bool, error) {
	own, ok, err := r.zoneOf(ctx, D, verified)
	if err != nil || !ok {
		return edge.Answer{}, false, err
	}
	h, err := r.c.st.PortalTarget(ctx, own.org, wsSlug)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return edge.Answer{}, false, nil
	case err != nil:
		return edge.Answer{}, false, err
	case own.workspace != "" && h.WorkspaceID != own.workspace:
		return edge.Answer{}, false, nil
	}
	a, err := r.answer(ctx, host, zoneOwner{own.org, h.WorkspaceID}, r.c.hosts.PortalRoute(h))
	return a, err == nil, err
}

// zoneOf returns the owner of a deployment domain D: a verified workspace
// or org domain, else the org whose managed domain it is.
func (r *RouteResolver) zoneOf(ctx context.Context, D string, verified map[string]*store.Domain) (zoneOwner, bool, error) {
	if d := verified[D]; d != nil {
		if d.DeploymentID != "" {
			return zoneOwner{}, false, nil
		}
		return zoneOwner{d.OrgID, d.WorkspaceID}, true, nil
	}
	slug, ok := strings.CutSuffix(D, "."+r.c.cfg.Names.Domain)
	if !ok || slug == "" || strings.Contains(slug, ".") {
		return zoneOwner{}, false, nil
	}
	o, err := r.c.st.GetOrgBySlug(ctx, slug)
	if errors.Is(err, store.ErrNotFound) {
		return zoneOwner{}, false, nil
	}
	if err != nil {
		return zoneOwner{}, false, err
	}
	return zoneOwner{org: o.ID}, true, nil
}

// answer completes an answer with the owner's brand and custom pages; a
// nil route is a name nothing serves.
func (r *RouteResolver) answer(ctx context.Context, host string, own zoneOwner, rt *edge.Route) (edge.Answer, error) {
	a, err := r.c.owners.get(own, func() (edge.Answer, error) { return r.ownerAnswer(ctx, own) })
	if err != nil {
		return edge.Answer{}, err
	}
	if rt != nil {
		a.Found, a.Route = true, *rt
		a.Route.Host = host
		a.Route.Brand = a.Brand
	}
	return a, nil
}

// ownerAnswer reads an owner's brand and custom pages.
func (r *RouteResolver) ownerAnswer(ctx context.Context, own zoneOwner) (edge.Answer, error) {
	c := r.c
	o, err := c.st.GetOrg(ctx, own.org)
	if err != nil {
		return edge.Answer{}, fmt.Errorf("getting org %s: %w", own.org, err)
	}
	var ws *store.Workspace
	owners := []string{own.org}
	if own.workspace != "" {
		ws = &store.Workspace{ID: own.workspace, OrgID: own.org}
		owners = append(owners, own.workspace)
	}
	brand, err := c.branding.EdgeBrand(ctx, o, ws)
	if err != nil {
		return edge.Answer{}, err
	}
	pages, err := c.st.ListPages(ctx, owners)
	if err != nil {
		return edge.Answer{}, err
	}
	a := edge.Answer{Brand: brand, Owners: owners}
	// The workspace's page of a kind wins over its org's.
	for _, p := range pages {
		if a.Pages == nil {
			a.Pages = map[string]string{}
		}
		if _, set := a.Pages[p.Kind]; !set || p.OwnerID == own.workspace {
			a.Pages[p.Kind] = p.Digest
		}
	}
	return a, nil
}

// ownerCache keeps what an org or workspace contributes to answers (its
// brand and pages, read in four queries) between the changes that touch
// it, which the route feed reports: any change naming owners, or all.
type ownerCache struct {
	mu      sync.Mutex
	answers map[zoneOwner]edge.Answer
	gen     uint64
}

func (oc *ownerCache) get(own zoneOwner, load func() (edge.Answer, error)) (edge.Answer, error) {
	oc.mu.Lock()
	a, ok := oc.answers[own]
	gen := oc.gen
	oc.mu.Unlock()
	if ok {
		return a, nil
	}
	a, err := load()
	if err != nil {
		return a, err
	}
	oc.mu.Lock()
	if oc.gen == gen {
		if oc.answers == nil || len(oc.answers) > 100_000 {
			oc.answers = map[zoneOwner]edge.Answer{}
		}
		oc.answers[own] = a
	}
	oc.mu.Unlock()
	return a, nil
}

// drop forgets every owner: brandings and pages change rarely, so there
// is no need to be more precise.
func (oc *ownerCache) drop() {
	oc.mu.Lock()
	oc.gen++
	oc.answers = nil
	oc.mu.Unlock()
}

// Page returns the source of a custom page by digest.
func (r *RouteResolver) Page(ctx context.Context, digest string) (string, error) {
	p, err := r.c.st.GetPageByDigest(ctx, digest)
	if err != nil {
		return "", err
	}
	return p.Body, nil
}

// Watch calls fn with every route change until ctx ends. fn runs on the
// goroutine that made the change, before the change returns, so an
// in-process edge never serves a route older than what the control plane
// has written; it must be quick.
func (r *RouteResolver) Watch(ctx context.Context, fn func(edge.Change)) error {
	return r.c.feed.watch(ctx, fn)
}

// deploymentState is how the edge treats a deployment: serving while it
// has an upstream (a rollout keeps the old container until the new one is
// healthy), down once it failed, loading otherwise.
func deploymentState(status, upstream string) *edge.Route {
	switch {
	case upstream != "":
		return &edge.Route{State: edge.Ready, Upstream: upstream}
	case status == store.DeploymentFailed:
		return &edge.Route{State: edge.Down}
	}
	return &edge.Route{State: edge.Deploying}
}

func sandboxState(status, upstream string) *edge.Route {
	switch {
	case status == store.SandboxRunning && upstream != "":
		return &edge.Route{State: edge.Ready, Upstream: upstream}
	case status == store.SandboxPending:
		return &edge.Route{State: edge.Deploying}
	}
	return &edge.Route{State: edge.Down}
}

// Interface guard.
var _ edge.Resolver = (*RouteResolver)(nil)
