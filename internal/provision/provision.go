// Package provision holds the provisioners of Docker Deploy hosts: Local
// runs a host's roles as processes beside the control plane, on its
// Docker engine; SSH installs them on a server the operator owns. Each
// makes a machine exist (Provision) and installs and starts the host's
// agent and portal on it (Bootstrap); the control plane drives them from
// its host reconciler and does the health checks itself. A cloud API is
// one more provisioner whose Provision creates the machine.
package provision

import (
	"errors"
	"fmt"
)

// Machine is a Docker Deploy host as its provisioner sees it.
type Machine struct {
	HostID      string
	WorkspaceID string
	// Target is the provisioner's own description of the machine (JSON),
	// as the control plane keeps it; nil for a local host.
	Target []byte
}

// Bundle is what bootstrapping installs on a machine.
type Bundle struct {
	// AgentCert and AgentKey are the agent's server certificate and key,
	// ClientCA the CA of the control plane's client certificate (PEM).
	AgentCert, AgentKey, ClientCA []byte
	// AgentSecret is the bearer credential the control plane sends.
	AgentSecret string
	Portal      Portal
	// Progress, when set, hears each step a slow bootstrap takes, for the
	// host's events.
	Progress func(step string)
}

func (b Bundle) step(format string, args ...any) {
	if b.Progress != nil {
		b.Progress(fmt.Sprintf(format, args...))
	}
}

// Portal is how a host's portal reaches the public API.
type Portal struct {
	APIURL      string
	WorkspaceID string
	// Key is a workspace-scoped API key; Password the portal's sign-in
	// password.
	Key, Password string
}

// Endpoint is where the roles of a bootstrapped machine listen. It is
// private: the public API never shows it.
type Endpoint struct {
	AgentAddr  string // host:port, mutual TLS
	PortalAddr string // host:port, HTTP; empty when PortalSkipped
	// PortalSkipped says why no portal runs, when none does.
	PortalSkipped string
}

// Error is a failure whose message tells a person what to fix. Messages
// name no address, port or credential: they end up in the public API.
type Error struct {
	Kind   error // one of the sentinels below
	Reason string
}

func (e *Error) Error() string { return e.Reason }

// Unwrap lets errors.Is match the kind.
func (e *Error) Unwrap() error { return e.Kind }

// Kinds of Error.
var (
	// ErrUnreachable: nothing answers at the target's address.
	ErrUnreachable = errors.New("unreachable")
	// ErrAuthRefused: the server refused the credential.
	ErrAuthRefused = errors.New("authentication refused")
	// ErrHostKeyChanged: the server's host key is not the pinned one.
	ErrHostKeyChanged = errors.New("host key changed")
	// ErrInvalidTarget: the target cannot work as given.
	ErrInvalidTarget = errors.New("invalid target")
	// ErrNoDocker: no Docker engine answers on the machine.
	ErrNoDocker = errors.New("no docker engine")
	// ErrRoleFailed: the agent or the portal did not start.
	ErrRoleFailed = errors.New("role failed")
)

func fail(kind error, format string, args ...any) *Error {
	return &Error{Kind: kind, Reason: fmt.Sprintf(format, args...)}
}

// tail returns at most the last n bytes of s, from a line start.
func tail(s string, n int) string {
	if len(s) <= n {
		return s
	}
	s = s[len(s)-n:]
	for i := 0; i < len(s); i++ {
		if s[i] == '\n' {
			return s[i+1:]
		}
	}
	return s
}
