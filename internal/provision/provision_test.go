package provision

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/json"
	"encoding/pem"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"
)

// fakeBerth writes a stand-in for the berth binary: `agent` writes its
// address and waits (or exits when the file crash exists beside it);
// `portal --help` answers as a binary without the portal command.
func fakeBerth(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	bin := filepath.Join(dir, "berth")
	script := `#!/bin/sh
case "$1" in
agent)
  [ -e ` + dir + `/crash ] && { echo "agent: boom" >&2; exit 2; }
  shift; while [ "$1" != --dir ]; do shift; done
  echo 127.0.0.1:1234 > "$2/agent.addr"
  exec sleep 60 ;;
portal) echo 'Error: unknown command "portal" for "berth"' >&2; exit 1 ;;
esac
exit 1
`
	if err := os.WriteFile(bin, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	return bin
}

func TestLocalProcesses(t *testing.T) {
	if _, err := exec.LookPath("sh"); err != nil {
		t.Skip("no sh")
	}
	bin := fakeBerth(t)
	l := &Local{Binary: bin, Dir: t.TempDir()}
	defer l.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	m := Machine{HostID: "host_a", WorkspaceID: "ws_a"}
	if _, err := l.Provision(ctx, m); err != nil {
		t.Fatal(err)
	}
	b := Bundle{AgentCert: []byte("c"), AgentKey: []byte("k"), ClientCA: []byte("ca"), AgentSecret: "s"}
	ep, err := l.Bootstrap(ctx, m, b)
	if err != nil {
		t.Fatal(err)
	}
	if ep.AgentAddr != "127.0.0.1:1234" || ep.PortalAddr != "" || !strings.Contains(ep.PortalSkipped, "no \"portal\" command") {
		t.Fatalf("endpoint = %+v", ep)
	}
	for _, f := range []string{"agent.crt", "agent.key", "client-ca.crt", "secret"} {
		st, err := os.Stat(filepath.Join(l.Dir, "host_a", f))
		if err != nil || st.Mode().Perm() != 0o600 {
			t.Fatalf("%s: %v %v", f, st, err)
		}
	}
	if err := l.Exited("host_a"); err != nil {
		t.Fatalf("a running agent reported as exited: %v", err)
	}
	first := l.procs["host_a/agent"]
	// Bootstrapping again replaces the process.
	if _, err := l.Bootstrap(ctx, m, b); err != nil {
		t.Fatal(err)
	}
	select {
	case <-first.done:
	default:
		t.Fatal("the replaced agent still runs")
	}
	// An agent that exits at start fails the bootstrap with its output.
	os.WriteFile(filepath.Join(filepath.Dir(bin), "crash"), nil, 0o644)
	_, err = l.Bootstrap(ctx, Machine{HostID: "host_b"}, b)
	var pe *Error
	if !errors.As(err, &pe) || !errors.Is(err, ErrRoleFailed) || !strings.Contains(pe.Reason, "agent: boom") {
		t.Fatalf("crashing agent: %v", err)
	}
	l.Close()
	if len(l.procs) != 0 {
		t.Fatalf("Close left %d processes", len(l.procs))
	}
}

func TestPortalSkipReason(t *testing.T) {
	if r := portalSkipReason(`Error: unknown command "portal" for "berth"`, errors.New("exit status 1")); r == "" {
		t.Error("a binary without the portal command does not skip it")
	}
	if r := portalSkipReason("Usage: berth portal [flags]", nil); r != "" {
		t.Errorf("a binary with the portal command skips it: %s", r)
	}
	if r := portalSkipReason("segfault", errors.New("exit status 2")); r != "" {
		t.Errorf("another failure skips the portal instead of failing it: %s", r)
	}
}

func TestParseTarget(t *testing.T) {
	_, priv, _ := ed25519.GenerateKey(rand.Reader)
	blk, err := ssh.MarshalPrivateKey(priv, "")
	if err != nil {
		t.Fatal(err)
	}
	key := string(pem.EncodeToMemory(blk))
	raw := func(v SSHTarget) []byte { b, _ := json.Marshal(v); return b }

	got, signer, err := parseTarget(raw(SSHTarget{Address: "10.0.0.2", User: "root", PrivateKey: key}))
	if err != nil || signer == nil {
		t.Fatal(err)
	}
	// Ports stay unset: Provision chooses them on the server.
	if got.Address != "10.0.0.2:22" || got.AgentPort != 0 || got.PortalPort != 0 {
		t.Fatalf("defaults = %+v", got)
	}
	if got, _, _ := parseTarget(raw(SSHTarget{Address: "[fd00::2]:2222", User: "u", PrivateKey: key})); got.Address != "[fd00::2]:2222" {
		t.Fatalf("address with a port became %s", got.Address)
	}
	locked, _ := ssh.MarshalPrivateKeyWithPassphrase(priv, "", []byte("pw"))
	for name, v := range map[string]SSHTarget{
		"no user":            {Address: "a", PrivateKey: key},
		"not a key":          {Address: "a", User: "u", PrivateKey: "nope"},
		"passphrase":         {Address: "a", User: "u", PrivateKey: string(pem.EncodeToMemory(locked))},
		"host key not a key": {Address: "a", User: "u", PrivateKey: key, HostKey: "nope"},
	} {
		if _, _, err := parseTarget(raw(v)); !errors.Is(err, ErrInvalidTarget) {
			t.Errorf("%s: %v, want an invalid target", name, err)
		}
	}
}

func TestTail(t *testing.T) {
	if got := tail("one\ntwo\nthree", 8); got != "three" {
		t.Errorf("tail = %q", got)
	}
	if got := tail("short", 100); got != "short" {
		t.Errorf("tail = %q", got)
	}
}

// TestListening reads the listening ports of /proc/net/tcp and tcp6, and
// skips connections in other states.
func TestListening(t *testing.T) {
	proc := `  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 00000000:1D13 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 1 1 0 100 0 0 10 0
   1: 0100007F:1E6E 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 2 1 0 100 0 0 10 0
   2: 0100007F:1D14 0100007F:A2B4 01 00000000:00000000 00:00000000 00000000     0        0 3 1 0 20 4 30 10 -1
  sl  local_address                         remote_address                        st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 00000000000000000000000000000000:0016 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 4 1 0 100 0 0 10 0
`
	got := listening(proc)
	want := map[int]bool{7443: true, 7790: true, 22: true}
	if len(got) != len(want) {
		t.Fatalf("listening = %v, want %v", got, want)
	}
	for p := range want {
		if !got[p] {
			t.Errorf("listening = %v, want %v", got, want)
		}
	}
	if p := nextFreePort(got, 7443); p != 7444 {
		t.Errorf("next free port from 7443 = %d, want 7444", p)
	}
	if p := nextFreePort(got, 7445); p != 7445 {
		t.Errorf("next free port from 7445 = %d, want 7445", p)
	}
}
