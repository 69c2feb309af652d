package cron

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/berth-dev/berth/internal/control/events"
	"github.com/berth-dev/berth/internal/control/names"
	"github.com/berth-dev/berth/internal/problem"
	"github.com/berth-dev/berth/internal/store"
	"github.com/berth-dev/berth/internal/store/sqlite"
)

func mustTime(t *testing.T, s string) time.Time {
	t.Helper()
	v, err := time.Parse(time.RFC3339, s)
	if err != nil {
		t.Fatal(err)
	}
	return v.UTC()
}

func TestParseCronRefuses(t *testing.T) {
	for _, c := range []struct{ schedule, zone, code string }{
		{"* * * *", "UTC", "invalid_schedule"},
		{"0 * * * * *", "UTC", "invalid_schedule"},
		{"@daily", "UTC", "invalid_schedule"},
		{"61 * * * *", "UTC", "invalid_schedule"},
		{"0 0 30 2 *", "UTC", "invalid_schedule"},
		{"* * * * *", "Mars/Olympus", "unknown_time_zone"},
		{"* * * * *", "Local", "unknown_time_zone"},
		{"* * * * *", "", "unknown_time_zone"},
	} {
		_, err := parseCron(c.schedule, c.zone)
		var p *problem.Error
		if !errors.As(err, &p) || p.Code != c.code {
			t.Errorf("%q in %q: %v, want %s", c.schedule, c.zone, err, c.code)
		}
	}
}

// TestCronNextAcrossDST crosses both of Berlin's 2026 transitions: the
// clock jumps from 02:00 to 03:00 on 29 March and goes back from 03:00 to
// 02:00 on 25 October.
func TestCronNextAcrossDST(t *testing.T) {
	for _, c := range []struct {
		schedule, from string
		want           []string
	}{
		// 02:30 does not exist on 29 March: that day's run is at the jump.
		{"30 2 * * *", "2026-03-28T12:00:00Z", []string{"2026-03-29T01:00:00Z", "2026-03-30T00:30:00Z"}},
		// 02:30 happens twice on 25 October: it runs once.
		{"30 2 * * *", "2026-10-24T12:00:00Z", []string{"2026-10-25T00:30:00Z", "2026-10-26T01:30:00Z"}},
		// Hourly: no hour runs twice, none is lost when the clock jumps.
		{"0 * * * *", "2026-03-28T23:30:00Z", []string{"2026-03-29T00:00:00Z", "2026-03-29T01:00:00Z", "2026-03-29T02:00:00Z"}},
		{"0 * * * *", "2026-10-24T23:30:00Z", []string{"2026-10-25T00:00:00Z", "2026-10-25T02:00:00Z", "2026-10-25T03:00:00Z"}},
		// A plain day is 9:00 in Berlin, 7:00 or 8:00 UTC.
		{"0 9 * * 1-5", "2026-07-03T12:00:00Z", []string{"2026-07-06T07:00:00Z", "2026-07-07T07:00:00Z"}},
	} {
		s, err := parseCron(c.schedule, "Europe/Berlin")
		if err != nil {
			t.Fatal(err)
		}
		at := mustTime(t, c.from)
		for _, w := range c.want {
			at = s.next(at)
			if !at.Equal(mustTime(t, w)) {
				t.Errorf("%s from %s: got %s, want %s", c.schedule, c.from, at.Format(time.RFC3339), w)
				break
			}
		}
	}
}

// cronFixture is a control plane on a real store, whose edge is an
// httptest server that records what reached it.
type cronFixture struct {
	t     testing.TB
	clock atomic.Pointer[time.Time] // the schedulers' clock, set by tick
	ctx   context.Context
	path  string
	st    store.Store
	c     *Scheduler
	edge  string
	dep   *store.Deployment
	mu    sync.Mutex
	reqs  []*http.Request
	body  []string
	at    []time.Time // when each request arrived
	wait  time.Duration
	// small answers are a few bytes (the default is more than a run
	// keeps).
	small bool
}

