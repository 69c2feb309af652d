package docker

import (
	"archive/tar"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"io"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/moby/moby/client"

	"github.com/berth-dev/berth/internal/agent"
	"github.com/berth-dev/berth/internal/images"
	"os"
	"strconv"
	"sync"
)

// These tests run against the real engine (DOCKER_HOST or the default
// socket). Everything they create is named berthtest-… and removed.

func newRuntime(t *testing.T) *Runtime {
	t.Helper()
	rt, err := New("")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { rt.Close() })
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
	defer cancel()
	if err := rt.Ping(ctx); err != nil {
		t.Skipf("skipping: these tests need a running Docker engine, and it is unreachable: %v", err)
	}
	// Local base image: nothing can be pulled here.
	if err := images.Ensure(t.Context(), rt, tlog{t}, false, images.Debian); err != nil {
		t.Fatalf("making the base image: %v", err)
	}
	return rt
}

// tlog writes to the test log.
type tlog struct{ t *testing.T }

func (l tlog) Write(p []byte) (int, error) {
	l.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

// testName returns a unique berthtest- name.
func testName(t *testing.T) string {
	b := make([]byte, 4)
	rand.Read(b)
	n := strings.ToLower(regexp.MustCompile(`[^a-zA-Z0-9]+`).ReplaceAllString(t.Name(), "-"))
	return "berthtest-" + strings.Trim(n, "-") + "-" + hex.EncodeToString(b)
}

// tarOf makes a tar stream of files; names ending in / are directories.
func tarOf(t *testing.T, files map[string]string) *bytes.Buffer {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	names := make([]string, 0, len(files))
	for n := range files {
		names = append(names, n)
	}
	slices.Sort(names)
	for _, n := range names {
		hdr := &tar.Header{Name: n, Mode: 0o644, Size: int64(len(files[n])), ModTime: time.Now()}
		if strings.HasSuffix(n, "/") {
			hdr = &tar.Header{Name: n, Mode: 0o755, Typeflag: tar.TypeDir, ModTime: time.Now()}
		}
		if err := tw.WriteHeader(hdr); err != nil {
			t.Fatal(err)
		}
		tw.Write([]byte(files[n]))
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	return &buf
}

// untar reads a tar stream into a map of name to content.
func untar(t *testing.T, r io.Reader) map[string]string {
	t.Helper()
	out := map[string]string{}
	tr := tar.NewReader(r)
	for {
		hdr, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(tr)
		out[hdr.Name] = string(b)
	}
}

// loop is the tiny image that idles until stopped, built once for the
// package: parallel builds of identical layers that are removed while
// another build uses them trip the engine ("failed to get digest").
var loop struct {
	once sync.Once
	ref  string
	err  error
}

// loopImage returns the idling image, building it on first use.
func loopImage(t *testing.T, rt *Runtime) string {
	t.Helper()
	loop.once.Do(func() {
		ref := "berthtest-loop-" + strconv.Itoa(os.Getpid()) + ":latest"
		ctx := tarOf(t, map[string]string{
			"Dockerfile": "FROM " + images.Debian + "\nCOPY hello.txt /hello.txt\nCMD [\"sh\", \"-c\", \"while :; do sleep 1; done\"]\n",
			"hello.txt":  "hello\n",
		})
		loop.ref, loop.err = ref, rt.BuildImage(context.Background(), ref, ctx, "Dockerfile", nil, io.Discard)
	})
	if loop.err != nil {
		t.Fatal(loop.err)
	}
	return loop.ref
}

func TestMain(m *testing.M) {
	code := m.Run()
	if loop.ref != "" {
		if rt, err := New(""); err == nil {
			rt.RemoveImage(context.Background(), loop.ref)
		}
	}
	os.Exit(code)
}

// run creates and starts a container from spec, removed at the end.
func run(t *testing.T, rt *Runtime, spec agent.ContainerSpec) string {
	t.Helper()
	id := create(t, rt, spec)
	if err := rt.StartContainer(t.Context(), id); err != nil {
		t.Fatal(err)
	}
	return id
}

func create(t *testing.T, rt *Runtime, spec agent.ContainerSpec) string {
	t.Helper()
	if spec.Name == "" {
		spec.Name = testName(t)
	}
	id, err := rt.CreateContainer(t.Context(), spec)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		rt.RemoveContainer(context.Background(), id)
		for _, v := range spec.Volumes {
			rt.RemoveVolume(context.Background(), v.Volume)
		}
	})
	return id
}

