// Package up is the composition root of `berth up`: the control plane, a
// local agent behind its own loopback listener, the edge and the store in
// one process. Every dependency is made and wired here, explicitly.
package up

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/berth-dev/berth/internal/agent"
	"github.com/berth-dev/berth/internal/api"
	"github.com/berth-dev/berth/internal/blob"
	"github.com/berth-dev/berth/internal/control"
	"github.com/berth-dev/berth/internal/control/agents"
	"github.com/berth-dev/berth/internal/control/domains"
	"github.com/berth-dev/berth/internal/control/names"
	"github.com/berth-dev/berth/internal/dnsverify"
	"github.com/berth-dev/berth/internal/docker"
	"github.com/berth-dev/berth/internal/edge"
	"github.com/berth-dev/berth/internal/id"
	"github.com/berth-dev/berth/internal/images"
	"github.com/berth-dev/berth/internal/mcp"
	"github.com/berth-dev/berth/internal/resolve"
	"github.com/berth-dev/berth/internal/store"
	"github.com/berth-dev/berth/internal/store/sqlite"
	"github.com/berth-dev/berth/internal/templates"
)

// Config is what `berth up` takes.
type Config struct {
	DataDir    string
	Listen     string // API
	EdgeListen string
	Domain     string
	// DockerHost is the engine's address; empty uses the environment.
	DockerHost string
	Images     templates.Images
	// Limits are every container's resources; zero fields take the
	// runtime's floor.
	Limits agents.Limits
	// NoStandby removes the container a deploy replaces instead of
	// keeping it frozen for an instant rollback.
	NoStandby bool
	// Resync is how often every resource is reconciled even when nothing
	// asked for it; 0 is the control plane's default. Tests shorten it.
	Resync time.Duration
	// BootstrapKey, when set, is the platform admin key instead of a
	// random one.
	BootstrapKey string
	// AgentBinary is the berth binary the Docker Deploy hosts' agents
	// and portals run from (default: this process's executable).
	AgentBinary string
	// BuildCABundle is a PEM file of extra CAs that image builds trust
	// (for npm and pip behind a TLS-intercepting proxy); empty: none.
	BuildCABundle string
	// DNSResolver is the nameserver (host:port) custom domains' TXT
	// records are looked up at; empty: the system's resolver.
	DNSResolver string
	// DomainTarget is the hostname custom domains CNAME to for traffic
	// (empty: the platform domain).
	DomainTarget string
	// TLS turns on the edge's HTTPS listener (off when TLS.Listen is
	// empty).
	TLS TLSConfig
	// S3 chooses where buckets live (default: the embedded S3 server).
	S3 S3Config
	// ResolverListen is the private address the route resolver answers
	// separate edges (`berth edge`) at, with the key in
	// DATA/resolver.key; empty: a free loopback port.
	ResolverListen string
	// EdgeRateLimit bounds the requests of one client address at the
	// edge; zero: no limit.
	EdgeRateLimit edge.RateLimit
	// DomainRecheck is how often a verified domain's TXT record is looked
	// up again, and DomainGrace how long it may be missing before the
	// domain fails (zero: the control plane's defaults).
	DomainRecheck, DomainGrace time.Duration
	// Log receives every role's operational messages, each role's with a
	// component attribute (nil: discarded).
	Log *slog.Logger
	// Ready is called once everything listens, with what to tell the user.
	Ready func(Info)
}

// Info is what a started `berth up` tells its user.
type Info struct {
	APIURL  string
	EdgeURL string
	// EdgeTLSAddr is the edge's HTTPS listener (host:port), when on.
	EdgeTLSAddr string
	// ManagedNames says how the managed names get certificates, when
	// HTTPS is on.
	ManagedNames string
	// Key is set only on the first start, when the admin key was made.
	Key string
	// ResolverURL is where separate edges ask the route resolver, with
	// the key in ResolverKeyFile.
	ResolverURL     string
	ResolverKeyFile string
}

