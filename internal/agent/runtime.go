package agent

import (
	"context"
	"errors"
	"io"
	"time"
)

// ErrNotFound is returned by a Runtime when a container, image or volume
// does not exist.
var ErrNotFound = errors.New("not found")

// ErrConflict is returned by CreateContainer when the name is taken.
var ErrConflict = errors.New("name already in use")

// Runtime is the container engine the agent drives. The Docker
// implementation lives in internal/docker; every container it creates is
// hardened whatever the spec says (no new privileges, capabilities
// dropped to a minimal set, never privileged, never host networking,
// never the engine's socket, ports on 127.0.0.1 only).
type Runtime interface {
	Ping(ctx context.Context) error

	ImageExists(ctx context.Context, ref string) (bool, error)
	// BuildImage builds ref from a tar build context; dockerfile is the
	// Dockerfile's path inside the context. The build log is written to
	// log; a failed build returns an error that ends with the log's tail.
	BuildImage(ctx context.Context, ref string, buildContext io.Reader, dockerfile string, labels map[string]string, log io.Writer) error
	RemoveImage(ctx context.Context, ref string) error

	// CreateContainer creates (not starts) a container, and the named
	// volumes it mounts when missing. A taken name is ErrConflict.
	CreateContainer(ctx context.Context, spec ContainerSpec) (id string, err error)
	StartContainer(ctx context.Context, id string) error
	// StopContainer sends SIGTERM, then SIGKILL after timeout. Stopping a
	// stopped container is not an error.
	StopContainer(ctx context.Context, id string, timeout time.Duration) error
	// PauseContainer freezes every process of a running container: it
	// keeps its memory, network and ports and uses no CPU. Pausing a
	// paused or stopped container is not an error.
	PauseContainer(ctx context.Context, id string) error
	// UnpauseContainer thaws a paused container; one that is not paused
	// is not an error.
	UnpauseContainer(ctx context.Context, id string) error
	// RemoveContainer removes a container, running or not; a missing one
	// is not an error.
	RemoveContainer(ctx context.Context, id string) error
	// InspectContainer takes an id or a name; a missing one is ErrNotFound.
	InspectContainer(ctx context.Context, id string) (ContainerInfo, error)
	// ListContainers lists containers in any state carrying all labels.
	ListContainers(ctx context.Context, labels map[string]string) ([]ContainerInfo, error)
	// Logs returns the last tail lines of a container's output.
	Logs(ctx context.Context, id string, tail int) (string, error)

	// Exec runs a command in a running container. With Detach it returns
	// at once with exit code 0 once the process started; otherwise it
	// copies output to stdout and stderr and returns the exit code.
	Exec(ctx context.Context, id string, spec ExecSpec, stdout, stderr io.Writer) (exitCode int, err error)
	// CopyTo extracts a tar stream into dir inside the container.
	CopyTo(ctx context.Context, id, dir string, tar io.Reader) error
	// CopyFrom returns a tar stream of path inside the container (the
	// entries are named after path's base name, as `docker cp` does).
	CopyFrom(ctx context.Context, id, path string) (io.ReadCloser, error)

	RemoveVolume(ctx context.Context, name string) error

	// ConnectNetwork joins a container to a user-defined bridge network
	// (made when missing), where others reach it by aliases; a container
	// already on it is left as it is.
	ConnectNetwork(ctx context.Context, id, network string, aliases []string) error
	// DisconnectNetwork takes a container off a network, which goes once
	// no container is on it; a container not on it is not an error.
	DisconnectNetwork(ctx context.Context, id, network string) error
}

// ContainerSpec is what the agent asks the runtime to run.
type ContainerSpec struct {
	Name       string
	Image      string
	Cmd        []string // empty: the image's default
	Entrypoint []string // empty: the image's default
	Env        []string // KEY=value
	WorkDir    string
	User       string
	Labels     map[string]string
	// Ports are container TCP ports to publish on 127.0.0.1 at ephemeral
	// host ports.
	Ports   []int
	Volumes []Mount
	// Limits. Zero means the runtime's floor.
	MemoryBytes int64
	NanoCPUs    int64
	PidsLimit   int64
	// Restart is "no" (default), "always", "unless-stopped" or
	// "on-failure".
	Restart string
	// Init runs a minimal init as PID 1 that reaps zombies.
	Init bool
	// Network, when set, is a user-defined bridge network the container
	// joins instead of the engine's default bridge; the runtime creates it
	// (labelled as Berth's) when missing. Containers on one network reach
	// each other by name.
	Network string
	// Aliases are extra names other containers on Network reach this one
	// by. They need Network.
	Aliases []string
	// ExtraHosts are hosts entries ("name:ip") the container resolves,
	// such as the name of the S3 endpoint on the Docker bridge.
	ExtraHosts []string
}

// Mount is a named volume mounted into a container.
type Mount struct {
	Volume string
	Target string
}

// ContainerInfo is what the runtime reports about a container.
type ContainerInfo struct {
	ID      string
	Name    string // without a leading slash
	Image   string
	Labels  map[string]string
	State   string // created, running, paused, restarting, exited, dead
	Running bool
	// Ports maps a published container port to its "127.0.0.1:port"
	// address on the host.
	Ports map[int]string
	// Endpoints maps a published container port to the container's own
	// address on its network ("172.18.0.5:8080"): where the agent
	// reaches the app, whether or not it shares the engine's network
	// namespace (the published port is on the engine's loopback).
	Endpoints map[int]string
	ExitCode  int
	StartedAt time.Time
}

// ExecSpec is a command to run in a container.
type ExecSpec struct {
	Cmd     []string
	Env     []string
	WorkDir string
	User    string
	Detach  bool
	Stdin   io.Reader // nil: no stdin
}