func TestContainerLifecycle(t *testing.T) {
	t.Parallel()
	rt := newRuntime(t)
	img := loopImage(t, rt)
	name := testName(t)
	id := run(t, rt, agent.ContainerSpec{
		Name:    name,
		Image:   img,
		Labels:  map[string]string{"berthtest.role": "lifecycle"},
		Ports:   []int{8080, 3000},
		Volumes: []agent.Mount{{Volume: name + "-files", Target: "/files"}},
		Init:    true,
		Restart: "unless-stopped",
	})

	info, err := rt.InspectContainer(t.Context(), name)
	if err != nil {
		t.Fatal(err)
	}
	if info.ID != id || info.Name != name || info.Image != img || !info.Running || info.State != "running" {
		t.Errorf("info = %+v", info)
	}
	if info.Labels["berthtest.role"] != "lifecycle" {
		t.Errorf("labels = %v", info.Labels)
	}
	if time.Since(info.StartedAt) > time.Minute {
		t.Errorf("StartedAt = %v", info.StartedAt)
	}
	addr := regexp.MustCompile(`^127\.0\.0\.1:[0-9]+$`)
	if len(info.Ports) != 2 || !addr.MatchString(info.Ports[8080]) || !addr.MatchString(info.Ports[3000]) || info.Ports[8080] == info.Ports[3000] {
		t.Errorf("ports = %v", info.Ports)
	}

	// A paused container keeps its ports and is frozen: nothing runs in
	// it until it is thawed. Pausing twice and thawing twice are no errors.
	for range 2 {
		if err := rt.PauseContainer(t.Context(), id); err != nil {
			t.Fatal(err)
		}
	}
	if info, err := rt.InspectContainer(t.Context(), id); err != nil || info.State != "paused" || !info.Running || len(info.Ports) != 2 {
		t.Errorf("after pause: %+v (%v)", info, err)
	}
	if _, err := rt.Exec(t.Context(), id, agent.ExecSpec{Cmd: []string{"true"}}, io.Discard, io.Discard); err == nil {
		t.Error("a command ran in a paused container")
	}
	for range 2 {
		if err := rt.UnpauseContainer(t.Context(), id); err != nil {
			t.Fatal(err)
		}
	}
	if info, err := rt.InspectContainer(t.Context(), id); err != nil || info.State != "running" {
		t.Errorf("after unpause: %+v (%v)", info, err)
	}

	// The init forwards SIGTERM to the shell, which dies of it (exit
	// 128+15), not of the SIGKILL after the timeout (128+9).
	if err := rt.StopContainer(t.Context(), id, 30*time.Second); err != nil {
		t.Fatal(err)
	}
	if info, err := rt.InspectContainer(t.Context(), id); err != nil || info.ExitCode != 143 {
		t.Errorf("exit code after stop = %d (%v), want 143: SIGTERM did not reach the process", info.ExitCode, err)
	}
	if err := rt.StopContainer(t.Context(), id, time.Second); err != nil {
		t.Errorf("stopping a stopped container: %v", err)
	}
	info, err = rt.InspectContainer(t.Context(), id)
	if err != nil {
		t.Fatal(err)
	}
	if info.Running || info.State != "exited" {
		t.Errorf("after stop: %+v", info)
	}
	if err := rt.PauseContainer(t.Context(), id); err != nil {
		t.Errorf("pausing a stopped container: %v", err)
	}
	if err := rt.UnpauseContainer(t.Context(), id); err != nil {
		t.Errorf("unpausing a stopped container: %v", err)
	}

	if err := rt.RemoveContainer(t.Context(), id); err != nil {
		t.Fatal(err)
	}
	if err := rt.RemoveContainer(t.Context(), id); err != nil {
		t.Errorf("removing a removed container: %v", err)
	}
	if _, err := rt.InspectContainer(t.Context(), id); !errors.Is(err, agent.ErrNotFound) {
		t.Errorf("inspecting a removed container: %v, want ErrNotFound", err)
	}
	// The named volume outlives the container.
	if err := rt.RemoveVolume(t.Context(), name+"-files"); err != nil {
		t.Errorf("removing the volume: %v", err)
	}
	if err := rt.RemoveVolume(t.Context(), name+"-files"); !errors.Is(err, agent.ErrNotFound) {
		t.Errorf("removing a removed volume: %v, want ErrNotFound", err)
	}
}

