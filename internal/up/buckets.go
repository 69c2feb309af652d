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
	"time"

	"github.com/berth-dev/berth/internal/control/buckets"
	"github.com/berth-dev/berth/internal/docker"
	"github.com/berth-dev/berth/internal/s3server"
	"github.com/berth-dev/berth/internal/s3store"
	"github.com/berth-dev/berth/internal/store"
)

// S3Config chooses where buckets live: the embedded S3 server (the
// default) or an external S3 endpoint.
type S3Config struct {
	// Endpoint is an external S3 endpoint's URL; empty runs the embedded
	// server.
	Endpoint string
	// PublicEndpoint is the external endpoint's URL for browsers and
	// presigned links (default: Endpoint).
	PublicEndpoint string
	// AccessKey and SecretKey are the operator's keys of the external
	// endpoint; every bucket there uses them.
	AccessKey, SecretKey string
	// Region defaults to us-east-1.
	Region string
	// Prefix starts the S3 names of buckets at the external endpoint
	// (default "berth-").
	Prefix string
	// RemoteEdgeIP is the address apps on Docker Deploy hosts of other
	// machines reach the edge at, where the org's s3.{D} is not in their
	// DNS; empty: DNS (see buckets.Config).
	RemoteEdgeIP string
}

// appS3Host is the name linked containers reach the embedded server by;
// their hosts file maps it to the Docker bridge's gateway.
const appS3Host = "s3.berth.internal"

// bucketConfig starts the embedded S3 server, or points at the external
// endpoint; stop ends what it started.
func bucketConfig(ctx context.Context, cfg Config, st store.Store, rt *docker.Runtime, log *slog.Logger) (bc buckets.Config, stop func(), err error) {
	s3 := cfg.S3
	if s3.Region == "" {
		s3.Region = "us-east-1"
	}
	bc.Region = s3.Region
	if s3.RemoteEdgeIP != "" && net.ParseIP(s3.RemoteEdgeIP) == nil {
		return bc, nil, fmt.Errorf("--s3-remote-edge-ip %q is not an IP address", s3.RemoteEdgeIP)
	}
	if s3.Endpoint != "" {
		if s3.AccessKey == "" || s3.SecretKey == "" {
			return bc, nil, errors.New("an external S3 endpoint needs the operator's keys: set BERTH_S3_ACCESS_KEY_ID and BERTH_S3_SECRET_ACCESS_KEY")
		}
		if s3.Prefix == "" {
			s3.Prefix = "berth-"
		}
		if s3.PublicEndpoint == "" {
			s3.PublicEndpoint = s3.Endpoint
		}
		bc.Store = s3store.New(s3store.Config{Endpoint: s3.Endpoint, Region: s3.Region, Access: s3.AccessKey, Secret: s3.SecretKey})
		bc.KeyScope, bc.OperatorAccess, bc.OperatorSecret, bc.Prefix = store.KeyScopeOperator, s3.AccessKey, s3.SecretKey, s3.Prefix
		bc.AppEndpoint, bc.PublicEndpoint = s3.Endpoint, s3.PublicEndpoint
		return bc, func() {}, nil
	}

	// The embedded server asks this process for the keys it checks: they
	// stay sealed in the store, never written out in the clear.
	token := randomToken()
	accLn, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return bc, nil, fmt.Errorf("listening for the S3 server's account lookups: %w", err)
	}
	accSrv := &http.Server{ReadHeaderTimeout: 5 * time.Second, Handler: s3server.AccountsHandler(token, func(ctx context.Context, access string) (string, bool, error) {
		b, err := st.GetBucketByAccessKey(ctx, access)
		if errors.Is(err, store.ErrNotFound) {
			return "", false, nil
		}
		if err != nil {
			return "", false, err
		}
		return b.SecretKey, true, nil
	}, log)}
	go accSrv.Serve(accLn)

	// Containers reach the host at the Docker bridge's gateway, an
	// address only this machine's containers route to.
	bridge, err := rt.BridgeGateway(ctx)
	if err != nil {
		log.Error("linked apps will not reach the S3 server", "err", err)
		bridge = ""
	}
	bin := cfg.AgentBinary
	if bin == "" {
		if bin, err = os.Executable(); err != nil {
			accSrv.Close()
			return bc, nil, fmt.Errorf("finding the berth binary the S3 server runs from: %w", err)
		}
	}
	srv, err := s3server.Start(ctx, s3server.StartConfig{
		Binary: bin, Dir: filepath.Join(cfg.DataDir, "s3"), Region: s3.Region, ContainerIP: bridge,
		Accounts: "http://" + accLn.Addr().String() + "/accounts", AccountsToken: token, Log: log,
	})
	if err != nil {
		accSrv.Close()
		return bc, nil, err
	}
	bc.Store = s3store.New(s3store.Config{Endpoint: "http://" + srv.Loopback, Region: s3.Region, Access: srv.RootAccess, Secret: srv.RootSecret, Admin: "http://" + srv.Admin})
	bc.KeyScope, bc.Upstream, bc.RemoteEdgeIP = store.KeyScopeBucket, srv.Loopback, s3.RemoteEdgeIP
	if srv.Container != "" {
		_, port, _ := net.SplitHostPort(srv.Container)
		bc.AppEndpoint = "http://" + appS3Host + ":" + port
		bc.AppHosts = []string{appS3Host + ":" + bridge}
	}
	return bc, func() { srv.Close(); accSrv.Close() }, nil
}

func randomToken() string {
	b := make([]byte, 24)
	rand.Read(b)
	return hex.EncodeToString(b)
}
