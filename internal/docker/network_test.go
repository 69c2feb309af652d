package docker

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/moby/moby/client"

	"github.com/berth-dev/berth/internal/agent"
	"github.com/berth-dev/berth/internal/images"
	"net/http"
	"time"
)

func TestNetworkConfigRejects(t *testing.T) {
	for name, spec := range map[string]agent.ContainerSpec{
		"host network":            {Image: "i", Network: "host"},
		"default bridge by name":  {Image: "i", Network: "bridge"},
		"none":                    {Image: "i", Network: "none"},
		"another container's":     {Image: "i", Network: "container:abc"},
		"aliases without network": {Image: "i", Aliases: []string{"db"}},
		"bad alias":               {Image: "i", Network: "n1", Aliases: []string{"-db"}},
	} {
		if _, _, err := containerConfig(spec); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
	_, hc, err := containerConfig(agent.ContainerSpec{Image: "i", Network: "berth-prj-1", Aliases: []string{"main"}})
	if err != nil || hc.NetworkMode != "berth-prj-1" {
		t.Errorf("network mode = %q, %v", hc.NetworkMode, err)
	}
}

// TestNetworkAliases joins two containers to a network the runtime makes:
// one finds the other by its alias, a container outside does not.
func TestNetworkAliases(t *testing.T) {
	t.Parallel()
	rt := newRuntime(t)
	img := loopImage(t, rt)
	net := testName(t)
	labels := map[string]string{"berth.managed": "true", "berth.instance": "test", "berth.kind": "database"}
	t.Cleanup(func() { rt.RemoveNetwork(context.Background(), net) }) // after the containers', in case
	db := run(t, rt, agent.ContainerSpec{Image: img, Init: true, Network: net, Aliases: []string{"main-db"}, Labels: labels, Ports: []int{5432}})
	app := run(t, rt, agent.ContainerSpec{Image: img, Init: true, Network: net})
	outside := run(t, rt, agent.ContainerSpec{Image: img, Init: true})

	res, err := rt.c.NetworkInspect(t.Context(), net, client.NetworkInspectOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if n := res.Network; n.Driver != "bridge" || n.Labels["berth.network"] != "true" || n.Labels["berth.instance"] != "test" || n.Labels["berth.kind"] != "" {
		t.Errorf("network driver %q labels %v", n.Driver, n.Labels)
	}
	ins, err := rt.c.ContainerInspect(t.Context(), db, client.ContainerInspectOptions{})
	if err != nil {
		t.Fatal(err)
	}
	nets := ins.Container.NetworkSettings.Networks
	if len(nets) != 1 || nets[net] == nil {
		t.Fatalf("networks = %v", nets)
	}
	ip := nets[net].IPAddress.String()
	// Published ports work the same on a user-defined network.
	if info, err := rt.InspectContainer(t.Context(), db); err != nil || !strings.HasPrefix(info.Ports[5432], "127.0.0.1:") {
		t.Errorf("ports = %v, %v", info.Ports, err)
	}

	var out bytes.Buffer
	code, err := rt.Exec(t.Context(), app, agent.ExecSpec{Cmd: []string{"getent", "hosts", "main-db"}}, &out, &out)
	if err != nil || code != 0 || !strings.HasPrefix(out.String(), ip+" ") {
		t.Errorf("resolving main-db from the network: %d %v %q, want %s", code, err, out.String(), ip)
	}
	out.Reset()
	if code, err := rt.Exec(t.Context(), outside, agent.ExecSpec{Cmd: []string{"getent", "hosts", "main-db"}}, &out, &out); err != nil || code == 0 {
		t.Errorf("a container outside the network resolved main-db: %d %v %q", code, err, out.String())
	}

	// A second container created nothing new: the network is reused.
	list, err := rt.c.NetworkList(t.Context(), client.NetworkListOptions{Filters: client.Filters{}.Add("name", net)})
	if err != nil {
		t.Fatal(err)
	}
	if len(list.Items) != 1 {
		t.Errorf("%d networks named %s", len(list.Items), net)
	}

	// The network goes with its last container, not before: a container
	// created but never started still holds it.
	exists := func() bool {
		_, err := rt.c.NetworkInspect(t.Context(), net, client.NetworkInspectOptions{})
		return err == nil
	}
	idle := create(t, rt, agent.ContainerSpec{Image: img, Network: net})
	for _, id := range []string{db, app} {
		if err := rt.RemoveContainer(t.Context(), id); err != nil {
			t.Fatal(err)
		}
	}
	if !exists() {
		t.Fatal("the network went while a created container was on it")
	}
	if err := rt.StartContainer(t.Context(), idle); err != nil {
		t.Errorf("starting the created container: %v", err)
	}
	if err := rt.RemoveContainer(t.Context(), idle); err != nil {
		t.Fatal(err)
	}
	if exists() {
		t.Error("the network stayed after its last container went")
	}
}

// TestIsolatedNetwork checks that containers naming no network cannot
// reach each other by address, while their published ports still serve.
func TestIsolatedNetwork(t *testing.T) {
	t.Parallel()
	rt := newRuntime(t)
	img := loopImage(t, rt)
	web := run(t, rt, agent.ContainerSpec{Image: images.Nginx, Ports: []int{8080}})
	other := run(t, rt, agent.ContainerSpec{Image: img, Init: true})

	ins, err := rt.c.ContainerInspect(t.Context(), web, client.ContainerInspectOptions{})
	if err != nil {
		t.Fatal(err)
	}
	ep := ins.Container.NetworkSettings.Networks[IsolatedNetwork]
	if ep == nil {
		t.Fatalf("networks = %v", ins.Container.NetworkSettings.Networks)
	}
	res, err := rt.c.NetworkInspect(t.Context(), IsolatedNetwork, client.NetworkInspectOptions{})
	if err != nil || res.Network.Options["com.docker.network.bridge.enable_icc"] != "false" {
		t.Fatalf("isolated network options %v, %v", res.Network.Options, err)
	}
	info, err := rt.InspectContainer(t.Context(), web)
	if err != nil {
		t.Fatal(err)
	}
	var resp *http.Response
	for range 50 {
		if resp, err = http.Get("http://" + info.Ports[8080] + "/"); err == nil {
			resp.Body.Close()
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if err != nil {
		t.Fatalf("published port does not serve: %v", err)
	}
	var out bytes.Buffer
	probe := "timeout 3 bash -c 'exec 3<>/dev/tcp/" + ep.IPAddress.String() + "/8080' && echo reached"
	code, err := rt.Exec(t.Context(), other, agent.ExecSpec{Cmd: []string{"bash", "-c", probe}}, &out, &out)
	if err != nil || code == 0 || strings.Contains(out.String(), "reached") {
		t.Fatalf("a container reached another's address: exit %d %v %q", code, err, out.String())
	}
}

// TestConnectNetwork joins a running container to a second network under
// an alias (what a compose rollout does with a data service it keeps):
// a container there finds it, joining again changes nothing, and taking
// it off removes the network, which nobody else uses; the container's
// endpoint address is reported for its published port.
func TestConnectNetwork(t *testing.T) {
	t.Parallel()
	rt := newRuntime(t)
	img := loopImage(t, rt)
	first, second := testName(t)+"-a", testName(t)+"-b"
	labels := map[string]string{"berth.managed": "true", "berth.instance": "test"}
	t.Cleanup(func() {
		rt.RemoveNetwork(context.Background(), first)
		rt.RemoveNetwork(context.Background(), second)
	})
	db := run(t, rt, agent.ContainerSpec{Image: img, Init: true, Network: first, Aliases: []string{"db"}, Labels: labels, Ports: []int{5432}})
	for range 2 {
		if err := rt.ConnectNetwork(t.Context(), db, second, []string{"db"}); err != nil {
			t.Fatalf("connecting: %v", err)
		}
	}
	app := run(t, rt, agent.ContainerSpec{Image: img, Init: true, Network: second, Labels: labels})
	var out bytes.Buffer
	if code, err := rt.Exec(t.Context(), app, agent.ExecSpec{Cmd: []string{"getent", "hosts", "db"}}, &out, &out); err != nil || code != 0 {
		t.Fatalf("resolving db on the second network: %d %v %q", code, err, out.String())
	}
	info, err := rt.InspectContainer(t.Context(), db)
	if err != nil || !strings.HasSuffix(info.Endpoints[5432], ":5432") || strings.HasPrefix(info.Endpoints[5432], "127.") {
		t.Fatalf("endpoints = %v (ports %v), %v", info.Endpoints, info.Ports, err)
	}
	if err := rt.RemoveContainer(t.Context(), app); err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if err := rt.DisconnectNetwork(t.Context(), db, second); err != nil {
			t.Fatalf("disconnecting: %v", err)
		}
	}
	if _, err := rt.c.NetworkInspect(t.Context(), second, client.NetworkInspectOptions{}); err == nil {
		t.Fatal("the second network stayed after its last container left")
	}
	if _, err := rt.c.NetworkInspect(t.Context(), first, client.NetworkInspectOptions{}); err != nil {
		t.Fatalf("the first network went: %v", err)
	}
}