func newCronFixture(t testing.TB) *cronFixture {
	f := &cronFixture{t: t, ctx: context.Background(), path: t.TempDir() + "/berth.db"}
	st, err := sqlite.Open(f.path, make([]byte, 32))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	f.st = st
	edgeSrv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		f.mu.Lock()
		f.reqs, f.body, f.at = append(f.reqs, r), append(f.body, string(b)), append(f.at, time.Now())
		wait, small := f.wait, f.small
		f.mu.Unlock()
		select {
		case <-time.After(wait):
		case <-r.Context().Done():
		}
		w.WriteHeader(http.StatusAccepted)
		if small {
			io.WriteString(w, "ok")
			return
		}
		io.WriteString(w, strings.Repeat("x", OutputLimit+10))
	}))
	t.Cleanup(edgeSrv.Close)
	now := time.Now().UTC()
	f.must(st.CreateOrg(f.ctx, &store.Org{ID: "org_1", Slug: "acme", Name: "Acme", CreatedAt: now}))
	f.must(st.CreateWorkspace(f.ctx, &store.Workspace{ID: "ws_1", OrgID: "org_1", Slug: "w", Name: "W", CreatedAt: now}))
	f.must(st.CreateProject(f.ctx, &store.Project{ID: "prj_1", OrgID: "org_1", WorkspaceID: "ws_1", Slug: "shop", Name: "Shop", CreatedAt: now}))
	f.dep = &store.Deployment{ID: "dep_1", OrgID: "org_1", WorkspaceID: "ws_1", ProjectID: "prj_1",
		Product: store.ProductStandard, Status: store.DeploymentReady, CreatedAt: now, UpdatedAt: now}
	f.must(st.CreateDeployment(f.ctx, f.dep))
	f.edge = strings.TrimPrefix(edgeSrv.URL, "http://")
	f.c = f.scheduler(st)
	return f
}

// scheduler is another control plane on st. Its leases last an hour, so
// that the test's clock, which jumps, decides when they expire.
func (f *cronFixture) scheduler(st store.Store) *Scheduler {
	return New(Config{Names: names.Names{Domain: "localhost", Port: 7780}, EdgeAddr: f.edge, Lease: time.Hour, Now: f.now},
		Deps{Store: st, Events: events.NewRecorder(st, nil)})
}

func (f *cronFixture) now() time.Time {
	if t := f.clock.Load(); t != nil {
		return *t
	}
	return time.Now()
}

func (f *cronFixture) setClock(t time.Time) { f.clock.Store(&t) }

// reopen opens the fixture's database file again: the store of another
// process.
func (f *cronFixture) reopen() store.Store {
	st, err := sqlite.Open(f.path, make([]byte, 32))
	if err != nil {
		f.t.Fatal(err)
	}
	f.t.Cleanup(func() { st.Close() })
	return st
}

func (f *cronFixture) must(err error) {
	f.t.Helper()
	if err != nil {
		f.t.Fatal(err)
	}
}

func (f *cronFixture) job(schedule, zone, concurrency string) *store.CronJob {
	f.t.Helper()
	j, err := f.c.CreateCronJob(f.ctx, CronJobRequest{Project: &store.Project{ID: "prj_1", OrgID: "org_1", WorkspaceID: "ws_1"},
		Name: "ping", Schedule: schedule, TimeZone: zone, Concurrency: concurrency, Timeout: time.Second,
		DeploymentID: "dep_1", Target: store.CronTarget{Type: store.CronTargetHTTP, Method: "POST", Path: "/tasks?x=1",
			Headers: map[string]string{"Authorization": "Bearer t0k"}, Body: "hello"}})
	f.must(err)
	return j
}

func (f *cronFixture) setNext(j *store.CronJob, at time.Time) {
	j.NextRunAt = at
	f.must(f.st.UpdateCronJob(f.ctx, j))
}

// tick runs the scheduler's decision at now and returns the runs it
// started.
func (f *cronFixture) tick(now time.Time) []*store.CronRun {
	var started []*store.CronRun
	f.setClock(now)
	f.c.cronTick(f.ctx, now, func(_ *store.CronJob, r *store.CronRun) { started = append(started, r) })
	return started
}

