package e2e

import (
	"context"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/berth-dev/berth/client"
	"github.com/berth-dev/berth/internal/images"
)

// TestEngineRestart restarts the Docker engine under a running berth, as
// a host reboot does: the deployed app serves again at its URL and the
// managed Postgres is healthy again with its data. It stops every
// container on the engine, so `make test` runs it alone, after the suite.
func TestEngineRestart(t *testing.T) {
	if os.Getenv("BERTH_ENGINE_RESTART") != "1" {
		t.Skip("restarts the Docker engine: `make test` runs it alone after the suite (BERTH_ENGINE_RESTART=1)")
	}
	requireDocker(t)
	ensureImages(t, images.Postgres)
	p := start(t)
	ctx := context.Background()
	_, _, pr := p.tenant(t, "Reboot Co")

	rel, err := p.api.CreateRelease(ctx, makeTar(file("index.html", "survives reboots")), client.ReleaseOptions{ProjectID: pr.ID})
	if err != nil {
		t.Fatal(err)
	}
	d, err := p.api.Deploy(ctx, client.CreateDeployment{ProjectID: pr.ID, ReleaseID: rel.ID})
	if err != nil {
		t.Fatal(err)
	}
	d = waitReady(t, p, d.ID, rel.ID)

	db, err := p.api.CreateDatabase(ctx, client.CreateDatabase{ProjectID: pr.ID, Engine: "postgres", Name: "main"})
	if err != nil {
		t.Fatal(err)
	}
	healthy := func() {
		eventually(t, 2*time.Minute, "postgres healthy", func() bool {
			cur, err := p.api.GetDatabase(ctx, db.ID)
			if err != nil {
				t.Fatal(err)
			}
			return cur.Status == "healthy"
		})
	}
	healthy()
	// sql logs in with the revealed credentials at the address the
	// service is published on now, which the engine's restart changes.
	sql := func(q string) ([]string, error) {
		cr, err := p.api.RevealCredentials(ctx, db.ID)
		if err != nil || cr.PublishedURL == "" {
			t.Fatalf("reveal: %+v %v", cr, err)
		}
		c, err := pgx.Connect(ctx, cr.PublishedURL+"?sslmode=disable")
		if err != nil {
			return nil, err
		}
		defer c.Close(ctx)
		rows, err := c.Query(ctx, q)
		if err != nil {
			return nil, err
		}
		return pgx.CollectRows(rows, pgx.RowTo[string])
	}
	for _, q := range []string{"CREATE TABLE notes (body text)", "INSERT INTO notes VALUES ('written before the reboot') RETURNING body"} {
		if _, err := sql(q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}

	restartEngine(t)

	eventually(t, time.Minute, "the app serving again at its URL", func() bool {
		resp, err := p.web.Get(d.URL)
		if err != nil {
			return false
		}
		defer resp.Body.Close()
		var buf [64]byte
		n, _ := resp.Body.Read(buf[:])
		return resp.StatusCode == 200 && strings.Contains(string(buf[:n]), "survives reboots")
	})
	var got []string
	eventually(t, 2*time.Minute, "a login with the issued credentials after the reboot", func() bool {
		got, err = sql("SELECT body FROM notes")
		return err == nil
	})
	if len(got) != 1 || got[0] != "written before the reboot" {
		t.Fatalf("rows after the reboot: %q", got)
	}
	healthy()
}

// restartEngine stops dockerd and starts it again with the same command
// line (or restarts the systemd unit when systemd runs it).
func restartEngine(t *testing.T) {
	t.Helper()
	if exec.Command("systemctl", "is-active", "--quiet", "docker").Run() == nil {
		if out, err := exec.Command("systemctl", "restart", "docker").CombinedOutput(); err != nil {
			t.Fatalf("systemctl restart docker: %v\n%s", err, out)
		}
	} else {
		out, err := exec.Command("pidof", "dockerd").Output()
		if err != nil {
			t.Fatalf("finding dockerd: %v", err)
		}
		pid, _ := strconv.Atoi(strings.Fields(string(out))[0])
		cmdline, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/cmdline")
		if err != nil {
			t.Fatal(err)
		}
		args := strings.Split(strings.TrimRight(string(cmdline), "\x00"), "\x00")
		proc, _ := os.FindProcess(pid)
		proc.Signal(os.Interrupt)
		eventually(t, time.Minute, "dockerd to stop", func() bool {
			_, err := os.Stat("/proc/" + strconv.Itoa(pid))
			return os.IsNotExist(err)
		})
		log, err := os.OpenFile("/var/log/berth-dockerd.log", os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
		if err != nil {
			t.Fatal(err)
		}
		defer log.Close()
		cmd := exec.Command(args[0], args[1:]...)
		cmd.Stdout, cmd.Stderr = log, log
		cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true} // outlives the test binary
		if err := cmd.Start(); err != nil {
			t.Fatalf("starting dockerd again: %v", err)
		}
		go cmd.Wait()
	}
	eventually(t, time.Minute, "the engine answering again", func() bool {
		return exec.Command("docker", "info").Run() == nil
	})
}