// Run starts every role and serves until ctx ends.
func Run(ctx context.Context, cfg Config) error {
	log := cfg.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	logFor := func(component string) *slog.Logger { return log.With("component", component) }
	managedTLS, err := cfg.TLS.managedTLS()
	if err != nil {
		return err
	}
	if err := os.MkdirAll(cfg.DataDir, 0o700); err != nil {
		return fmt.Errorf("making data dir: %w", err)
	}
	unlock, err := lockDataDir(cfg.DataDir)
	if err != nil {
		return err
	}
	defer unlock()
	instance, err := secretFile(filepath.Join(cfg.DataDir, "instance"), 8)
	if err != nil {
		return err
	}
	if _, err := os.Stat(filepath.Join(cfg.DataDir, "berth.db")); err == nil {
		if _, err := os.Stat(filepath.Join(cfg.DataDir, "seal.key")); errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("%s is missing but berth.db is there: restore seal.key from your backup; without it the secrets in the database cannot be read", filepath.Join(cfg.DataDir, "seal.key"))
		}
	}
	sealKey, err := secretFile(filepath.Join(cfg.DataDir, "seal.key"), 32)
	if err != nil {
		return err
	}
	st, err := sqlite.Open(filepath.Join(cfg.DataDir, "berth.db"), sealKey)
	if err != nil {
		return fmt.Errorf("opening store: %w", err)
	}
	defer st.Close()
	artifacts, err := blob.Open(filepath.Join(cfg.DataDir, "artifacts"))
	if err != nil {
		return fmt.Errorf("opening artifact store: %w", err)
	}

	// The local agent: its own listener and credential, as a remote host's.
	rt, err := docker.New(cfg.DockerHost)
	if err != nil {
		return fmt.Errorf("connecting to docker: %w", err)
	}
	if err := rt.Ping(ctx); err != nil {
		return fmt.Errorf("the Docker engine does not answer (is dockerd running?): %w", err)
	}
	// Templates name the base images by their neutral aliases.
	if err := images.EnsureAliases(ctx, rt); err != nil {
		log.Warn("aliasing the base images failed", "err", err)
	}
	agentBlobs, err := blob.Open(filepath.Join(cfg.DataDir, "agent", "blobs"))
	if err != nil {
		return fmt.Errorf("opening agent blob store: %w", err)
	}
	agentSecretRaw, err := secretFile(filepath.Join(cfg.DataDir, "agent", "secret"), 32)
	if err != nil {
		return err
	}
	agentSecret := hex.EncodeToString(agentSecretRaw)
	agentLn, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return fmt.Errorf("listening for the agent: %w", err)
	}
	agentSrv := agent.NewServer(agent.Config{Runtime: rt, Blobs: agentBlobs, Secret: agentSecret, Log: logFor("agent")})
	go agentSrv.Listen(ctx, agentLn)
	if err := registerLocalHost(ctx, st, "http://"+agentLn.Addr().String(), agentSecret); err != nil {
		return err
	}

	edgeLn, err := net.Listen("tcp", cfg.EdgeListen)
	if err != nil {
		return fmt.Errorf("listening for the edge on %s: %w", cfg.EdgeListen, err)
	}
	apiLn, err := net.Listen("tcp", cfg.Listen)
	if err != nil {
		edgeLn.Close()
		return fmt.Errorf("listening for the API on %s: %w", cfg.Listen, err)
	}
	edgePort := edgeLn.Addr().(*net.TCPAddr).Port
	hosts, stopHosts, err := hostConfig(cfg, "http://"+loopback(apiLn.Addr()), logFor("hosts"))
	if err != nil {
		edgeLn.Close()
		apiLn.Close()
		return err
	}
	defer stopHosts()
	buckets, stopBuckets, err := bucketConfig(ctx, cfg, st, rt, logFor("s3"))
	if err != nil {
		edgeLn.Close()
		apiLn.Close()
		return err
	}
	defer stopBuckets()
	resolverKey, err := secretFile(filepath.Join(cfg.DataDir, "resolver.key"), 32)
	if err != nil {
		edgeLn.Close()
		apiLn.Close()
		return err
	}
	resolverListen := cfg.ResolverListen
	if resolverListen == "" {
		resolverListen = "127.0.0.1:0"
	}
	resolverLn, err := net.Listen("tcp", resolverListen)
	if err != nil {
		edgeLn.Close()
		apiLn.Close()
		return fmt.Errorf("listening for the route resolver on %s: %w", resolverListen, err)
	}
	var ctl *control.Plane
	edgeAddr := loopback(edgeLn.Addr())
	var tlsEdge *edgeTLS
	if cfg.TLS.Listen != "" {
		if tlsEdge, err = startEdgeTLS(cfg.TLS, cfg.DNSResolver, st, edgeLn.Addr(), &ctl, logFor("certs")); err != nil {
			edgeLn.Close()
			apiLn.Close()
			resolverLn.Close()
			return err
		}
		edgeAddr = tlsEdge.internal.Addr().String()
	}
	brand := edge.Brand{Name: "Apps", PrimaryColor: "#2563eb"}
	// Routes with a Via are on another machine: the edge reaches them
	// through that host's agent (ctl is set before anything is routed).
	e := edge.New(edge.Config{Brand: brand, Log: logFor("edge"), RateLimit: cfg.EdgeRateLimit,
		DialVia: func(ctx context.Context, via, addr string) (net.Conn, error) {
			return ctl.DialHost(ctx, via, addr)
		}})
	ctl = control.New(control.Config{
		Store: st, Artifacts: artifacts, Templates: templates.New(cfg.Images),
		Names:    tlsEdge.names(names.Names{Domain: cfg.Domain, Scheme: "http", Port: edgePort}),
		EdgeAddr: edgeAddr, Brand: brand, Log: log,
		Instance: hex.EncodeToString(instance), Limits: cfg.Limits, Hosts: hosts,
		BuildCABundle: cfg.BuildCABundle, NoStandby: cfg.NoStandby, Resync: cfg.Resync,
		Domains: domains.Config{DNS: dnsverify.Resolver{Addr: cfg.DNSResolver}, Target: cfg.DomainTarget,
			Recheck: cfg.DomainRecheck, Grace: cfg.DomainGrace},
		Buckets:    buckets,
		Certs:      tlsEdge.orders(),
		ManagedTLS: managedTLS,
	})
	// The in-process edge asks the resolver directly; separate edges ask
	// it through the private listener.
	e.UseResolver(ctl.Routes.Resolver())
	apiSrv := api.New(st, ctl, logFor("api"))

	info := Info{APIURL: "http://" + loopback(apiLn.Addr()), EdgeURL: (names.Names{Domain: cfg.Domain, Port: edgePort}).URL(cfg.Domain),
		ResolverURL: "http://" + loopback(resolverLn.Addr()), ResolverKeyFile: filepath.Join(cfg.DataDir, "resolver.key.hex")}
	if err := os.WriteFile(info.ResolverKeyFile, []byte(hex.EncodeToString(resolverKey)+"\n"), 0o600); err != nil {
		return fmt.Errorf("writing %s: %w", info.ResolverKeyFile, err)
	}
	if info.Key, err = bootstrapKey(ctx, st, cfg.BootstrapKey); err != nil {
		return err
	}

	errc := make(chan error, 6)
	serve := func(name string, ln net.Listener, h http.Handler) *http.Server {
		srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
		go func() {
			if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
				errc <- fmt.Errorf("serving %s: %w", name, err)
			}
		}()
		return srv
	}
	var edgeHandler http.Handler = e
	stopTLS := func(context.Context) {}
	if tlsEdge != nil {
		edgeHandler = tlsEdge.httpHandler(e)
		stopTLS = tlsEdge.serve(e, errc, logFor("edge"))
		info.EdgeTLSAddr = loopback(tlsEdge.ln.Addr())
		info.ManagedNames = tlsEdge.managedSummary(managedTLS, cfg.Domain)
	}
	edgeSrv := serve("edge", edgeLn, edgeHandler)
	// The MCP tools answer beside the API and call it like any client,
	// with each request's own key.
	apiHTTP := serve("api", apiLn, mcp.Beside(apiSrv, mcp.HTTPConfig{APIURL: info.APIURL, HTTP: loopbackClient(), Log: logFor("mcp")}))
	resolverSrv := serve("route resolver", resolverLn, resolve.Handler(ctl.Routes.Resolver(), hex.EncodeToString(resolverKey), logFor("resolver")))
	followCtx, stopFollow := context.WithCancel(ctx)
	followDone := make(chan struct{})
	go func() {
		defer close(followDone)
		e.Follow(followCtx, ctl.Routes.Resolver())
	}()
	ctlCtx, stopCtl := context.WithCancel(ctx)
	ctlDone := make(chan struct{})
	go func() {
		defer close(ctlDone)
		if err := ctl.Run(ctlCtx); err != nil {
			errc <- err
		}
	}()
	if cfg.Ready != nil {
		cfg.Ready(info)
	}
	select {
	case <-ctx.Done():
	case err = <-errc:
	}
	shutdown, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	apiHTTP.Shutdown(shutdown)
	// The change streams never end on their own: close, not shut down.
	resolverSrv.Close()
	stopCtl()
	<-ctlDone
	stopFollow()
	<-followDone
	edgeSrv.Shutdown(shutdown)
	stopTLS(shutdown)
	return err
}