func (f *cronFixture) runs(j *store.CronJob) []*store.CronRun {
	runs, err := f.st.ListCronRuns(f.ctx, store.CronRunFilter{JobID: j.ID})
	f.must(err)
	return runs
}

func TestCronSchedulerTicks(t *testing.T) {
	f := newCronFixture(t)
	j := f.job("*/15 * * * *", "Asia/Kolkata", "")
	if j.Concurrency != store.CronForbid || j.NextRunAt.IsZero() || j.NextRunAt.Minute()%15 != 0 {
		t.Fatalf("created %+v", j)
	}
	// 10:00 in Kolkata is 04:30 UTC: a */15 schedule there fires on the
	// quarter hours of UTC too, offset by the half hour.
	t0 := mustTime(t, "2026-05-01T04:30:00Z")
	f.setNext(j, t0)

	if got := f.tick(t0.Add(-time.Second)); len(got) != 0 || len(f.runs(j)) != 0 {
		t.Fatalf("a tick before the run time started %d runs", len(got))
	}
	started := f.tick(t0.Add(2 * time.Second))
	if len(started) != 1 || !started[0].ScheduledAt.Equal(t0) || started[0].Status != store.CronRunning || started[0].Trigger != "schedule" {
		t.Fatalf("at the run time: %+v", started)
	}
	if got := f.tick(t0.Add(3 * time.Second)); len(got) != 0 || len(f.runs(j)) != 1 {
		t.Fatalf("a second tick in the same minute started %d more runs", len(got))
	}
	j, _ = f.st.GetCronJob(f.ctx, j.ID)
	if want := t0.Add(15 * time.Minute); !j.NextRunAt.Equal(want) {
		t.Errorf("next run %s, want %s", j.NextRunAt, want)
	}

	// At the next fire time the first run still runs under its lease:
	// the new run is recorded as skipped, naming it.
	if got := f.tick(t0.Add(15*time.Minute + time.Second)); len(got) != 0 {
		t.Fatalf("an overlapping run started: %+v", got)
	}
	runs := f.runs(j)
	if len(runs) != 2 {
		t.Fatalf("after the second fire time: %d runs", len(runs))
	}
	if r := runs[1]; r.Status != store.CronSkipped || !r.ScheduledAt.Equal(t0.Add(15*time.Minute)) || !strings.Contains(r.Reason, started[0].ID) {
		t.Errorf("overlapping run %+v", r)
	}

	// Three hours later (the scheduler was down): the first run's lease
	// has expired, so it is recorded failed, and the fire times missed
	// collapse into one run of the latest, which starts.
	later := t0.Add(3*time.Hour + 5*time.Minute)
	got := f.tick(later)
	if len(got) != 1 || !got[0].ScheduledAt.Equal(t0.Add(3*time.Hour)) || !strings.Contains(got[0].Reason, "earlier scheduled time") {
		t.Fatalf("after the gap: %+v", got)
	}
	if first, _ := f.st.GetCronRun(f.ctx, started[0].ID); first.Status != store.CronFailed || first.Reason != cronLeaseExpired {
		t.Errorf("the run whose lease expired: %+v", first)
	}

	// The scheduler of the first run comes back and finishes it: what was
	// recorded stays, and the run is not counted twice.
	f.c.execCronRun(f.ctx, j, started[0])
	if first, _ := f.st.GetCronRun(f.ctx, started[0].ID); first.Status != store.CronFailed || first.HTTPStatus != 0 {
		t.Errorf("a run finished after its lease expired was recorded over: %+v", first)
	}

	f.c.execCronRun(f.ctx, j, got[0])
	last, _ := f.st.GetCronRun(f.ctx, got[0].ID)
	if last.Status != store.CronSucceeded || last.HTTPStatus != http.StatusAccepted || len(last.Output) != OutputLimit || last.FinishedAt.IsZero() {
		t.Errorf("latest run: %s %d %d bytes %q", last.Status, last.HTTPStatus, len(last.Output), last.Reason)
	}
	f.mu.Lock()
	r, body := f.reqs[0], f.body[0]
	f.mu.Unlock()
	if r.Host != "shop.acme.localhost" || r.Method != "POST" || r.URL.String() != "/tasks?x=1" || r.Header.Get("Authorization") != "Bearer t0k" || body != "hello" {
		t.Errorf("the edge got %s %s %s %v %q", r.Method, r.Host, r.URL, r.Header, body)
	}
	manual, err := f.c.RunCronJob(f.ctx, j)
	f.must(err)
	if got := f.tick(later); len(got) != 1 || got[0].ID != manual.ID || got[0].Trigger != "manual" {
		t.Fatalf("manual run: %+v", got)
	}
}

