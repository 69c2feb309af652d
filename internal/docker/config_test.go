package docker

import (
	"strings"
	"testing"

	"github.com/berth-dev/berth/internal/agent"
)

func TestContainerConfigHardensWhateverTheSpec(t *testing.T) {
	cfg, hc, err := containerConfig(agent.ContainerSpec{
		Name:    "x",
		Image:   "img",
		Ports:   []int{8080, 3000},
		Volumes: []agent.Mount{{Volume: "files", Target: "/app/"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	if hc.Privileged || hc.NetworkMode != IsolatedNetwork || len(hc.Binds) != 0 || hc.PublishAllPorts {
		t.Errorf("privileged=%v network=%q binds=%v publishAll=%v", hc.Privileged, hc.NetworkMode, hc.Binds, hc.PublishAllPorts)
	}
	if strings.Join(hc.CapDrop, ",") != "ALL" {
		t.Errorf("CapDrop = %v", hc.CapDrop)
	}
	if strings.Join(hc.SecurityOpt, ",") != "no-new-privileges:true" {
		t.Errorf("SecurityOpt = %v", hc.SecurityOpt)
	}
	if hc.Memory != DefaultMemoryBytes || hc.NanoCPUs != DefaultNanoCPUs || *hc.PidsLimit != DefaultPidsLimit {
		t.Errorf("limits = %d %d %d", hc.Memory, hc.NanoCPUs, *hc.PidsLimit)
	}
	if len(cfg.ExposedPorts) != 2 || len(hc.PortBindings) != 2 {
		t.Fatalf("ports = %v %v", cfg.ExposedPorts, hc.PortBindings)
	}
	for port, b := range hc.PortBindings {
		if len(b) != 1 || b[0].HostIP.String() != "127.0.0.1" || b[0].HostPort != "" {
			t.Errorf("%s bound to %v", port, b)
		}
	}
	if len(hc.Mounts) != 1 || hc.Mounts[0].Type != "volume" || hc.Mounts[0].Source != "files" || hc.Mounts[0].Target != "/app" {
		t.Errorf("mounts = %+v", hc.Mounts)
	}
	if hc.RestartPolicy.Name != "no" || hc.Init == nil || *hc.Init {
		t.Errorf("restart = %v, init = %v", hc.RestartPolicy, hc.Init)
	}
	if cfg.Cmd != nil || cfg.Entrypoint != nil {
		t.Errorf("empty Cmd/Entrypoint must keep the image's: %v %v", cfg.Cmd, cfg.Entrypoint)
	}
}

func TestContainerConfigKeepsExplicitLimits(t *testing.T) {
	_, hc, err := containerConfig(agent.ContainerSpec{Image: "img", MemoryBytes: 1 << 30, NanoCPUs: 2e9, PidsLimit: 100, Restart: "on-failure", Init: true})
	if err != nil {
		t.Fatal(err)
	}
	if hc.Memory != 1<<30 || hc.MemorySwap != 1<<30 || hc.NanoCPUs != 2e9 || *hc.PidsLimit != 100 {
		t.Errorf("limits = %d %d %d %d", hc.Memory, hc.MemorySwap, hc.NanoCPUs, *hc.PidsLimit)
	}
	if hc.RestartPolicy.Name != "on-failure" || !*hc.Init {
		t.Errorf("restart = %v, init = %v", hc.RestartPolicy, *hc.Init)
	}
}

func TestContainerConfigRejects(t *testing.T) {
	for name, spec := range map[string]agent.ContainerSpec{
		"no image":             {},
		"host path as volume":  {Image: "i", Volumes: []agent.Mount{{Volume: "/etc", Target: "/x"}}},
		"relative volume":      {Image: "i", Volumes: []agent.Mount{{Volume: "../x", Target: "/x"}}},
		"relative target":      {Image: "i", Volumes: []agent.Mount{{Volume: "v1", Target: "x"}}},
		"root target":          {Image: "i", Volumes: []agent.Mount{{Volume: "v1", Target: "/"}}},
		"port zero":            {Image: "i", Ports: []int{0}},
		"port too big":         {Image: "i", Ports: []int{70000}},
		"unknown restart mode": {Image: "i", Restart: "sometimes"},
	} {
		if _, _, err := containerConfig(spec); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}

func TestTailWriterKeepsLastLines(t *testing.T) {
	var all strings.Builder
	tw := &tailWriter{w: &all, n: 3}
	for _, s := range []string{"one\ntw", "o\nthree\n", "progress 10%\rprogress 100%\n", "four\nfive"} {
		tw.Write([]byte(s))
	}
	if got, want := tw.String(), "progress 100%\nfour\nfive"; got != want {
		t.Errorf("tail = %q, want %q", got, want)
	}
	if !strings.HasPrefix(all.String(), "one\ntwo\nthree\n") {
		t.Errorf("passed through %q", all.String())
	}
}

func TestReadMessages(t *testing.T) {
	stream := `{"stream":"Step 1/2 : FROM x\n"}
{"stream":" ---\u003e abc\n"}
{"status":"Downloading","id":"layer1"}
{"errorDetail":{"code":1,"message":"The command '/bin/sh -c false' returned a non-zero code: 1"},"error":"The command '/bin/sh -c false' returned a non-zero code: 1"}
`
	var out strings.Builder
	msg, err := readMessages(strings.NewReader(stream), &out)
	if err != nil {
		t.Fatal(err)
	}
	if msg != "The command '/bin/sh -c false' returned a non-zero code: 1" {
		t.Errorf("message = %q", msg)
	}
	want := "Step 1/2 : FROM x\n ---> abc\nlayer1: Downloading\nERROR: " + msg + "\n"
	if out.String() != want {
		t.Errorf("log = %q, want %q", out.String(), want)
	}
}