func TestHardening(t *testing.T) {
	t.Parallel()
	rt := newRuntime(t)
	img := loopImage(t, rt)
	name := testName(t)
	id := run(t, rt, agent.ContainerSpec{
		Name:    name,
		Image:   img,
		Ports:   []int{80},
		Volumes: []agent.Mount{{Volume: name + "-data", Target: "/data"}},
	})

	res, err := rt.c.ContainerInspect(t.Context(), id, client.ContainerInspectOptions{})
	if err != nil {
		t.Fatal(err)
	}
	hc := res.Container.HostConfig
	if hc.Privileged {
		t.Error("privileged")
	}
	if string(hc.NetworkMode) != IsolatedNetwork {
		t.Errorf("network mode %q", hc.NetworkMode)
	}
	if strings.Join(hc.CapDrop, ",") != "ALL" {
		t.Errorf("CapDrop = %v", hc.CapDrop)
	}
	for _, c := range capabilities {
		if !slices.Contains(hc.CapAdd, "CAP_"+c) && !slices.Contains(hc.CapAdd, c) {
			t.Errorf("CapAdd %v lacks %s", hc.CapAdd, c)
		}
	}
	if len(hc.CapAdd) != len(capabilities) {
		t.Errorf("CapAdd = %v", hc.CapAdd)
	}
	if !slices.ContainsFunc(hc.SecurityOpt, func(s string) bool { return strings.HasPrefix(s, "no-new-privileges") }) {
		t.Errorf("SecurityOpt = %v", hc.SecurityOpt)
	}
	if hc.Memory != DefaultMemoryBytes || hc.NanoCPUs != DefaultNanoCPUs || hc.PidsLimit == nil || *hc.PidsLimit != DefaultPidsLimit {
		t.Errorf("limits: memory %d, cpus %d, pids %v", hc.Memory, hc.NanoCPUs, hc.PidsLimit)
	}
	if len(hc.Binds) != 0 {
		t.Errorf("binds %v", hc.Binds)
	}
	for _, m := range res.Container.Mounts {
		if m.Type != "volume" {
			t.Errorf("mount %+v is not a volume", m)
		}
	}
	for port, bindings := range res.Container.NetworkSettings.Ports {
		for _, b := range bindings {
			if b.HostIP.String() != "127.0.0.1" {
				t.Errorf("%s published on %s", port, b.HostIP)
			}
		}
	}
	if n := len(res.Container.NetworkSettings.Networks); n != 1 || res.Container.NetworkSettings.Networks[IsolatedNetwork] == nil {
		t.Errorf("networks = %v", res.Container.NetworkSettings.Networks)
	}

	// And from inside: the kernel's view of the process.
	var out bytes.Buffer
	code, err := rt.Exec(t.Context(), id, agent.ExecSpec{Cmd: []string{"grep", "-E", "^(NoNewPrivs|CapBnd|CapEff)", "/proc/self/status"}}, &out, nil)
	if err != nil || code != 0 {
		t.Fatalf("exec: %d %v", code, err)
	}
	// CHOWN 0, DAC_OVERRIDE 1, FOWNER 3, FSETID 4, KILL 5, SETGID 6,
	// SETUID 7, NET_BIND_SERVICE 10.
	const want = "00000000000004fb"
	status := out.String()
	for _, line := range []string{"NoNewPrivs:\t1", "CapBnd:\t" + want, "CapEff:\t" + want} {
		if !strings.Contains(status, line) {
			t.Errorf("/proc/self/status lacks %q:\n%s", line, status)
		}
	}
}

func TestCreateContainerErrors(t *testing.T) {
	t.Parallel()
	rt := newRuntime(t)
	img := loopImage(t, rt)
	name := testName(t)
	create(t, rt, agent.ContainerSpec{Name: name, Image: img})
	if _, err := rt.CreateContainer(t.Context(), agent.ContainerSpec{Name: name, Image: img}); !errors.Is(err, agent.ErrConflict) {
		t.Errorf("taken name: %v, want ErrConflict", err)
	}
	if _, err := rt.CreateContainer(t.Context(), agent.ContainerSpec{Name: testName(t), Image: "berthtest-missing:nope"}); !errors.Is(err, agent.ErrNotFound) {
		t.Errorf("missing image: %v, want ErrNotFound", err)
	}
	if err := rt.StartContainer(t.Context(), testName(t)); !errors.Is(err, agent.ErrNotFound) {
		t.Errorf("starting a missing container: %v, want ErrNotFound", err)
	}
}