func TestCronAllowOverlapAndTimeout(t *testing.T) {
	f := newCronFixture(t)
	j := f.job("* * * * *", "UTC", store.CronAllow)
	t0 := mustTime(t, "2026-05-01T04:30:00Z")
	f.setNext(j, t0)
	if got := f.tick(t0); len(got) != 1 {
		t.Fatalf("first: %d", len(got))
	}
	second := f.tick(t0.Add(time.Minute))
	if len(second) != 1 {
		t.Fatalf("concurrency allow: an overlapping run did not start")
	}
	f.wait = 5 * time.Second
	f.c.execCronRun(f.ctx, j, second[0])
	r, _ := f.st.GetCronRun(f.ctx, second[0].ID)
	if r.Status != store.CronTimedOut || !strings.Contains(r.Reason, "timeout") {
		t.Errorf("slow run: %s %q", r.Status, r.Reason)
	}
}

// TestCronSchedulerKilledMidRun: a scheduler starts a run and dies. A
// second scheduler on the same store leaves the run alone while its lease
// lasts, then records it failed; it never runs it again, and the dead
// scheduler, were it to come back, cannot record over that.
func TestCronSchedulerKilledMidRun(t *testing.T) {
	f := newCronFixture(t)
	j := f.job("0 9 * * *", "America/New_York", "")
	f.setNext(j, mustTime(t, "2026-05-01T13:00:00Z"))
	t0 := mustTime(t, "2026-05-01T13:00:01Z")
	started := f.tick(t0)
	if len(started) != 1 {
		t.Fatal("nothing started")
	}
	// The first scheduler dies here: no renewals, no end.
	other := f.scheduler(f.reopen())
	var again []*store.CronRun
	start := func(_ *store.CronJob, r *store.CronRun) { again = append(again, r) }
	f.setClock(t0.Add(59 * time.Minute))
	other.cronTick(f.ctx, t0.Add(59*time.Minute), start)
	if r, _ := f.st.GetCronRun(f.ctx, started[0].ID); r.Status != store.CronRunning || len(again) != 0 {
		t.Fatalf("within the lease: %s, %d started", r.Status, len(again))
	}
	f.setClock(t0.Add(61 * time.Minute))
	other.cronTick(f.ctx, t0.Add(61*time.Minute), start)
	f.setClock(t0.Add(62 * time.Minute))
	other.cronTick(f.ctx, t0.Add(62*time.Minute), start)
	r, _ := f.st.GetCronRun(f.ctx, started[0].ID)
	if r.Status != store.CronFailed || r.Reason != cronLeaseExpired || !r.FinishedAt.Equal(t0.Add(61*time.Minute)) {
		t.Errorf("after the lease: %+v", r)
	}
	if runs := f.runs(j); len(again) != 0 || len(runs) != 1 {
		t.Errorf("the run was run again: %d started, %d runs", len(again), len(runs))
	}
	j, _ = f.st.GetCronJob(f.ctx, j.ID)
	if want := mustTime(t, "2026-05-02T13:00:00Z"); !j.NextRunAt.Equal(want) {
		t.Errorf("next run %s, want %s (9:00 in New York)", j.NextRunAt, want)
	}
	f.c.execCronRun(f.ctx, j, started[0])
	if r, _ := f.st.GetCronRun(f.ctx, started[0].ID); r.Status != store.CronFailed || r.HTTPStatus != 0 {
		t.Errorf("the dead scheduler recorded over the expired run: %+v", r)
	}
}

