// Package control puts the control plane together: it builds each
// domain's service (deploy, sandbox, releases, hosts, databases, buckets,
// cron, domains, certificates, routes) with exactly the parts it asks
// for, and runs their reconcilers. The domains never see each other:
// each declares the small interfaces it needs, and New hands it the
// service that answers them. docs/architecture.md has the map.
package control

import (
	"context"
	"log/slog"
	"net"
	"time"

	"github.com/berth-dev/berth/internal/blob"
	"github.com/berth-dev/berth/internal/control/agents"
	"github.com/berth-dev/berth/internal/control/appenv"
	"github.com/berth-dev/berth/internal/control/buckets"
	"github.com/berth-dev/berth/internal/control/certificates"
	"github.com/berth-dev/berth/internal/control/cron"
	"github.com/berth-dev/berth/internal/control/databases"
	"github.com/berth-dev/berth/internal/control/deploy"
	"github.com/berth-dev/berth/internal/control/domains"
	"github.com/berth-dev/berth/internal/control/events"
	"github.com/berth-dev/berth/internal/control/hosts"
	"github.com/berth-dev/berth/internal/control/names"
	"github.com/berth-dev/berth/internal/control/releases"
	"github.com/berth-dev/berth/internal/control/routes"
	"github.com/berth-dev/berth/internal/control/sandbox"
	"github.com/berth-dev/berth/internal/control/work"
	"github.com/berth-dev/berth/internal/edge"
	"github.com/berth-dev/berth/internal/id"
	"github.com/berth-dev/berth/internal/store"
	"github.com/berth-dev/berth/internal/templates"
)

// Config is everything the control plane is made with.
type Config struct {
	Store     store.Store
	Artifacts *blob.Store
	Templates *templates.Catalogue
	Names     names.Names
	// EdgeAddr is where the edge listens (host:port); readiness probes go
	// through it, as a browser's request would.
	EdgeAddr string
	// Brand is the platform's default branding for edge pages.
	Brand edge.Brand
	// Log receives the control plane's operational messages (nil:
	// discarded); each domain's records carry a component attribute.
	Log *slog.Logger
	// Limits are the resources every container gets (zero: the runtime's
	// floor).
	Limits agents.Limits
	// Instance names this control plane's containers (a label), so two
	// installations sharing one engine never touch each other's.
	Instance string
	// Resync is how often every resource is reconciled even when nothing
	// asked (0: 10s).
	Resync time.Duration
	// Hosts wires the workspaces' Docker Deploy hosts (Names and Limits
	// are filled in from above).
	Hosts hosts.Config
	// BuildCABundle is a PEM file of CAs that image builds trust for
	// their downloads (npm, pip), added to the build context of a
	// Dockerfile that names it; empty: none.
	BuildCABundle string
	// Domains configures custom domains: how they are verified and where
	// their traffic goes (Names and Brand are filled in from above).
	Domains domains.Config
	// Buckets configures S3 buckets: the endpoint and what apps get.
	Buckets buckets.Config
	// Certs, when the edge serves HTTPS, orders certificates before the
	// first handshake asks (nil: on the first handshake only).
	Certs certificates.Certificates
	// ManagedTLS is how the managed names under the platform domain get
	// certificates (empty: certificates.ManagedTLSAuto).
	ManagedTLS certificates.ManagedTLS
	// NoStandby removes the container a deploy replaces, instead of
	// keeping it frozen so that a rollback to its release starts nothing.
	NoStandby bool
}

// Plane is the control plane: its services, which the API calls, and
// the reconcilers Run drives.
type Plane struct {
	Deployments  *deploy.Service
	Sandboxes    *sandbox.Service
	Releases     *releases.Service
	Hosts        *hosts.Service
	Databases    *databases.Service
	Buckets      *buckets.Service
	Cron         *cron.Scheduler
	Domains      *domains.Service
	Certificates *certificates.Manager
	Routes       *routes.Service
	Templates    *templates.Catalogue

	cfg    Config
	queue  *work.Queue
	agents *agents.Pool
}

