package images

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"time"
)

// DefaultMirror is used when the machine's apt sources name none.
const DefaultMirror = "http://deb.debian.org/debian"

const suite = "bookworm"

// debootstrapArgs is the command that makes Debian's root filesystem,
// before the target directory and the mirror.
var debootstrapArgs = []string{"debootstrap", "--variant=minbase", suite}

// importDebian makes ref from a fresh debootstrap of Debian bookworm from
// the machine's own Debian mirror, then imports it into the engine.
func importDebian(ctx context.Context, e Engine, log io.Writer, ref string) error {
	if _, err := exec.LookPath("debootstrap"); err != nil {
		return fmt.Errorf("making %s: debootstrap is not installed (apt-get install -y debootstrap): %w", ref, err)
	}
	if os.Geteuid() != 0 {
		return fmt.Errorf("making %s: debootstrap must run as root", ref)
	}
	mirror := Mirror()

	// Not under /tmp, which may be a small tmpfs.
	dir, err := os.MkdirTemp("/var/tmp", "berth-debootstrap-")
	if err != nil {
		return fmt.Errorf("making %s: %w", ref, err)
	}
	defer removeRootfs(dir)

	args := append(slices.Clone(debootstrapArgs[1:]), dir, mirror)
	cmd := exec.CommandContext(ctx, debootstrapArgs[0], args...)
	cmd.Stdout, cmd.Stderr = log, log
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("making %s: debootstrap from %s: %w", ref, mirror, err)
	}

	// Package lists and downloaded .debs are stale by the time anyone
	// uses the image; Dockerfiles run apt-get update first.
	for _, pattern := range []string{"var/lib/apt/lists/*", "var/cache/apt/archives/*.deb", "var/cache/apt/*.bin", "var/log/*.log"} {
		matches, _ := filepath.Glob(filepath.Join(dir, pattern))
		for _, m := range matches {
			if err := os.RemoveAll(m); err != nil {
				return fmt.Errorf("making %s: cleaning apt caches: %w", ref, err)
			}
		}
	}

	tarCmd := exec.CommandContext(ctx, "tar", "--numeric-owner", "-C", dir, "-c", ".")
	var tarErr strings.Builder
	tarCmd.Stderr = &tarErr
	out, err := tarCmd.StdoutPipe()
	if err != nil {
		return fmt.Errorf("making %s: %w", ref, err)
	}
	if err := tarCmd.Start(); err != nil {
		return fmt.Errorf("making %s: archiving root filesystem: %w", ref, err)
	}
	importErr := e.ImportImage(ctx, ref, out, []string{
		`CMD ["bash"]`,
		`ENV LANG=C.UTF-8`,
		fmt.Sprintf("LABEL %s=%s", LabelRecipe, debianRecipe()),
	})
	if importErr != nil {
		// Unblock tar if the engine stopped reading.
		_, _ = io.Copy(io.Discard, out)
	}
	if err := tarCmd.Wait(); err != nil {
		return fmt.Errorf("making %s: archiving root filesystem: %w: %s", ref, err, strings.TrimSpace(tarErr.String()))
	}
	return importErr
}

// debianRecipe identifies how Debian was made, for LabelRecipe.
func debianRecipe() string {
	sum := sha256.Sum256([]byte(strings.Join(debootstrapArgs, " ")))
	return hex.EncodeToString(sum[:])
}

// removeRootfs deletes a debootstrap target. A debootstrap that was
// interrupted can leave the host's /proc and /sys mounted inside it:
// detach them first, so the removal cannot reach the host's files.
func removeRootfs(dir string) {
	for _, m := range []string{"dev/pts", "dev/shm", "dev", "proc", "sys"} {
		_ = syscall.Unmount(filepath.Join(dir, m), syscall.MNT_DETACH)
	}
	_ = os.RemoveAll(dir)
}

// Mirror returns the Debian mirror the machine's apt uses, read from
// /etc/apt/sources.list.d/debian.sources or /etc/apt/sources.list, else
// DefaultMirror.
func Mirror() string {
	if b, err := os.ReadFile("/etc/apt/sources.list.d/debian.sources"); err == nil {
		if m := mirrorFromDeb822(string(b)); m != "" {
			return m
		}
	}
	if b, err := os.ReadFile("/etc/apt/sources.list"); err == nil {
		if m := mirrorFromList(string(b)); m != "" {
			return m
		}
	}
	return DefaultMirror
}

// mirrorFromDeb822 returns the first URI of a deb822 sources file whose
// stanza offers binary packages of the suite itself (not -security).
func mirrorFromDeb822(s string) string {
	for stanza := range strings.SplitSeq(s, "\n\n") {
		fields := map[string][]string{}
		sc := bufio.NewScanner(strings.NewReader(stanza))
		for sc.Scan() {
			line := sc.Text()
			if strings.HasPrefix(line, "#") || strings.HasPrefix(line, " ") || strings.HasPrefix(line, "\t") {
				continue
			}
			k, v, ok := strings.Cut(line, ":")
			if !ok {
				continue
			}
			fields[strings.ToLower(strings.TrimSpace(k))] = strings.Fields(v)
		}
		if slices.Contains(fields["types"], "deb") && slices.Contains(fields["suites"], suite) &&
			!slices.Contains(fields["enabled"], "no") && len(fields["uris"]) > 0 {
			return strings.TrimRight(fields["uris"][0], "/")
		}
	}
	return ""
}

// mirrorFromList does the same for a one-line-style sources.list.
func mirrorFromList(s string) string {
	for line := range strings.Lines(s) {
		f := strings.Fields(line)
		if len(f) < 3 || f[0] != "deb" {
			continue
		}
		f = f[1:]
		if strings.HasPrefix(f[0], "[") {
			// Options such as [arch=amd64 signed-by=...] up to "]".
			i := slices.IndexFunc(f, func(s string) bool { return strings.HasSuffix(s, "]") })
			if i < 0 {
				continue
			}
			f = f[i+1:]
		}
		if len(f) >= 2 && f[1] == suite {
			return strings.TrimRight(f[0], "/")
		}
	}
	return ""
}

// lock takes a machine-wide lock so that concurrent Builds do not make the
// same image twice.
func lock(ctx context.Context) (unlock func(), err error) {
	f, err := os.OpenFile(filepath.Join(os.TempDir(), "berth-images.lock"), os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return nil, fmt.Errorf("locking image builds: %w", err)
	}
	for {
		err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
		if err == nil {
			return func() { f.Close() }, nil
		}
		if !errors.Is(err, syscall.EWOULDBLOCK) {
			f.Close()
			return nil, fmt.Errorf("locking image builds: %w", err)
		}
		select {
		case <-ctx.Done():
			f.Close()
			return nil, fmt.Errorf("locking image builds: %w", ctx.Err())
		case <-time.After(250 * time.Millisecond):
		}
	}
}