// TestCronTwoSchedulers runs two schedulers, each with its own store
// handle on one SQLite file, ticking at the same times over many due
// jobs and manual runs: every run happens exactly once.
func TestCronTwoSchedulers(t *testing.T) {
	f := newCronFixture(t)
	t0 := mustTime(t, "2026-05-01T04:30:00Z")
	p := &store.Project{ID: "prj_1", OrgID: "org_1", WorkspaceID: "ws_1"}
	const n = 300
	var jobs []*store.CronJob
	for i := range n {
		j, err := f.c.CreateCronJob(f.ctx, CronJobRequest{Project: p, Name: "job-" + strconv.Itoa(i), Schedule: "*/5 * * * *",
			Concurrency: store.CronAllow, DeploymentID: "dep_1", Target: store.CronTarget{Type: store.CronTargetHTTP, Path: "/"}})
		f.must(err)
		f.setNext(j, t0)
		jobs = append(jobs, j)
	}
	for _, j := range jobs[:50] {
		_, err := f.c.RunCronJob(f.ctx, j)
		f.must(err)
	}
	schedulers := []*Scheduler{f.c, f.scheduler(f.reopen())}
	var wg, runs sync.WaitGroup
	var mu sync.Mutex
	by := map[string]int{}
	for _, c := range schedulers {
		wg.Go(func() {
			for i := range 5 {
				c.cronTick(f.ctx, t0.Add(time.Duration(i)*time.Second), func(j *store.CronJob, r *store.CronRun) {
					mu.Lock()
					by[r.LeaseOwner]++
					mu.Unlock()
					runs.Go(func() { c.execCronRun(f.ctx, j, r) })
				})
			}
		})
	}
	wg.Wait()
	runs.Wait()

	f.mu.Lock()
	reached := map[string]int{}
	for _, r := range f.reqs {
		reached[r.Header.Get("X-Berth-Cron-Run")]++
	}
	f.mu.Unlock()
	total := 0
	for i, j := range jobs {
		rs := f.runs(j)
		want := 1
		if i < 50 {
			want = 2 // and a manual run
		}
		if len(rs) != want {
			t.Errorf("job %s: %d runs, want %d", j.Name, len(rs), want)
		}
		for _, r := range rs {
			total++
			if r.Status != store.CronSucceeded || reached[r.ID] != 1 {
				t.Errorf("run %s of %s: %s, reached the app %d times", r.ID, j.Name, r.Status, reached[r.ID])
			}
		}
	}
	if len(f.reqs) != total || total != n+50 {
		t.Errorf("%d requests reached the app for %d runs, want %d", len(f.reqs), total, n+50)
	}
	t.Logf("runs started per scheduler: %v", by)
}

