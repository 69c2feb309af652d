package e2e

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/berth-dev/berth/client"
)

// BenchmarkFiftyAppsMemory deploys 50 small apps of one workspace to its
// Docker Deploy host and reports the memory the platform itself adds per
// app: the berth process (control plane and edge), the host's agent, and
// the engine's port proxies, from their resident set sizes before and
// after. Run it with
//
//	go test ./e2e -run '^$' -bench FiftyApps -benchtime 1x
func BenchmarkFiftyAppsMemory(b *testing.B) {
	requireDocker(b)
	const apps = 50
	ctx := context.Background()
	u := &upProcess{dataDir: b.TempDir(), apiAddr: freePort(b), edgeAdr: freePort(b),
		env: append(os.Environ(), "BERTH_BOOTSTRAP_KEY="+adminKey, "BERTH_CONFIG="+filepath.Join(b.TempDir(), "c.json"))}
	startProcess(b, u)
	b.Cleanup(func() {
		u.cmd.Process.Kill()
		u.cmd.Wait()
		removeContainers(b, u.dataDir)
	})
	p := &platform{api: client.New("http://"+u.apiAddr, adminKey), apiURL: "http://" + u.apiAddr, edgeAddr: u.edgeAdr}
	p.web = webClient(u.edgeAdr)
	_, ws, _ := p.tenant(b, "Fifty")
	h, err := p.api.EnsureHost(ctx, client.EnsureHost{WorkspaceID: ws.ID})
	if err != nil {
		b.Fatal(err)
	}
	eventually(b, time.Minute, "host active", func() bool {
		cur, err := p.api.GetHost(ctx, h.ID)
		if err != nil || cur.State == "failed" {
			b.Fatalf("host: %+v %v", cur, err)
		}
		return cur.State == "active"
	})
	time.Sleep(time.Second)
	berthPid := u.cmd.Process.Pid
	before := platformRSS(berthPid)

	for b.Loop() {
		var deps []*client.Deployment
		for i := range apps {
			pr, err := p.api.CreateProject(ctx, client.CreateProject{WorkspaceID: ws.ID, Name: fmt.Sprintf("app %d", i)})
			if err != nil {
				b.Fatal(err)
			}
			rel, err := p.api.CreateRelease(ctx, makeTar(file("index.html", fmt.Sprintf("app %d", i))), client.ReleaseOptions{ProjectID: pr.ID})
			if err != nil {
				b.Fatal(err)
			}
			d, err := p.api.Deploy(ctx, client.CreateDeployment{ProjectID: pr.ID, ReleaseID: rel.ID, DeploymentProduct: "docker_deploy"})
			if err != nil {
				b.Fatal(err)
			}
			deps = append(deps, d)
		}
		for _, d := range deps {
			d = waitReady(b, p, d.ID, d.ReleaseID)
			for range 10 {
				if code, _, _ := p.get(b, d.URL); code != 200 {
					b.Fatalf("%s answered %d", d.URL, code)
				}
			}
		}
	}
	time.Sleep(time.Second)
	after := platformRSS(berthPid)
	for _, k := range []string{"berth", "agent", "proxies"} {
		b.ReportMetric(float64(after[k]-before[k])/apps/(1<<20), k+"-MiB/app")
	}
	total := (after["berth"] + after["agent"] + after["proxies"]) - (before["berth"] + before["agent"] + before["proxies"])
	b.ReportMetric(float64(total)/apps/(1<<20), "total-MiB/app")
	b.Logf("RSS before: %v; after %d apps: %v", before, apps, after)
}

// platformRSS sums resident memory of the berth process, its children
// (the workspace host's agent and portal), and the engine's port
// proxies, in bytes.
func platformRSS(berthPid int) map[string]int64 {
	out := map[string]int64{"berth": rss(berthPid)}
	procs, _ := filepath.Glob("/proc/[0-9]*")
	for _, dir := range procs {
		pid, _ := strconv.Atoi(filepath.Base(dir))
		stat, err := os.ReadFile(dir + "/stat")
		if err != nil {
			continue
		}
		// comm may hold spaces: fields after the last ')'.
		s := string(stat)
		fields := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
		comm := s[strings.IndexByte(s, '(')+1 : strings.LastIndexByte(s, ')')]
		ppid, _ := strconv.Atoi(fields[1])
		switch {
		case ppid == berthPid && comm == "berth":
			cmdline, _ := os.ReadFile(dir + "/cmdline")
			if strings.Contains(string(cmdline), "agent") {
				out["agent"] += rss(pid)
			} else {
				out["portal"] += rss(pid)
			}
		case comm == "docker-proxy":
			out["proxies"] += rss(pid)
		}
	}
	return out
}

// rss reads a process's resident set size in bytes.
func rss(pid int) int64 {
	f, err := os.Open("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "VmRSS:"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			return kb << 10
		}
	}
	return 0
}