// loopbackClient is the HTTP client the MCP tools reach the API with, on
// this machine: no proxy from the environment, connections kept.
func loopbackClient() *http.Client {
	return &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 16, IdleConnTimeout: time.Minute}}
}

// loopback turns a listener's address into one a local client can dial.
func loopback(a net.Addr) string {
	t := a.(*net.TCPAddr)
	if t.IP.IsUnspecified() {
		return net.JoinHostPort("127.0.0.1", strconv.Itoa(t.Port))
	}
	return t.String()
}

// secretFile reads n random bytes kept in path, making them on first use.
func secretFile(path string, n int) ([]byte, error) {
	b, err := os.ReadFile(path)
	if err == nil && len(b) == n {
		return b, nil
	}
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("reading %s: %w", path, err)
	}
	if err == nil {
		return nil, fmt.Errorf("%s holds %d bytes, not %d: restore it from a backup", path, len(b), n)
	}
	b = make([]byte, n)
	rand.Read(b)
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("making %s: %w", filepath.Dir(path), err)
	}
	if err := os.WriteFile(path, b, 0o600); err != nil {
		return nil, fmt.Errorf("writing %s: %w", path, err)
	}
	return b, nil
}

// registerLocalHost records the local engine as the pool host, pointing
// it at this process's agent listener.
func registerLocalHost(ctx context.Context, st store.Store, url, secret string) error {
	hosts, err := st.ListHosts(ctx)
	if err != nil {
		return fmt.Errorf("listing hosts: %w", err)
	}
	now := time.Now().UTC()
	for _, h := range hosts {
		if h.Kind == store.HostPool {
			h.AgentURL, h.AgentSecret, h.State, h.StateReason = url, secret, "active", ""
			if err := st.UpdateHost(ctx, h); err != nil {
				return fmt.Errorf("updating the local host: %w", err)
			}
			return nil
		}
	}
	h := &store.Host{ID: id.New(id.Host), Kind: store.HostPool, State: "active", AgentURL: url, AgentSecret: secret, CreatedAt: now, UpdatedAt: now}
	if err := st.CreateHost(ctx, h); err != nil {
		return fmt.Errorf("recording the local host: %w", err)
	}
	return nil
}