func TestExec(t *testing.T) {
	t.Parallel()
	rt := newRuntime(t)
	img := loopImage(t, rt)
	id := run(t, rt, agent.ContainerSpec{Image: img, Init: true})

	t.Run("exit code and separate streams", func(t *testing.T) {
		var stdout, stderr bytes.Buffer
		code, err := rt.Exec(t.Context(), id, agent.ExecSpec{Cmd: []string{"sh", "-c", "echo out; echo err >&2; exit 3"}}, &stdout, &stderr)
		if err != nil {
			t.Fatal(err)
		}
		if code != 3 || stdout.String() != "out\n" || stderr.String() != "err\n" {
			t.Errorf("code %d, stdout %q, stderr %q", code, stdout.String(), stderr.String())
		}
	})

	t.Run("env, workdir and user", func(t *testing.T) {
		var stdout bytes.Buffer
		code, err := rt.Exec(t.Context(), id, agent.ExecSpec{
			Cmd: []string{"sh", "-c", `echo "$GREETING"; pwd; id -u`}, Env: []string{"GREETING=hi"}, WorkDir: "/tmp", User: "1000",
		}, &stdout, nil)
		if err != nil || code != 0 {
			t.Fatalf("exec: %d %v", code, err)
		}
		if stdout.String() != "hi\n/tmp\n1000\n" {
			t.Errorf("stdout %q", stdout.String())
		}
	})

	t.Run("stdin", func(t *testing.T) {
		var stdout bytes.Buffer
		input := strings.Repeat("a line of input\n", 10000)
		code, err := rt.Exec(t.Context(), id, agent.ExecSpec{Cmd: []string{"sh", "-c", "cat; echo end"}, Stdin: strings.NewReader(input)}, &stdout, nil)
		if err != nil || code != 0 {
			t.Fatalf("exec: %d %v", code, err)
		}
		if stdout.String() != input+"end\n" {
			t.Errorf("stdout has %d bytes, want %d", stdout.Len(), len(input)+4)
		}
	})

	t.Run("detach", func(t *testing.T) {
		start := time.Now()
		code, err := rt.Exec(t.Context(), id, agent.ExecSpec{Cmd: []string{"sh", "-c", "sleep 1; echo done > /tmp/detached"}, Detach: true}, nil, nil)
		if err != nil || code != 0 {
			t.Fatalf("exec: %d %v", code, err)
		}
		if d := time.Since(start); d > 900*time.Millisecond {
			t.Errorf("detached exec took %s", d)
		}
		for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(200 * time.Millisecond) {
			var out bytes.Buffer
			code, err := rt.Exec(t.Context(), id, agent.ExecSpec{Cmd: []string{"cat", "/tmp/detached"}}, &out, io.Discard)
			if err == nil && code == 0 && out.String() == "done\n" {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("the detached command never ran: %d %v %q", code, err, out.String())
			}
		}
	})

	t.Run("missing command", func(t *testing.T) {
		code, err := rt.Exec(t.Context(), id, agent.ExecSpec{Cmd: []string{"berthtest-no-such-command"}}, nil, nil)
		if err == nil && code == 0 {
			t.Errorf("no error and exit code 0")
		}
	})

	t.Run("cancel", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(t.Context(), 500*time.Millisecond)
		defer cancel()
		start := time.Now()
		_, err := rt.Exec(ctx, id, agent.ExecSpec{Cmd: []string{"sleep", "30"}}, nil, nil)
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("err = %v, want DeadlineExceeded", err)
		}
		if d := time.Since(start); d > 5*time.Second {
			t.Errorf("cancelled exec returned after %s", d)
		}
	})

	t.Run("missing container", func(t *testing.T) {
		_, err := rt.Exec(t.Context(), testName(t), agent.ExecSpec{Cmd: []string{"true"}}, nil, nil)
		if !errors.Is(err, agent.ErrNotFound) {
			t.Errorf("err = %v, want ErrNotFound", err)
		}
	})
}

