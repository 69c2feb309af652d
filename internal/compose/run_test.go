package compose

import (
	"slices"
	"strings"
	"testing"
)

func mustParse(t *testing.T, yaml string) *Project {
	t.Helper()
	p, err := Parse([]File{{Name: "compose.yaml", Content: []byte(yaml)}}, map[string]string{})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestOrderPutsDependenciesFirst(t *testing.T) {
	p := mustParse(t, `
services:
  web: {image: x, depends_on: [api]}
  api: {image: x, depends_on: {db: {condition: service_healthy}, redis: {condition: service_started}}}
  worker: {image: x, depends_on: [db]}
  db: {image: x}
  redis: {image: x}
`)
	got, err := Order(p)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"db", "redis", "api", "web", "worker"}
	if !slices.Equal(got, want) {
		t.Fatalf("order %v, want %v", got, want)
	}
}

func TestRoute(t *testing.T) {
	cases := []struct {
		yaml    string
		service string
		port    int
	}{
		{"services:\n  web: {image: x, expose: [\"3000\"]}\n  api: {image: x, expose: [\"8000\"]}\n", "web", 3000},
		{"services:\n  web: {image: x}\n", "web", 1234},
		{"services:\n  app: {image: x, expose: [\"8000/tcp\"]}\n  db: {image: x}\n", "app", 8000},
		{"services:\n  web: {image: x, expose: [\"3000\"]}\n  site:\n    image: x\n    expose: [\"80\"]\n    x-berth-route: true\n", "site", 80},
		{"services:\n  db: {image: x}\n", "", 0},
	}
	for _, c := range cases {
		name, port := Route(mustParse(t, c.yaml), 1234)
		if name != c.service || port != c.port {
			t.Errorf("%s: routed %s:%d, want %s:%d", c.yaml, name, port, c.service, c.port)
		}
	}
}

func TestLocalImage(t *testing.T) {
	for ref, want := range map[string]string{
		"node:20-bookworm-slim":     "node-build",
		"docker.io/library/node":    "node-build",
		"postgres:16-bookworm":      "postgres",
		"redis:7-bookworm@sha256:x": "redis",
		"nginx":                     "nginx",
		"ghcr.io/acme/node:1":       "",
		"localhost:5000/redis":      "",
	} {
		if got := LocalImage(ref); got != want {
			t.Errorf("LocalImage(%q) = %q, want %q", ref, got, want)
		}
	}
}

func TestRewriteDockerfile(t *testing.T) {
	df := "FROM node:20-bookworm-slim AS build\nWORKDIR /app\nCOPY package.json ./\nRUN npm install\nCOPY . .\nFROM --platform=linux/amd64 other:1\nCMD [\"node\"]"
	image := func(ref string) string {
		if ref == "node:20-bookworm-slim" {
			return "berth/node-build:bookworm"
		}
		return ""
	}
	plain := RewriteDockerfile(df, image, "")
	if !strings.HasPrefix(plain, "FROM berth/node-build:bookworm AS build\n") || !strings.Contains(plain, "FROM --platform=linux/amd64 other:1\n") || strings.Contains(plain, "berth-ca") {
		t.Fatalf("without CA:\n%s", plain)
	}
	withCA := RewriteDockerfile(df, image, "berth-ca.crt")
	for _, want := range []string{
		"FROM berth/node-build:bookworm AS build\nCOPY berth-ca.crt /etc/ssl/berth-build-ca.crt\nENV NODE_EXTRA_CA_CERTS=",
		"COPY . .\nRUN rm -f ./berth-ca.crt\n",
		"FROM --platform=linux/amd64 other:1\nCOPY berth-ca.crt",
	} {
		if !strings.Contains(withCA, want) {
			t.Errorf("with CA, missing %q in:\n%s", want, withCA)
		}
	}
}

// The runner reads env_file entries itself; a missing one is an error
// unless marked required: false.
func TestEnvFilesAreRequiredByDefault(t *testing.T) {
	p := mustParse(t, "services:\n  a:\n    image: x\n    env_file: [.env, {path: ./opt.env, required: false}]\n")
	files := p.Services["a"].EnvFiles
	if len(files) != 2 || !bool(files[0].Required) || bool(files[1].Required) {
		t.Fatalf("env files %+v", files)
	}
	if files[0].Path != ".env" && files[0].Path != ProjectDir+"/.env" {
		t.Fatalf("path %q", files[0].Path)
	}
}
