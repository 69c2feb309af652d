package up

import (
	"fmt"
	"log/slog"
	"os"
	"path/filepath"

	"github.com/berth-dev/berth/internal/control/hosts"
	"github.com/berth-dev/berth/internal/pki"
	"github.com/berth-dev/berth/internal/provision"
)

// hostConfig wires the workspaces' Docker Deploy hosts: the CA in the data
// dir, and the provisioners, local (the default) and ssh, which run the
// hosts' roles from the berth binary (ssh copies it to the servers). stop
// ends the local roles' processes.
func hostConfig(cfg Config, apiURL string, log *slog.Logger) (hc hosts.Config, stop func(), err error) {
	bin := cfg.AgentBinary
	if bin == "" {
		if bin, err = os.Executable(); err != nil {
			return hc, nil, fmt.Errorf("finding the berth binary the hosts' agents run from: %w", err)
		}
	}
	ca, err := pki.LoadOrCreate(filepath.Join(cfg.DataDir, "pki"))
	if err != nil {
		return hc, nil, err
	}
	local := &provision.Local{Binary: bin, Dir: filepath.Join(cfg.DataDir, "hosts"), DockerHost: cfg.DockerHost, Log: log}
	hc = hosts.Config{
		Provisioners: map[string]hosts.Provisioner{"local": local, "ssh": &provision.SSH{Binary: bin, Log: log}},
		Default:      "local",
		CA:           ca,
		APIURL:       apiURL,
	}
	return hc, func() { local.Close() }, nil
}

// Interface guards.
var (
	_ hosts.Provisioner = (*provision.Local)(nil)
	_ hosts.Provisioner = (*provision.SSH)(nil)
)