// TestCronSchedulerAcrossDST ticks the scheduler every minute across both
// of Berlin's 2026 transitions: an hourly job runs once an hour of real
// time (one fewer wall hour in spring, a two-hour gap in autumn), and a
// daily 02:30 job runs once each of those days.
func TestCronSchedulerAcrossDST(t *testing.T) {
	for _, c := range []struct {
		name, from, to string
		hourly, daily  []string
	}{
		{"spring", "2026-03-28T23:50:00Z", "2026-03-29T03:10:00Z",
			[]string{"2026-03-29T00:00:00Z", "2026-03-29T01:00:00Z", "2026-03-29T02:00:00Z", "2026-03-29T03:00:00Z"},
			[]string{"2026-03-29T01:00:00Z"}},
		{"autumn", "2026-10-24T23:50:00Z", "2026-10-25T03:10:00Z",
			[]string{"2026-10-25T00:00:00Z", "2026-10-25T02:00:00Z", "2026-10-25T03:00:00Z"},
			[]string{"2026-10-25T00:30:00Z"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			f := newCronFixture(t)
			from, to := mustTime(t, c.from), mustTime(t, c.to)
			f.setClock(from)
			mk := func(name, schedule string) *store.CronJob {
				j, err := f.c.CreateCronJob(f.ctx, CronJobRequest{Project: &store.Project{ID: "prj_1", OrgID: "org_1", WorkspaceID: "ws_1"},
					Name: name, Schedule: schedule, TimeZone: "Europe/Berlin", Concurrency: store.CronAllow,
					DeploymentID: "dep_1", Target: store.CronTarget{Type: store.CronTargetHTTP, Path: "/"}})
				f.must(err)
				return j
			}
			hourly, daily := mk("hourly", "0 * * * *"), mk("daily", "30 2 * * *")
			for now := from; !now.After(to); now = now.Add(time.Minute) {
				f.tick(now)
			}
			for _, w := range []struct {
				j    *store.CronJob
				want []string
			}{{hourly, c.hourly}, {daily, c.daily}} {
				var got []string
				for _, r := range f.runs(w.j) {
					got = append(got, r.ScheduledAt.Format(time.RFC3339))
				}
				if strings.Join(got, " ") != strings.Join(w.want, " ") {
					t.Errorf("%s ran at %v, want %v", w.j.Name, got, w.want)
				}
			}
		})
	}
}

func TestCronJobRefusesBadTargets(t *testing.T) {
	f := newCronFixture(t)
	now := time.Now().UTC()
	f.must(f.st.CreateProject(f.ctx, &store.Project{ID: "prj_2", OrgID: "org_1", WorkspaceID: "ws_1", Slug: "blog", Name: "Blog", CreatedAt: now}))
	f.must(f.st.CreateDeployment(f.ctx, &store.Deployment{ID: "dep_2", OrgID: "org_1", WorkspaceID: "ws_1", ProjectID: "prj_2",
		Product: store.ProductStandard, Status: store.DeploymentReady, CreatedAt: now, UpdatedAt: now}))
	http := func(mod func(*store.CronTarget)) store.CronTarget {
		t := store.CronTarget{Type: "http", Path: "/"}
		mod(&t)
		return t
	}
	argv := func(args ...string) store.CronTarget { return store.CronTarget{Type: "command", Command: args} }
	long := make([]string, cronMaxArgs+1)
	for i := range long {
		long[i] = "x"
	}
	for _, c := range []struct {
		deployment string
		target     store.CronTarget
		code       string
	}{
		{"dep_1", store.CronTarget{}, "missing_target"},
		{"dep_1", store.CronTarget{Type: "ftp"}, "missing_target"},
		{"", http(func(*store.CronTarget) {}), "missing_deployment_id"},
		{"dep_nope", http(func(*store.CronTarget) {}), "deployment_not_found"},
		{"dep_2", http(func(*store.CronTarget) {}), "deployment_of_another_project"},
		{"dep_1", http(func(t *store.CronTarget) { t.Path = "" }), "missing_path"},
		{"dep_1", http(func(t *store.CronTarget) { t.Path = "//evil.example/" }), "invalid_path"},
		{"dep_1", http(func(t *store.CronTarget) { t.Method = "DELETE" }), "invalid_method"},
		{"dep_1", http(func(t *store.CronTarget) { t.Headers = map[string]string{"Host": "x"} }), "invalid_header"},
		{"dep_1", http(func(t *store.CronTarget) { t.Command = []string{"true"} }), "invalid_target"},
		{"dep_1", argv(), "missing_command"},
		{"dep_1", argv("", "x"), "missing_command"},
		{"dep_1", argv(long...), "invalid_command"},
		{"dep_1", argv("echo", strings.Repeat("x", cronMaxArgvBytes)), "invalid_command"},
		{"dep_1", argv("echo", "a\x00b"), "invalid_command"},
		{"dep_1", argv("echo", "\xff"), "invalid_command"},
		{"dep_1", store.CronTarget{Type: "command", Command: []string{"true"}, Path: "/"}, "invalid_target"},
	} {
		_, err := f.c.CreateCronJob(f.ctx, CronJobRequest{Project: &store.Project{ID: "prj_1", OrgID: "org_1", WorkspaceID: "ws_1"},
			DeploymentID: c.deployment, Name: "x", Schedule: "* * * * *", Target: c.target})
		var p *problem.Error
		if !errors.As(err, &p) || p.Code != c.code {
			t.Errorf("%s %+v: %v, want %s", c.deployment, c.target, err, c.code)
		}
	}
	if list, _ := f.st.ListCronJobs(f.ctx, store.ListFilter{}); len(list) != 0 {
		t.Errorf("bad input wrote %d jobs", len(list))
	}
}

