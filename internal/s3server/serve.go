// Package s3server is Berth's embedded S3 server: versitygw's gateway with
// its POSIX backend, run as a child process of `berth up` (the hidden
// `berth s3-server` role), and the pieces the parent uses to start it and
// to answer its account lookups.
//
// It runs in a process of its own because the POSIX backend changes the
// process's working directory to its root and resolves buckets against
// it, and versitygw allows one gateway per process: inside `berth up`
// (or a test running several) either would break the rest of the process.
package s3server

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/versity/versitygw/backend/meta"
	"github.com/versity/versitygw/backend/posix"
	"github.com/versity/versitygw/embedgw"
)

// HealthPath answers 200 without a signature. No bucket can be named
// after it: an underscore is not allowed in bucket names.
const HealthPath = "/_health"

// Options configure the gateway role.
type Options struct {
	// Dir holds the buckets (Dir/buckets) and, where the filesystem has
	// no user xattrs, their metadata (Dir/meta).
	Dir string
	// Listen are the S3 API's addresses (host:port).
	Listen []string
	// AdminListen is the address of the admin API (bucket ownership),
	// which only the parent uses: keep it on loopback.
	AdminListen string
	Region      string
	// RootAccess and RootSecret sign the parent's admin calls.
	RootAccess, RootSecret string
	// Accounts is the parent's account lookup endpoint (an http URL);
	// empty runs with the root account alone.
	Accounts string
	// AccountsToken authenticates the lookups to the parent.
	AccountsToken string
}

// Serve runs the gateway until ctx ends.
func Serve(ctx context.Context, o Options) error {
	root := filepath.Join(o.Dir, "buckets")
	if err := os.MkdirAll(root, 0o700); err != nil {
		return fmt.Errorf("making the buckets directory: %w", err)
	}
	var ms meta.MetadataStorer = meta.XattrMeta{}
	var opts posix.PosixOpts
	if err := (meta.XattrMeta{}).Test(root); err != nil {
		side := filepath.Join(o.Dir, "meta")
		if err := os.MkdirAll(side, 0o700); err != nil {
			return fmt.Errorf("making the metadata directory: %w", err)
		}
		sc, err := meta.NewSideCar(side)
		if err != nil {
			return fmt.Errorf("opening the metadata directory: %w", err)
		}
		ms, opts.SideCarDir = sc, side
	}
	be, err := posix.New(root, ms, opts)
	if err != nil {
		return fmt.Errorf("opening the POSIX backend: %w", err)
	}
	defer be.Shutdown()
	cfg := &embedgw.Config{
		RootUserAccess: o.RootAccess, RootUserSecret: o.RootSecret, Region: o.Region,
		Ports: o.Listen, MaxConnections: 10000, MaxRequests: 5000, MultipartMaxParts: 10000,
		KeepAlive: true, Quiet: true, HealthPath: HealthPath,
		DisableACLs: false,
	}
	if o.AdminListen != "" {
		cfg.AdminPorts, cfg.AdminMaxConnections, cfg.AdminMaxRequests = []string{o.AdminListen}, 100, 100
	}
	if o.Accounts != "" {
		cfg.IAMService = newRemoteIAM(o.Accounts, o.AccountsToken)
	}
	err = embedgw.RunVersityGW(ctx, be, cfg)
	if errors.Is(err, context.Canceled) {
		return nil
	}
	return err
}
