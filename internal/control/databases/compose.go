package databases

import (
	"archive/tar"
	"bytes"
	"context"
	"errors"
	"maps"
	"slices"
	"strings"

	"github.com/berth-dev/berth/internal/agent"
	"github.com/berth-dev/berth/internal/store"
)

// ComposeBoot adapts a service on the platform's local database images,
// which lack the official images' entrypoints: PostgreSQL boots through
// Berth's script with the credentials of POSTGRES_USER, POSTGRES_PASSWORD
// and POSTGRES_DB, as the official image's entrypoint would; Redis runs
// with protected mode off, as the official image is built. It returns
// the boot files to copy in and a check that a login with the
// credentials they enforce works (it runs in the service's container), or
// nils.
func (c *Service) ComposeBoot(image string, spec *agent.ContainerSpec, env map[string]string) (*bytes.Buffer, func(context.Context, *agent.Client, string) (bool, string), error) {
	boot, cr, err := c.composeBoot(image, spec, env)
	if cr == nil || err != nil {
		return boot, nil, err
	}
	return boot, func(ctx context.Context, a *agent.Client, name string) (bool, string) {
		return loginWorks(ctx, a, name, *cr)
	}, nil
}

// composeBoot is ComposeBoot with the credentials the boot enforces.
func (c *Service) composeBoot(image string, spec *agent.ContainerSpec, env map[string]string) (*bytes.Buffer, *dbCredentials, error) {
	switch image {
	case c.DataImage(store.EnginePostgres):
		if len(spec.Entrypoint) > 0 || (len(spec.Cmd) > 0 && spec.Cmd[0] != "postgres") {
			return nil, nil, nil
		}
		cr := dbCredentials{Username: env["POSTGRES_USER"], Password: env["POSTGRES_PASSWORD"], Database: env["POSTGRES_DB"]}
		if cr.Username == "" {
			cr.Username = "postgres"
		}
		if cr.Database == "" {
			cr.Database = cr.Username
		}
		if cr.Password == "" {
			return nil, nil, errors.New("POSTGRES_PASSWORD is not set: give the database a password")
		}
		if cr.Username == "postgres" {
			return nil, nil, errors.New("POSTGRES_USER is postgres, the superuser, which may not log in over the network here: name another user")
		}
		spec.User, spec.Entrypoint = "0", []string{"/bin/sh", bootDir + "/boot.sh"}
		spec.Cmd = slices.Clone(spec.Cmd)
		if len(spec.Cmd) > 0 {
			spec.Cmd = spec.Cmd[1:] // the boot script runs postgres itself, with these flags
		}
		b, err := bootTar(engines[store.EnginePostgres].bootFiles(cr))
		return b, &cr, err
	case c.DataImage(store.EngineRedis):
		if len(spec.Cmd) == 0 {
			spec.Cmd = []string{"redis-server"}
		}
		if spec.Cmd[0] == "redis-server" && !slices.Contains(spec.Cmd, "--protected-mode") {
			spec.Cmd = append(slices.Clone(spec.Cmd), "--protected-mode", "no")
		}
	}
	return nil, nil, nil
}

// bootTar is a tar of bootDir holding files, readable by root only.
func bootTar(files map[string]string) (*bytes.Buffer, error) {
	var b bytes.Buffer
	tw := tar.NewWriter(&b)
	dir := strings.TrimPrefix(bootDir, "/")
	if err := tw.WriteHeader(&tar.Header{Name: dir + "/", Typeflag: tar.TypeDir, Mode: 0o700}); err != nil {
		return nil, err
	}
	for _, n := range slices.Sorted(maps.Keys(files)) {
		if err := tw.WriteHeader(&tar.Header{Name: dir + "/" + n, Typeflag: tar.TypeReg, Mode: 0o600, Size: int64(len(files[n]))}); err != nil {
			return nil, err
		}
		if _, err := tw.Write([]byte(files[n])); err != nil {
			return nil, err
		}
	}
	return &b, tw.Close()
}

// loginWorks reports whether a PostgreSQL login with cr over TCP works in
// the container name, or why not: its boot runs a server without TCP
// before the real one, which a pg_isready alone takes for ready.
func loginWorks(ctx context.Context, a *agent.Client, name string, cr dbCredentials) (bool, string) {
	eng := engines[store.EnginePostgres]
	res, err := a.Exec(ctx, name, eng.check(cr))
	if err != nil {
		return false, err.Error()
	}
	if _, err := eng.version(res); err != nil {
		return false, redact(err.Error(), cr.Password)
	}
	return true, ""
}