// bootstrapKey makes the platform admin key on first start (or makes
// sure the given one exists) and returns its secret when it is new.
func bootstrapKey(ctx context.Context, st store.Store, given string) (string, error) {
	n, err := st.CountAPIKeys(ctx)
	if err != nil {
		return "", fmt.Errorf("counting keys: %w", err)
	}
	secret := strings.TrimSpace(given)
	if secret != "" {
		if _, err := st.GetAPIKeyByHash(ctx, api.HashKey(secret)); err == nil {
			return "", nil
		}
	} else if n > 0 {
		return "", nil
	} else {
		secret = api.NewSecret()
	}
	k := &store.APIKey{ID: id.New(id.APIKey), Name: "bootstrap admin", Hash: api.HashKey(secret), Prefix: secret[:min(12, len(secret))],
		Role: store.RoleAdmin, CreatedAt: time.Now().UTC()}
	if err := st.CreateAPIKey(ctx, k); err != nil {
		return "", fmt.Errorf("creating the admin key: %w", err)
	}
	return secret, nil
}

// lockDataDir makes sure one process at a time uses a data dir: a second
// `berth up` on it fails at once instead of taking over the first one's
// hosts and database.
func lockDataDir(dir string) (unlock func(), err error) {
	f, err := os.OpenFile(filepath.Join(dir, "lock"), os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return nil, fmt.Errorf("opening the data dir lock: %w", err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		return nil, fmt.Errorf("another berth is running with data dir %s: stop it first, or give --data-dir another folder", dir)
	}
	return func() { f.Close() }, nil
}
