package cron

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/berth-dev/berth/internal/store"
)

// BenchmarkCronThousandDue has 1,000 jobs fall due at the same instant,
// with one scheduler and with two sharing the SQLite store (each its own
// handle on the file, as two processes), each running its real loop on
// the real clock; the target is an httptest server. It reports how long
// after the instant the median and the last request reached the target,
// and fails if a job's request arrived twice. Run it with
//
//	go test ./internal/control -run '^$' -bench CronThousandDue -benchtime 5x
func BenchmarkCronThousandDue(b *testing.B) {
	for _, n := range []int{1, 2} {
		b.Run(fmt.Sprintf("schedulers=%d", n), func(b *testing.B) {
			f := newCronFixture(b)
			f.small = true
			p := &store.Project{ID: "prj_1", OrgID: "org_1", WorkspaceID: "ws_1"}
			var jobs []*store.CronJob
			for i := range 1000 {
				// Yearly, so that nothing but the benchmark makes them due.
				j, err := f.c.CreateCronJob(f.ctx, CronJobRequest{Project: p, Name: "job-" + strconv.Itoa(i), Schedule: "0 3 1 1 *",
					Concurrency: store.CronForbid, DeploymentID: "dep_1", Target: store.CronTarget{Type: store.CronTargetHTTP, Path: "/"}})
				f.must(err)
				jobs = append(jobs, j)
			}
			ctx, cancel := context.WithCancel(f.ctx)
			done := make(chan struct{})
			schedulers := []*Scheduler{f.c}
			for range n - 1 {
				schedulers = append(schedulers, f.scheduler(f.reopen()))
			}
			for _, c := range schedulers {
				go func() {
					defer func() { done <- struct{}{} }()
					c.Run(ctx)
				}()
			}
			defer func() {
				cancel()
				for range schedulers {
					<-done
				}
			}()
			var p50s, maxes []float64
			for b.Loop() {
				f.mu.Lock()
				f.reqs, f.body, f.at = nil, nil, nil
				f.mu.Unlock()
				due := time.Now().Truncate(time.Second).Add(2 * time.Second)
				for _, j := range jobs {
					cur, err := f.st.GetCronJob(f.ctx, j.ID)
					f.must(err)
					f.setNext(cur, due)
				}
				if time.Now().After(due) {
					b.Fatal("setting 1,000 next run times took more than a second")
				}
				deadline := time.Now().Add(time.Minute)
				for {
					f.mu.Lock()
					got := len(f.reqs)
					f.mu.Unlock()
					if got >= len(jobs) {
						break
					}
					if time.Now().After(deadline) {
						b.Fatalf("%d of %d requests arrived", got, len(jobs))
					}
					time.Sleep(10 * time.Millisecond)
				}
				time.Sleep(200 * time.Millisecond) // a double would arrive by now
				f.mu.Lock()
				seen := map[string]bool{}
				var delays []float64
				for i, r := range f.reqs {
					job := r.Header.Get("X-Berth-Cron-Job")
					if seen[job] {
						b.Fatalf("job %s ran twice", job)
					}
					seen[job] = true
					delays = append(delays, f.at[i].Sub(due).Seconds())
				}
				f.mu.Unlock()
				slices.Sort(delays)
				p50s, maxes = append(p50s, delays[len(delays)/2]), append(maxes, slices.Max(delays))
			}
			slices.Sort(p50s)
			slices.Sort(maxes)
			b.ReportMetric(p50s[len(p50s)/2], "p50-s")
			b.ReportMetric(maxes[len(maxes)/2], "max-s(median)")
			b.ReportMetric(maxes[len(maxes)-1], "max-s(worst)")
		})
	}
}
