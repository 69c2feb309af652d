package cli

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime/debug"
	"strings"
	"time"

	"github.com/docker/go-units"
	"github.com/spf13/cobra"

	"github.com/berth-dev/berth/internal/docker"
	"github.com/berth-dev/berth/internal/images"
	"github.com/berth-dev/berth/internal/templates"
	"github.com/berth-dev/berth/internal/up"
)

func upCmd() *cobra.Command {
	var cfg up.Config
	var imageFlags []string
	var memory string
	var cpus float64
	var standby bool
	cmd := &cobra.Command{
		Use:   "up",
		Short: "Run Berth on this machine: API, agent, edge and store in one process",
		RunE: func(cmd *cobra.Command, args []string) error {
			// The edge allocates per request and the heap of the rest is
			// small: collect less often than Go's default unless the
			// operator set GOGC (worth about 9% of edge throughput).
			if os.Getenv("GOGC") == "" {
				debug.SetGCPercent(400)
			}
			log, err := newLogger(cmd)
			if err != nil {
				return err
			}
			imgs, err := parseImages(imageFlags)
			if err != nil {
				return err
			}
			cfg.Images = imgs
			if cfg.Limits.MemoryBytes, err = units.RAMInBytes(memory); err != nil || cfg.Limits.MemoryBytes < 6<<20 {
				return fmt.Errorf("--container-memory %q: give a size of at least 6MiB, such as 512MiB or 2GiB", memory)
			}
			if cpus <= 0 || cpus > 1024 {
				return fmt.Errorf("--container-cpus %v: give a number of CPUs such as 0.5 or 2", cpus)
			}
			cfg.Limits.NanoCPUs = int64(cpus * 1e9)
			cfg.NoStandby = !standby
			cfg.BootstrapKey = os.Getenv("BERTH_BOOTSTRAP_KEY")
			cfg.S3.AccessKey, cfg.S3.SecretKey = os.Getenv("BERTH_S3_ACCESS_KEY_ID"), os.Getenv("BERTH_S3_SECRET_ACCESS_KEY")
			cfg.Log = log
			out := cmd.OutOrStdout()
			cfg.Ready = func(info up.Info) {
				fmt.Fprintf(out, "Berth is up.\n  API:  %s\n  Apps: %s (an app answers at {project}.{org}.%s, a preview at {sandbox}.sandbox.{org}.%s)\n", info.APIURL, info.EdgeURL, cfg.Domain, cfg.Domain)
				if info.EdgeTLSAddr != "" {
					fmt.Fprintf(out, "  HTTPS: %s (certificates from %s for verified custom domains)\n", info.EdgeTLSAddr, cfg.TLS.CA)
					if cfg.TLS.RFC2136.Server != "" {
						fmt.Fprintf(out, "  Wildcards: over DNS-01 for domains under %s (RFC 2136 updates to %s)\n", cfg.TLS.RFC2136.Zone, cfg.TLS.RFC2136.Server)
					}
					fmt.Fprintf(out, "  Managed names: %s\n", info.ManagedNames)
				}
				fmt.Fprintf(out, "  Route resolver for more edges (private): berth edge --resolver %s --resolver-key-file %s\n", info.ResolverURL, info.ResolverKeyFile)
				saved := loadConfig()
				if info.Key != "" || saved.APIURL != info.APIURL {
					key := info.Key
					if key == "" {
						key = saved.Key
					}
					if key == "" {
						key = cfg.BootstrapKey
					}
					if err := saveConfig(Config{APIURL: info.APIURL, Key: key}); err != nil {
						log.Warn("saving the CLI config failed", "err", err)
					}
				}
				if info.Key != "" {
					fmt.Fprintf(out, "  Admin API key (shown once, saved to %s):\n    %s\n", configPath(), info.Key)
				} else {
					fmt.Fprintf(out, "  The admin key is in %s\n", configPath())
				}
			}
			return up.Run(cmd.Context(), cfg)
		},
	}
	home, _ := os.UserHomeDir()
	cmd.Flags().StringVar(&cfg.DataDir, "data-dir", filepath.Join(home, ".local", "share", "berth"), "where Berth keeps its database and artifacts")
	cmd.Flags().StringVar(&cfg.Listen, "listen", "127.0.0.1:7700", "address of the API")
	cmd.Flags().StringVar(&cfg.EdgeListen, "edge-listen", "127.0.0.1:7780", "address of the edge that serves apps and previews")
	cmd.Flags().StringVar(&cfg.Domain, "domain", "localhost", "platform domain: apps get {project}.{org}.DOMAIN")
	cmd.Flags().StringVar(&cfg.DockerHost, "docker-host", "", "Docker engine address (default: the environment's)")
	cmd.Flags().StringVar(&memory, "container-memory", "512MiB", "memory limit of every app and sandbox container")
	cmd.Flags().Float64Var(&cpus, "container-cpus", 1, "CPU limit of every container, in CPUs")
	cmd.Flags().Int64Var(&cfg.Limits.PidsLimit, "container-pids", 512, "process limit of every container")
	cmd.Flags().BoolVar(&standby, "rollback-standby", true, "keep the container a deploy replaces, frozen (its memory kept, no CPU), so a rollback to its release starts no container")
	cmd.Flags().StringArrayVar(&imageFlags, "image", nil, "base image of a runtime, as NAME=REF (e.g. node=node:22-bookworm); default: the local berth/* images")
	cmd.Flags().StringVar(&cfg.DNSResolver, "dns-resolver", "", "nameserver (host:port) that custom domains' TXT verification records are looked up at; default: the system's resolver")
	cmd.Flags().StringVar(&cfg.DomainTarget, "domain-target", "", "hostname custom domains point their CNAME at to reach the edge; default: the platform domain")
	cmd.Flags().StringVar(&cfg.TLS.Listen, "edge-tls-listen", "", "address of the edge's HTTPS listener (e.g. :443), with certificates from ACME for verified custom domains; default: off")
	cmd.Flags().StringVar(&cfg.TLS.CA, "acme-ca", "https://acme-v02.api.letsencrypt.org/directory", "ACME directory URL the edge gets certificates from")
	cmd.Flags().StringVar(&cfg.TLS.CARoot, "acme-ca-root", "", "PEM file of roots trusted for the ACME directory's HTTPS (a private CA); default: the system's")
	cmd.Flags().StringVar(&cfg.TLS.Email, "acme-email", "", "contact email of the ACME account (expiry notices); default: none")
	cmd.Flags().StringVar(&cfg.ResolverListen, "resolver-listen", "127.0.0.1:0", "private address separate edges (berth edge) ask the route resolver at; keep it off the public network")
	cmd.Flags().Float64Var(&cfg.EdgeRateLimit.PerSecond, "edge-rate-limit", 0, "requests per second one client address may send to the edge (0: no limit)")
	cmd.Flags().IntVar(&cfg.EdgeRateLimit.Burst, "edge-rate-burst", 0, "requests one client address may send at once (default: the rate)")
	cmd.Flags().DurationVar(&cfg.DomainRecheck, "domain-recheck", time.Hour, "how often a verified domain's TXT record is checked again")
	cmd.Flags().DurationVar(&cfg.DomainGrace, "domain-grace", 24*time.Hour, "how long a verified domain's TXT record may be missing before the domain fails")
	rfc2136Flags(cmd, &cfg.TLS.RFC2136)
	managedTLSFlag(cmd, &cfg.TLS)
	logFlags(cmd)
	cmd.Flags().StringVar(&cfg.BuildCABundle, "build-ca-bundle", "", "PEM file of CAs that image builds trust for npm and pip downloads (e.g. /etc/ssl/certs/ca-certificates.crt behind a TLS-intercepting proxy); default: none")
	cmd.Flags().StringVar(&cfg.S3.Endpoint, "s3-endpoint", "", "URL of an external S3 endpoint to keep buckets on, with the operator's keys in BERTH_S3_ACCESS_KEY_ID and BERTH_S3_SECRET_ACCESS_KEY; default: the embedded S3 server")
	cmd.Flags().StringVar(&cfg.S3.PublicEndpoint, "s3-public-endpoint", "", "URL of the external S3 endpoint that browsers and presigned links use (default: --s3-endpoint)")
	cmd.Flags().StringVar(&cfg.S3.Region, "s3-region", "us-east-1", "region of the buckets")
	cmd.Flags().StringVar(&cfg.S3.Prefix, "s3-prefix", "berth-", "prefix of the bucket names Berth makes at an external S3 endpoint")
	cmd.Flags().StringVar(&cfg.S3.RemoteEdgeIP, "s3-remote-edge-ip", "", "address apps on Docker Deploy hosts of other machines reach the edge at, when s3.{org domain} is not in their DNS (it goes in their hosts file); default: DNS")
	return cmd
}

func parseImages(flags []string) (templates.Images, error) {
	imgs := templates.Images{}
	for _, f := range flags {
		k, v, ok := strings.Cut(f, "=")
		if !ok || k == "" || v == "" {
			return nil, fmt.Errorf("--image %q: write NAME=REF", f)
		}
		imgs[k] = v
	}
	return imgs, nil
}

func imagesCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "images", Short: "Manage the local base images of the templates"}
	var force bool
	build := &cobra.Command{
		Use:   "build",
		Short: "Build the templates' base images locally from Debian packages (skips those that exist)",
		RunE: func(cmd *cobra.Command, args []string) error {
			rt, err := docker.New("")
			if err != nil {
				return err
			}
			return images.Build(cmd.Context(), rt, cmd.OutOrStdout(), force)
		},
	}
	build.Flags().BoolVar(&force, "force", false, "rebuild images that exist")
	cmd.AddCommand(build)
	return cmd
}
