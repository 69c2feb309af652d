// Package control is the control plane's core: it turns API requests into
// desired state in the store, and its reconcilers drive the hosts' agents
// toward that state and write back what they observe.
package control

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"time"

	"github.com/berth-dev/berth/internal/agent"
	"github.com/berth-dev/berth/internal/blob"
	"github.com/berth-dev/berth/internal/edge"
	"github.com/berth-dev/berth/internal/id"
	"github.com/berth-dev/berth/internal/store"
	"github.com/berth-dev/berth/internal/templates"
)

// Limits are per-container resource limits.
type Limits struct {
	MemoryBytes int64
	NanoCPUs    int64
	PidsLimit   int64
}

// Config wires a Control.
type Config struct {
	Store     store.Store
	Artifacts *blob.Store
	Templates *templates.Catalogue
	Names     Names
	// EdgeAddr is where the edge listens (host:port); readiness probes go
	// through it, as a browser's request would.
	EdgeAddr string
	// Brand is the platform's default branding for edge pages.
	Brand edge.Brand
	Logf  func(format string, args ...any)
	// Limits are the resources every container gets (zero: the runtime's
	// floor).
	Limits Limits
	// Instance names this control plane's containers (a label), so two
	// installations sharing one engine never touch each other's.
	Instance string
	// Resync is how often every resource is reconciled even when nothing
	// asked (0: 10s).
	Resync time.Duration
	// Hosts wires the workspaces' Docker Deploy hosts.
	Hosts HostConfig
	// BuildCABundle is a PEM file of CAs that image builds trust for
	// their downloads (npm, pip), added to the build context of a
	// Dockerfile that names it; empty: none.
	BuildCABundle string
	// Domains configures custom domains: how they are verified and where
	// their traffic goes.
	Domains DomainConfig
	// Buckets configures S3 buckets: the endpoint and what apps get.
	Buckets BucketConfig
	// Certs, when the edge serves HTTPS, orders certificates before the
	// first handshake asks (nil: on the first handshake only).
	Certs Certificates
	// ManagedTLS is how the managed names under the platform domain get
	// certificates (empty: ManagedTLSAuto).
	ManagedTLS ManagedTLS
	// NoStandby removes the container a deploy replaces, instead of
	// keeping it frozen so that a rollback to its release starts nothing.
	// A standby keeps its memory (not its CPU) until the next deploy.
	NoStandby bool
}

// Control is the control plane's core.
type Control struct {
	cfg    Config
	st     store.Store
	logf   func(string, ...any)
	probe  *http.Client
	queue  *queue
	mu     sync.Mutex // guards agents
	agents map[string]*agent.Client

	routes   routeFeed
	owners   ownerCache
	retiring sync.WaitGroup
	// draining holds the replaced containers still finishing their
	// requests: none is frozen before it is done.
	draining drainSet
	orders   certOrders
	// hostLocks keep a host's reconciler and the API's writes to a host
	// record from overwriting each other.
	hostLocks keyedMutex
	cron      cronScheduler
}