// New builds the control plane; call Run to start its reconcilers.
func New(cfg Config) *Plane {
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	if cfg.Resync == 0 {
		cfg.Resync = 10 * time.Second
	}
	st := cfg.Store
	logFor := func(component string) *slog.Logger { return cfg.Log.With("component", component) }
	p := &Plane{cfg: cfg, Templates: cfg.Templates}
	p.queue = work.NewQueue(p.reconcile)
	p.agents = agents.New(st, cfg.Hosts.CA)
	rec := events.NewRecorder(st, logFor("events"))
	labels := names.Labels{Instance: cfg.Instance}
	hostnames := names.NewHosts(st, cfg.Names)
	targets := &targets{}

	p.Releases = releases.New(releases.Config{Templates: cfg.Templates, Artifacts: cfg.Artifacts, BuildCABundle: cfg.BuildCABundle},
		st, rec, logFor("releases"))
	p.Certificates = certificates.New(certificates.Config{Certs: cfg.Certs, ManagedTLS: cfg.ManagedTLS, Names: cfg.Names,
		Target: cfg.Domains.Target}, st, rec, logFor("certificates"))
	p.Databases = databases.New(databases.Config{Templates: cfg.Templates, Limits: cfg.Limits}, databases.Deps{
		Store: st, Agents: p.agents, Events: rec, Queue: p.queue, Targets: targets, Labels: labels, Log: logFor("databases")})
	hostsCfg := cfg.Hosts
	hostsCfg.Names, hostsCfg.Limits = cfg.Names, cfg.Limits
	routesRef := &lateRoutes{}
	p.Hosts = hosts.New(hostsCfg, hosts.Deps{Store: st, Agents: p.agents, Events: rec, Queue: p.queue, Routes: routesRef,
		Databases: p.Databases, Hostnames: hostnames, Log: logFor("hosts")})
	bucketsCfg := cfg.Buckets
	bucketsCfg.Names = cfg.Names
	p.Buckets = buckets.New(bucketsCfg, buckets.Deps{Store: st, Events: rec, Targets: targets, Tunnels: p.Hosts,
		Hostnames: hostnames, Log: logFor("buckets")})
	domainsCfg := cfg.Domains
	domainsCfg.Names, domainsCfg.Brand = cfg.Names, cfg.Brand
	p.Domains = domains.New(domainsCfg, st, rec, routesRef, p.Certificates, logFor("domains"))
	p.Routes = routes.New(routes.Config{Names: cfg.Names, Brand: cfg.Brand, EdgeAddr: cfg.EdgeAddr}, routes.Deps{
		Store: st, Buckets: p.Buckets, Hosts: p.Hosts, Branding: p.Domains, Certs: p.Certificates, Log: logFor("routes")})
	routesRef.Service = p.Routes
	p.Certificates.SetResolver(p.Routes.Resolver())

	links := appenv.NewLinks(st, p.Databases, p.Buckets, logFor("links"))
	p.Sandboxes = sandbox.New(sandbox.Config{Templates: cfg.Templates, Names: cfg.Names, Limits: cfg.Limits}, sandbox.Deps{
		Store: st, Agents: p.agents, Events: rec, Queue: p.queue, Routes: p.Routes, Links: links, Hostnames: hostnames,
		Releases: p.Releases, Labels: labels, Log: logFor("sandboxes")})
	deployments := &lateDeployments{}
	p.Cron = cron.New(cron.Config{Names: cfg.Names, EdgeAddr: cfg.EdgeAddr}, cron.Deps{Store: st, Agents: p.agents, Events: rec, Deployments: deployments,
		Labels: labels, Log: logFor("cron")})
	p.Deployments = deploy.New(deploy.Config{Templates: cfg.Templates, Artifacts: cfg.Artifacts, Names: cfg.Names,
		Limits: cfg.Limits, NoStandby: cfg.NoStandby}, deploy.Deps{
		Store: st, Agents: p.agents, Events: rec, Queue: p.queue, Routes: p.Routes, Links: links, Hostnames: hostnames,
		Releases: p.Releases, Databases: p.Databases, Cron: p.Cron, Labels: labels, Log: logFor("deployments")})
	deployments.Service = p.Deployments
	targets.deployments, targets.sandboxes = p.Deployments, p.Sandboxes
	return p
}

