package cli

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/berth-dev/berth/client"
	"github.com/berth-dev/berth/internal/portal"
)

func portalCmd() *cobra.Command {
	var listen, apiURL, key, workspaceID, secretFile, passwordFile string
	cmd := &cobra.Command{
		Use:   "portal",
		Short: "Serve a workspace's white-labeled deployment center, behind a password",
		Long: "Serve a workspace's deployment center: its projects and deployments, read through the public API\n" +
			"with a workspace-scoped key. The password comes from --password-file or $BERTH_PORTAL_PASSWORD.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if key == "" {
				key = os.Getenv("BERTH_PORTAL_KEY")
			}
			switch {
			case apiURL == "":
				return usagef("give the API's URL with --api")
			case key == "":
				return usagef("give a workspace-scoped API key with --key (or $BERTH_PORTAL_KEY)")
			case workspaceID == "":
				return usagef("give the workspace with --workspace ID")
			}
			log, err := newLogger(cmd)
			if err != nil {
				return err
			}
			password, err := portalPassword(passwordFile)
			if err != nil {
				return err
			}
			var secret []byte
			if secretFile != "" {
				if secret, err = sessionSecret(secretFile); err != nil {
					return err
				}
			}
			api := client.New(apiURL, key)
			api.HTTP = &http.Client{Timeout: 15 * time.Second}
			p, err := portal.New(portal.Config{API: api, WorkspaceID: workspaceID, Password: password, PasswordFile: passwordFile,
				SessionSecret: secret, Log: log})
			if err != nil {
				return err
			}
			ln, err := net.Listen("tcp", listen)
			if err != nil {
				return fmt.Errorf("listening on %s: %w", listen, err)
			}
			ctx := cmd.Context()
			probe, cancel := context.WithTimeout(ctx, 5*time.Second)
			if err := p.Probe(probe); err != nil {
				log.Warn("the API does not answer the portal's key yet; the portal keeps trying", "err", err)
			}
			cancel()
			srv := &http.Server{
				Handler: p, ReadHeaderTimeout: 10 * time.Second, ReadTimeout: 30 * time.Second,
				WriteTimeout: time.Minute, IdleTimeout: 2 * time.Minute, MaxHeaderBytes: 64 << 10,
			}
			fmt.Fprintf(cmd.OutOrStdout(), "Portal of workspace %s at http://%s\n", workspaceID, ln.Addr())
			errc := make(chan error, 1)
			go func() { errc <- srv.Serve(ln) }()
			select {
			case err := <-errc:
				return fmt.Errorf("serving the portal: %w", err)
			case <-ctx.Done():
			}
			shutdown, stop := context.WithTimeout(context.Background(), 5*time.Second)
			defer stop()
			return srv.Shutdown(shutdown)
		},
	}
	cmd.Flags().StringVar(&listen, "listen", "127.0.0.1:7790", "address the portal listens on")
	cmd.Flags().StringVar(&apiURL, "api", "", "URL of the public API, e.g. http://127.0.0.1:7700")
	cmd.Flags().StringVar(&key, "key", "", "workspace-scoped API key (default $BERTH_PORTAL_KEY)")
	cmd.Flags().StringVar(&workspaceID, "workspace", "", "id of the workspace the portal shows")
	cmd.Flags().StringVar(&secretFile, "session-secret-file", "", "file with the secret that signs sessions, made with a random one if missing (default: random at start, so restarts sign everyone out)")
	cmd.Flags().StringVar(&passwordFile, "password-file", "", "file holding the sign-in password (default $BERTH_PORTAL_PASSWORD)")
	logFlags(cmd)
	return cmd
}

// portalPassword reads the sign-in password from a file, else from the
// environment.
func portalPassword(file string) (string, error) {
	pw := os.Getenv("BERTH_PORTAL_PASSWORD")
	if file != "" {
		b, err := os.ReadFile(file)
		if err != nil {
			return "", fmt.Errorf("reading the password: %w", err)
		}
		pw = strings.TrimRight(string(b), "\r\n")
	}
	if pw == "" {
		return "", errors.New("set the portal's password with --password-file FILE or $BERTH_PORTAL_PASSWORD")
	}
	if len(pw) < 8 {
		return "", errors.New("the portal's password is shorter than 8 characters; choose a longer one")
	}
	return pw, nil
}

// sessionSecret reads the secret that signs sessions, or makes one in the
// file when there is none yet, so sessions survive a restart.
func sessionSecret(path string) ([]byte, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		raw := make([]byte, 32)
		rand.Read(raw)
		b = []byte(hex.EncodeToString(raw) + "\n")
		if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
			return nil, fmt.Errorf("making %s: %w", filepath.Dir(path), err)
		}
		if err := os.WriteFile(path, b, 0o600); err != nil {
			return nil, fmt.Errorf("writing the session secret: %w", err)
		}
	} else if err != nil {
		return nil, fmt.Errorf("reading the session secret: %w", err)
	}
	secret := []byte(strings.TrimSpace(string(b)))
	if len(secret) < 32 {
		return nil, fmt.Errorf("the session secret in %s is %d bytes; give at least 32 (e.g. `openssl rand -hex 32`)", path, len(secret))
	}
	return secret, nil
}
