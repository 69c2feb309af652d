package e2e

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/berth-dev/berth/client"
	"github.com/berth-dev/berth/internal/up"
)

// The benchmarks below measure the speed targets of BENCHMARKS.md end to
// end on the real engine. Run them with
//
//	go test ./e2e -run '^$' -bench . -benchtime 10x
//
// Each reports the median (p50-ms) beside Go's mean.

func reportMedian(b *testing.B, d []time.Duration) {
	sort.Slice(d, func(i, j int) bool { return d[i] < d[j] })
	if len(d) == 0 {
		return
	}
	b.ReportMetric(float64(d[len(d)/2].Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(d[len(d)-1].Microseconds())/1000, "max-ms")
}

func benchPlatform(b *testing.B, opts ...func(*up.Config)) (*platform, *client.Project) {
	p := start(b, opts...)
	_, _, pr := p.tenant(b, "Bench")
	return p, pr
}

// BenchmarkSandboxPreview: sandbox create → preview ready (static-html).
func BenchmarkSandboxPreview(b *testing.B) {
	p, pr := benchPlatform(b)
	ctx := context.Background()
	var d []time.Duration
	for b.Loop() {
		t0 := time.Now()
		sb, err := p.api.CreateSandbox(ctx, client.CreateSandbox{ProjectID: pr.ID, TemplateID: "static-html"})
		if err != nil {
			b.Fatal(err)
		}
		prev, err := p.api.Preview(ctx, sb.ID, 8080)
		if err != nil || !prev.Ready {
			b.Fatalf("preview %+v %v", prev, err)
		}
		d = append(d, time.Since(t0))
	}
	reportMedian(b, d)
}

// BenchmarkCLIDeploy: `berth deploy` of a 1 MB static site → URL serving.
func BenchmarkCLIDeploy(b *testing.B) {
	p, pr := benchPlatform(b)
	dir := b.TempDir()
	os.WriteFile(filepath.Join(dir, "index.html"), []byte("<h1>bench</h1>"), 0o644)
	var d []time.Duration
	i := 0
	for b.Loop() {
		i++
		// 1 MB of content that changes every run, so each deploy builds.
		blob := strings.Repeat(fmt.Sprintf("run %08d ", i), 1<<20/13)
		os.WriteFile(filepath.Join(dir, "data.txt"), []byte(blob), 0o644)
		os.WriteFile(filepath.Join(dir, "index.html"), []byte(fmt.Sprintf("<h1>run %d</h1>", i)), 0o644)
		t0 := time.Now()
		cmd := exec.Command(berthBin, "deploy", dir, "--project", pr.ID)
		cmd.Env = append(os.Environ(), "BERTH_API_URL="+p.apiURL, "BERTH_API_KEY="+adminKey, "BERTH_CONFIG="+filepath.Join(dir, "..", "c.json"))
		out, err := cmd.Output()
		if err != nil {
			b.Fatalf("deploy: %v", err)
		}
		url := strings.TrimSpace(string(out))
		want := fmt.Sprintf("run %d<", i)
		for {
			resp, err := p.web.Get(url)
			if err == nil {
				var buf [64]byte
				n, _ := resp.Body.Read(buf[:])
				resp.Body.Close()
				if strings.Contains(string(buf[:n]), want) {
					break
				}
			}
			if time.Since(t0) > time.Minute {
				b.Fatal("deploy never served")
			}
			time.Sleep(5 * time.Millisecond)
		}
		d = append(d, time.Since(t0))
	}
	reportMedian(b, d)
}

// BenchmarkRollback: rollback → the other release serving, while two
// clients loop over the URL. Each rollback goes to the release the one
// before replaced, whose container is the deployment's frozen standby.
func BenchmarkRollback(b *testing.B) { benchRollback(b) }

// BenchmarkRollbackNoStandby: the same with --rollback-standby=false,
// where every rollback starts a new container from the kept image.
func BenchmarkRollbackNoStandby(b *testing.B) {
	benchRollback(b, func(c *up.Config) { c.NoStandby = true })
}

func benchRollback(b *testing.B, opts ...func(*up.Config)) {
	p, pr := benchPlatform(b, opts...)
	ctx := context.Background()
	var rels []*client.Release
	for _, body := range []string{"release one", "release two"} {
		rel, err := p.api.CreateRelease(ctx, makeTar(file("index.html", body)), client.ReleaseOptions{ProjectID: pr.ID})
		if err != nil {
			b.Fatal(err)
		}
		rels = append(rels, rel)
	}
	var dep *client.Deployment
	for _, rel := range rels {
		var err error
		if dep, err = p.api.Deploy(ctx, client.CreateDeployment{ProjectID: pr.ID, ReleaseID: rel.ID}); err != nil {
			b.Fatal(err)
		}
		waitReady(b, p, dep.ID, rel.ID)
	}
	stop, fails, last := loop(p, dep.URL)
	var d []time.Duration
	for b.Loop() {
		cur, _ := p.api.GetDeployment(ctx, dep.ID)
		target, want := rels[0], "release one"
		if cur.ServingReleaseID == rels[0].ID {
			target, want = rels[1], "release two"
		}
		t0 := time.Now()
		if _, err := p.api.Rollback(ctx, dep.ID, target.ID); err != nil {
			b.Fatal(err)
		}
		for {
			resp, err := p.web.Get(dep.URL)
			if err == nil {
				var buf [64]byte
				n, _ := resp.Body.Read(buf[:])
				resp.Body.Close()
				if strings.Contains(string(buf[:n]), want) {
					break
				}
			}
			time.Sleep(2 * time.Millisecond)
		}
		d = append(d, time.Since(t0))
		waitReady(b, p, dep.ID, target.ID)
		time.Sleep(DrainMargin) // let the replaced container drain before the next switch
	}
	n := stop()
	if f := fails.Load(); f != 0 {
		b.Fatalf("%d of %d requests failed during rollbacks; last: %v", f, n, last.Load())
	}
	b.ReportMetric(float64(n), "requests")
	b.ReportMetric(0, "failed")
	reportMedian(b, d)
}

// median is the middle of v (the mean of the two middle values when v
// has an even length), 0 for none.
func median(v []float64) float64 {
	s := slices.Clone(v)
	slices.Sort(s)
	if len(s) == 0 {
		return 0
	}
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}