// lateRoutes lets the hosts and domains, which the routes ask, be built
// before the routes; New sets it before anything runs.
type lateRoutes struct{ *routes.Service }

// lateDeployments lets the cron scheduler, which the deployments ask, be
// built before them; New sets it before anything runs.
type lateDeployments struct{ *deploy.Service }

// targets restarts a linked sandbox or deployment, whichever the id
// names, for the data services and buckets.
type targets struct {
	deployments *deploy.Service
	sandboxes   *sandbox.Service
}

// Restart restarts targetID so that it boots with its links' variables.
func (t *targets) Restart(ctx context.Context, targetID, why string, force bool) (bool, error) {
	if id.HasPrefix(targetID, id.Sandbox) {
		return t.sandboxes.RestartLinked(ctx, targetID, why)
	}
	return t.deployments.RestartLinked(ctx, targetID, why, force)
}

// Run recovers from whatever a previous process left, then reconciles
// until ctx ends.
func (p *Plane) Run(ctx context.Context) error {
	p.Routes.AllChanged()
	if err := p.Deployments.Sweep(ctx); err != nil {
		p.cfg.Log.Warn("sweeping orphans failed", "err", err)
	}
	p.queue.Start(ctx)
	loops := []func(context.Context){p.Cron.Run, p.Databases.Watch, p.Domains.Watch, p.Certificates.Run}
	done := make(chan struct{}, len(loops))
	for _, loop := range loops {
		go func() {
			defer func() { done <- struct{}{} }()
			loop(ctx)
		}()
	}
	t := time.NewTicker(p.cfg.Resync)
	defer t.Stop()
	for {
		p.kickAll(ctx)
		select {
		case <-ctx.Done():
			for range loops {
				<-done
			}
			p.queue.Wait()
			p.Deployments.Wait()
			return nil
		case <-t.C:
		}
	}
}

// kickAll asks for every resource that a periodic resync reconciles.
func (p *Plane) kickAll(ctx context.Context) {
	for _, pending := range []func(context.Context) []string{
		p.Deployments.Pending, p.Sandboxes.Pending, p.Hosts.Pending, p.Databases.Pending,
	} {
		for _, rid := range pending(ctx) {
			p.queue.Kick(rid)
		}
	}
}

// reconcile runs the reconciler of the resource's kind.
func (p *Plane) reconcile(ctx context.Context, resourceID string) {
	var err error
	switch {
	case id.HasPrefix(resourceID, id.Deployment):
		err = p.Deployments.Reconcile(ctx, resourceID)
	case id.HasPrefix(resourceID, id.Sandbox):
		err = p.Sandboxes.Reconcile(ctx, resourceID)
	case id.HasPrefix(resourceID, id.Host):
		err = p.Hosts.Reconcile(ctx, resourceID)
	case id.HasPrefix(resourceID, id.Database):
		err = p.Databases.Reconcile(ctx, resourceID)
	}
	if err != nil && ctx.Err() == nil {
		p.cfg.Log.Warn("reconcile failed", "resource", resourceID, "err", err)
	}
}

// DialHost connects to addr on a Docker Deploy host through its agent:
// the way the edge reaches routes whose Via is a host id.
func (p *Plane) DialHost(ctx context.Context, hostID, addr string) (net.Conn, error) {
	return p.Hosts.DialHost(ctx, hostID, addr)
}