// New returns a Control; call Run to start its reconcilers.
func New(cfg Config) *Control {
	if cfg.Logf == nil {
		cfg.Logf = func(string, ...any) {}
	}
	if cfg.Resync == 0 {
		cfg.Resync = 10 * time.Second
	}
	c := &Control{cfg: cfg, st: cfg.Store, logf: cfg.Logf, agents: map[string]*agent.Client{}, cron: newCronScheduler()}
	c.routes.owners = &c.owners
	c.probe = &http.Client{
		Timeout:       3 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	c.queue = newQueue(c.reconcile)
	return c
}

// Templates returns the template catalogue.
func (c *Control) Templates() *templates.Catalogue { return c.cfg.Templates }

// Names returns how URLs are made.
func (c *Control) Names() Names { return c.cfg.Names }

// Run recovers from whatever a previous process left, then reconciles
// until ctx ends.
func (c *Control) Run(ctx context.Context) error {
	c.allRoutesChanged()
	if err := c.sweep(ctx); err != nil {
		c.logf("sweeping orphans: %v", err)
	}
	c.queue.start(ctx)
	scheduler := make(chan struct{})
	go func() {
		defer close(scheduler)
		c.runScheduler(ctx)
	}()
	watcher := make(chan struct{})
	go func() {
		defer close(watcher)
		c.watchDatabases(ctx)
	}()
	rechecker := make(chan struct{})
	go func() {
		defer close(rechecker)
		c.watchDomains(ctx)
	}()
	certs := make(chan struct{})
	go func() {
		defer close(certs)
		c.runCertificateOrders(ctx)
	}()
	t := time.NewTicker(c.cfg.Resync)
	defer t.Stop()
	for {
		c.kickAll(ctx)
		select {
		case <-ctx.Done():
			<-scheduler
			<-watcher
			<-rechecker
			<-certs
			c.queue.wait()
			c.retiring.Wait()
			return nil
		case <-t.C:
		}
	}
}

func (c *Control) kickAll(ctx context.Context) {
	deps, err := listAll(ctx, c.st.ListDeployments)
	if err != nil {
		c.logf("listing deployments: %v", err)
	}
	for _, d := range deps {
		c.queue.kick(d.ID)
	}
	sbxs, err := listAll(ctx, c.st.ListSandboxes)
	if err != nil {
		c.logf("listing sandboxes: %v", err)
	}
	for _, s := range sbxs {
		if s.Status != store.SandboxStopped {
			c.queue.kick(s.ID)
		}
	}
	for _, rid := range c.moreToReconcile(ctx) {
		c.queue.kick(rid)
	}
}

func (c *Control) reconcile(ctx context.Context, resourceID string) {
	var err error
	switch {
	case id.HasPrefix(resourceID, id.Deployment):
		err = c.reconcileDeployment(ctx, resourceID)
	case id.HasPrefix(resourceID, id.Sandbox):
		err = c.reconcileSandbox(ctx, resourceID)
	case id.HasPrefix(resourceID, id.Host):
		err = c.reconcileHost(ctx, resourceID)
	case id.HasPrefix(resourceID, id.Database):
		err = c.reconcileDatabase(ctx, resourceID)
	case id.HasPrefix(resourceID, id.Domain):
		err = c.reconcileDomain(ctx, resourceID)
	}
	if err != nil && ctx.Err() == nil {
		c.logf("reconciling %s: %v", resourceID, err)
	}
}

// listAll pages through a list call.
func listAll[T interface{ GetID() string }](ctx context.Context, list func(context.Context, store.ListFilter) ([]T, error)) ([]T, error) {
	var all []T
	f := store.ListFilter{Limit: 1000}
	for {
		page, err := list(ctx, f)
		if err != nil {
			return nil, err
		}
		all = append(all, page...)
		if len(page) < f.Limit {
			return all, nil
		}
		f.After = page[len(page)-1].GetID()
	}
}

// poolHost returns the pool host that takes new work and its agent.
func (c *Control) poolHost(ctx context.Context) (*store.Host, *agent.Client, error) {
	hosts, err := c.st.ListHosts(ctx)
	if err != nil {
		return nil, nil, fmt.Errorf("listing hosts: %w", err)
	}
	for _, h := range hosts {
		if h.Kind == store.HostPool && h.State == "active" {
			return h, c.agent(h), nil
		}
	}
	return nil, nil, errors.New("no active pool host")
}

// hostAgent returns the agent of a host by id.
func (c *Control) hostAgent(ctx context.Context, hostID string) (*agent.Client, error) {
	h, err := c.st.GetHost(ctx, hostID)
	if err != nil {
		return nil, fmt.Errorf("getting host %s: %w", hostID, err)
	}
	return c.agent(h), nil
}

func (c *Control) agent(h *store.Host) *agent.Client {
	c.mu.Lock()
	defer c.mu.Unlock()
	key := h.ID + "|" + h.AgentURL
	a, ok := c.agents[key]
	if !ok {
		a = c.agentClient(h)
		c.agents[key] = a
	}
	return a
}

// labels are the labels of every container this control plane makes.
func (c *Control) labels(kv ...string) map[string]string {
	m := map[string]string{"berth.managed": "true", "berth.instance": c.cfg.Instance}
	for i := 0; i+1 < len(kv); i += 2 {
		m[kv[i]] = kv[i+1]
	}
	return m
}

// event appends an event; failing to record one never fails the operation.
func (c *Control) event(ctx context.Context, resourceID, typ, format string, args ...any) {
	e := &store.Event{ID: id.New(id.Event), ResourceID: resourceID, Type: typ,
		Message: fmt.Sprintf(format, args...), CreatedAt: time.Now().UTC()}
	if err := c.st.AppendEvent(ctx, e); err != nil {
		c.logf("recording event %s: %v", typ, err)
	}
}