func TestCopyRoundTrip(t *testing.T) {
	t.Parallel()
	rt := newRuntime(t)
	img := loopImage(t, rt)
	// Copying works before the container starts: that is how files get
	// in before the app runs.
	id := create(t, rt, agent.ContainerSpec{Image: img})

	in := map[string]string{"site/": "", "site/index.html": "<h1>hi</h1>\n", "site/css/": "", "site/css/a.css": "body{}\n"}
	if err := rt.CopyTo(t.Context(), id, "/tmp", tarOf(t, in)); err != nil {
		t.Fatal(err)
	}
	rc, err := rt.CopyFrom(t.Context(), id, "/tmp/site")
	if err != nil {
		t.Fatal(err)
	}
	got := untar(t, rc)
	rc.Close()
	for name, content := range in {
		if c, ok := got[name]; !ok || c != content {
			t.Errorf("%s: got %q (present %v), want %q; all: %v", name, c, ok, content, got)
		}
	}

	if err := rt.CopyTo(t.Context(), id, "/berthtest-missing", tarOf(t, in)); !errors.Is(err, agent.ErrNotFound) {
		t.Errorf("copying into a missing dir: %v, want ErrNotFound", err)
	}
	if _, err := rt.CopyFrom(t.Context(), id, "/berthtest-missing"); !errors.Is(err, agent.ErrNotFound) {
		t.Errorf("copying a missing path: %v, want ErrNotFound", err)
	}
	if _, err := rt.CopyFrom(t.Context(), testName(t), "/tmp"); !errors.Is(err, agent.ErrNotFound) {
		t.Errorf("copying from a missing container: %v, want ErrNotFound", err)
	}
}

func TestBuildImage(t *testing.T) {
	t.Parallel()
	rt := newRuntime(t)
	ref := testName(t) + ":v1"
	t.Cleanup(func() { rt.RemoveImage(context.Background(), ref) })

	var log bytes.Buffer
	buildContext := tarOf(t, map[string]string{
		"build/Dockerfile": "FROM " + images.Debian + "\nCOPY greeting.txt /greeting.txt\nCMD [\"cat\", \"/greeting.txt\"]\n",
		"greeting.txt":     "hello from the build\n",
	})
	if err := rt.BuildImage(t.Context(), ref, buildContext, "build/Dockerfile", map[string]string{"berthtest.release": "rel_1"}, &log); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(log.String(), ": COPY greeting.txt /greeting.txt") {
		t.Errorf("build log lacks the steps:\n%s", log.String())
	}
	if ok, err := rt.ImageExists(t.Context(), ref); !ok || err != nil {
		t.Fatalf("ImageExists = %v, %v", ok, err)
	}
	if _, labels, err := rt.InspectImage(t.Context(), ref); err != nil || labels["berthtest.release"] != "rel_1" {
		t.Errorf("labels = %v, %v", labels, err)
	}

	// The image runs, and its log is what it printed.
	id := run(t, rt, agent.ContainerSpec{Image: ref})
	var logs string
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		info, err := rt.InspectContainer(t.Context(), id)
		if err != nil {
			t.Fatal(err)
		}
		if !info.Running && info.State == "exited" {
			if info.ExitCode != 0 {
				t.Errorf("exit code %d", info.ExitCode)
			}
			logs, _ = rt.Logs(t.Context(), id, 10)
			break
		}
	}
	if logs != "hello from the build\n" {
		t.Errorf("logs = %q", logs)
	}
	if err := rt.RemoveContainer(t.Context(), id); err != nil {
		t.Fatal(err)
	}

	if err := rt.RemoveImage(t.Context(), ref); err != nil {
		t.Fatal(err)
	}
	if ok, err := rt.ImageExists(t.Context(), ref); ok || err != nil {
		t.Errorf("after removal ImageExists = %v, %v", ok, err)
	}
	if err := rt.RemoveImage(t.Context(), ref); !errors.Is(err, agent.ErrNotFound) {
		t.Errorf("removing a removed image: %v, want ErrNotFound", err)
	}
}

