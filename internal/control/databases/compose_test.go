package databases

import (
	"slices"
	"strings"
	"testing"

	"github.com/berth-dev/berth/internal/agent"
	"github.com/berth-dev/berth/internal/store"
)

func TestComposeBootOnLocalImages(t *testing.T) {
	c := &Service{}
	pg := agent.ContainerSpec{Image: c.DataImage(store.EnginePostgres)}
	boot, cr, err := c.composeBoot(pg.Image, &pg, map[string]string{"POSTGRES_USER": "app", "POSTGRES_PASSWORD": "secret"})
	if err != nil || boot == nil || cr == nil {
		t.Fatalf("postgres: %v %v %v", boot, cr, err)
	}
	if cr.Username != "app" || cr.Database != "app" || cr.Password != "secret" || pg.User != "0" || !slices.Equal(pg.Entrypoint, []string{"/bin/sh", "/berth/boot.sh"}) {
		t.Fatalf("postgres: %+v %+v", cr, pg)
	}
	if !strings.Contains(boot.String(), "berth/enforce.sql") {
		t.Fatalf("the boot files lack enforce.sql")
	}
	noPass := agent.ContainerSpec{Image: pg.Image}
	if _, _, err := c.composeBoot(noPass.Image, &noPass, map[string]string{}); err == nil || !strings.Contains(err.Error(), "POSTGRES_PASSWORD") {
		t.Fatalf("postgres without a password: %v", err)
	}
	redis := agent.ContainerSpec{Image: c.DataImage(store.EngineRedis), Cmd: []string{"redis-server", "--appendonly", "yes"}}
	if _, _, err := c.composeBoot(redis.Image, &redis, nil); err != nil {
		t.Fatal(err)
	}
	if want := []string{"redis-server", "--appendonly", "yes", "--protected-mode", "no"}; !slices.Equal(redis.Cmd, want) {
		t.Fatalf("redis command %v, want %v", redis.Cmd, want)
	}
	other := agent.ContainerSpec{Image: "apps/x:latest", Cmd: []string{"node"}}
	if boot, cr, err := c.composeBoot(other.Image, &other, nil); boot != nil || cr != nil || err != nil || !slices.Equal(other.Cmd, []string{"node"}) {
		t.Fatalf("another image changed: %+v", other)
	}
}