// TestCronThousandDue has 1,000 jobs fall due in the same minute: one
// tick records and starts each exactly once, and a second tick none.
func TestCronThousandDue(t *testing.T) {
	f := newCronFixture(t)
	t0 := mustTime(t, "2026-05-01T04:30:00Z")
	p := &store.Project{ID: "prj_1", OrgID: "org_1", WorkspaceID: "ws_1"}
	for i := range 1000 {
		j, err := f.c.CreateCronJob(f.ctx, CronJobRequest{Project: p, Name: "job-" + strconv.Itoa(i), Schedule: "*/5 * * * *",
			DeploymentID: "dep_1", Target: store.CronTarget{Type: store.CronTargetHTTP, Path: "/"}})
		f.must(err)
		f.setNext(j, t0)
	}
	began := time.Now()
	started := f.tick(t0.Add(time.Second))
	took := time.Since(began)
	seen := map[string]bool{}
	for _, r := range started {
		if seen[r.JobID] {
			t.Errorf("job %s started twice", r.JobID)
		}
		seen[r.JobID] = true
	}
	if len(seen) != 1000 {
		t.Errorf("started %d of 1000 jobs", len(seen))
	}
	if again := f.tick(t0.Add(2 * time.Second)); len(again) != 0 {
		t.Errorf("a second tick started %d more", len(again))
	}
	t.Logf("1000 due jobs recorded and started in %s", took)
}

func TestCronOutput(t *testing.T) {
	for _, c := range []struct {
		name string
		in   string
		want int // bytes kept
	}{
		{"short", "ok\n", 3},
		{"ascii past the limit", strings.Repeat("x", OutputLimit+100), OutputLimit},
		{"a character across the limit", strings.Repeat("x", OutputLimit-1) + "é", OutputLimit - 1},
		{"invalid bytes grow into U+FFFD", strings.Repeat("\xffa", OutputLimit/2), OutputLimit},
		{"a U+FFFD across the limit", strings.Repeat("x", OutputLimit-2) + "\xff", OutputLimit - 2},
	} {
		got := cronOutput(c.in)
		if len(got) != c.want || !utf8.ValidString(got) {
			t.Errorf("%s: kept %d bytes (valid %v), want %d", c.name, len(got), utf8.ValidString(got), c.want)
		}
	}
}

// TestCronJobDefaultName: a job created without a name is named after
// its id, which is unique.
func TestCronJobDefaultName(t *testing.T) {
	f := newCronFixture(t)
	p := &store.Project{ID: "prj_1", OrgID: "org_1", WorkspaceID: "ws_1"}
	target := store.CronTarget{Type: store.CronTargetHTTP, Path: "/"}
	a, err := f.c.CreateCronJob(f.ctx, CronJobRequest{Project: p, DeploymentID: "dep_1", Schedule: "* * * * *", Target: target})
	f.must(err)
	b, err := f.c.CreateCronJob(f.ctx, CronJobRequest{Project: p, DeploymentID: "dep_1", Schedule: "* * * * *", Target: target})
	f.must(err)
	if a.Name != strings.ReplaceAll(a.ID, "_", "-") || a.Name == b.Name {
		t.Errorf("default names %q (id %s) and %q", a.Name, a.ID, b.Name)
	}
}