func TestBuildImageFailureCarriesLogTail(t *testing.T) {
	t.Parallel()
	rt := newRuntime(t)
	ref := testName(t) + ":broken"
	t.Cleanup(func() { rt.RemoveImage(context.Background(), ref) })

	var script strings.Builder
	for i := range 40 {
		script.WriteString("echo noise-line-" + string(rune('a'+i%26)) + "; ")
	}
	script.WriteString("echo the-real-cause >&2; exit 3")
	buildContext := tarOf(t, map[string]string{
		"Dockerfile": "FROM " + images.Debian + "\nRUN " + script.String() + "\n",
	})
	var log bytes.Buffer
	err := rt.BuildImage(t.Context(), ref, buildContext, "Dockerfile", nil, &log)
	var be *BuildError
	if !errors.As(err, &be) {
		t.Fatalf("err = %v, want a *BuildError", err)
	}
	if !strings.Contains(be.Message, "returned a non-zero code: 3") {
		t.Errorf("message = %q", be.Message)
	}
	msg := err.Error()
	if !strings.Contains(msg, "the-real-cause") || !strings.HasSuffix(strings.TrimSpace(msg), be.LogTail) {
		t.Errorf("error does not end with the log tail:\n%s", msg)
	}
	if n := strings.Count(be.LogTail, "\n") + 1; n > logTailLines {
		t.Errorf("tail has %d lines", n)
	}
	if !strings.Contains(log.String(), "noise-line-a") {
		t.Errorf("full log not written:\n%s", log.String())
	}
	if ok, _ := rt.ImageExists(t.Context(), ref); ok {
		t.Error("a failed build left an image")
	}

	// A context without the named Dockerfile fails too, with a reason.
	err = rt.BuildImage(t.Context(), ref, tarOf(t, map[string]string{"x": "y"}), "Dockerfile", nil, nil)
	if err == nil || !strings.Contains(err.Error(), "Dockerfile") {
		t.Errorf("missing Dockerfile: %v", err)
	}
}

func TestListContainersByLabel(t *testing.T) {
	t.Parallel()
	rt := newRuntime(t)
	img := loopImage(t, rt)
	group := testName(t)
	a := create(t, rt, agent.ContainerSpec{Image: img, Labels: map[string]string{"berthtest.group": group, "berthtest.role": "web"}})
	b := run(t, rt, agent.ContainerSpec{Image: img, Labels: map[string]string{"berthtest.group": group, "berthtest.role": "worker"}})
	create(t, rt, agent.ContainerSpec{Image: img, Labels: map[string]string{"berthtest.group": group + "-other"}})

	list, err := rt.ListContainers(t.Context(), map[string]string{"berthtest.group": group})
	if err != nil {
		t.Fatal(err)
	}
	ids := map[string]agent.ContainerInfo{}
	for _, c := range list {
		ids[c.ID] = c
	}
	if len(list) != 2 || ids[a].ID == "" || ids[b].ID == "" {
		t.Fatalf("list = %+v", list)
	}
	if ids[a].State != "created" || !ids[b].Running || ids[b].StartedAt.IsZero() {
		t.Errorf("states: %+v / %+v", ids[a], ids[b])
	}

	list, err = rt.ListContainers(t.Context(), map[string]string{"berthtest.group": group, "berthtest.role": "worker"})
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != 1 || list[0].ID != b {
		t.Errorf("list = %+v", list)
	}
}

func TestLogsTail(t *testing.T) {
	t.Parallel()
	rt := newRuntime(t)
	img := loopImage(t, rt)
	id := run(t, rt, agent.ContainerSpec{
		Image: img,
		// stdout and stderr are separate pipes the engine reads apart:
		// only a pause orders lines across them.
		Cmd:  []string{"sh", "-c", "for i in 1 2 3 4 5; do echo line$i; done; sleep 0.5; echo oops >&2; sleep 1000"},
		Init: true,
	})
	var logs string
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		var err error
		if logs, err = rt.Logs(t.Context(), id, 2); err != nil {
			t.Fatal(err)
		}
		if strings.Contains(logs, "oops") {
			break
		}
	}
	if logs != "line5\noops\n" {
		t.Errorf("tail 2 = %q", logs)
	}
	if _, err := rt.Logs(t.Context(), testName(t), 2); !errors.Is(err, agent.ErrNotFound) {
		t.Errorf("logs of a missing container: %v, want ErrNotFound", err)
	}
}

func TestRefusesVolumeThatBindsHostPath(t *testing.T) {
	t.Parallel()
	rt := newRuntime(t)
	name := testName(t)
	_, err := rt.c.VolumeCreate(t.Context(), client.VolumeCreateOptions{
		Name: name, Driver: "local",
		DriverOpts: map[string]string{"type": "none", "o": "bind", "device": "/var/run"},
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { rt.RemoveVolume(context.Background(), name) })
	id, err := rt.CreateContainer(t.Context(), agent.ContainerSpec{
		Name: name, Image: images.Debian, Volumes: []agent.Mount{{Volume: name, Target: "/run/host"}},
	})
	if err == nil {
		rt.RemoveContainer(context.Background(), id)
		t.Fatal("a volume binding the host's /var/run was mounted")
	}
}
