package cli

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/berth-dev/berth/client"
	"github.com/berth-dev/berth/internal/edge"
	"github.com/berth-dev/berth/internal/resolve"
)

// edgeCmd runs an edge on its own, against a control plane's route
// resolver: the role that scales out beside `berth up` or `berth server`.
func edgeCmd() *cobra.Command {
	var listen, resolverURL, keyFile, addrFile, brandName, brandColor string
	var rl edge.RateLimit
	cmd := &cobra.Command{
		Use:   "edge",
		Short: "Run an edge: the public HTTP entry that routes by hostname through the control plane's resolver",
		Long: "Run an edge on its own. It asks the control plane's route resolver (--resolver, the private address\n" +
			"`berth up` prints) which app serves each hostname, caches the answers and follows the resolver's change\n" +
			"stream, so a deploy, rollback or domain change reaches it within a second. The internal key is read from\n" +
			"--resolver-key-file (DATA/resolver.key.hex of `berth up`) or $BERTH_RESOLVER_KEY.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if resolverURL == "" {
				return usagef("give the control plane's resolver with --resolver http://HOST:PORT")
			}
			key := os.Getenv("BERTH_RESOLVER_KEY")
			if keyFile != "" {
				b, err := os.ReadFile(keyFile)
				if err != nil {
					return fmt.Errorf("reading the resolver key: %w", err)
				}
				key = strings.TrimSpace(string(b))
			}
			if key == "" {
				return usagef("give the resolver's internal key with --resolver-key-file or $BERTH_RESOLVER_KEY")
			}
			log, err := newLogger(cmd)
			if err != nil {
				return err
			}
			e := edge.New(edge.Config{Brand: edge.Brand{Name: brandName, PrimaryColor: brandColor}, Log: log, RateLimit: rl})
			rc := resolve.NewClient(resolverURL, key)
			e.UseResolver(rc)
			ln, err := net.Listen("tcp", listen)
			if err != nil {
				return fmt.Errorf("listening on %s: %w", listen, err)
			}
			if addrFile != "" {
				if err := os.WriteFile(addrFile, []byte(ln.Addr().String()+"\n"), 0o600); err != nil {
					ln.Close()
					return fmt.Errorf("writing %s: %w", addrFile, err)
				}
			}
			return serveEdge(cmd.Context(), e, rc, ln, log)
		},
	}
	cmd.Flags().StringVar(&listen, "listen", "127.0.0.1:7781", "public address to serve apps on")
	cmd.Flags().StringVar(&resolverURL, "resolver", "", "the control plane's route resolver, http://HOST:PORT")
	cmd.Flags().StringVar(&keyFile, "resolver-key-file", "", "file holding the resolver's internal key")
	cmd.Flags().StringVar(&addrFile, "addr-file", "", "write the address the edge listens on to this file")
	cmd.Flags().StringVar(&brandName, "brand-name", "Apps", "name on pages when the resolver cannot be reached")
	cmd.Flags().StringVar(&brandColor, "brand-color", "#2563eb", "colour of pages when the resolver cannot be reached")
	cmd.Flags().Float64Var(&rl.PerSecond, "rate-limit", 0, "requests per second one client address may send (0: no limit)")
	cmd.Flags().IntVar(&rl.Burst, "rate-burst", 0, "requests one client address may send at once (default: the rate)")
	logFlags(cmd)
	return cmd
}

// serveEdge serves e on ln, following r, until ctx ends.
func serveEdge(ctx context.Context, e *edge.Edge, r edge.Resolver, ln net.Listener, log *slog.Logger) error {
	followCtx, stop := context.WithCancel(ctx)
	defer stop()
	go e.Follow(followCtx, r)
	srv := &http.Server{Handler: e, ReadHeaderTimeout: 10 * time.Second}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	log.Info("serving", "addr", ln.Addr().String())
	select {
	case <-ctx.Done():
	case err := <-errc:
		return fmt.Errorf("serving: %w", err)
	}
	shutdown, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	srv.Shutdown(shutdown)
	e.CloseIdleConnections()
	return nil
}

func routesCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "routes", Short: "Operate the edges' routes"}
	resync := &cobra.Command{
		Use:   "resync",
		Short: "Re-register every route from the records: every edge drops what it cached (platform admin key)",
		Long:  "Re-register every route from the records. Run it after an edge is replaced or restored: every edge\nthen answers each hostname from the records again.",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := apiClient()
			if err != nil {
				return err
			}
			res, err := c.ResyncRoutes(cmd.Context())
			if err != nil {
				return err
			}
			return printJSON(cmd.OutOrStdout(), res)
		},
	}
	cmd.AddCommand(resync)
	return cmd
}

func pagesCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "pages", Short: "Set the custom pages the edge serves for an org or workspace",
		Long: "Set custom pages: HTML templates for the edge's own answers (not-found, bad-gateway, loading,\ntls-pending, rate-limited) on every name an org or workspace owns. See docs/domains.md."}
	var orgID, wsID string
	owner := func(c *cobra.Command) {
		c.Flags().StringVar(&orgID, "org", "", "org id")
		c.Flags().StringVar(&wsID, "workspace", "", "workspace id (falls back to its org's page of a kind it does not set)")
	}
	pick := func() error {
		if (orgID == "") == (wsID == "") {
			return usagef("give one of --org and --workspace")
		}
		return nil
	}
	set := &cobra.Command{
		Use: "set KIND FILE", Short: "Upload a custom page template", Args: cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := pick(); err != nil {
				return err
			}
			src, err := os.ReadFile(args[1])
			if err != nil {
				return err
			}
			c, err := apiClient()
			if err != nil {
				return err
			}
			var p *client.Page
			if orgID != "" {
				p, err = c.PutOrgPage(cmd.Context(), orgID, args[0], src)
			} else {
				p, err = c.PutWorkspacePage(cmd.Context(), wsID, args[0], src)
			}
			if err != nil {
				return err
			}
			return printJSON(cmd.OutOrStdout(), p)
		},
	}
	show := &cobra.Command{
		Use: "show KIND", Short: "Print a custom page template", Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := pick(); err != nil {
				return err
			}
			c, err := apiClient()
			if err != nil {
				return err
			}
			var b []byte
			if orgID != "" {
				b, err = c.OrgPage(cmd.Context(), orgID, args[0])
			} else {
				b, err = c.WorkspacePage(cmd.Context(), wsID, args[0])
			}
			if err != nil {
				return err
			}
			_, err = cmd.OutOrStdout().Write(b)
			return err
		},
	}
	remove := &cobra.Command{
		Use: "remove KIND", Short: "Remove a custom page: the edge serves its own again", Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := pick(); err != nil {
				return err
			}
			c, err := apiClient()
			if err != nil {
				return err
			}
			if orgID != "" {
				return c.DeleteOrgPage(cmd.Context(), orgID, args[0])
			}
			return c.DeleteWorkspacePage(cmd.Context(), wsID, args[0])
		},
	}
	for _, c := range []*cobra.Command{set, show, remove} {
		owner(c)
	}
	cmd.AddCommand(set, show, remove)
	return cmd
}
