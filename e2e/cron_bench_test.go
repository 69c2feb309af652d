package e2e

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/berth-dev/berth/client"
)

// BenchmarkCronThousandDue has 1,000 cron jobs, every one an HTTP
// request to one real deployment through the edge, fall due in the same
// minute, and measures how long after that minute each run started (its
// recorded start) and how long until the last one ended; it fails if a
// job ran twice or not at all in a minute. Each iteration is one minute.
// The reference, in the same run, is the same 1,000 requests sent at
// once by a plain Go client through the same edge, without the
// scheduler. Run it with
//
//	go test ./e2e -run '^$' -bench CronThousand -benchtime 5x
func BenchmarkCronThousandDue(b *testing.B) {
	const jobs = 1000
	p := start(b)
	ctx := context.Background()
	_, _, pr := p.tenant(b, "Cron Bench")
	rel, err := p.api.CreateRelease(ctx, makeTar(file("index.html", "<h1>tick</h1>")), client.ReleaseOptions{ProjectID: pr.ID})
	if err != nil {
		b.Fatal(err)
	}
	d, err := p.api.Deploy(ctx, client.CreateDeployment{ProjectID: pr.ID, ReleaseID: rel.ID})
	if err != nil {
		b.Fatal(err)
	}
	d = waitReady(b, p, d.ID, rel.ID)
	ids := make([]string, jobs)
	var wg sync.WaitGroup
	sem := make(chan struct{}, 8)
	for i := range jobs {
		wg.Go(func() {
			sem <- struct{}{}
			defer func() { <-sem }()
			j, err := p.api.CreateCronJob(ctx, client.CreateCronJob{ProjectID: pr.ID, DeploymentID: d.ID, Name: "job-" + strconv.Itoa(i),
				Schedule: "* * * * *", Concurrency: "forbid", Target: client.CronTarget{HTTP: &client.CronHTTP{Path: "/"}}})
			if err != nil {
				b.Errorf("creating job %d: %v", i, err)
				return
			}
			ids[i] = j.ID
		})
	}
	wg.Wait()
	if b.Failed() {
		b.FailNow()
	}

	var startP50, startMax, endMax, refMax []float64
	for b.Loop() {
		// The reference: 1,000 requests at once, no scheduler.
		refMax = append(refMax, reference(b, p, d.URL, jobs))

		minute := time.Now().Truncate(time.Minute).Add(time.Minute)
		time.Sleep(time.Until(minute.Add(2 * time.Second)))
		var starts, ends []float64
		for _, id := range ids {
			var mine *client.CronRun
			eventually(b, time.Minute, "the run of "+id+" at "+minute.Format(time.TimeOnly), func() bool {
				runs, err := p.api.CronRuns(ctx, id)
				if err != nil {
					b.Fatal(err)
				}
				mine = nil
				n := 0
				for i := range runs {
					if runs[i].ScheduledAt.Equal(minute) {
						mine, n = &runs[i], n+1
					}
				}
				if n > 1 {
					b.Fatalf("job %s ran %d times for %s", id, n, minute)
				}
				return mine != nil && mine.FinishedAt != nil
			})
			if mine.Status != "succeeded" || mine.StartedAt == nil {
				b.Fatalf("run %+v", mine)
			}
			starts = append(starts, mine.StartedAt.Sub(minute).Seconds())
			ends = append(ends, mine.FinishedAt.Sub(minute).Seconds())
		}
		slices.Sort(starts)
		startP50 = append(startP50, starts[len(starts)/2])
		startMax = append(startMax, slices.Max(starts))
		endMax = append(endMax, slices.Max(ends))
		b.Logf("minute %s: start delay p50 %.3fs max %.3fs; last run ended at +%.3fs; reference %.3fs",
			minute.Format(time.TimeOnly), starts[len(starts)/2], slices.Max(starts), slices.Max(ends), refMax[len(refMax)-1])
	}
	b.ReportMetric(median(startP50), "start-p50-s")
	b.ReportMetric(median(startMax), "start-max-s(median)")
	b.ReportMetric(slices.Max(startMax), "start-max-s(worst)")
	b.ReportMetric(median(endMax), "all-ended-s(median)")
	b.ReportMetric(median(refMax), "ref-all-answered-s")
}

// reference sends n GETs to url through the edge at once and returns how
// long until the last answer arrived, in seconds.
func reference(b *testing.B, p *platform, url string, n int) float64 {
	began := time.Now()
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for range n {
		wg.Go(func() {
			resp, err := p.web.Get(url)
			if err != nil {
				errs <- err
				return
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				errs <- fmt.Errorf("status %d", resp.StatusCode)
			}
		})
	}
	wg.Wait()
	took := time.Since(began).Seconds()
	close(errs)
	for err := range errs {
		b.Fatalf("reference request: %v", err)
	}
	return took
}
