package cli

import (
	"context"
	"crypto/x509"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/berth-dev/berth/internal/agent"
	"github.com/berth-dev/berth/internal/blob"
	"github.com/berth-dev/berth/internal/docker"
	"github.com/berth-dev/berth/internal/images"
	"github.com/berth-dev/berth/internal/pki"
)

// agentCmd runs a host's agent on its own: the role a Docker Deploy host
// runs, started by its provisioner. It answers only over mutual TLS, with
// the files of --dir.
func agentCmd() *cobra.Command {
	var dir, listen, dockerHost, portalAddr string
	var checkDocker bool
	cmd := &cobra.Command{
		Use:   "agent",
		Short: "Run a host's agent: the private API the control plane drives containers through",
		Long: "Run a host's agent. It listens on --listen with mutual TLS and answers only the control plane:\n" +
			"--dir holds its certificate (" + agent.CertFile + ", " + agent.KeyFile + "), the CA of the control plane's\n" +
			"client certificate (" + agent.ClientCAFile + "), its credential (" + agent.SecretFile + ") and uploaded artifacts.\n" +
			"Once listening it writes its address to " + agent.AddrFile + ".",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			rt, err := docker.New(dockerHost)
			if err != nil {
				return err
			}
			if checkDocker {
				ctx, cancel := context.WithTimeout(cmd.Context(), 10*time.Second)
				defer cancel()
				if err := rt.Ping(ctx); err != nil {
					return fmt.Errorf("no Docker engine answers here (%v): install docker.io and start dockerd", err)
				}
				fmt.Fprintln(cmd.OutOrStdout(), "docker engine: ok")
				return nil
			}
			if dir == "" {
				return usagef("give the agent's directory with --dir")
			}
			log, err := newLogger(cmd)
			if err != nil {
				return err
			}
			return runAgent(cmd.Context(), dir, listen, portalAddr, rt, log)
		},
	}
	cmd.Flags().StringVar(&dir, "dir", "", "the agent's directory: certificate, key, client CA, credential, artifacts")
	cmd.Flags().StringVar(&listen, "listen", "127.0.0.1:0", "private address to listen on (port 0: any free port, see "+agent.AddrFile+")")
	cmd.Flags().StringVar(&dockerHost, "docker-host", "", "Docker engine address (default: the environment's)")
	cmd.Flags().StringVar(&portalAddr, "portal", "", "address of the host's portal, which the agent's tunnel reaches too (host:port)")
	cmd.Flags().BoolVar(&checkDocker, "check-docker", false, "only check that the Docker engine answers, and exit")
	logFlags(cmd)
	return cmd
}

func runAgent(ctx context.Context, dir, listen, portalAddr string, rt agent.Runtime, log *slog.Logger) error {
	// Templates name the base images by their neutral aliases.
	if t, ok := rt.(images.Tagger); ok {
		if err := images.EnsureAliases(ctx, t); err != nil {
			log.Warn("aliasing the base images failed", "err", err)
		}
	}
	read := func(name string) ([]byte, error) {
		b, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			return nil, fmt.Errorf("reading the agent's %s: %w", name, err)
		}
		return b, nil
	}
	certPEM, err := read(agent.CertFile)
	if err != nil {
		return err
	}
	keyPEM, err := read(agent.KeyFile)
	if err != nil {
		return err
	}
	caPEM, err := read(agent.ClientCAFile)
	if err != nil {
		return err
	}
	secret, err := read(agent.SecretFile)
	if err != nil {
		return err
	}
	if strings.TrimSpace(string(secret)) == "" {
		return fmt.Errorf("%s is empty", filepath.Join(dir, agent.SecretFile))
	}
	tlsCfg, err := pki.ServerTLS(certPEM, keyPEM, caPEM)
	if err != nil {
		return err
	}
	// The agent's name, stamped on its containers, is the one its
	// certificate was issued to: one per host.
	leaf, err := x509.ParseCertificate(tlsCfg.Certificates[0].Certificate[0])
	if err != nil {
		return fmt.Errorf("reading the agent certificate: %w", err)
	}
	blobs, err := blob.Open(filepath.Join(dir, agent.BlobsDir))
	if err != nil {
		return fmt.Errorf("opening the blob store: %w", err)
	}
	os.Remove(filepath.Join(dir, agent.AddrFile))
	ln, err := net.Listen("tcp", listen)
	if err != nil {
		return fmt.Errorf("listening on %s: %w", listen, err)
	}
	addrFile := filepath.Join(dir, agent.AddrFile)
	if err := os.WriteFile(addrFile+".tmp", []byte(ln.Addr().String()+"\n"), 0o600); err != nil {
		ln.Close()
		return fmt.Errorf("writing %s: %w", addrFile, err)
	}
	if err := os.Rename(addrFile+".tmp", addrFile); err != nil {
		ln.Close()
		return fmt.Errorf("writing %s: %w", addrFile, err)
	}
	log.Info("listening with mutual TLS", "addr", ln.Addr().String())
	srv := agent.NewServer(agent.Config{Runtime: rt, Blobs: blobs, Secret: strings.TrimSpace(string(secret)),
		Name: leaf.Subject.CommonName, Portal: portalAddr, Log: log})
	return srv.ListenTLS(ctx, ln, tlsCfg)
}
