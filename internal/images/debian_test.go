package images

import (
	"archive/tar"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/berth-dev/berth/internal/agent"
	"github.com/berth-dev/berth/internal/docker"
)

// TestImportDebian makes a Debian image the way Build does when the base
// is missing, under a test name so the real one stays.
func TestImportDebian(t *testing.T) {
	if testing.Short() {
		t.Skip("skipping in -short mode: debootstrap takes half a minute")
	}
	if _, err := exec.LookPath("debootstrap"); err != nil || os.Geteuid() != 0 {
		t.Skipf("skipping: needs root and debootstrap (apt-get install -y debootstrap): root=%v, %v", os.Geteuid() == 0, err)
	}
	rt, err := docker.New("")
	if err != nil {
		t.Fatal(err)
	}
	defer rt.Close()
	if err := rt.Ping(t.Context()); err != nil {
		t.Skipf("skipping: these tests need a running Docker engine, and it is unreachable: %v", err)
	}

	b := make([]byte, 4)
	rand.Read(b)
	ref := "berthtest-debian:" + hex.EncodeToString(b)
	t.Cleanup(func() { rt.RemoveImage(context.Background(), ref) })
	var log bytes.Buffer
	start := time.Now()
	if err := importDebian(t.Context(), rt, &log, ref); err != nil {
		t.Fatalf("%v\n%s", err, log.String())
	}
	t.Logf("debootstrap and import took %s", time.Since(start).Round(time.Second))

	_, labels, err := rt.InspectImage(t.Context(), ref)
	if err != nil || labels[LabelRecipe] != debianRecipe() {
		t.Errorf("labels = %v, %v", labels, err)
	}
	id, err := rt.CreateContainer(t.Context(), agent.ContainerSpec{Name: "berthtest-debian-" + hex.EncodeToString(b), Image: ref, Cmd: []string{"sh", "-c", "while :; do sleep 1; done"}, Init: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { rt.RemoveContainer(context.Background(), id) })
	if err := rt.StartContainer(t.Context(), id); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	code, err := rt.Exec(t.Context(), id, agent.ExecSpec{Cmd: []string{"sh", "-c", "cat /etc/debian_version; ls /var/lib/apt/lists | grep -c _ || true; echo $LANG"}}, &out, nil)
	if err != nil || code != 0 {
		t.Fatalf("exec: %d %v", code, err)
	}
	lines := strings.Fields(out.String())
	if len(lines) != 3 || !strings.HasPrefix(lines[0], "12.") || lines[1] != "0" || lines[2] != "C.UTF-8" {
		t.Errorf("debian_version, apt lists, LANG = %q", out.String())
	}
}

// TestStaleImageIsRebuilt checks that an image whose labels do not match
// its recipe is rebuilt, and that the image it replaced is removed.
func TestStaleImageIsRebuilt(t *testing.T) {
	rt, err := docker.New("")
	if err != nil {
		t.Fatal(err)
	}
	defer rt.Close()
	if err := rt.Ping(t.Context()); err != nil {
		t.Skipf("skipping: these tests need a running Docker engine, and it is unreachable: %v", err)
	}
	if err := Ensure(t.Context(), rt, nil, false, Debian); err != nil {
		t.Fatal(err)
	}

	b := make([]byte, 4)
	rand.Read(b)
	ref := "berthtest-stale:" + hex.EncodeToString(b)
	t.Cleanup(func() { rt.RemoveImage(context.Background(), ref) })
	stale := tarOf(t, "FROM "+Debian+"\nLABEL berthtest=stale\n")
	if err := rt.BuildImage(t.Context(), ref, stale, "Dockerfile", nil, nil); err != nil {
		t.Fatal(err)
	}
	staleID, _, err := rt.InspectImage(t.Context(), ref)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { rt.RemoveImageIfUntagged(context.Background(), staleID) })

	list := []image{{ref: ref, base: Debian, dir: "node"}}
	var log bytes.Buffer
	if err := build(t.Context(), rt, &log, false, list); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(log.String(), "building "+ref) {
		t.Fatalf("stale image not rebuilt:\n%s", log.String())
	}
	_, labels, err := rt.InspectImage(t.Context(), ref)
	if err != nil || labels[LabelRecipe] == "" || labels["berthtest"] != "" {
		t.Errorf("labels after rebuild = %v, %v", labels, err)
	}
	if _, _, err := rt.InspectImage(t.Context(), staleID); !errors.Is(err, agent.ErrNotFound) {
		t.Errorf("replaced image still there: %v", err)
	}

	log.Reset()
	if err := build(t.Context(), rt, &log, false, list); err != nil {
		t.Fatal(err)
	}
	if log.Len() != 0 {
		t.Errorf("current image rebuilt:\n%s", log.String())
	}
}

func tarOf(t *testing.T, dockerfile string) *bytes.Buffer {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	tw.WriteHeader(&tar.Header{Name: "Dockerfile", Mode: 0o644, Size: int64(len(dockerfile))})
	tw.Write([]byte(dockerfile))
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	return &buf
}
